/**
 * The shared body of the dataset surgery commands (reshard, remap, split,
 * merge): existing TFRecord files read in order, each record passed through
 * an optional rewrite into new shards, the shards checked as `tfrecord-od
 * validate` would and only then published as convert publishes
 * (convert/publish.ts), by a journal: the shards under their final names,
 * the label map, and last `manifest.json`, the commit point, describing the
 * whole set with every shard's digests.
 *
 * Three steps, the same for one machine and for the tasks of a batch job,
 * as convert's (convert/convert.ts):
 *
 *   1. plan (every task alike): the inputs' record index (inputs.ts: from
 *      the framing alone for reshard; with the command's survey of every
 *      payload for the others) and every record's shard (plan.ts);
 *   2. run (run-task.ts): the records of a range of the planned shards (all
 *      of them on one machine) rewritten, written under staging names, read
 *      back as convert reads its shards back, published; a part manifest
 *      says what happened;
 *   3. finalize (finalize.ts): the parts make the dataset. One machine hands
 *      its one part over in memory; `tfrecord-od finalize OUT` reads the
 *      parts the tasks of a job wrote.
 *
 * Deterministic: the same input, options and rewrite give the same bytes,
 * whatever the number of tasks (records keep their order; `--shards N` deals
 * record i of a set to shard i mod N). Inputs are only read. On one machine
 * the output folder must be new or empty and is locked for the run, so
 * nothing an earlier run left there can mix into the new set, and a failed
 * run leaves the folder as it found it; the tasks of a job share the folder
 * and take no lock (finalize does), as convert's tasks do.
 */
