/** The report of the surgery commands (reshard, remap, split, merge): problems or findings on failure, the new shards on success. */
import { resolve } from 'node:path';
import { resolveTask } from '../dataset/task.js';
import { isTfrecordError } from '../errors.js';
import type { Compression, CompressionOption } from '../record/compression.js';
import type { Target } from '../dataset/manifest.js';
import type { ReshardOptions } from '../surgery/reshard.js';
import type { RewriteReport } from '../surgery/rewrite.js';
import { formatProblem } from '../problem.js';
import { type CliIo, displayPath, formatBytes, plural, UsageError, writeOut } from './io.js';

const SHOWN = 5;

export function renderRewriteReport(r: RewriteReport, cwd: string, extra: string[] = []): string {
  const shown = (p: string) => (p === '' ? '' : displayPath(cwd, p));
  const lines: string[] = [];
  if (r.problemCount > 0) {
    lines.push(`Problems (${r.problemCount}):`);
    for (const p of r.problems.slice(0, SHOWN)) lines.push(`  ${formatProblem({ ...p, file: shown(p.file) })}`);
    if (r.problemCount > SHOWN) lines.push(`  … and ${r.problemCount - SHOWN} more (--json lists ${r.problems.length})`);
  }
  const errors = r.findings.filter((f) => f.severity === 'error');
  if (!r.ok && errors.length > 0) {
    lines.push(`Validation errors (${errors.length}):`);
    for (const f of errors.slice(0, SHOWN)) lines.push(`  ${formatProblem({ ...f, file: shown(f.file), message: `${f.code}: ${f.message}` })}`);
  }
  lines.push(...extra);
  if (r.finishedPublish) lines.push(`Note: ${r.finishedPublish.message}`);
  if (r.task) {
    const t = r.task;
    lines.push(r.ok ? `Task ${t.index} of ${t.count}:` : `Task ${t.index} of ${t.count} FAILED: ${r.failure}`);
    if (r.shards.length === 0) lines.push(r.ok ? '  no shard of the plan fell to this task' : '  published no shard');
    else lines.push(`  wrote ${plural(r.records, 'record')} into ${plural(r.shards.length, 'shard')} (validated):`);
    for (const s of r.shards) lines.push(`  ${shown(s.path)}  (${plural(s.records, 'record')}, ${formatBytes(s.bytes)})`);
    lines.push(`Part manifest: ${shown(t.part)}`);
    lines.push(`Once every task has finished: tfrecord-od finalize ${shown(r.out)}`);
    return lines.join('\n') + '\n';
  }
  if (!r.ok) {
    lines.push(`FAILED: ${r.failure}`);
    return lines.join('\n') + '\n';
  }
  const warnings = r.findings.length - errors.length;
  if (r.finishedPublish && r.files.length === 0) {
    // finalize that only finished a publish: nothing was read or written but what that publish had staged.
    lines.push(`In place: ${plural(r.records, 'record')} in ${plural(r.shards.length, 'shard')}:`);
  } else {
    lines.push(
      `Wrote ${plural(r.records, 'record')} from ${plural(r.files.length, 'file')} into ${plural(r.shards.length, 'shard')}${warnings > 0 ? ` (validated; ${plural(warnings, 'warning')}, see --json)` : ' (validated)'}:`,
    );
  }
  for (const s of r.shards) lines.push(`  ${shown(s.path)}  (${plural(s.records, 'record')}, ${formatBytes(s.bytes)})`);
  if (r.labelMapPath) lines.push(`Label map: ${shown(r.labelMapPath)}`);
  if (r.manifestPath) lines.push(`Manifest: ${shown(r.manifestPath)} (target ${r.target})`);
  return lines.join('\n') + '\n';
}

/** The values the surgery commands share: where the new shards go and how they are laid out. */
export interface RewriteValues {
  out: string;
  shards: number | undefined;
  'shard-size': number | undefined;
  name: string | undefined;
  compression: Compression;
  'input-compression': CompressionOption;
  'label-map': string | undefined;
  target: Target | undefined;
  'task-index': number | undefined;
  'task-count': number | undefined;
  json: boolean;
}

/**
 * The shared part of the surgery commands' options, paths taken from the
 * working directory, the task of a batch job from the flags or the job
 * engine's environment (as convert takes it).
 */
export function rewriteOptions(values: RewriteValues, io: CliIo): ReshardOptions {
  const cwd = io.cwd;
  const options: ReshardOptions = { out: resolve(cwd, values.out), compression: values.compression, inputCompression: values['input-compression'] };
  try {
    const task = resolveTask({ index: values['task-index'], count: values['task-count'] }, io.env ?? process.env);
    if (task) options.task = task;
  } catch (err) {
    if (isTfrecordError(err)) throw new UsageError(err.reason);
    throw err;
  }
  if (values.shards !== undefined) options.shards = values.shards;
  if (values['shard-size'] !== undefined) options.shardSize = values['shard-size'];
  if (values.name !== undefined) options.name = values.name;
  if (values['label-map'] !== undefined) options.labelMap = resolve(cwd, values['label-map']);
  if (values.target !== undefined) options.target = values.target;
  return options;
}

/**
 * Runs a rewrite, prints its report (JSON or text) and returns the exit
 * code; a library 'bad-argument' (inputs that cannot be rewritten as asked)
 * is a usage mistake.
 */
export async function runRewrite<R extends RewriteReport>(
  values: RewriteValues,
  io: CliIo,
  rewrite: () => Promise<R>,
  extra: (r: R) => string[] = () => [],
): Promise<number> {
  let report: R;
  try {
    report = await rewrite();
  } catch (err) {
    if (isTfrecordError(err) && err.code === 'bad-argument') throw new UsageError(err.file ? `${displayPath(io.cwd, err.file)}: ${err.reason}` : err.reason);
    throw err;
  }
  if (values.json) await writeOut(io.stdout, JSON.stringify(report, null, 2) + '\n');
  else await writeOut(report.ok ? io.stdout : io.stderr, renderRewriteReport(report, io.cwd, extra(report)));
  return report.ok ? 0 : 1;
}
