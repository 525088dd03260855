/**
 * `tfrecord-od remap PATH... --out DIR [--rename OLD=NEW]... [--drop NAME]...
 *   [--label-map FILE] [--shards N | --shard-size SIZE] [--name PREFIX]
 *   [--compression none|gzip|zlib] [--input-compression auto|none|gzip|zlib] [--json]`
 *
 * Renames, merges and drops classes and numbers the rest 1..N (see
 * surgery/remap.ts). Exit 1 when nothing was published, 2 for usage mistakes.
 */
import { resolve } from 'node:path';
import { isTfrecordError } from '../../errors.js';
import { remapDataset, type RemapOptions, type RemapReport } from '../../surgery/remap.js';
import type { REMAP } from '../commands.js';
import type { ParsedCommand } from '../spec.js';
import { type CliIo, displayPath, UsageError, writeOut } from '../io.js';
import { renderRewriteReport } from '../surgery-report.js';

export async function run({ values, positionals }: ParsedCommand<typeof REMAP>, io: CliIo): Promise<number> {
  const rename = new Map<string, string>();
  for (const rule of values.rename) {
    const at = rule.indexOf('=');
    if (at <= 0) throw new UsageError(`--rename takes OLD=NEW, got '${rule}'`);
    const from = rule.slice(0, at);
    if (rename.has(from)) throw new UsageError(`class '${from}' is renamed twice`);
    rename.set(from, rule.slice(at + 1));
  }
  if (rename.size === 0 && values.drop.length === 0) throw new UsageError('give at least one --rename OLD=NEW or --drop NAME');
  const at = (p: string) => resolve(io.cwd, p);
  const options: RemapOptions = {
    out: at(values.out),
    rename,
    drop: values.drop,
    compression: values.compression,
    inputCompression: values['input-compression'],
  };
  if (values.shards !== undefined) options.shards = values.shards;
  if (values['shard-size'] !== undefined) options.shardSize = values['shard-size'];
  if (values.name !== undefined) options.name = values.name;
  if (values['label-map'] !== undefined) options.labelMap = at(values['label-map']);
  let report: RemapReport;
  try {
    report = await remapDataset(positionals.map(at), options);
  } catch (err) {
    if (isTfrecordError(err) && err.code === 'bad-argument') throw new UsageError(err.file ? `${displayPath(io.cwd, err.file)}: ${err.reason}` : err.reason);
    throw err;
  }
  if (values.json) await writeOut(io.stdout, JSON.stringify(report, null, 2) + '\n');
  else await writeOut(report.ok ? io.stdout : io.stderr, renderRewriteReport(report, io.cwd, classLines(report)));
  return report.ok ? 0 : 1;
}

function classLines(r: RemapReport): string[] {
  const lines = ['Classes (old → new):'];
  for (const c of r.changes) {
    const to = c.newId !== undefined ? `${c.newId} ${c.newName}` : c.gone === 'dropped' ? 'dropped' : 'no boxes: left out';
    lines.push(`  ${String(c.oldId).padStart(3)} ${c.oldName.padEnd(20)} → ${to}  (${c.boxes} box${c.boxes === 1 ? '' : 'es'})`);
  }
  if (r.droppedBoxes > 0) lines.push(`Dropped ${r.droppedBoxes} box${r.droppedBoxes === 1 ? '' : 'es'}; ${r.emptiedRecords} record${r.emptiedRecords === 1 ? '' : 's'} left without boxes (kept as negatives).`);
  for (const n of r.notes) lines.push(`Note: ${n}`);
  return lines;
}
