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
import { DEFAULT_PREVIEW_LIMIT, previewDataset } from '../../preview/preview.js';
import { formatProblem } from '../../problem.js';
import { parseCompression } from '../../record/compression.js';
import { FINDING_CODES, type FindingCode } from '../../validate/findings.js';
import { parseChoice, parseCommandArgs, parseIntOption } from '../args.js';
import { type CliIo, displayPath, UsageError, writeOut } from '../io.js';

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    out: { type: 'string' },
    limit: { type: 'string' },
    filter: { type: 'string' },
    'label-map': { type: 'string' },
    compression: { type: 'string', default: 'auto' },
  });
  if (positionals.length === 0) throw new UsageError('no input files or directories');
  if (values.out === undefined || values.out === '') throw new UsageError('--out DIR is required');
  const limit = parseIntOption(values.limit, 'limit', 1) ?? DEFAULT_PREVIEW_LIMIT;
  const filter: FindingCode | undefined = parseChoice(values.filter, 'filter', FINDING_CODES);
  const compression = parseCompression(values.compression, true);
  if (!compression) throw new UsageError(`--compression must be auto, none, gzip or zlib; got '${values.compression}'`);
  const labelMap = values['label-map'] !== undefined ? await readLabelMapFile(resolve(io.cwd, values['label-map']), values['label-map']) : undefined;

  const shown = (file: string) => displayPath(io.cwd, file);
  const result = await previewDataset(
    positionals.map((p) => resolve(io.cwd, p)),
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
    ? `${result.tiles.length} of ${result.matched} record${result.matched === 1 ? '' : 's'} with ${filter}`
    : `${result.tiles.length} record${result.tiles.length === 1 ? '' : 's'}`;
  io.stderr.write(`previewed ${what}${placeholders > 0 ? ` (${placeholders} without a drawable image)` : ''}\n`);
  await writeOut(io.stdout, `${shown(result.index)}\n`);
  return result.errors.length > 0 ? 1 : 0;
}


