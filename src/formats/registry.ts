/**
 * The importers as data: a static table, in the order `detectFormat` tries
 * them. Nothing registers itself at runtime, so what the CLI offers is exactly
 * what this file lists.
 */
import { detectCoco } from './coco/detect.js';
import { readCoco } from './coco/read.js';
import { detectCsv } from './csv/detect.js';
import { readCsv } from './csv/read.js';
import { detectLabelMe } from './labelme/detect.js';
import { readLabelMe } from './labelme/read.js';
import type { FORMAT_NAMES, FormatName } from './names.js';
import { detectOpenImages } from './openimages/detect.js';
import { readOpenImages } from './openimages/read.js';
import type { FormatReader } from './types.js';
import { detectVertex } from './vertex/detect.js';
import { VERTEX_SPLITS } from './vertex/format.js';
import { readVertex } from './vertex/read.js';
import { detectVoc } from './voc/detect.js';
import { readVoc } from './voc/read.js';
import { detectYolo } from './yolo/detect.js';
import { readYolo } from './yolo/read.js';

export type { FormatName } from './names.js';

export interface FormatSpec {
  name: FormatName;
  /** Extensions of the annotation files this format reads (lower case, with dot). */
  extensions: readonly string[];
  /** Whether `annotations: path` looks like this format. Cheap: reads at most a few KB. */
  detect: (path: string) => Promise<boolean>;
  read: FormatReader;
  /**
   * For formats whose annotations assign each image to a split themselves
   * (`SourceItem.split`): the output splits, with the fractions used for
   * images the file leaves unassigned. Convert makes these splits unless
   * the user gives `--split`.
   */
  splits?: ReadonlyArray<{ name: string; fraction: number }>;
}

export const FORMATS = [
  // File formats first: their checks look at one file's extension and head.
  { name: 'coco', extensions: ['.json'], detect: detectCoco, read: readCoco },
  // Open Images' header would also pass for a generic CSV (ImageID and
  // LabelName are aliases there), so the more specific check comes first.
  { name: 'openimages', extensions: ['.csv'], detect: detectOpenImages, read: readOpenImages },
  { name: 'csv', extensions: ['.csv'], detect: detectCsv, read: readCsv },
  // Import files have no header row, so they never pass for either CSV above.
  { name: 'vertex', extensions: ['.jsonl', '.csv'], detect: detectVertex, read: readVertex, splits: VERTEX_SPLITS },
  // Of the directory formats, VOC's check (an <annotation> root) is the more
  // specific; LabelMe's looks at JSON files, which YOLO's never does.
  { name: 'voc', extensions: ['.xml'], detect: detectVoc, read: readVoc },
  { name: 'labelme', extensions: ['.json'], detect: detectLabelMe, read: readLabelMe },
  { name: 'yolo', extensions: ['.txt'], detect: detectYolo, read: readYolo },
] as const satisfies readonly FormatSpec[];

// The table lists exactly the names of names.ts, in the same order (a compile-time check).
type Names<T extends readonly { name: string }[]> = { [K in keyof T]: T[K]['name'] };
const sameNames: Names<typeof FORMATS> extends typeof FORMAT_NAMES ? (typeof FORMAT_NAMES extends Names<typeof FORMATS> ? true : never) : never = true;
void sameNames;

export function findFormat(name: string): FormatSpec | undefined {
  return (FORMATS as readonly FormatSpec[]).find((f) => f.name === name);
}

/** The first format whose `detect` accepts the path, or undefined. */
export async function detectFormat(p: string): Promise<FormatName | undefined> {
  for (const f of FORMATS) if (await f.detect(p)) return f.name;
  return undefined;
}
