/**
 * `tfrecord-od preview PATH... --out DIR [--limit N] [--filter CODE]
 *   [--label-map FILE] [--compression auto|none|gzip|zlib]`
 *
 * Draws records with their boxes as PNGs in DIR plus an index.html contact
 * sheet, and prints the sheet's path. `--filter CODE` shows only records with
 * that validator finding. Damaged framing is reported on stderr and makes the
 * exit status 1 (the sheet is still written); usage mistakes exit 2.
 */
import { resolve } from 'node:path';
import { readLabelMapFile } from '../../detection/read-label-map.js';
import { previewDataset } from '../../preview/preview.js';
import { formatProblem } from '../../problem.js';
import { plural } from '../../words.js';
import type { PREVIEW } from '../commands.js';
import { type CliIo, displayPath, typedPaths, writeOut } from '../io.js';
import type { ParsedCommand } from '../spec.js';

export async function run({ values, positionals }: ParsedCommand<typeof PREVIEW>, io: CliIo): Promise<number> {
  const { limit, filter, compression } = values;
  const labelMap = values['label-map'] !== undefined ? await readLabelMapFile(resolve(io.cwd, values['label-map']), values['label-map']) : undefined;

  const shown = (file: string) => displayPath(io.cwd, file);
  const result = await previewDataset(
    typedPaths(positionals, io.cwd),
    {
      outDir: resolve(io.cwd, values.out),
      limit,
      compression,
      displayPath: shown,
      ...(filter ? { filter } : {}),
      ...(labelMap ? { labelMap } : {}),
    },
  );

  for (const e of result.errors) io.stderr.write(`tfrecord-od preview: ${formatProblem({ ...e, file: shown(e.file) })}\n`);
  const placeholders = result.tiles.filter((t) => t.placeholder !== undefined).length;
  const what = filter
    ? `${result.tiles.length} of ${plural(result.matched ?? result.tiles.length, 'record')} with ${filter}`
    : plural(result.tiles.length, 'record');
  io.stderr.write(`previewed ${what}${placeholders > 0 ? ` (${placeholders} without a drawable image)` : ''}\n`);
  await writeOut(io.stdout, `${shown(result.index)}\n`);
  return result.errors.length > 0 ? 1 : 0;
}


