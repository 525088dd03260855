/**
 * Pass 2: items → image pool (read, checked, maybe re-encoded, encoded as
 * tf.Example records on worker threads) → shard writers, in input order.
 * Memory is bounded by the in-flight window, not by the dataset.
 *
 * Only the items of the planned shards this run converts go through (a task
 * of a job takes a range of them; one machine takes all); every record goes
 * to the shard the plan gave its item.
 */
import type { FormatSpec } from '../formats/registry.js';
import type { SourceItem } from '../formats/types.js';
import { orderedPipeline, type WorkerPool } from '../pool/workers.js';
import type { BoxChange } from './boxes.js';
import type { ConvertJob, ItemJobOk, ItemJobResult } from './item-job.js';
import { FingerprintTable } from '../validate/fingerprints.js';
import type { ResolvedConvertOptions } from './options.js';
import type { RecordCheckOptions } from '../validate/record-check.js';
import type { AtItem, PartResult } from './part.js';
import { countRecord, type ItemProblem, type Tally } from './report.js';
import type { AnnotationScan, ScanChecks } from './scan.js';
import type { ShardSink } from './sink.js';

/** Images per message to a worker. */
const BATCH_ITEMS = 4;

/** Budget for records in flight between the workers and the shard writer. */
const IN_FLIGHT_BYTES = 64 * 1024 * 1024;

export interface ConvertItemsOptions {
  opts: ResolvedConvertOptions;
  spec: FormatSpec;
  pool: WorkerPool<ConvertJob, unknown>;
  /** Pass 1's result: the plan, and the items themselves when it kept them. */
  scan: AnnotationScan;
  /** The planned shards to convert: scan.plan.shards[start, end). */
  range: { start: number; end: number };
  /** Class name → label id, as pass 1 fixed them. */
  labelIds: ReadonlyMap<string, number>;
  sink: ShardSink;
  /** Filled with what was converted. */
  tally: Tally;
  /** The label ids each planned shard's records use, by shard (index into the plan). */
  shardLabels: Map<number, Set<number>>;
  /** Filled with the items' problems, box changes and warnings, and the item counts. */
  result: PartResult;
  /** Pass 1's checks: a second read of the annotations cleans class names the same way. */
  checks: ScanChecks;
  /** The per-record checks each record gets as it is built, when the sink's read-back checks framing only (ShardSink.checksContent). */
  recordChecks?: RecordCheckOptions;
}

/** An item of this run, with its place among the items pass 1 accepted. */
interface PlacedItem {
  item: SourceItem;
  at: number;
  /** Its planned shard (index into the plan). */
  shard: number;
}

/** How far pass 2 has got. */
interface Progress {
  done: number;
  bytes: number;
  /** Of the items pass 2 will see. */
  total: number;
  /** The largest record so far, which sizes the in-flight window. */
  largest: number;
}

export async function convertItems(c: ConvertItemsOptions): Promise<void> {
  const { pool, sink } = c;
  // The workers learn the label ids now that pass 1 has fixed them. Jobs run
  // in order on each worker, so this precedes every image without waiting
  // for it here: a worker still starting up (or loading the validator)
  // simply gets its first images later, and the others take more.
  const ids = [...c.labelIds];
  const labels: ConvertJob = { kind: 'labels', ids, ...(c.recordChecks ? { check: c.recordChecks } : {}) };
  for (let i = 0; i < Math.max(1, pool.size); i++) void pool.run(labels, i).catch(() => undefined);

  const shards = c.scan.plan.shards;
  let total = 0;
  for (let i = c.range.start; i < c.range.end; i++) total += shards[i]!.images;
  const progress: Progress = { done: 0, bytes: 0, total, largest: 0 };
  // Byte-identical images in two splits, found by their SHA-256 (the first 128 bits, kept as fingerprints: see FingerprintTable).
  const seen = new FingerprintTable();
  // In flight (counted in batches): enough to keep every worker busy while
  // the main thread writes (with no workers, enough to overlap file reads),
  // but never much more than IN_FLIGHT_BYTES of records, judged by the
  // largest record so far: memory stays bounded even for 20 MB photos.
  const maxWindow = pool.size > 0 ? pool.size * 32 : 8;
  await orderedPipeline<PlacedItem[], ItemJobResult[]>(
    batchesOf(itemsToConvert(c), BATCH_ITEMS),
    () => Math.max(1, Math.ceil(Math.min(maxWindow, Math.floor(IN_FLIGHT_BYTES / Math.max(progress.largest, 1))) / BATCH_ITEMS)),
    (batch) => runBatch(pool, sink, batch),
    async (batch, results) => {
      for (let i = 0; i < batch.length; i++) await consumeItem(c, progress, seen, batch[i]!, results[i]!);
    },
  );
}

