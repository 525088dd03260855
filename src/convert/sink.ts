/**
 * The writing side of a conversion: one ShardedWriter per split, writing the
 * planned shards of this run (all of them on one machine, a range of them in
 * a task of a job) under staging names, and the ShardVerifier reading back
 * what they write (see verify.ts). Nothing here is published until
 * `publish` is called, and `abort` removes every file written so far.
 */
import { mkdir } from 'node:fs/promises';
import { ShardedWriter, type ShardInfo } from '../shard/sharded-writer.js';
import type { WorkerPool } from '../pool/workers.js';
import { DatasetValidator } from '../validate/validate.js';
import type { Finding } from '../validate/findings.js';
import type { RecordCheckOptions, RecordContent } from '../validate/record-check.js';
import type { FileDigest, RecordCheckRequest, RecordCheckResult } from '../validate/range.js';
import type { ConvertJob } from './item-job.js';
import type { ConvertProgress, ResolvedConvertOptions } from './options.js';
import type { ConversionPlan } from './plan.js';
import { ShardVerifier } from './verify.js';

/** Written records' buffers kept for reuse (see `takeSpares`). */
const MAX_SPARES = 256;

/** Written bytes of a shard read back per worker job during the conversion (see verify.ts). */
export const VERIFY_RANGE_BYTES = 16 * 1024 * 1024;

/**
 * A read-back request's weight for the pool, in batches of images (see
 * PoolOptions): reading back, checking and hashing a megabyte of shard took
 * about as long as 1.5 batches of four ~100 KB images (measured on workers,
 * when the read-back still hashed the shards). A framing-only read-back
 * (read and CRC, the records' contents checked as they were built) does
 * about a third of that work per byte.
 */
function checkCost(request: RecordCheckRequest): number {
  const bytes = request.range ? request.range.end - request.range.start : VERIFY_RANGE_BYTES;
  return Math.max(1, Math.round(bytes / (request.framingOnly ? FRAMING_BYTES_PER_BATCH : CHECK_BYTES_PER_BATCH)));
}

const CHECK_BYTES_PER_BATCH = 640 * 1024;
const FRAMING_BYTES_PER_BATCH = 3 * CHECK_BYTES_PER_BATCH;

export interface VerifiedOutput {
  /** Every shard, still under its staging name. */
  staged: ShardInfo[];
  valid: boolean;
  /** The read-back's findings, naming the shards by their final paths. */
  findings: Finding[];
  /** Every shard file's SHA-256, CRC32C and size on disk, by staged path (the writers' for uncompressed shards, see verify.ts). */
  digests: Map<string, FileDigest>;
}

export class ShardSink {
  private readonly writers = new Map<string | undefined, ShardedWriter>();
  /** Per planned shard of this run: items still to come (written or failed), so it is closed after its last. */
  private readonly pending = new Map<number, number>();
  /**
   * Memory of written records, handed back to the workers for new ones (see
   * createJobRunner). Only with workers: in this thread the allocator reuses
   * freed memory by itself.
   */
  private readonly spares: ArrayBuffer[] = [];
  private readonly recycle: ((parts: Uint8Array[]) => void) | undefined;
  private writing: boolean;

  private constructor(
    private readonly opts: ResolvedConvertOptions,
    private readonly plan: ConversionPlan,
    pool: WorkerPool<ConvertJob, unknown>,
    private readonly verifier: ShardVerifier,
    writing: boolean,
  ) {
    this.writing = writing;
    this.recycle = pool.size > 0 ? (parts) => this.keepSpares(parts) : undefined;
  }

  /**
   * Creates the output folder and, when `writing`, a writer for each split
   * with planned shards in `range` (plan.shards[start, end)). Not writing,
   * records are counted but go nowhere (a run already known to fail still
   * reads every image, to report all the problems at once).
   */
  static async open(
    opts: ResolvedConvertOptions,
    plan: ConversionPlan,
    range: { start: number; end: number },
    pool: WorkerPool<ConvertJob, unknown>,
    checkOptions: RecordCheckOptions,
    writing: boolean,
  ): Promise<ShardSink> {
    await mkdir(opts.out, { recursive: true });
    const sink = new ShardSink(opts, plan, pool, await newVerifier(opts, pool, checkOptions), writing);
    for (let i = range.start; i < range.end; i++) sink.pending.set(i, plan.shards[i]!.images);
    if (!writing) return sink;
    try {
      const mine = plan.shards.slice(range.start, range.end);
      for (const s of opts.splitNames) {
        const shards = mine.filter((sh) => sh.split === s);
        if (shards.length > 0)
          sink.writers.set(
            s,
            await sink.createWriter(
              shards[0]!.prefix,
              shards[0]!.total,
              shards.map((sh) => sh.index),
            ),
          );
      }
    } catch (err) {
      await sink.abort();
      throw err;
    }
    return sink;
  }

