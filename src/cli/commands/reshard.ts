/**
 * `tfrecord-od reshard PATH... --out DIR [--shards N | --shard-size SIZE]
 *   [--name PREFIX] [--compression none|gzip|zlib] [--input-compression auto|none|gzip|zlib]
 *   [--label-map FILE] [--target ai-platform|od-api] [--json]`
 *
 * The same records, byte for byte and in order, in new shards (see
 * surgery/reshard.ts). Exit 1 when nothing was published, 2 for usage mistakes.
 */
import { resolve } from 'node:path';
import { reshardDataset } from '../../surgery/reshard.js';
import type { RESHARD } from '../commands.js';
import type { ParsedCommand } from '../spec.js';
import type { CliIo } from '../io.js';
import { rewriteOptions, runRewrite } from '../surgery-report.js';

export async function run({ values, positionals }: ParsedCommand<typeof RESHARD>, io: CliIo): Promise<number> {
  const options = rewriteOptions(values, io);
  return runRewrite(values, io, () =>
    reshardDataset(
      positionals.map((p) => resolve(io.cwd, p)),
      options,
    ),
  );
}
