/**
 * `tfrecord-od preview PATH... --out DIR [--limit N | --sample N [--seed S]]
 *   [--size PX] [--filter CODE] [--label-map FILE] [--compression auto|none|gzip|zlib]
 *   [--predictions PRED... [--score-threshold T]]`
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
import { type CliIo, displayPath, typedPaths, UsageError, writeOut } from '../io.js';
import type { ParsedCommand } from '../spec.js';

export async function run({ values, positionals }: ParsedCommand<typeof PREVIEW>, io: CliIo): Promise<number> {
  const { limit, filter, compression, sample, seed, size } = values;
  const labelMap = values['label-map'] !== undefined ? await readLabelMapFile(resolve(io.cwd, values['label-map']), values['label-map']) : undefined;

  const shown = (file: string) => displayPath(io.cwd, file);
  const predictions = values.predictions.length > 0 ? values.predictions : undefined;
  const scoreThreshold = parseScoreThreshold(values['score-threshold']);
  if (scoreThreshold !== undefined && !predictions) throw new UsageError('--score-threshold needs --predictions');
  if ((filter === 'false-positive' || filter === 'missed') && !predictions) throw new UsageError(`--filter ${filter} needs --predictions`);
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
    ...(predictions ? { predictions: predictions.map((p) => resolve(io.cwd, p)), predictionNames: predictions } : {}),
    ...(scoreThreshold !== undefined ? { scoreThreshold } : {}),
  });

  for (const e of result.errors) io.stderr.write(`tfrecord-od preview: ${formatProblem({ ...e, file: shown(e.file) })}\n`);
  const placeholders = result.tiles.filter((t) => t.placeholder !== undefined).length;
  const how = sample !== undefined ? ` (random, seed ${seed})` : '';
  const what = filter
    ? `${result.tiles.length} of ${plural(result.matched ?? result.tiles.length, 'record')} with ${filter}${how}`
    : `${result.tiles.length} of ${plural(result.total, 'record')}${how}`;
  io.stderr.write(`previewed ${what}${placeholders > 0 ? ` (${placeholders} without a drawable image)` : ''}\n`);
  if (predictions) {
    const sum = (k: 'tp' | 'fp' | 'missed') => result.tiles.reduce((n, t) => n + (t[k] ?? 0), 0);
    io.stderr.write(`on the tiles drawn: ${sum('tp')} TP, ${sum('fp')} FP, ${sum('missed')} missed (IoU 0.5, score >= ${scoreThreshold ?? 0.5})\n`);
  }
  await writeOut(io.stdout, `${shown(result.index)}\n`);
  return result.errors.length > 0 ? 1 : 0;
}

/** A score threshold as typed: a plain decimal number in [0, 1]. */
function parseScoreThreshold(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\s*(?:\d+(?:\.\d*)?|\.\d+)\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 0 && n <= 1)) throw new UsageError(`--score-threshold must be a number from 0 to 1, got '${text}'`);
  return n;
}
