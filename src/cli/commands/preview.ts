/**
 * `tfrecord-od preview PATH... --out DIR [--limit N | --sample N [--seed S]]
 *   [--size PX] [--filter CODE] [--label-map FILE] [--compression auto|none|gzip|zlib]`
 *
 * Draws records with their boxes as JPEG thumbnails in DIR plus an
 * index.html contact sheet, and prints the sheet's path. `--filter CODE`
 * shows only records with that validator finding; `--sample N` picks N at
 * random across all files. Damaged framing is reported on stderr and makes
 * the exit status 1 (the sheet is still written); usage mistakes exit 2.
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
  const { limit, filter, compression, sample, seed, size } = values;
  const labelMap = values['label-map'] !== undefined ? await readLabelMapFile(resolve(io.cwd, values['label-map']), values['label-map']) : undefined;

  const shown = (file: string) => displayPath(io.cwd, file);
  const result = await previewDataset(typedPaths(positionals, io.cwd), {
    outDir: resolve(io.cwd, values.out),
    limit,
    size,
    seed,
    compression,
    ...(sample !== undefined ? { sample } : {}),
    displayPath: shown,
    ...(filter ? { filter } : {}),
    ...(labelMap ? { labelMap } : {}),
  });

  for (const e of result.errors) io.stderr.write(`tfrecord-od preview: ${formatProblem({ ...e, file: shown(e.file) })}\n`);
  const placeholders = result.tiles.filter((t) => t.placeholder !== undefined).length;
  const how = sample !== undefined ? ` (random, seed ${seed})` : '';
  const what = filter
    ? `${result.tiles.length} of ${plural(result.matched ?? result.tiles.length, 'record')} with ${filter}${how}`
    : `${result.tiles.length} of ${plural(result.total, 'record')}${how}`;
  io.stderr.write(`previewed ${what}${placeholders > 0 ? ` (${placeholders} without a drawable image)` : ''}\n`);
  await writeOut(io.stdout, `${shown(result.index)}\n`);
  return result.errors.length > 0 ? 1 : 0;
}
