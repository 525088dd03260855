/**
 * `tfrecord-od reshard PATH... --out DIR [--shards N | --shard-size SIZE]
 *   [--name PREFIX] [--compression none|gzip|zlib] [--input-compression auto|none|gzip|zlib]
 *   [--label-map FILE] [--json]`
 *
 * The same records, byte for byte and in order, in new shards (see
 * surgery/reshard.ts). Exit 1 when nothing was published, 2 for usage mistakes.
 */
import { resolve } from 'node:path';
import { isTfrecordError } from '../../errors.js';
import { parseCompression } from '../../record/compression.js';
import { reshardDataset, type ReshardOptions } from '../../surgery/reshard.js';
import type { RewriteReport } from '../../surgery/rewrite.js';
import { parseChoice, parseCommandArgs, parseIntOption, parseSize } from '../args.js';
import { type CliIo, displayPath, UsageError, writeOut } from '../io.js';
import { renderRewriteReport } from '../surgery-report.js';

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    out: { type: 'string' },
    shards: { type: 'string' },
    'shard-size': { type: 'string' },
    name: { type: 'string' },
    compression: { type: 'string' },
    'input-compression': { type: 'string', default: 'auto' },
    'label-map': { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length === 0) throw new UsageError('no input files or directories');
  if (!values.out) throw new UsageError('--out DIR is required');
  if (values.shards !== undefined && values['shard-size'] !== undefined) throw new UsageError('give --shards or --shard-size, not both');
  const inputCompression = parseCompression(values['input-compression'], true);
  if (!inputCompression) throw new UsageError(`--input-compression must be auto, none, gzip or zlib; got '${values['input-compression']}'`);
  const at = (p: string) => resolve(io.cwd, p);
  const options: ReshardOptions = {
    out: at(values.out),
    compression: parseChoice(values.compression, 'compression', ['none', 'gzip', 'zlib'] as const) ?? 'none',
    inputCompression,
  };
  const shards = parseIntOption(values.shards, 'shards', 1);
  if (shards !== undefined) options.shards = shards;
  const shardSize = parseSize(values['shard-size'], 'shard-size');
  if (shardSize !== undefined) options.shardSize = shardSize;
  if (values.name !== undefined) options.name = values.name;
  if (values['label-map'] !== undefined) options.labelMap = at(values['label-map']);
  let report: RewriteReport;
  try {
    report = await reshardDataset(positionals.map(at), options);
  } catch (err) {
    if (isTfrecordError(err) && err.code === 'bad-argument') throw new UsageError(err.file ? `${displayPath(io.cwd, err.file)}: ${err.reason}` : err.reason);
    throw err;
  }
  if (values.json) await writeOut(io.stdout, JSON.stringify(report, null, 2) + '\n');
  else await writeOut(report.ok ? io.stdout : io.stderr, renderRewriteReport(report, io.cwd));
  return report.ok ? 0 : 1;
}
