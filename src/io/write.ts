/**
 * Writing TFRecord files. A path target is written atomically: bytes go to a
 * temporary name next to the final one and are renamed into place by close(),
 * so an interrupted run never leaves a partial file under the final name.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { once } from 'node:events';
import { createGzip, createDeflate, constants as zlibConstants } from 'node:zlib';
import type { Writable } from 'node:stream';
import { describeFsError, TfrecordError } from '../errors.js';
import { maskCrc, unmaskCrc } from '../record/crc32c.js';
import { FOOTER_BYTES, frameInPlace, HEADER_BYTES, writeHeader } from '../record/frame.js';
import { encodeExampleWithRoom } from '../example/codec.js';
import type { Features } from '../example/features.js';
import type { Compression } from '../record/compression.js';
import { crc32cFast } from './native-crc.js';
import { type FileDigest, FileHasher } from './digest.js';

export interface WriteOptions {
  compression?: Compression;
  /** zlib level for gzip/zlib (default 6, zlib's own default). */
  level?: number;
  /** fsync the file before renaming it into place (default false). */
  fsync?: boolean;
  /**
   * Path targets: write under a temporary name and rename on close (default
   * true). False writes the path directly (it must not exist yet); for
   * callers that stage files under names of their own.
   */
  atomic?: boolean;
  /**
   * Uncompressed path targets: called each time the file has grown, with the
   * records and bytes it now holds (always whole records), so a reader may
   * look at them while more are written. Never called with compression.
   */
  onWritten?: (records: number, bytes: number) => void;
  /**
   * Uncompressed path targets: called with the records (and frame parts) of
   * each batch once the file holds them, handing them back: the writer no
   * longer needs them, so the caller may reuse their memory.
   */
  release?: (parts: Uint8Array[]) => void;
  /**
   * Uncompressed path targets: hash the bytes as they are handed to the file
   * (SHA-256, CRC32C and size; see `digest()`), so a caller that needs the
   * file's digests does not have to read the file again for them. The
   * CRC32C is built from each payload's own CRC, the one in its footer
   * (FileHasher.updateWithCrc), so it costs no pass over the payloads.
   */
  digest?: boolean;
}

export type { FileDigest } from './digest.js';

export type RecordTarget = string | Writable;

/** Bytes gathered before one writev() call to the file. */
const BATCH_BYTES = 1024 * 1024;

/**
 * Memory writeExample builds records in, per batch (two, used in turn: one
 * being filled while the other is written). A batch is written once it
 * passes BATCH_BYTES, so a record of up to ARENA_BYTES - BATCH_BYTES always
 * fits; a larger one gets memory of its own.
 */
const ARENA_BYTES = 4 * BATCH_BYTES;

/** A byte sink: either a file we own or a caller's stream. */
interface Sink {
  write(parts: Uint8Array[], size: number): Promise<void>;
  end(): Promise<void>;
  abort(): Promise<void>;
}

class FileSink implements Sink {
  constructor(private readonly handle: FileHandle) {}
  async write(parts: Uint8Array[]): Promise<void> {
    // writev may write less than asked for; loop until everything is out.
    let pending = parts;
    while (pending.length > 0) {
      const { bytesWritten } = await this.handle.writev(pending);
      pending = dropBytes(pending, bytesWritten);
    }
  }
  async end(): Promise<void> {
    await this.handle.close();
  }
  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}

function dropBytes(parts: Uint8Array[], n: number): Uint8Array[] {
  let i = 0;
  while (i < parts.length && n >= parts[i]!.length) {
    n -= parts[i]!.length;
    i++;
  }
  const rest = parts.slice(i);
  if (n > 0 && rest.length > 0) rest[0] = rest[0]!.subarray(n);
  return rest;
}

class StreamSink implements Sink {
  private failure: Error | undefined;
  constructor(private readonly stream: Writable) {
    stream.on('error', (err) => {
      this.failure ??= err;
    });
  }
  write(parts: Uint8Array[]): Promise<void> {
    return writeParts(this.stream, parts, () => this.failure);
  }
  async end(): Promise<void> {
    if (this.failure) throw this.failure;
    // The caller's stream is ended (so its 'finish' means the bytes are out),
    // except stdout/stderr, which must stay usable after us.
    if (!isStdio(this.stream)) {
      this.stream.end();
      await once(this.stream, 'finish');
    }
  }
  async abort(): Promise<void> {
    // The stream belongs to the caller: leave it to them.
  }
}

