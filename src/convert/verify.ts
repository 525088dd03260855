/**
 * The read-back of a conversion, run while it is still writing. Each shard
 * is read back from disk in stretches as soon as they are written: both CRCs
 * of every record, then every per-record check of the validator, on the
 * worker threads between images. The results are added to one
 * DatasetValidator on this thread, strictly in the order the records were
 * written, so the report (and which of two duplicates is named first) does
 * not depend on which worker finished first. Only the last stretch of each
 * shard is left for the end. The stretches of a shard go, one after the
 * other, to the same worker.
 *
 * The manifest's digests of an uncompressed shard (SHA-256, CRC32C) are the
 * writer's, computed from the bytes as they went out (ShardInfo.digest):
 * hashing them again here would be a second SHA-256 pass over every byte,
 * the largest cost of the read-back, to learn what the record CRCs checked
 * here already prove, that the file holds exactly the bytes written.
 *
 * With `contentChecked` (convert, uncompressed shards) the contents of each
 * record were checked on the worker that built it, from the very bytes it
 * framed, and come with the record (ShardListener.record's note). What can
 * still go wrong is between memory and disk, so the read-back checks only
 * the framing and both CRCs of every record and pairs each record it read
 * intact with its contents' findings: the report is the one validate gives
 * for the files on disk (a record damaged on disk is reported, and skipped,
 * as validate skips it), without decoding every record a second time.
 *
 * Compressed shards cannot be read from the middle: each is checked whole
 * once it is closed, and hashed in that read (the writer hashes only
 * uncompressed bytes). Shards rewritten after the fact (renumbered labels)
 * are checked whole too, through a fresh verifier.
 */
import { TfrecordError } from '../errors.js';
import type { Compression } from '../record/compression.js';
import type { ShardInfo, ShardListener } from '../shard/sharded-writer.js';
import type { CheckedRecord, RecordCheckOptions, RecordContent } from '../validate/record-check.js';
import type { FileDigest, ReadRecord, RecordCheckRequest, RecordCheckResult } from '../validate/range.js';
import type { DatasetValidator, ValidationReport } from '../validate/validate.js';

export interface VerifierOptions {
  /**
   * Runs one request, typically on a worker thread: requests with the same
   * `pin` must run on the same thread, one after the other in the order
   * they were sent.
   */
  check: (request: RecordCheckRequest, pin: number) => Promise<RecordCheckResult>;
  /**
   * False when `check` may run requests concurrently (in this thread, with
   * no workers): a shard's requests are then sent one at a time.
   */
  inOrder: boolean;
  validator: DatasetValidator;
  options: RecordCheckOptions;
  compression: Compression;
  /** A stretch is sent for checking once this many bytes of a shard are written and unchecked. */
  rangeBytes: number;
  /**
   * Every record of an uncompressed shard comes with its contents already
   * checked (a RecordContent as ShardListener.record's note): the read-back
   * checks framing and CRCs only (see the file comment).
   */
  contentChecked?: boolean;
}

/**
 * A stretch is also sent once this many of its records are unchecked, so
 * that the contents waiting for their read-back stay few even when records
 * are small.
 */
const RANGE_RECORDS = 2048;

interface ShardProgress {
  /** Sequence numbers of the records not yet sent for checking; seqs[0] is record `sentRecords`. */
  seqs: number[];
  sentRecords: number;
  sentBytes: number;
  pin: number;
  /** The shard's last request: the next one waits for it. */
  chain: Promise<unknown>;
}

export interface VerifyResult {
  report: ValidationReport;
  /** Each shard file's digests, by staged path. */
  digests: Map<string, FileDigest>;
}

export class ShardVerifier implements ShardListener {
  private readonly shards = new Map<string, ShardProgress>();
  /** Checked records waiting for earlier ones, by sequence number. */
  private readonly ready = new Map<number, { file: string; entries: CheckedRecord[] }>();
  private readonly jobs: Array<Promise<void>> = [];
  private readonly digests = new Map<string, FileDigest>();
  /** contentChecked: each record's contents, by sequence number, until its read-back. */
  private readonly contents = new Map<number, RecordContent>();
  private readonly framingOnly: boolean;
  private nextSeq = 0;
  private applied = 0;
  private failure: unknown;
  private cancelled = false;

  constructor(private readonly config: VerifierOptions) {
    this.framingOnly = config.contentChecked === true && config.compression === 'none';
  }

  private progress(path: string): ShardProgress {
    let p = this.shards.get(path);
    if (!p) this.shards.set(path, (p = { seqs: [], sentRecords: 0, sentBytes: 0, pin: this.shards.size, chain: Promise.resolve() }));
    return p;
  }

  record(stagedPath: string, index: number, note?: unknown): void {
    const p = this.progress(stagedPath);
    if (index !== p.sentRecords + p.seqs.length) throw new Error(`record ${index} of ${stagedPath} reported out of order`);
    if (this.framingOnly) {
      if (note === undefined) throw new Error(`record ${index} of ${stagedPath} came without its checked contents`);
      this.contents.set(this.nextSeq, note as RecordContent);
    }
    p.seqs.push(this.nextSeq++);
  }