  private createWriter(prefix: string, total: number, indexes: number[]): Promise<ShardedWriter> {
    return ShardedWriter.create({
      dir: this.opts.out,
      prefix,
      compression: this.opts.compression,
      listener: this.verifier,
      ...(this.recycle ? { release: this.recycle } : {}),
      planned: { total, indexes },
    });
  }

  private keepSpares(parts: Uint8Array[]): void {
    for (const p of parts) {
      if (this.spares.length >= MAX_SPARES) break;
      if (p.byteOffset === 0) this.spares.push(p.buffer as ArrayBuffer);
    }
  }

  /** Up to `n` buffers of written records, for a worker to build new records in. */
  takeSpares(n: number): ArrayBuffer[] {
    return this.spares.splice(0, n);
  }

  get isWriting(): boolean {
    return this.writing;
  }

  /**
   * Whether each record must come with its contents checked (`write`'s
   * `checked`): uncompressed shards are then read back for their framing
   * and CRCs only (see verify.ts). Compressed shards are read back whole.
   */
  get checksContent(): boolean {
    return this.opts.compression === 'none';
  }

  /**
   * Writes a framed record to planned shard `shard` (index into the plan;
   * nothing, once writing has stopped), with what its checks found when it
   * was built (required when `checksContent`).
   */
  async write(shard: number, record: Uint8Array, checked?: RecordContent): Promise<void> {
    if (!this.writing) return;
    const planned = this.plan.shards[shard]!;
    await this.writers.get(planned.split)!.writeFramedAt(planned.index, record, checked);
  }

  /** One more item of planned shard `shard` is through (written or failed); after its last, the shard is closed. */
  async itemDone(shard: number): Promise<void> {
    const left = (this.pending.get(shard) ?? 0) - 1;
    this.pending.set(shard, left);
    if (left === 0 && this.writing) {
      const planned = this.plan.shards[shard]!;
      await this.writers.get(planned.split)!.closeAt(planned.index);
    }
  }

  /** Stops writing for good and discards what was written. */
  async stopWriting(): Promise<void> {
    this.writing = false;
    await this.abort();
  }

  /** Discards everything written and stops the read-back. */
  async abort(): Promise<void> {
    this.verifier.cancel();
    for (const w of this.writers.values()) await w.abort();
  }

  /**
   * Closes the shards and finishes the read-back. Most of every shard was
   * read back (both CRCs) and checked while later records were still being
   * written. The image digests inside were computed from the very bytes
   * written, and the CRCs prove those bytes unchanged, so they are trusted
   * rather than recomputed.
   */
  async verify(progress: (p: ConvertProgress) => void): Promise<VerifiedOutput> {
    const finished = new Map<string | undefined, ShardInfo[]>();
    for (const [s, w] of this.writers) finished.set(s, await w.finish());
    const staged = [...finished.values()].flat();
    const finalName = new Map(staged.map((sh) => [sh.stagedPath, sh.path]));
    progress({ phase: 'verify', done: 0, total: staged.length, bytes: 0 });
    const { report, digests } = await this.verifier.finish(staged);
    const findings = report.findings.map((f) => {
      const name = finalName.get(f.file);
      return name ? { ...f, file: name, message: f.message.split(f.file).join(name) } : f;
    });
    return { staged, valid: report.valid, findings, digests };
  }

  /** Renames every shard to its final name (one rename each: a shard is either whole under its name or absent). */
  async publish(): Promise<ShardInfo[]> {
    const published: ShardInfo[] = [];
    for (const w of this.writers.values()) published.push(...(await w.publish()));
    return published;
  }
}

async function newVerifier(opts: ResolvedConvertOptions, pool: WorkerPool<ConvertJob, unknown>, options: RecordCheckOptions): Promise<ShardVerifier> {
  return new ShardVerifier({
    // Weighed against a batch of images (~0.5 MB, read and hashed) so
    // images go to the other workers while one reads back a stretch. (Run
    // on this thread instead, the read-back of uncompressed shards took
    // ~0.45 CPU-s more here than it saved on the worker at 20,000 images,
    // and the conversion was no faster.)
    check: (request, pin) => pool.run({ kind: 'check', request }, pin, checkCost(request)) as Promise<RecordCheckResult>,
    // A worker runs its jobs one at a time, in the order sent.
    inOrder: pool.size > 0,
    validator: await DatasetValidator.create({ ...options, compression: opts.compression }),
    options,
    compression: opts.compression,
    rangeBytes: VERIFY_RANGE_BYTES,
    contentChecked: true,
  });
}
