/**
 * One task's share of a rewrite: the planned shards in its range
 * (dataset/task.ts: taskRange, balanced by records), written from the
 * records the plan sends there and nothing else, checked as the one-machine
 * run checks its shards, and published under their final names; what
 * happened goes into a part manifest. One machine runs the same code as
 * task 0 of 1, but leaves its shards staged for finalize's journalled
 * publish (convert/publish.ts).
 *
 * A task reads only its own records. From an uncompressed input it reads
 * them by byte range (a run of consecutive records of its shards at a
 * time), so `--shards N`, which deals every N-th record to a shard, costs a
 * task the bytes of its records and no more. A compressed input can only be
 * inflated from its start: the task inflates it up to its last record there.
 *
 * What only the whole run can decide is left to finalize (finalize.ts):
 * whether it fails for another task's problems, and the checks of the whole
 * dataset (any record at all; the labels used 1..N).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PARTS_DIR } from '../dataset/publish-journal.js';
import { taskRange, type TaskSpec } from '../dataset/task.js';
import type { LabelMap } from '../detection/label-map.js';
import { isTfrecordError } from '../errors.js';
import { crc32cFast } from '../io/native-crc.js';
import { makeProblem, type Problem, type ProblemLocation } from '../problem.js';
import { FRAME_OVERHEAD, frameInPlace, HEADER_BYTES } from '../record/frame.js';
import { VERIFY_RANGE_BYTES } from '../convert/sink.js';
import { ShardVerifier } from '../convert/verify.js';
import { newEnvelope, partShards, type PartEnvelope } from '../convert/part.js';
import { checkpoint } from '../convert/publish.js';
import { ShardedWriter, type ShardInfo } from '../shard/sharded-writer.js';
import type { Finding, FindingCode } from '../validate/findings.js';
import { checkRecords } from '../validate/range.js';
import type { RecordCheckOptions } from '../validate/record-check.js';
import { DATASET_WIDE_CODES, DatasetValidator } from '../validate/validate.js';
import { walkFile, type ProblemEvent, type RecordEvent } from '../walk/walk-records.js';
import { SetTally } from './dataset.js';
import type { InputFile, InputIndex } from './inputs.js';
import type { RewritePlan, RewriteResult, ShardLayout } from './plan.js';

/** Findings kept per code from the check of a task's shards. */
const MAX_FINDINGS = 20;

/** Warnings about pairs of records: each task sees only its own records, so they stay out of the manifest's count. */
const CROSS_RECORD: ReadonlySet<FindingCode> = new Set(['duplicate-image', 'duplicate-source-id', 'text-label-mismatch']);

export type RewritePart = PartEnvelope<RewritePlan, RewriteResult>;

/** Everything the plan worked out, which every task of a run shares. */
export interface PlannedRewrite {
  command: string;
  out: string;
  plan: RewritePlan;
  index: InputIndex;
  layout: ShardLayout;
  labelMap: LabelMap | undefined;
  /** The new payload of a record (default: the record as it is); throws a TfrecordError for a record it cannot rewrite. */
  transform?: (payload: Uint8Array, where: ProblemLocation) => Uint8Array;
  /** The transform's counts for this task's records (read once it is done). */
  counters?: () => Record<string, number>;
  maxProblems: number;
}

/**
 * Runs `task`'s share of `run`. `mode` 'publish' (a task of a job) renames
 * its checked shards to their final names; 'stage' (one machine) leaves
 * them staged for finalize's journalled publish (convert/publish.ts).
 */
