/**
 * Finalize for the rewrites (reshard, remap, split, merge): the parts of a
 * run (run-task.ts) made into one dataset, the step the one-machine run
 * ends with too. As convert's finalize (convert/finalize.ts, whose shard
 * checks it shares): it checks that every planned shard is there as its
 * task recorded it, decides what only the whole run can (it fails for any
 * task's problems, or for a check of the whole dataset: a record at all,
 * the labels used 1..N), then publishes by convert's journal
 * (convert/publish.ts): one machine's staged shards to their final names,
 * label_map.pbtxt, manifest.json (the commit point), the removal of the
 * parts. Killed after the journal, the next finalize finishes it.
 *
 * A run that fails leaves nothing of itself: the shards its tasks published
 * are removed with the parts.
 */
import { basename, join, resolve } from 'node:path';
import { LABEL_MAP_FILE, MANIFEST_FILE } from '../dataset/manifest.js';
import { formatLabelMap, type LabelMap } from '../detection/label-map.js';
import { checkShards, discard, type FinalizeOptions } from '../convert/finalize.js';
import { lockOutput } from '../convert/lock.js';
import { readParts } from '../convert/part.js';
import { type FinishedPublish, finishInterruptedPublish, interruptedPublishError, type PublishProgress, runPublish } from '../convert/publish.js';
import { readPendingParts } from '../dataset/publish-journal.js';
import type { Problem } from '../problem.js';
import type { Finding } from '../validate/findings.js';
import { datasetWideFindings } from '../validate/validate.js';
import { SetTally, surgeryManifest } from './dataset.js';
import { rewriteListsProblem } from './plan.js';
import type { RewriteReport, ShardReport } from './rewrite.js';
import type { RewritePart } from './run-task.js';

/** Problems listed in a report (all are counted). */
export const MAX_PROBLEMS = 100;
/** Findings listed per code. */
const MAX_FINDINGS = 20;

/**
 * `tfrecord-od finalize OUT` for the parts of `command`'s tasks: refuses
 * (changing nothing) while a part is missing, when parts of different runs
 * are mixed, or when a shard is missing or not what its task wrote.
 */
export async function finalizeRewrite(out: string, command: string, options: FinalizeOptions = {}): Promise<RewriteReport> {
  const dir = resolve(out);
  const unlock = lockOutput(dir, 'finalize');
  try {
    // A publish cut short is finished first (its journal, convert/publish.ts); when it was this finalize's, nothing else is left.
    const finished = await finishInterruptedPublish(dir);
    if (finished && !(await readPendingParts(dir))) return finishedReport(dir, finished);
    const report = await finalizeRewriteParts(dir, await readParts<RewritePart>(dir, command, rewriteListsProblem), options);
    if (finished) report.finishedPublish = finished.note;
    return report;
  } finally {
    unlock();
  }
}

/** The report of a finalize that only finished an interrupted publish: the shards that publish put in place. */
function finishedReport(out: string, finished: FinishedPublish): RewriteReport {
  const { journal } = finished;
  const mine = new Set(journal.prefixes);
  const splits = journal.manifest.splits.filter((s) => mine.has(s.prefix));
  return {
    ok: true,
    out,
    files: [],
    records: splits.reduce((n, s) => n + s.records, 0),
    shards: splits.flatMap((s) =>
      s.shards.map((sh) => ({
        name: sh.name,
        path: join(out, sh.name),
        records: sh.records,
        bytes: sh.uncompressedBytes,
        fileBytes: sh.bytes,
        sha256: sh.sha256,
        crc32c: sh.crc32c,
      })),
    ),
    problems: [],
    problemCount: 0,
    findings: [],
    target: journal.manifest.target,
    finishedPublish: finished.note,
    ...(journal.labelMap !== null ? { labelMapPath: join(out, LABEL_MAP_FILE) } : {}),
    manifestPath: join(out, MANIFEST_FILE),
  };
}

/**
 * The dataset of `parts` (every task of one run, in task order). `source`
 * 'one-machine': the one part of a run on one machine, in memory, its
 * shards still staged (a failure here is undone whole by the caller, the
 * folder being new or empty); 'tasks': the parts a job's tasks left, which
 * the publish removes.
 */
