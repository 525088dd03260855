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
import { reshardDataset, type ReshardOptions } from '../../surgery/reshard.js';
import type { RewriteReport } from '../../surgery/rewrite.js';
import type { RESHARD } from '../commands.js';
import type { ParsedCommand } from '../spec.js';
import { type CliIo, displayPath, UsageError, writeOut } from '../io.js';
import { renderRewriteReport } from '../surgery-report.js';

export async function run({ values, positionals }: ParsedCommand<typeof RESHARD>, io: CliIo): Promise<number> {
  const at = (p: string) => resolve(io.cwd, p);
  const options: ReshardOptions = {
    out: at(values.out),
    compression: values.compression,
    inputCompression: values['input-compression'],
  };
  if (values.shards !== undefined) options.shards = values.shards;
  if (values['shard-size'] !== undefined) options.shardSize = values['shard-size'];
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
