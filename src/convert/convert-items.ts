/**
 * Pass 2: items → image pool (read, checked, maybe re-encoded, encoded as
 * tf.Example records on worker threads) → shard writers, in input order.
 * Memory is bounded by the in-flight window, not by the dataset.
 */
import type { FormatSpec } from '../formats/registry.js';
import type { SourceItem } from '../formats/types.js';
import { orderedPipeline, type WorkerPool } from '../pool/workers.js';
import type { BoxChange } from './boxes.js';
import type { ConvertJob, ItemJobOk, ItemJobResult } from './item-job.js';
import type { ResolvedConvertOptions } from './options.js';
import { countRecord, type ConvertReport, type ItemProblem, type Tally } from './report.js';
import type { AnnotationScan, ScanChecks } from './scan.js';
import type { ShardSink } from './sink.js';
import { assignSplit } from './split.js';

/** Images per message to a worker. */
const BATCH_ITEMS = 4;

/** Budget for records in flight between the workers and the shard writer. */
const IN_FLIGHT_BYTES = 64 * 1024 * 1024;

export interface ConvertItemsOptions {
  opts: ResolvedConvertOptions;
  spec: FormatSpec;
  pool: WorkerPool<ConvertJob, unknown>;
  /** Pass 1's result: the items to leave out, and the items themselves when it kept them. */
  scan: AnnotationScan;
  /** Class name → label id, as pass 1 fixed them. */
  labelIds: ReadonlyMap<string, number>;
  sink: ShardSink;
  /** Filled with what was converted. */
  tally: Tally;
  /** Filled with the items' problems, box changes and warnings. */
  report: ConvertReport;
  /** Pass 1's checks: a second read of the annotations cleans class names the same way. */
  checks: ScanChecks;
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
  for (let i = 0; i < Math.max(1, pool.size); i++) void pool.run({ kind: 'labels', ids }, i).catch(() => undefined);

  const progress: Progress = { done: 0, bytes: 0, total: c.scan.scanned - c.scan.excluded.size, largest: 0 };
  // In flight (counted in batches): enough to keep every worker busy while
  // the main thread writes (with no workers, enough to overlap file reads),
  // but never much more than IN_FLIGHT_BYTES of records, judged by the
  // largest record so far: memory stays bounded even for 20 MB photos.
  const maxWindow = pool.size > 0 ? pool.size * 32 : 8;
  await orderedPipeline<SourceItem[], ItemJobResult[]>(
    batchesOf(itemsToConvert(c), BATCH_ITEMS),
    () => Math.max(1, Math.ceil(Math.min(maxWindow, Math.floor(IN_FLIGHT_BYTES / Math.max(progress.largest, 1))) / BATCH_ITEMS)),
    (batch) => runBatch(pool, sink, batch),
    async (batch, results) => {
      for (let i = 0; i < batch.length; i++) await consumeItem(c, progress, batch[i]!, results[i]!);
    },
  );
}

/** Pass 1's kept items, or a second read of the annotations; either way without the excluded ones. */
async function* itemsToConvert({ scan, spec, opts, checks }: ConvertItemsOptions): AsyncGenerator<SourceItem> {
  if (scan.cached) {
    for (const item of scan.cached) if (!scan.excluded.has(item.id)) yield item;
    return;
  }
  const second = await spec.read(opts.importOptions);
  for await (const entry of second.entries) {
    if (!entry.ok || scan.excluded.has(entry.item.id)) continue;
    checks.classNames.clean(entry.item);
    yield entry.item;
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
function runBatch(pool: WorkerPool<ConvertJob, unknown>, sink: ShardSink, batch: SourceItem[]): Promise<ItemJobResult[]> {
  const spare = sink.takeSpares(batch.length);
  return (pool.run({ kind: 'items', items: batch, spare }, undefined, 1, spare) as Promise<ItemJobResult[]>).catch((err: Error) =>
    batch.map((): ItemJobResult => ({ ok: false, code: 'bad-image', reason: err.message })),
  );
}

async function consumeItem(c: ConvertItemsOptions, progress: Progress, item: SourceItem, result: ItemJobResult): Promise<void> {
  progress.done++;
  if (!result.ok) {
    await failItem(c, { code: result.code, itemId: item.id, source: item.source, reason: result.reason });
  } else {
    reportChanges(c.report, item, result);
    progress.bytes += result.imageBytes;
    progress.largest = Math.max(progress.largest, result.record.length);
    const split = splitOf(c.opts, item, result.sha256);
    countRecord(c.tally, split, result.labels);
    const items = c.report.items;
    items.converted++;
    if (result.reencoded) items.reencoded++;
    if (result.labels.length === 0) items.withoutBoxes++;
    if (item.labelFile === 'missing') {
      items.withoutLabelFile++;
      c.report.withoutLabelFile.push(item.id);
    }
    await c.sink.write(split, result.record);
  }
  c.opts.onProgress({ phase: 'convert', done: progress.done, total: progress.total, bytes: progress.bytes });
}

/**
 * The item's split. By content, not path: byte-identical images under two
 * names land in the same split, so validation never scores the model on a
 * training image. The exception is a format that assigns splits itself
 * (Vertex AI's ml_use) when no --split overrides it: the user's assignment
 * is kept as given.
 */
function splitOf(opts: ResolvedConvertOptions, item: SourceItem, sha256: string): string | undefined {
  if (!opts.splits) return undefined;
  if (opts.itemSplits && item.split !== undefined && opts.splitNames.includes(item.split)) return item.split;
  return assignSplit(sha256, opts.seed, opts.splits);
}

/** Records a problem; under --on-error fail, the first one stops the writing (the reading goes on, to find the others). */
async function failItem(c: ConvertItemsOptions, problem: ItemProblem): Promise<void> {
  c.report.errors.push(problem);
  if (c.opts.onError === 'fail' && c.sink.isWriting) await c.sink.stopWriting();
}

/** The item's clipped and dropped boxes and its warnings, with where each came from. */
function reportChanges(report: ConvertReport, item: SourceItem, result: ItemJobOk): void {
  const where = (change: BoxChange) => ({ ...change, itemId: item.id, source: item.objects[change.index]!.source ?? item.source });
  for (const change of result.clipped) report.clipped.push(where(change));
  for (const change of result.dropped) report.dropped.push(where(change));
  for (const w of result.warnings) report.warnings.push({ ...w, itemId: item.id, source: item.source });
}