export async function finalizeRewriteParts(
  out: string,
  parts: readonly RewritePart[],
  options: FinalizeOptions = {},
  source: 'tasks' | 'one-machine' = 'tasks',
): Promise<RewriteReport> {
  const plan = parts[0]!.plan;
  const results = parts.map((p) => p.result);
  // The command's own fields (their zeros are in the plan), with its counters summed over the tasks.
  const extra: Record<string, unknown> = { ...plan.report };
  for (const r of results) for (const [key, n] of Object.entries(r.counters)) extra[key] = ((extra[key] as number | undefined) ?? 0) + n;
  const report: RewriteReport = {
    ...extra,
    ok: false,
    out,
    files: [...plan.files],
    records: results.reduce((n, r) => n + r.records, 0),
    shards: [],
    problems: [...plan.problems],
    problemCount: plan.problemCount,
    findings: [],
    target: plan.target,
  };
  // Where each planned shard's file is now: its final name, or one machine's staging name.
  const files = new Map<number, string>();
  for (const p of parts) for (const sh of p.result.shards) files.set(sh.slot, join(out, sh.staged ?? plan.shards[sh.slot]!.name));
  const fail = async (message: string): Promise<RewriteReport> => {
    await discard(out, parts, []);
    report.failure = message;
    return report;
  };
  if (plan.failure !== undefined) return fail(plan.failure);

  // Every task's problems, in the order one machine meets them (its records in input order).
  const problems = results.flatMap((r) => r.problems).sort((a, b) => a.at - b.at);
  report.problems = problems.slice(0, MAX_PROBLEMS).map(({ at: _at, ...p }) => p as Problem);
  report.problemCount = results.reduce((n, r) => n + r.problemCount, 0);
  if (report.problemCount > 0) return fail(problemsFailure(report.problemCount));

  const prefixes = plan.splits.map((s) => s.prefix);
  const tally = SetTally.fromCounts(prefixes, results);
  const labelMap: LabelMap | undefined = plan.labelMap ? { items: plan.labelMap } : undefined;
  const whole = datasetWideFindings({ target: plan.target, ...(labelMap ? { labelMap } : {}) }, report.records, tally.tally.classes.keys());
  report.findings = [...capFindings(results.flatMap((r) => r.findings)), ...whole];
  if (results.some((r) => r.failure !== undefined) || whole.some((f) => f.severity === 'error')) {
    return fail('the new shards did not pass validation; nothing was published');
  }

  const shards = await checkShards(out, parts, files, options.check ?? 'hash');
  const sets = plan.splits.map((s, _i) => ({ name: s.name ?? s.prefix, prefix: s.prefix, shards: [] as ShardReport[] }));
  plan.shards.forEach((planned, slot) => {
    const sh = shards.get(slot)!;
    sets[planned.split]!.shards.push({
      name: planned.name,
      path: join(out, planned.name),
      records: sh.records,
      bytes: sh.uncompressedBytes,
      fileBytes: sh.bytes,
      sha256: sh.sha256,
      crc32c: sh.crc32c,
    });
  });
  report.shards = sets.flatMap((s) => s.shards);

  if (labelMap) report.labelMapPath = join(out, LABEL_MAP_FILE);
  const manifest = surgeryManifest({
    run: { command: parts[0]!.command, options: plan.options },
    target: plan.target,
    labelMap,
    inputs: plan.inputs,
    inputManifests: plan.inputManifests,
    sets: sets.map((s) => ({
      name: s.name,
      prefix: s.prefix,
      shards: s.shards.map((sh) => ({
        name: sh.name,
        records: sh.records,
        bytes: sh.fileBytes,
        uncompressedBytes: sh.bytes,
        sha256: sh.sha256,
        crc32c: sh.crc32c,
      })),
    })),
    tally,
    records: report.records,
    warnings: results.reduce((n, r) => n + r.warnings, 0),
  });
  report.manifestPath = join(out, MANIFEST_FILE);
  // The publish, by its journal: the staged shards to their final names, the
  // label map, the manifest (the commit point), the parts.
  const renames = [...files.entries()]
    .filter(([slot, file]) => file !== join(out, plan.shards[slot]!.name))
    .sort(([a], [b]) => a - b)
    .map(([slot, file]) => ({ from: basename(file), to: plan.shards[slot]!.name, bytes: shards.get(slot)!.bytes }));
  const progress: PublishProgress = { renamed: 0, changed: false };
  try {
    await runPublish(
      out,
      {
        command: source === 'tasks' ? 'finalize' : parts[0]!.command,
        prefixes: plan.splits.map((s) => s.prefix),
        keep: plan.shards.map((s) => s.name),
        renames,
        labelMap: labelMap ? formatLabelMap(labelMap) : null,
        manifest,
        parts: source === 'tasks',
      },
      progress,
    );
  } catch (err) {
    // A job's finalize that changed the folder leaves the journal for the next finalize; one machine's run is undone by its caller.
    if (progress.changed && source === 'tasks') throw interruptedPublishError(out, renames.length, progress, err);
    throw err;
  }
  report.ok = true;
  return report;
}

export function problemsFailure(n: number): string {
  return `the input has ${n} problem${n === 1 ? '' : 's'}; nothing was written`;
}

/** At most MAX_FINDINGS of each code, the first ones (tasks in order). */
function capFindings(findings: readonly Finding[]): Finding[] {
  const kept = new Map<string, number>();
  return findings.filter((f) => {
    const n = kept.get(f.code) ?? 0;
    kept.set(f.code, n + 1);
    return n < MAX_FINDINGS;
  });
}
