/**
 * Writes records across shard files. Every shard is first written under a
 * hidden staging name; only `publish()` renames the complete set to the final
 * TensorFlow-style names. An interrupted or failed run therefore never leaves
 * a file under a final name, and the `-of-NNNNN` total can be decided after
 * the last record when shards are cut by size.
 *
 * A planned set (convert's: see convert/plan.ts) is different: which shard
 * each record goes to, and how many shards there are, was decided before the
 * first record, so several writers (the tasks of a job, each with its own
 * shards of the set) can write one set between them.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TfrecordError } from '../errors.js';
import { type FileDigest, RecordWriter } from '../io/write.js';
import { FRAME_OVERHEAD } from '../record/frame.js';
import type { Compression } from '../record/compression.js';
import { shardExtension, shardName } from './naming.js';

export interface ShardedWriterOptions {
  dir: string;
  prefix: string;
  /** Fixed number of shards; records are dealt round-robin (record i → shard i mod N). */
  shards?: number;
  /** Otherwise: start a new shard before one would exceed this many (uncompressed, framed) bytes. */
  shardSize?: number;
  compression?: Compression;
  /** Told about every record and every flush, e.g. to read shards back while they are written. */
  listener?: ShardListener;
  /** Records handed back once written (uncompressed shards; see WriteOptions.release). */
  release?: (parts: Uint8Array[]) => void;
  /**
   * Instead of `shards` or `shardSize`: a set of `total` shards planned in
   * advance, of which this writer writes those numbered `indexes`. Each
   * record names its shard (`writeFramedAt`); a planned shard that gets no
   * record is still written, empty, so the set is complete.
   */
  planned?: { total: number; indexes: readonly number[] };
}

/** Progress of the staged files, for readers that follow the writer. */
export interface ShardListener {
  /**
   * A record was queued as record `index` of the shard staged at
   * `stagedPath` (called before it is written), with the `note` its writer
   * gave (writeFramedAt), if any.
   */
  record?(stagedPath: string, index: number, note?: unknown): void;
  /**
   * The staged file now holds its first `records` records, `bytes` bytes in
   * all (whole records, uncompressed shards only). The file keeps its staged
   * name until publish(), so it may be read from now on.
   */
  written?(stagedPath: string, records: number, bytes: number): void;
}

export interface ShardInfo {
  /** Final file name (inside `dir`). */
  name: string;
  path: string;
  /** Where the complete shard sits until publish(). */
  stagedPath: string;
  records: number;
  /** Framed, uncompressed bytes. */
  bytes: number;
  /**
   * Uncompressed shards: the file's SHA-256, CRC32C and size, computed as its
   * bytes were written (see WriteOptions.digest), so nobody reads the file
   * again to hash it. Compressed shards have none.
   */
  digest?: FileDigest;
}

interface OpenShard {
  /** The shard's number in its set. */
  index: number;
  writer: RecordWriter;
  stagedPath: string;
}

interface ClosedShard {
  index: number;
  stagedPath: string;
  records: number;
  bytes: number;
  digest: FileDigest | undefined;
}

export class ShardedWriter {
  private readonly open: OpenShard[] = [];
  private readonly done: ClosedShard[] = [];
  /** Planned sets: the open shards by number. */
  private readonly openAt = new Map<number, OpenShard>();
  private next = 0;
  private finished: ShardInfo[] | undefined;
  private readonly tag = `${process.pid}-${randomBytes(3).toString('hex')}`;

  private constructor(private readonly options: Required<Pick<ShardedWriterOptions, 'dir' | 'prefix' | 'compression'>> & ShardedWriterOptions) {}

  static async create(options: ShardedWriterOptions): Promise<ShardedWriter> {
    if (options.shards === undefined && options.shardSize === undefined && options.planned === undefined) {
      throw new TfrecordError('bad-argument', 'give either a shard count or a shard size');
    }
    const planned = options.planned;
    if (planned) {
      if (planned.indexes.some((i) => !Number.isInteger(i) || i < 0 || i >= planned.total)) {
        throw new TfrecordError('bad-argument', `planned shard numbers must lie in 0..${planned.total - 1}`);
      }
      const { shards: _count, shardSize: _size, ...rest } = options;
      return new ShardedWriter({ compression: 'none', ...rest });
    }
    if (options.shards !== undefined && (!Number.isInteger(options.shards) || options.shards < 1)) {
      throw new TfrecordError('bad-argument', `shard count must be a positive integer, got ${options.shards}`);
    }
    const w = new ShardedWriter({ compression: 'none', ...options });
    if (options.shards !== undefined) {
      for (let i = 0; i < options.shards; i++) w.open.push(await w.openShard(i));
    }
    return w;
  }

