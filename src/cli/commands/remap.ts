/**
 * `tfrecord-od remap PATH... --out DIR [--rename OLD=NEW]... [--drop NAME]...
 *   [--label-map FILE] [--shards N | --shard-size SIZE] [--name PREFIX]
 *   [--compression none|gzip|zlib] [--input-compression auto|none|gzip|zlib]
 *   [--target ai-platform|od-api] [--json]`
 *
 * Renames, merges and drops classes and numbers the rest 1..N (see
 * surgery/remap.ts). Exit 1 when nothing was published, 2 for usage mistakes.
 */
import { resolve } from 'node:path';
import { remapDataset, type RemapOptions, type RemapReport } from '../../surgery/remap.js';
import type { REMAP } from '../commands.js';
import type { ParsedCommand } from '../spec.js';
import { type CliIo, UsageError } from '../io.js';
import { rewriteOptions, runRewrite } from '../surgery-report.js';

export async function run({ values, positionals }: ParsedCommand<typeof REMAP>, io: CliIo): Promise<number> {
  const rename = new Map<string, string>();
  for (const rule of values.rename) {
    const at = rule.indexOf('=');
    if (at <= 0) throw new UsageError(`--rename takes OLD=NEW, got '${rule}'`);
    const from = rule.slice(0, at);
    if (rename.has(from)) throw new UsageError(`class '${from}' is renamed twice`);
    rename.set(from, rule.slice(at + 1));
  }
  // Neither rule: the classes are only renumbered 1..N, which is what a
  // gapped od-api dataset needs before Google's built-in training takes it.
  const options: RemapOptions = { ...rewriteOptions(values, io), rename, drop: values.drop };
  return runRewrite(
    values,
    io,
    () =>
      remapDataset(
        positionals.map((p) => resolve(io.cwd, p)),
        options,
      ),
    classLines,
  );
}

export function classLines(r: RemapReport): string[] {
  const lines = ['Classes (old → new):'];
  for (const c of r.changes) {
    const to = c.newId !== undefined ? `${c.newId} ${c.newName}` : c.gone === 'dropped' ? 'dropped' : 'no boxes: left out';
    lines.push(`  ${String(c.oldId).padStart(3)} ${c.oldName.padEnd(20)} → ${to}  (${c.boxes} box${c.boxes === 1 ? '' : 'es'})`);
  }
  if (r.droppedBoxes > 0)
    lines.push(
      `Dropped ${r.droppedBoxes} box${r.droppedBoxes === 1 ? '' : 'es'}; ${r.emptiedRecords} record${r.emptiedRecords === 1 ? '' : 's'} left without boxes (kept as negatives).`,
    );
  for (const n of r.notes) lines.push(`Note: ${n}`);
  return lines;
}
