/**
 * `tfrecord-od job-args OUT [--bucket gs://BUCKET/PATH] [--json]`
 *
 * Prints the data arguments of a training job for Google's built-in image
 * object detection algorithm, worked out from the manifest in OUT: one shard
 * pattern per split that matches exactly its shards, the number of classes
 * and the number of validation images.
 */
import { resolve } from 'node:path';
import { TfrecordError } from '../../errors.js';
import { computeJobArgs, formatJobCommand } from '../../dataset/job-args.js';
import { readManifest } from '../../dataset/manifest.js';
import type { JOB_ARGS } from '../commands.js';
import { type CliIo, writeOut } from '../io.js';
import type { ParsedCommand } from '../spec.js';

export async function run({ values, positionals }: ParsedCommand<typeof JOB_ARGS>, io: CliIo): Promise<number> {
  const { bucket } = values;
  const dir = resolve(io.cwd, positionals[0]!);
  const manifest = await readManifest(dir);
  if (!manifest) throw new TfrecordError('io', 'no manifest.json here: job-args reads the output folder of `tfrecord-od convert`', { file: positionals[0]! });
  const args = computeJobArgs(manifest, bucket);
  if (values.json) {
    await writeOut(io.stdout, `${JSON.stringify(args)}\n`);
  } else {
    const lines = [formatJobCommand(args), ''];
    for (const n of args.notes) lines.push(`note: ${n}`);
    await writeOut(io.stdout, `${lines.join('\n')}\n`);
  }
  return args.training && args.validation ? 0 : 1;
}
