/**
 * `tfrecord-od split PATH... --out DIR --split train=0.8,val=0.2 [--seed N]
 *   [--shards N | --shard-size SIZE] [--name PREFIX] [--compression none|gzip|zlib]
 *   [--input-compression auto|none|gzip|zlib] [--label-map FILE]
 *   [--target ai-platform|od-api] [--json]`
 *
 * One shard set per split, each record sent where its image's hash sends it
 * (see surgery/split.ts). Exit 1 when nothing was published, 2 for usage mistakes.
 */
import { resolve } from 'node:path';
import { splitDataset } from '../../surgery/split.js';
import type { SPLIT } from '../commands.js';
import type { ParsedCommand } from '../spec.js';
import type { CliIo } from '../io.js';
import { rewriteOptions, runRewrite } from '../surgery-report.js';

export async function run({ values, positionals }: ParsedCommand<typeof SPLIT>, io: CliIo): Promise<number> {
  const options = { ...rewriteOptions(values, io), splits: values.split, seed: values.seed };
  return runRewrite(values, io, () =>
    splitDataset(
      positionals.map((p) => resolve(io.cwd, p)),
      options,
    ),
  );
}
