/**
 * The plan of a rewrite (reshard, remap, split, merge): every record's
 * shard, decided from the record index (inputs.ts) before a record is
 * written, so every shard's final name, `-of-NNNNN` included, is known up
 * front and the tasks of a job can each write their own shards of one set.
 * The rules are the one-machine writer's:
 *
 *   - `--shards N`: the k-th record of a set goes to shard k mod N (the
 *     set's records in input order; split's sets are the records its survey
 *     sent there);
 *   - `--shard-size S`: a set's records are cut in order into shards, a new
 *     one started before a shard would pass S bytes (framed, uncompressed)
 *     but never an empty one; a set without records still gets one (empty)
 *     shard. The sizes are the inputs' framed records: exact for reshard and
 *     split, which copy records byte for byte; remap and merge rewrite a few
 *     bytes a box (the label, and remap's class text), so their shards can
 *     differ from S by those bytes.
 *
 * The part manifests of these commands (the envelope is convert's, see
 * convert/part.ts) carry this plan and what each task wrote.
 */
import type { Target } from '../dataset/manifest.js';
import type { LabelMapItem } from '../detection/label-map.js';
import type { AtItem, ClassCounts, CommonPlan, CommonResult } from '../convert/part.js';
import type { Problem } from '../problem.js';
import type { Compression } from '../record/compression.js';
import { assignShards } from '../shard/assign.js';
import { shardExtension, shardName } from '../shard/naming.js';
import type { Finding } from '../validate/findings.js';
import type { InputIndex } from './inputs.js';

/** One shard set of the output: split's are named by their splits, the others' by the prefix. */
export interface RewriteSet {
  name: string;
  prefix: string;
}

/** What every task of one rewrite works out alike (the fingerprint is over it). */
export interface RewritePlan extends CommonPlan {
  /** The manifest's `options` of this run. */
  options: Record<string, unknown>;
  target: Target;
  /** Of the new shards. */
  compression: Compression;
  /** The label map written beside the shards and checked against; null when there is none. */
  labelMap: LabelMapItem[] | null;
  /** The paths given (absolute), the files they stand for, and the inputs' manifests. */
  inputs: string[];
  files: string[];
  inputManifests: string[];
  /** Records in the inputs. */
  records: number;
  /** Problems the index found (reading, or the command's survey): the run writes nothing. */
  problems: Problem[];
  problemCount: number;
  failure?: string;
  /** The index's digest (every record's place, size and set). */
  digest: string;
  /** What the command adds to its report, known before anything is written (remap's class changes, say). */
  report: Record<string, unknown>;
}

/** Per set: records, boxes and [label, boxes, images] written. */
export interface SetCounts {
  records: number;
  boxes: number;
  classes: ClassCounts;
}

/** What one task of a rewrite wrote. */
export interface RewriteResult extends CommonResult {
  /** Records this task read and rewrote. */
  records: number;
  /** Problems with its records (the first ones, each with the record's position), and how many. */
  problems: Array<AtItem<Problem>>;
  problemCount: number;
  /** The check of its shards: findings (naming the final paths) and how many warnings it counts in the manifest. */
  findings: Finding[];
  warnings: number;
  sets: SetCounts[];
  /** Per label, the first class text its records carry, with that record's position. */
  texts: Array<[label: number, text: string, at: number]>;
  /** The command's own counts (remap's dropped boxes), summed into the report. */
  counters: Record<string, number>;
}

/** A planned shard with what a writer needs to know about it. */
export interface PlannedShard {
  /** Its set's position among the sets. */
  set: number;
  prefix: string;
  /** Its number within the set, and the set's size. */
  index: number;
  total: number;
  name: string;
  records: number;
}

export interface ShardLayout {
  shards: PlannedShard[];
  /** Per record, by position: its shard (index into `shards`). */
  slotOf: Int32Array;
}

/** Every record's shard (see the file comment). */
export function planShards(
  index: InputIndex,
  sets: readonly RewriteSet[],
  layout: { shards: number } | { shardSize: number },
  compression: Compression,
): ShardLayout {
  const n = index.offsets.length;
  const slotOf = new Int32Array(n);
  const shards: PlannedShard[] = [];
  const ext = shardExtension(compression);
  sets.forEach((set, s) => {
    const records: number[] = [];
    for (let i = 0; i < n; i++) if ((index.sets?.[i] ?? 0) === s) records.push(i);
    const { within, total } = assignShards(records.length, layout, (k) => index.framed[records[k]!]!);
    const first = shards.length;
    for (let i = 0; i < total; i++) shards.push({ set: s, prefix: set.prefix, index: i, total, name: shardName(set.prefix, i, total, ext), records: 0 });
    records.forEach((r, k) => {
      const slot = first + within[k]!;
      slotOf[r] = slot;
      shards[slot]!.records++;
    });
  });
  return { shards, slotOf };
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0;

/** What is wrong with the lists of a rewrite's part (convert/part.ts checks the rest), if anything. */
export function rewriteListsProblem(p: { plan: RewritePlan; result: RewriteResult }): string | undefined {
  const { plan, result } = p;
  if (!Array.isArray(plan.files) || !Array.isArray(plan.problems) || typeof plan.report !== 'object' || plan.report === null) return 'bad plan';
  const lists = [result.problems, result.findings, result.sets, result.texts];
  if (lists.some((l) => !Array.isArray(l)) || result.sets.length !== plan.splits.length) return 'bad result lists';
  if (!isCount(result.records) || !isCount(result.problemCount) || !isCount(result.warnings)) return 'bad result counts';
  return undefined;
}
