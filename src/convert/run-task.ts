/**
 * Pass 2 for one task's share of the plan: its range of planned shards
 * (dataset/task.ts: taskRange, balanced by images), converted, read back and
 * published under their final names, with what happened recorded in a part
 * manifest (part.ts). One machine runs the same code as task 0 of 1.
 *
 * What only the whole run can decide is left to finalize: whether the run
 * fails for errors of other tasks, whether it converted anything at all,
 * and whether labels must be renumbered.
 */
import type { TaskSpec } from '../dataset/task.js';
import { taskRange } from '../dataset/task.js';
import type { LabelMap } from '../detection/label-map.js';
import type { FormatSpec } from '../formats/registry.js';
import { crc32cToBase64 } from '../dataset/manifest.js';
import type { WorkerPool } from '../pool/workers.js';
import type { RecordCheckOptions } from '../validate/record-check.js';
import { plural } from '../words.js';
import { convertItems } from './convert-items.js';
import type { ConvertJob } from './item-job.js';
import type { ResolvedConvertOptions } from './options.js';
import { newPart, type PartManifest, type PartPlan } from './part.js';
import { countItems, emptyTally } from './report.js';
import type { AnnotationScan, ScanChecks } from './scan.js';
import { ShardSink } from './sink.js';

/** Everything pass 1 worked out, which every task of a run shares. */
export interface PlannedRun {
  opts: ResolvedConvertOptions;
  spec: FormatSpec;
  scan: AnnotationScan;
  checks: ScanChecks;
  /** Class name → label id (empty when the plan failed). */
  labelIds: ReadonlyMap<string, number>;
  /** The read-back's checks: pass 1's label map. */
  checkOptions: RecordCheckOptions;
  labelMap: LabelMap;
  /** What goes into every part. */
  plan: PartPlan;
}

export async function runTask(run: PlannedRun, task: TaskSpec, poolFor: (images: number) => WorkerPool<ConvertJob, unknown>): Promise<PartManifest> {
  const { opts, scan, plan } = run;
  const planned = scan.plan.shards;
  const range = taskRange(
    planned.map((s) => s.images),
    task.index,
    task.count,
  );
  const part = newPart(task, range, plan);
  if (plan.failure !== undefined || range.start === range.end) return part;
  const result = part.result;
  // With errors already found under --on-error fail we still read every image,
  // without writing, so the user gets the complete list of problems at once.
  const failing = () => opts.onError === 'fail' && (plan.scanErrors.length > 0 || result.errors.length > 0);
  let images = 0;
  for (let i = range.start; i < range.end; i++) images += planned[i]!.images;
  const pool = poolFor(images);
  const sink = await ShardSink.open(opts, scan.plan, range, pool, run.checkOptions, !failing());
  try {
    const tally = emptyTally(opts.splitNames);
    const shardLabels = new Map<number, Set<number>>();
    await convertItems({
      opts,
      spec: run.spec,
      pool,
      scan,
      range,
      labelIds: run.labelIds,
      sink,
      tally,
      shardLabels,
      result,
      checks: run.checks,
      ...(sink.checksContent ? { recordChecks: run.checkOptions } : {}),
    });
    result.splits = opts.splitNames.map((s) => {
      const st = tally.splits.get(s)!;
      return { records: st.records, boxes: st.boxes, classes: [...st.classes].map(([label, c]) => [label, c.boxes, c.images] as [number, number, number]) };
    });
    if (failing()) {
      await sink.abort();
      const n = countItems(result.errors);
      result.failure =
        n > 0
          ? `${plural(n, 'item')} of this task could not be converted (--on-error fail); it published nothing`
          : 'items the annotations refused fail the run (--on-error fail); this task published nothing';
      return part;
    }
    // The whole run converted nothing: publishing its empty shards would only leave finalize to remove them.
    if (result.items.converted === 0 && range.start === 0 && range.end === planned.length) {
      await sink.abort();
      return part;
    }
    const verified = await sink.verify(opts.onProgress);
    // "No records" is about the whole dataset: a task whose images all failed is not wrong by itself.
    result.findings = verified.findings.filter((f) => f.code !== 'no-records');
    if (result.findings.some((f) => f.severity === 'error')) {
      await sink.abort();
      result.failure = 'the converted shards did not pass validation; nothing was published';
      return part;
    }
    const slotOf = new Map(planned.map((s, i) => [s.name, i]));
    for (const sh of await sink.publish()) {
      const slot = slotOf.get(sh.name)!;
      const digest = verified.digests.get(sh.stagedPath)!;
      result.shards.push({
        slot,
        records: sh.records,
        bytes: digest.bytes,
        uncompressedBytes: sh.bytes,
        sha256: digest.sha256,
        crc32c: crc32cToBase64(digest.crc32c),
        labels: [...(shardLabels.get(slot) ?? [])].sort((a, b) => a - b),
      });
    }
    result.shards.sort((a, b) => a.slot - b.slot);
    return part;
  } catch (err) {
    await sink.abort();
    throw err;
  }
}