  private async openShard(index: number): Promise<OpenShard> {
    const stagedPath = join(this.options.dir, `.${this.options.prefix}-${index}.staging-${this.tag}`);
    const listener = this.options.listener;
    // The staging name is already private to this run, so the writer needs no
    // temporary name of its own: the file keeps one name until publish().
    const writer = await RecordWriter.create(stagedPath, {
      compression: this.options.compression,
      atomic: false,
      digest: true,
      ...(listener?.written ? { onWritten: (records: number, bytes: number) => listener.written!(stagedPath, records, bytes) } : {}),
      ...(this.options.release ? { release: this.options.release } : {}),
    });
    return { index, writer, stagedPath };
  }

  async write(payload: Uint8Array): Promise<void> {
    const shard = await this.shardFor(payload.length + FRAME_OVERHEAD);
    this.options.listener?.record?.(shard.stagedPath, shard.writer.records);
    await shard.writer.write(payload);
  }

  /** Writes an already framed record (see RecordWriter.writeFramed). */
  async writeFramed(record: Uint8Array): Promise<void> {
    const shard = await this.shardFor(record.length);
    this.options.listener?.record?.(shard.stagedPath, shard.writer.records);
    await shard.writer.writeFramed(record);
  }

  /**
   * Planned sets: writes an already framed record to shard `index` of the
   * set, opening it on its first record. `note` goes to the listener with
   * the record (convert: what the record's checks found when it was built).
   */
  async writeFramedAt(index: number, record: Uint8Array, note?: unknown): Promise<void> {
    let shard = this.openAt.get(index);
    if (!shard) {
      if (!this.options.planned?.indexes.includes(index)) throw new TfrecordError('bad-argument', `shard ${index} is not one of this writer's`);
      if (this.done.some((d) => d.index === index)) throw new TfrecordError('bad-argument', `shard ${index} is already closed`);
      shard = await this.openShard(index);
      this.openAt.set(index, shard);
    }
    this.options.listener?.record?.(shard.stagedPath, shard.writer.records, note);
    await shard.writer.writeFramed(record);
  }

  /**
   * Planned sets: closes shard `index` once it has every record it will get
   * (an open file per shard would otherwise pile up in a long run).
   */
  async closeAt(index: number): Promise<void> {
    const shard = this.openAt.get(index);
    if (!shard) return;
    this.openAt.delete(index);
    await this.closeShard(shard);
  }

  /** The shard the next record (of `framed` bytes) goes to. */
  private async shardFor(framed: number): Promise<OpenShard> {
    if (this.options.shards !== undefined) {
      const shard = this.open[this.next % this.options.shards]!;
      this.next++;
      return shard;
    }
    let current: OpenShard | undefined = this.open[0];
    if (current && current.writer.records > 0 && current.writer.bytes + framed > this.options.shardSize!) {
      await this.closeShard(current);
      this.open.length = 0;
      current = undefined;
    }
    if (!current) {
      current = await this.openShard(this.done.length);
      this.open[0] = current;
    }
    return current;
  }

  private async closeShard(shard: OpenShard): Promise<void> {
    await shard.writer.close();
    this.done.push({
      index: shard.index,
      stagedPath: shard.stagedPath,
      records: shard.writer.records,
      bytes: shard.writer.bytes,
      digest: shard.writer.digest(),
    });
  }

  /** Closes every shard (still under staging names) and returns what will be published. */
  async finish(): Promise<ShardInfo[]> {
    if (this.finished) return this.finished;
    for (const shard of this.open) await this.closeShard(shard);
    this.open.length = 0;
    const planned = this.options.planned;
    let total = this.done.length;
    if (planned) {
      for (const index of [...this.openAt.keys()]) await this.closeAt(index);
      // A planned shard whose records all failed (or that had none) is written empty: the set must be whole.
      for (const index of planned.indexes) if (!this.done.some((d) => d.index === index)) await this.closeShard(await this.openShard(index));
      const order = new Map(planned.indexes.map((index, at) => [index, at]));
      this.done.sort((a, b) => order.get(a.index)! - order.get(b.index)!);
      total = planned.total;
    } else if (this.done.length === 0) {
      // A dataset split with no records still gets one (empty, valid) shard, so every split has a file.
      await this.closeShard(await this.openShard(0));
      total = 1;
    }
    const ext = shardExtension(this.options.compression);
    this.finished = this.done.map((d) => {
      const name = shardName(this.options.prefix, d.index, total, ext);
      const info: ShardInfo = { name, path: join(this.options.dir, name), stagedPath: d.stagedPath, records: d.records, bytes: d.bytes };
      if (d.digest) info.digest = d.digest;
      return info;
    });
    return this.finished;
  }

  /** Renames the finished shards to their final names. */
  async publish(): Promise<ShardInfo[]> {
    const shards = await this.finish();
    for (const s of shards) await rename(s.stagedPath, s.path);
    return shards;
  }

  /** Discards everything written: open temporaries and staged shards. */
  async abort(): Promise<void> {
    for (const shard of [...this.open, ...this.openAt.values()]) await shard.writer.abort();
    this.open.length = 0;
    this.openAt.clear();
    for (const d of this.done) await rm(d.stagedPath, { force: true });
    this.done.length = 0;
  }
}