import { mkdir, readdir, rm, rmdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { discard } from '../convert/finalize.js';
import { LOCK_FILE, lockOutput } from '../convert/lock.js';
import { PARTS_DIR, writePart } from '../convert/part.js';
import { describeFsError, isTfrecordError, TfrecordError } from '../errors.js';
import { LABEL_MAP_FILE, MANIFEST_FILE, type Target } from '../dataset/manifest.js';
import { PUBLISH_JOURNAL_FILE, readPublishJournal } from '../dataset/publish-journal.js';
import type { RunNote } from '../convert/report.js';
import type { TaskSpec } from '../dataset/task.js';
import type { LabelMap } from '../detection/label-map.js';
import type { Problem, ProblemLocation } from '../problem.js';
import type { Compression, CompressionOption } from '../record/compression.js';
import type { Finding } from '../validate/findings.js';
import type { InputManifest, SurgeryRun } from './dataset.js';
import { finalizeRewriteParts, MAX_PROBLEMS, problemsFailure } from './finalize.js';
import { type InputIndex, indexInputs } from './inputs.js';
import { planShards, type RewritePlan, type RewriteSet } from './plan.js';
import { type PlannedRewrite, type RewritePart, runRewriteTask } from './run-task.js';

/** Shard prefixes are file names, used in `PREFIX-*-of-*` globs. */
export const PREFIX_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export interface RewriteOptions {
  paths: readonly string[];
  out: string;
  prefix: string;
  layout: { shards: number } | { shardSize: number };
  /** Of the new shards. */
  compression: Compression;
  /** Of the inputs (default 'auto'). */
  inputCompression?: CompressionOption;
  /** Written beside the shards, and what the new shards are validated against. */
  labelMap?: LabelMap;
  /** Whose rules the new shards are validated against; recorded in the manifest. */
  target: Target;
  /** The command and its options, as the manifest records them. */
  run: SurgeryRun;
  /** The inputs' manifests (what the new manifest was derived from). */
  inputManifests?: readonly InputManifest[];
  /**
   * The new payload of a record (default: the record as it is). Throws a
   * TfrecordError for a record it cannot rewrite; the error becomes a
   * problem at that record and nothing is published.
   */
  transform?: (payload: Uint8Array, where: ProblemLocation) => Uint8Array;
  /**
   * Several shard sets instead of one (split): the sets, whose `index`
   * (built with a survey that puts each record in one, see inputs.ts) is
   * given; `prefix` is then unused. A set's name is its split's (the
   * manifest lists it so).
   */
  sets?: readonly RewriteSet[];
  /** The inputs' record index, when the command built it itself (with its survey); otherwise it is read from the framing. */
  index?: InputIndex;
  /** Fields the command adds to its report, the same for every task (the zeros of its counters too). */
  report?: Record<string, unknown>;
  /** The transform's counts so far (remap's dropped boxes), summed over the tasks into the report's fields of those names. */
  counters?: () => Record<string, number>;
  /**
   * Run as this task of a job: write only this task's share of the planned
   * shards and a part manifest, for `finalize` (see dataset/task.ts).
   */
  task?: TaskSpec;
  maxProblems?: number;
}

export interface ShardReport {
  name: string;
  path: string;
  records: number;
  /** Framed, uncompressed bytes. */
  bytes: number;
  /** Size of the file on disk (differs from `bytes` when compressed). */
  fileBytes: number;
  /** SHA-256 (hex) of the file on disk. */
  sha256: string;
  /** CRC32C of the file on disk in Cloud Storage's form (base64, big-endian). */
  crc32c: string;
}

export interface RewriteReport {
  ok: boolean;
  /** Absolute. */
  out: string;
  /** Input files read. */
  files: string[];
  records: number;
  shards: ShardReport[];
  /** Reading or rewriting problems (nothing is published when there are any). */
  problems: Problem[];
  problemCount: number;
  /** Errors and warnings of the check of the new shards, naming them by their final paths. */
  findings: Finding[];
  failure?: string;
  labelMapPath?: string;
  /** Written last: its presence says the set is complete. */
  manifestPath?: string;
  /** Whose rules the new shards were checked against. */
  target?: Target;
  /** A task of a job: which, and its part manifest (the shards, records and problems are its own). */
  task?: { index: number; count: number; part: string };
  /** finalize only: a publish cut short in the folder that it finished first (an `interrupted-publish` note naming whose). */
  finishedPublish?: RunNote;
}

export async function rewriteDataset(options: RewriteOptions): Promise<RewriteReport> {
  const sets = options.sets ?? [{ name: options.prefix, prefix: options.prefix }];
  for (const { prefix } of sets) {
    if (!PREFIX_PATTERN.test(prefix)) {
      throw new TfrecordError('bad-argument', `shard prefix '${prefix}' may use only letters, digits, '.', '_' and '-'`);
    }
  }
  const out = resolve(options.out);
  if (options.task) return runTask(options, sets, out, options.task);
  const { created, unlock } = await openOutput(out, options.run.command);
  let part: RewritePart | undefined;
  let ok = false;
  try {
    const run = await planRewrite(options, sets, out, 1);
    part = await runRewriteTask(run, { index: 0, count: 1 }, 'stage');
    // This process read its shards back a moment ago: their sizes are check enough.
    const report = await finalizeRewriteParts(out, [part], { check: 'size' }, 'one-machine');
    ok = report.ok;
    return report;
  } finally {
    if (!ok && part) {
      // A publish that failed half-way: without the manifest the shards are
      // no complete set, and the folder (new or empty before) goes back as
      // it was, journal and all (staged or renamed, every shard goes). Only
      // a run killed leaves its journal, for finalize to finish the publish.
      await discard(
        out,
        [part],
        part.plan.shards.map((s) => join(out, s.name)),
      );
      for (const f of [LABEL_MAP_FILE, MANIFEST_FILE, PUBLISH_JOURNAL_FILE]) await rm(join(out, f), { force: true });
    }
    unlock();
    if (!ok && created) await rmdir(out).catch(() => undefined);
  }
}

/** Step 1, the plan: nothing here depends on which task runs it. */
async function planRewrite(options: RewriteOptions, sets: readonly RewriteSet[], out: string, tasks: number): Promise<PlannedRewrite> {
  const maxProblems = options.maxProblems ?? MAX_PROBLEMS;
  const index = options.index ?? (await indexInputs(options.paths, { compression: options.inputCompression ?? 'auto', maxProblems }));
  const layout = planShards(index, sets, options.layout, options.compression);
  const plan: RewritePlan = {
    options: options.run.options,
    target: options.target,
    compression: options.compression,
    labelMap: options.labelMap?.items ?? null,
    splits: sets.map((s) => ({ name: s.name, prefix: s.prefix })),
    shards: layout.shards.map((s) => ({ split: s.set, name: s.name, images: s.records })),
    inputs: options.paths.map((p) => resolve(p)),
    files: index.files.map((f) => f.path),
    inputManifests: (options.inputManifests ?? []).map((m) => m.path),
    records: index.offsets.length,
    problems: index.problems,
    problemCount: index.problemCount,
    ...(index.problemCount > 0 ? { failure: problemsFailure(index.problemCount) } : {}),
    tasks,
    digest: index.digest,
    report: options.report ?? {},
  };
  return {
    command: options.run.command,
    out,
    plan,
    index,
    layout,
    labelMap: options.labelMap,
    ...(options.transform ? { transform: options.transform } : {}),
    ...(options.counters ? { counters: options.counters } : {}),
    maxProblems,
  };
}

/** One task of a job: its shards and its part manifest, and a report of what it did. */
async function runTask(options: RewriteOptions, sets: readonly RewriteSet[], out: string, task: TaskSpec): Promise<RewriteReport> {
  try {
    await mkdir(out, { recursive: true });
  } catch (err) {
    throw new TfrecordError('io', `cannot create the output folder: ${describeFsError(err)}`, { file: out, cause: err });
  }
  const run = await planRewrite(options, sets, out, task.count);
  await checkTaskOutput(out, run);
  const part = await runRewriteTask(run, task, 'publish');
  const file = await writePart(out, part);
  const { plan, result } = part;
  const extra: Record<string, unknown> = { ...plan.report, ...result.counters };
  const n = result.problemCount;
  const failure = plan.failure ?? (n > 0 ? `${n} problem${n === 1 ? '' : 's'} in this task's records; it published nothing` : result.failure);
  return {
    ...extra,
    ok: failure === undefined,
    out,
    files: [...plan.files],
    records: result.records,
    shards: result.shards.map((sh) => {
      const name = plan.shards[sh.slot]!.name;
      return { name, path: join(out, name), records: sh.records, bytes: sh.uncompressedBytes, fileBytes: sh.bytes, sha256: sh.sha256, crc32c: sh.crc32c };
    }),
    problems: plan.failure !== undefined ? plan.problems : result.problems.map(({ at: _at, ...p }) => p as Problem),
    problemCount: plan.failure !== undefined ? plan.problemCount : result.problemCount,
    findings: result.findings,
    target: plan.target,
    task: { index: task.index, count: task.count, part: file },
    ...(failure !== undefined ? { failure } : {}),
  };
}

/**
 * A task shares the output folder with the other tasks of its job, so it
 * cannot ask for an empty one; it refuses a folder holding anything but
 * what the tasks of this run write there (their shards, staging files and
 * parts), so nothing already there mixes into the new set.
 */
async function checkTaskOutput(out: string, run: PlannedRewrite): Promise<void> {
  if (await readPublishJournal(out)) throw interruptedRefusal(out);
  const planned = new Set(run.plan.shards.map((s) => s.name));
  const staging = run.plan.splits.map((s) => `.${s.prefix}-`);
  const foreign = (await readdir(out)).filter(
    (e) => e !== PARTS_DIR && e !== LOCK_FILE && !planned.has(e) && !(staging.some((p) => e.startsWith(p)) && e.includes('.staging-')),
  );
  if (foreign.length > 0) {
    const shown = foreign.length > 5 ? `${foreign.slice(0, 5).join(', ')}, …` : foreign.join(', ');
    throw new TfrecordError(
      'bad-argument',
      `the output folder holds files that are not this job's (${shown}); the tasks of a job write into a new or empty folder, so nothing already there mixes in`,
      { file: out },
    );
  }
}

/** The refusal of a folder holding a publish that was cut short (its journal). */
function interruptedRefusal(out: string): TfrecordError {
  return new TfrecordError(
    'bad-argument',
    'the output folder holds a publish that was cut short (validate names it); `tfrecord-od finalize` on it finishes that publish, ' +
      'and the new shards go into a new or empty folder',
    { file: out },
  );
}

/**
 * Throws 'bad-argument' unless `out` is missing or an empty folder; returns
 * whether it exists. (Called early by commands that read the input first.)
 * A folder holding another run's lock is left for the lock to judge, so
 * that run is named; `locked` (this run holds the lock) ignores the lock
 * file and judges the rest.
 */
export async function checkOutput(out: string, locked = false): Promise<boolean> {
  try {
    const st = await stat(out);
    if (!st.isDirectory()) throw new TfrecordError('bad-argument', 'the output path exists and is not a folder', { file: out });
    const entries = await readdir(out);
    if (!locked && entries.includes(LOCK_FILE)) return true;
    if (entries.includes(PUBLISH_JOURNAL_FILE)) throw interruptedRefusal(out);
    if (entries.some((e) => e !== LOCK_FILE)) {
      throw new TfrecordError(
        'bad-argument',
        'the output folder is not empty; the new shards go into a new or empty folder, so nothing already there mixes in',
        { file: out },
      );
    }
    return true;
  } catch (err) {
    if (isTfrecordError(err)) throw err;
    if ((err as { code?: string }).code !== 'ENOENT') throw new TfrecordError('io', describeFsError(err), { file: out, cause: err });
    return false;
  }
}

/**
 * Creates the output folder (or checks the existing one is empty) and takes
 * its lock, as convert does: a second run into the same folder is refused
 * naming the first. The lock is taken before the folder is found empty, so
 * that the second run hears about the first rather than about its files.
 */
async function openOutput(out: string, command: string): Promise<{ created: boolean; unlock: () => void }> {
  const existed = await checkOutput(out);
  if (!existed) {
    try {
      await mkdir(out, { recursive: true });
    } catch (err) {
      throw new TfrecordError('io', `cannot create the output folder: ${describeFsError(err)}`, { file: out, cause: err });
    }
  }
  let unlock: (() => void) | undefined;
  try {
    unlock = lockOutput(out, command);
    await checkOutput(out, true);
    return { created: !existed, unlock };
  } catch (err) {
    unlock?.();
    if (!existed) await rmdir(out).catch(() => undefined);
    throw err;
  }
}
