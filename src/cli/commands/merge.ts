/**
 * `tfrecord-od merge DATASET... --out DIR [--shards N | --shard-size SIZE]
 *   [--name PREFIX] [--compression none|gzip|zlib] [--input-compression auto|none|gzip|zlib]
 *   [--target ai-platform|od-api] [--json]`
 *
 * Several datasets into one, classes matched by name (see surgery/merge.ts).
 * Exit 1 when nothing was published, 2 for usage mistakes.
 */
import { resolve } from 'node:path';
import { mergeDataset, type MergeReport } from '../../surgery/merge.js';
import type { MERGE } from '../commands.js';
import type { ParsedCommand } from '../spec.js';
import { type CliIo, displayPath } from '../io.js';
import { rewriteOptions, runRewrite } from '../surgery-report.js';

export async function run({ values, positionals }: ParsedCommand<typeof MERGE>, io: CliIo): Promise<number> {
  const both = { ...values, 'label-map': undefined };
  const options = rewriteOptions(both, io);
  return runRewrite(
    both,
    io,
    () =>
      mergeDataset(
        positionals.map((p) => resolve(io.cwd, p)),
        options,
      ),
    (r) => classLines(r, io.cwd),
  );
}

export function classLines(r: MergeReport, cwd: string): string[] {
  const lines = ['Classes (dataset: old id → merged id):'];
  for (const d of r.datasets) {
    const named = d.labelMapPath ? `label map ${displayPath(cwd, d.labelMapPath)}` : 'class texts';
    lines.push(`  ${displayPath(cwd, d.path)} (${named}): ${d.ids.map((c) => `${c.oldId} ${c.name} → ${c.newId}`).join(', ') || 'no classes'}`);
  }
  return lines;
}