/**
 * The items of this run's planned shards: from pass 1's kept items, or a
 * second read of the annotations, which gives the accepted items in the
 * same order, so an item's place (`at`) is the one the plan knows it by.
 */
async function* itemsToConvert({ scan, spec, opts, checks, range }: ConvertItemsOptions): AsyncGenerator<PlacedItem> {
  const shardOf = scan.plan.shardOf;
  const mine = (at: number) => {
    const shard = shardOf[at]!;
    return shard >= range.start && shard < range.end;
  };
  if (scan.cached) {
    for (let at = 0; at < scan.cached.length; at++) if (mine(at)) yield { item: scan.cached[at]!, at, shard: shardOf[at]! };
    return;
  }
  const second = await spec.read(opts.importOptions);
  let at = 0;
  for await (const entry of second.entries) {
    if (!entry.ok) continue;
    if (at >= shardOf.length) throw new Error('the second read of the annotations gave more items than the first');
    if (mine(at)) {
      checks.classNames.clean(entry.item);
      yield { item: entry.item, at, shard: shardOf[at]! };
    }
    at++;
  }
}

/** Images travel to the workers in small batches (fewer messages), still consumed in input order. */
async function* batchesOf<T>(items: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const item of items) {
    batch.push(item);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Sends a batch to the pool; a worker that fails outright fails each image of the batch. */
function runBatch(pool: WorkerPool<ConvertJob, unknown>, sink: ShardSink, batch: PlacedItem[]): Promise<ItemJobResult[]> {
  const spare = sink.takeSpares(batch.length);
  const items = batch.map((p) => p.item);
  return (pool.run({ kind: 'items', items, spare }, undefined, 1, spare) as Promise<ItemJobResult[]>).catch((err: Error) =>
    batch.map((): ItemJobResult => ({ ok: false, code: 'bad-image', reason: err.message })),
  );
}

async function consumeItem(c: ConvertItemsOptions, progress: Progress, seen: FingerprintTable, placed: PlacedItem, result: ItemJobResult): Promise<void> {
  const { item, at, shard } = placed;
  progress.done++;
  if (!result.ok) {
    await failItem(c, { at, code: result.code, itemId: item.id, source: item.source, reason: result.reason });
  } else {
    reportChanges(c.result, placed, result);
    progress.bytes += result.imageBytes;
    progress.largest = Math.max(progress.largest, result.record.length);
    const planned = c.scan.plan.shards;
    const split = planned[shard]!.split;
    countRecord(c.tally, split, result.labels);
    let labels = c.shardLabels.get(shard);
    if (!labels) c.shardLabels.set(shard, (labels = new Set()));
    for (const l of result.labels) labels.add(l);
    // The cost of splitting by name: copies of one image under two names
    // may land in two splits. Said per item, naming the split of the first.
    const first = seen.claimHexDigest(result.sha256, at);
    if (first !== undefined) {
      const other = planned[c.scan.plan.shardOf[first]!]!.split;
      if (other !== split) {
        c.result.warnings.push({
          at,
          code: 'duplicate-across-splits',
          itemId: item.id,
          source: item.source,
          message: `the same image bytes as an image in '${other}' (sha256 ${result.sha256.slice(0, 16)}…), but this one is in '${split}': splits are decided by name, so the model may be scored on an image it trained on`,
        });
      }
    }
    const items = c.result.items;
    items.converted++;
    if (result.reencoded) items.reencoded++;
    if (result.labels.length === 0) items.withoutBoxes++;
    if (item.labelFile === 'missing') {
      items.withoutLabelFile++;
      c.result.withoutLabelFile.push({ at, id: item.id });
    }
    await c.sink.write(shard, result.record, result.checked);
  }
  await c.sink.itemDone(shard);
  c.opts.onProgress({ phase: 'convert', done: progress.done, total: progress.total, bytes: progress.bytes });
}

/** Records a problem; under --on-error fail, the first one stops the writing (the reading goes on, to find the others). */
async function failItem(c: ConvertItemsOptions, problem: AtItem<ItemProblem>): Promise<void> {
  c.result.errors.push(problem);
  if (c.opts.onError === 'fail' && c.sink.isWriting) await c.sink.stopWriting();
}

/** The item's clipped and dropped boxes and its warnings, with where each came from. */
function reportChanges(report: PartResult, { item, at }: PlacedItem, result: ItemJobOk): void {
  const where = (change: BoxChange) => ({ at, ...change, itemId: item.id, source: item.objects[change.index]!.source ?? item.source });
  for (const change of result.clipped) report.clipped.push(where(change));
  for (const change of result.dropped) report.dropped.push(where(change));
  for (const w of result.warnings) report.warnings.push({ at, ...w, itemId: item.id, source: item.source });
}