export async function runRewriteTask(run: PlannedRewrite, task: TaskSpec, mode: 'publish' | 'stage'): Promise<RewritePart> {
  const { plan, layout } = run;
  const range = taskRange(
    plan.shards.map((s) => s.images),
    task.index,
    task.count,
  );
  const prefixes = plan.splits.map((s) => s.prefix);
  const tally = new SetTally(prefixes);
  const result: RewriteResult = { shards: [], records: 0, problems: [], problemCount: 0, findings: [], warnings: 0, counters: {}, ...tally.toCounts() };
  const part = newEnvelope(run.command, task, range, plan, result);
  if (plan.failure !== undefined || range.start === range.end) return part;

  const checkOptions: RecordCheckOptions = { target: plan.target, ...(run.labelMap ? { labelMap: run.labelMap } : {}) };
  // Convert's read-back, on this thread: a shard's stretches are checked one
  // after the other while the writer goes on (see convert/verify.ts).
  const verifier = new ShardVerifier({
    check: (request) => checkRecords(request),
    inOrder: false,
    validator: await DatasetValidator.create({ ...checkOptions, compression: plan.compression, maxFindings: MAX_FINDINGS }),
    options: checkOptions,
    compression: plan.compression,
    rangeBytes: VERIFY_RANGE_BYTES,
  });
  const writers = new Map<number, ShardedWriter>();
  let writing = true;
  const stopWriting = async () => {
    writing = false;
    verifier.cancel();
    for (const w of writers.values()) await w.abort();
  };
  try {
    const mine = layout.shards.slice(range.start, range.end);
    for (const [s, set] of plan.splits.entries()) {
      const shards = mine.filter((sh) => sh.set === s);
      if (shards.length === 0) continue;
      const planned = { total: shards[0]!.total, indexes: shards.map((sh) => sh.index) };
      writers.set(s, await ShardedWriter.create({ dir: run.out, prefix: set.prefix, compression: plan.compression, listener: verifier, planned }));
    }
    // Records still to come per shard: a shard is closed after its last (an open file per shard would pile up).
    const pending = new Map<number, number>();
    for (let slot = range.start; slot < range.end; slot++) pending.set(slot, layout.shards[slot]!.records);
    const shardLabels = new Map<number, Set<number>>();

    const problem = (p: Problem, at: number) => {
      result.problemCount++;
      if (result.problems.length < run.maxProblems) result.problems.push({ ...p, at });
    };
    const write = async (file: InputFile, ev: RecordEvent) => {
      const at = file.first + ev.index;
      const where = { file: ev.file, record: ev.index, offset: ev.offset };
      let payload = ev.payload;
      try {
        if (run.transform) payload = run.transform(payload, where);
      } catch (err) {
        if (!isTfrecordError(err)) throw err;
        problem(makeProblem(err.code, err.reason, where), at);
        if (writing) await stopWriting();
        return;
      }
      result.records++;
      // After the first problem nothing will be published: reading goes on only to list them all.
      if (!writing) return;
      const slot = layout.slotOf[at]!;
      const shard = layout.shards[slot]!;
      const labels = tally.add(shard.prefix, payload, at);
      let used = shardLabels.get(slot);
      if (!used) shardLabels.set(slot, (used = new Set()));
      for (const l of labels) used.add(l);
      const writer = writers.get(shard.set)!;
      await writer.writeFramedAt(shard.index, frame(payload));
      const left = pending.get(slot)! - 1;
      pending.set(slot, left);
      if (left === 0) await writer.closeAt(shard.index);
    };
    const fail = async (file: InputFile, ev: ProblemEvent) => {
      problem(ev.problem, file.first + (ev.problem.record ?? file.records));
      if (writing) await stopWriting();
    };
    for (const file of run.index.files) await readOwnRecords(run, file, range, write, fail);

    result.counters = run.counters?.() ?? {};
    Object.assign(result, tally.toCounts());
    if (!writing) return part;

    const staged: ShardInfo[] = [];
    for (const w of writers.values()) staged.push(...(await w.finish()));
    const { report: verdict, digests } = await verifier.finish(staged);
    const finalName = new Map(staged.map((s) => [s.stagedPath, s.path]));
    // The checks of the whole dataset are finalize's: a task sees a part of it.
    result.findings = verdict.findings
      .filter((f) => !DATASET_WIDE_CODES.has(f.code))
      .map((f): Finding => {
        const name = finalName.get(f.file);
        return name ? { ...f, file: name, message: f.message.split(f.file).join(name) } : f;
      });
    let errors = false;
    for (const [code, s] of Object.entries(verdict.summary) as Array<[FindingCode, { severity: string; count: number }]>) {
      if (DATASET_WIDE_CODES.has(code)) continue;
      if (s.severity === 'error') errors = true;
      else if (!CROSS_RECORD.has(code)) result.warnings += s.count;
    }
    if (errors) {
      await stopWriting();
      result.failure = 'the new shards did not pass validation; nothing was published';
      return part;
    }
    const slotOf = new Map(layout.shards.map((s, i) => [s.name, i]));
    let shards: ShardInfo[] = staged;
    if (mode === 'publish') {
      // The parts folder, there before the first rename, marks the folder as
      // holding a job under way (validate: unfinalized-run) until finalize.
      await mkdir(join(run.out, PARTS_DIR), { recursive: true });
      await checkpoint('task-verified');
      let renamed = 0;
      shards = [];
      for (const w of writers.values()) shards.push(...(await w.publish(() => checkpoint(`task-rename-${++renamed}`))));
    }
    result.shards.push(...partShards(shards, slotOf, digests, shardLabels, mode === 'stage'));
    return part;
  } catch (err) {
    if (writing) await stopWriting();
    throw err;
  }
}

/**
 * Hands `write` the records of `file` whose shards lie in `range`, in order,
 * and `fail` the problems met reading them (see the file comment for how
 * they are read).
 */
async function readOwnRecords(
  run: PlannedRewrite,
  file: InputFile,
  range: { start: number; end: number },
  write: (file: InputFile, ev: RecordEvent) => Promise<void>,
  fail: (file: InputFile, ev: ProblemEvent) => Promise<void>,
): Promise<void> {
  const { slotOf } = run.layout;
  const { offsets, framed } = run.index;
  const mine = (i: number) => {
    const slot = slotOf[file.first + i]!;
    return slot >= range.start && slot < range.end;
  };
  if (file.compression === 'none') {
    for (let i = 0; i < file.records; ) {
      if (!mine(i)) {
        i++;
        continue;
      }
      let j = i;
      while (j + 1 < file.records && mine(j + 1)) j++;
      const first = file.first + i;
      const last = file.first + j;
      const byteRange = { start: offsets[first]!, end: offsets[last]! + framed[last]!, firstIndex: i };
      for await (const ev of walkFile(file.path, { compression: 'none', borrow: true, range: byteRange })) {
        if (ev.kind === 'record') await write(file, ev);
        else await fail(file, ev);
      }
      i = j + 1;
    }
    return;
  }
  let lastMine = -1;
  for (let i = 0; i < file.records; i++) if (mine(i)) lastMine = i;
  if (lastMine < 0) return;
  for await (const ev of walkFile(file.path, { compression: file.compression, borrow: true })) {
    if (ev.kind === 'record') {
      if (mine(ev.index)) await write(file, ev);
      if (ev.index >= lastMine) break;
    } else if (ev.fatal || (ev.problem.record !== undefined && mine(ev.problem.record))) {
      // A record of another task's is that task's problem; the end of the stream is everyone's.
      await fail(file, ev);
      if (ev.fatal) break;
    }
  }
}

/** The framed record of a payload, as the record writer frames it. */
function frame(payload: Uint8Array): Uint8Array {
  const record = new Uint8Array(payload.length + FRAME_OVERHEAD);
  record.set(payload, HEADER_BYTES);
  return frameInPlace(record, crc32cFast);
}
