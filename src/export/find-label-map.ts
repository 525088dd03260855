/**
 * The label map a command reads when the user names none: `label_map.pbtxt`
 * beside the inputs, where convert (and export, remap, reshard) put it. Used
 * by export for class names and by remap and reshard to carry it over.
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { LabelMap } from '../detection/label-map.js';
import { readLabelMapFile } from '../detection/read-label-map.js';

/** The label map's file name in a dataset folder. */
export const LABEL_MAP_FILE = 'label_map.pbtxt';

export type LabelMapSource = { kind: 'option' | 'beside-input' | 'class-texts'; path?: string };

/**
 * `given` (a path or a parsed map), else the label_map.pbtxt in the folder
 * of the first input (a folder, or a file's folder) that has one, else none.
 */
export async function findLabelMap(
  paths: readonly string[],
  given: string | LabelMap | undefined,
): Promise<{ labelMap: LabelMap | undefined; source: LabelMapSource }> {
  if (typeof given === 'string') return { labelMap: await readLabelMapFile(given), source: { kind: 'option', path: resolve(given) } };
  if (given) return { labelMap: given, source: { kind: 'option' } };
  for (const p of paths) {
    let dir: string;
    try {
      dir = (await stat(p)).isDirectory() ? p : dirname(p);
    } catch {
      continue; // the walk reports it
    }
    const candidate = join(dir, LABEL_MAP_FILE);
    if (existsSync(candidate)) return { labelMap: await readLabelMapFile(candidate), source: { kind: 'beside-input', path: resolve(candidate) } };
  }
  return { labelMap: undefined, source: { kind: 'class-texts' } };
}