function isStdio(stream: Writable): boolean {
  return stream === (process.stdout as unknown) || stream === (process.stderr as unknown);
}

/** Writes every part to a Node stream, waiting for 'drain' when it asks us to; rethrows the stream's error. */
async function writeParts(stream: Writable, parts: Uint8Array[], failed: () => Error | undefined): Promise<void> {
  const before = failed();
  if (before) throw before;
  let ok = true;
  for (const p of parts) ok = stream.write(p);
  if (!ok) await waitDrain(stream, failed);
  const after = failed();
  if (after) throw after;
}

async function waitDrain(stream: Writable, failed: () => Error | undefined): Promise<void> {
  if (failed()) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('error', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('error', done);
    stream.on('close', done);
  });
}

/**
 * Compresses on the way to another sink. zlib runs on libuv's thread pool, so
 * compression overlaps with framing the next records.
 */
class CompressedSink implements Sink {
  private readonly zstream: ReturnType<typeof createGzip>;
  private readonly pump: Promise<void>;
  private failure: Error | undefined;
  constructor(
    private readonly inner: Sink,
    compression: 'gzip' | 'zlib',
    level: number | undefined,
  ) {
    const opts = { level: level ?? zlibConstants.Z_DEFAULT_COMPRESSION, chunkSize: 256 * 1024 };
    const zstream = compression === 'gzip' ? createGzip(opts) : createDeflate(opts);
    this.zstream = zstream;
    zstream.on('error', (err) => {
      this.failure ??= err;
    });
    this.pump = (async () => {
      for await (const chunk of zstream) await inner.write([chunk as Uint8Array], (chunk as Uint8Array).length);
    })();
    this.pump.catch((err) => {
      this.failure ??= err;
      this.zstream.destroy();
    });
  }
  write(parts: Uint8Array[]): Promise<void> {
    return writeParts(this.zstream, parts, () => this.failure);
  }
  async end(): Promise<void> {
    this.zstream.end();
    await this.pump;
    if (this.failure) throw this.failure;
    await this.inner.end();
  }
  async abort(): Promise<void> {
    this.zstream.destroy();
    await this.pump.catch(() => undefined);
    await this.inner.abort();
  }
}