  written(stagedPath: string, records: number, bytes: number): void {
    const p = this.progress(stagedPath);
    if (bytes - p.sentBytes >= this.config.rangeBytes || records - p.sentRecords >= RANGE_RECORDS) this.send(stagedPath, p, records, bytes);
  }

  /** Sends records [sentRecords, records) (bytes [sentBytes, bytes)) of an uncompressed shard. */
  private send(path: string, p: ShardProgress, records: number, bytes: number): void {
    const count = records - p.sentRecords;
    if (count <= 0) return;
    const seqs = p.seqs.splice(0, count);
    const range = { start: p.sentBytes, end: bytes, firstIndex: p.sentRecords };
    p.sentRecords = records;
    p.sentBytes = bytes;
    const request: RecordCheckRequest = { path, range, compression: 'none', options: this.config.options, ...(this.framingOnly ? { framingOnly: true } : {}) };
    this.dispatch(path, p, request, range.firstIndex, seqs);
  }

  private dispatch(path: string, p: ShardProgress, request: RecordCheckRequest, firstIndex: number, seqs: number[]): void {
    const result = this.config.inOrder ? this.config.check(request, p.pin) : p.chain.then(() => this.config.check(request, p.pin));
    p.chain = result.catch(() => undefined);
    const job = result.then(
      (r) => {
        if (this.cancelled) return;
        if (r.digest !== undefined) this.digests.set(path, r.digest);
        this.accept(path, firstIndex, seqs, r.records, r.read);
      },
      (err: unknown) => {
        this.failure ??= err;
      },
    );
    this.jobs.push(job);
  }

  /** Files the entries of one request under their records' sequence numbers and applies what is now in order. */
  private accept(file: string, firstIndex: number, seqs: number[], entries: CheckedRecord[], read: ReadRecord[] = []): void {
    const byRecord: CheckedRecord[][] = seqs.map(() => []);
    // A framing error past the last record (the range ends early) belongs to the last one.
    const slot = (index: number) => Math.min(Math.max(index - firstIndex, 0), seqs.length - 1);
    for (const r of read) byRecord[slot(r.index)]!.push(this.withContent(r, seqs[slot(r.index)]!));
    for (const e of entries) byRecord[slot(e.index)]!.push(e);
    // Contents of records the read-back could not read (damaged on disk) are not reported, as validate would not.
    if (this.framingOnly) for (const seq of seqs) this.contents.delete(seq);
    // Records after a fatal framing error were not read: they are filed empty.
    seqs.forEach((seq, i) => this.ready.set(seq, { file, entries: byRecord[i]! }));
    for (let next = this.ready.get(this.applied); next; next = this.ready.get(this.applied)) {
      this.ready.delete(this.applied);
      for (const e of next.entries) this.config.validator.add(next.file, e);
      this.applied++;
    }
  }

  /** A record read back intact, with what its checks found when it was built. */
  private withContent(read: ReadRecord, seq: number): CheckedRecord {
    const content = this.contents.get(seq);
    if (!content) throw new Error(`no checked contents for record ${read.index} (sequence ${seq})`);
    return { kind: 'record', index: read.index, offset: read.offset, findings: content.findings, summary: content.summary };
  }

  /**
   * Checks what is left of every shard (all of it for compressed shards and
   * for shards this verifier never saw written), waits for every check and
   * returns the validator's report.
   */
  async finish(shards: readonly ShardInfo[]): Promise<VerifyResult> {
    for (const s of shards) {
      const p = this.progress(s.stagedPath);
      if (p.sentRecords === 0 && p.seqs.length === 0) {
        for (let i = 0; i < s.records; i++) p.seqs.push(this.nextSeq++);
      }
      if (p.sentRecords + p.seqs.length !== s.records) {
        throw new TfrecordError('io', `shard has ${s.records} records but ${p.sentRecords + p.seqs.length} were reported`, { file: s.stagedPath });
      }
      if (this.config.compression === 'none') {
        if (s.digest) this.digests.set(s.stagedPath, s.digest);
        this.send(s.stagedPath, p, s.records, s.bytes);
      } else {
        const seqs = p.seqs.splice(0);
        p.sentRecords = s.records;
        const request = { path: s.stagedPath, compression: this.config.compression, options: this.config.options, hash: { first: true, last: true } };
        this.dispatch(s.stagedPath, p, request, 0, seqs);
      }
    }
    await Promise.all(this.jobs);
    if (this.failure !== undefined) throw this.failure;
    if (this.applied !== this.nextSeq) {
      throw new Error(`read-back checked ${this.applied} of ${this.nextSeq} records`);
    }
    const missing = shards.find((s) => !this.digests.has(s.stagedPath));
    if (missing) throw new Error(`no digest for ${missing.stagedPath}`);
    return { report: this.config.validator.finish(shards.length), digests: this.digests };
  }

  /** Ignores every result from now on (the shards are being discarded or rewritten). */
  cancel(): void {
    this.cancelled = true;
  }
}