/** A name in the same directory (so rename is atomic) that no other writer uses. */
export function temporaryPath(finalPath: string): string {
  return join(dirname(finalPath), `.${basename(finalPath)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Writes records one at a time: `new RecordWriter(target, options)`, then
 * `write(payload)` for each record and `close()` at the end (or `abort()` to
 * discard a path target). The file is opened on first use;
 * `RecordWriter.create()` opens it at once, so a bad path fails early.
 */
export class RecordWriter {
  /** Records written so far. */
  records = 0;
  /** Framed (uncompressed) bytes written so far. */
  bytes = 0;

  private parts: Uint8Array[] = [];
  private partsBytes = 0;
  /** writeExample's batch memory (see ARENA_BYTES), once used; `arena` is the one being filled, to `arenaUsed`. */
  private arenas: Uint8Array[] | undefined;
  private arena = 0;
  private arenaUsed = 0;
  private closed = false;
  /**
   * The batch being written right now. We frame and CRC the next batch while
   * the previous one is in the kernel (double buffering), so the CRC pass and
   * the disk write overlap instead of adding up.
   */
  private inFlight: Promise<void> | undefined;
  private opening: Promise<Sink> | undefined;
  private sink: Sink | undefined;
  private handle: FileHandle | undefined;
  /** Where the file is being written (a temporary name unless not atomic), and its final name. */
  private readonly paths: { temp: string; final: string } | undefined;
  /** The file's digests so far (WriteOptions.digest). */
  private readonly hash: FileHasher | undefined;
  private finalDigest: FileDigest | undefined;

  constructor(
    private readonly target: RecordTarget,
    private readonly options: WriteOptions = {},
  ) {
    if (typeof target === 'string') this.paths = { temp: options.atomic === false ? target : temporaryPath(target), final: target };
    if (options.digest && this.paths && (options.compression ?? 'none') === 'none') this.hash = new FileHasher();
    if (this.paths && (options.compression ?? 'none') === 'none' && !options.release) this.allocate = (size) => this.fromArena(size);
  }

  /**
   * The file's SHA-256, CRC32C and size, once close() has returned, when
   * asked for (WriteOptions.digest): computed from the bytes as they were
   * handed to the file, in the order written.
   */
  digest(): FileDigest | undefined {
    return this.finalDigest;
  }

  static async create(target: RecordTarget, options: WriteOptions = {}): Promise<RecordWriter> {
    const writer = new RecordWriter(target, options);
    await writer.open();
    return writer;
  }

  private open(): Promise<Sink> {
    this.opening ??= this.openSink();
    return this.opening;
  }

  private async openSink(): Promise<Sink> {
    const compression = this.options.compression ?? 'none';
    let sink: Sink;
    if (this.paths) {
      try {
        this.handle = await open(this.paths.temp, 'wx');
      } catch (err) {
        throw new TfrecordError('io', `cannot create output: ${describeFsError(err)}`, { file: this.paths.final, cause: err });
      }
      sink = new FileSink(this.handle);
    } else {
      sink = new StreamSink(this.target as Writable);
    }
    if (compression !== 'none') sink = new CompressedSink(sink, compression, this.options.level);
    this.sink = sink;
    return sink;
  }

  /** The final path (for path targets). */
  get path(): string | undefined {
    return this.paths?.final;
  }

  /**
   * Frames and queues one payload. The payload is referenced, not copied,
   * until it has been written: do not modify it until close() resolves.
   */
  async write(payload: Uint8Array): Promise<void> {
    if (this.closed) throw new TfrecordError('bad-argument', 'write() after close()', { file: this.paths?.final });
    const header = new Uint8Array(HEADER_BYTES + FOOTER_BYTES);
    writeHeader(payload.length, header, 0);
    const footer = header.subarray(HEADER_BYTES);
    const crc = crc32cFast(payload);
    new DataView(header.buffer).setUint32(HEADER_BYTES, maskCrc(crc), true);
    if (this.hash) {
      // Hashed in the order written, the payload with the CRC just computed for it (FileHasher.updateWithCrc).
      this.hash.update(header.subarray(0, HEADER_BYTES));
      this.hash.updateWithCrc(payload, crc);
      this.hash.update(footer);
    }
    this.parts.push(header.subarray(0, HEADER_BYTES), payload, footer);
    this.partsBytes += payload.length + HEADER_BYTES + FOOTER_BYTES;
    this.records++;
    this.bytes += payload.length + HEADER_BYTES + FOOTER_BYTES;
    if (this.partsBytes >= BATCH_BYTES) await this.flush();
  }

  /**
   * Encodes a tf.Example and queues it as one record, the same bytes as
   * `write(encodeExample(features))`. Writing an uncompressed file, the
   * record is built straight into the writer's batch memory, reused from
   * batch to batch, instead of a new buffer per record: for ~100 KB images
   * that allocation and its page faults cost about as much as the encoding.
   * The features' values are only read during the call.
   */
  async writeExample(features: Features): Promise<void> {
    if (this.closed) throw new TfrecordError('bad-argument', 'write() after close()', { file: this.paths?.final });
    await this.writeFramed(frameInPlace(encodeExampleWithRoom(features, HEADER_BYTES, FOOTER_BYTES, this.allocate), crc32cFast));
  }

  /**
   * Where writeExample builds a record (undefined: memory of its own): the
   * batch memory when the bytes stay in it until written, i.e. a file
   * without compression, whose writes complete before the memory is reused,
   * and no `release`, which would hand the memory to the caller. Decided
   * once, in the constructor.
   */
  private readonly allocate: ((size: number) => Uint8Array) | undefined;

  private fromArena(size: number): Uint8Array {
    if (size > ARENA_BYTES - this.arenaUsed) return new Uint8Array(size);
    this.arenas ??= [new Uint8Array(ARENA_BYTES), new Uint8Array(ARENA_BYTES)];
    const at = this.arenaUsed;
    this.arenaUsed += size;
    return this.arenas[this.arena]!.subarray(at, at + size);
  }

  /**
   * Queues a record that is already framed (header, payload, CRC — as made by
   * frameRecord/frameInPlace), e.g. by a worker thread. It is written as is;
   * the caller vouches for its framing.
   */
  async writeFramed(record: Uint8Array): Promise<void> {
    if (this.closed) throw new TfrecordError('bad-argument', 'write() after close()', { file: this.paths?.final });
    if (record.length < HEADER_BYTES + FOOTER_BYTES) throw new TfrecordError('bad-argument', 'a framed record needs at least 16 bytes');
    if (this.hash) {
      // The payload's CRC is the one in the record's footer: the caller vouches for its framing.
      const footerAt = record.length - FOOTER_BYTES;
      const crc = unmaskCrc(new DataView(record.buffer, record.byteOffset + footerAt, FOOTER_BYTES).getUint32(0, true));
      this.hash.update(record.subarray(0, HEADER_BYTES));
      this.hash.updateWithCrc(record.subarray(HEADER_BYTES, footerAt), crc);
      this.hash.update(record.subarray(footerAt));
    }
    // Records built one after another in the batch memory go out as one piece.
    const last = this.parts[this.parts.length - 1];
    if (last !== undefined && last.buffer === record.buffer && last.byteOffset + last.length === record.byteOffset) {
      this.parts[this.parts.length - 1] = new Uint8Array(last.buffer, last.byteOffset, last.length + record.length);
    } else {
      this.parts.push(record);
    }
    this.partsBytes += record.length;
    this.records++;
    this.bytes += record.length;
    if (this.partsBytes >= BATCH_BYTES) await this.flush();
  }

  /** Starts writing the queued batch once the previous one is done; `wait` also waits for this one. */
  private async flush(wait = false): Promise<void> {
    await this.settle();
    if (this.parts.length > 0) {
      const parts = this.parts;
      const size = this.partsBytes;
      this.parts = [];
      this.partsBytes = 0;
      // The batch memory being written stays as it is until that write is
      // settled (the next flush waits for it first); the next records go to
      // the other one, whose write was settled above.
      if (this.arenaUsed > 0) {
        this.arena ^= 1;
        this.arenaUsed = 0;
      }
      const sink = this.sink ?? (await this.open());
      const { onWritten, release } = this.options;
      const compressed = (this.options.compression ?? 'none') !== 'none';
      if ((onWritten || release) && this.paths && !compressed) {
        const records = this.records;
        const bytes = this.bytes;
        this.inFlight = sink.write(parts, size).then(() => {
          onWritten?.(records, bytes);
          release?.(parts);
        });
      } else {
        this.inFlight = sink.write(parts, size);
      }
      // Keep the rejection for settle(); without this handler it would count as unhandled.
      this.inFlight.catch(() => undefined);
    }
    if (wait) await this.settle();
  }

  private async settle(): Promise<void> {
    const pending = this.inFlight;
    if (!pending) return;
    this.inFlight = undefined;
    try {
      await pending;
    } catch (err) {
      throw new TfrecordError('io', `write failed: ${describeFsError(err)}`, { file: this.paths?.final, cause: err });
    }
  }

  /** Flushes, closes and (for paths) renames the file into place. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      const sink = this.sink ?? (await this.open());
      await this.flush(true);
      if (this.options.fsync && this.handle) await this.handle.sync();
      await sink.end();
      this.closed = true;
      if (this.hash) this.finalDigest = this.hash.digest();
      if (this.paths && this.paths.temp !== this.paths.final) await rename(this.paths.temp, this.paths.final);
    } catch (err) {
      await this.abort();
      if (err instanceof TfrecordError) throw err;
      throw new TfrecordError('io', `cannot finish output: ${describeFsError(err)}`, { file: this.paths?.final, cause: err });
    }
  }

  /** Discards the output: the temporary file is removed; nothing appears under the final name. */
  async abort(): Promise<void> {
    this.closed = true;
    this.parts = [];
    await this.inFlight?.catch(() => undefined);
    this.inFlight = undefined;
    // Wait for a pending open so its file is not created after we cleaned up.
    await this.opening?.catch(() => undefined);
    await this.sink?.abort().catch(() => undefined);
    if (this.paths) await rm(this.paths.temp, { force: true }).catch(() => undefined);
  }
}

/**
 * Writes every payload from `records` to `target` and closes it. On any error
 * the partial output is discarded (path targets) and the error rethrown.
 * Returns the number of records written.
 */
export async function writeRecords(
  target: RecordTarget,
  records: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  options: WriteOptions = {},
): Promise<{ records: number; bytes: number }> {
  const writer = await RecordWriter.create(target, options);
  try {
    for await (const payload of records) await writer.write(payload);
    await writer.close();
  } catch (err) {
    await writer.abort();
    throw err;
  }
  return { records: writer.records, bytes: writer.bytes };
}
