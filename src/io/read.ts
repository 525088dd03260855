/**
 * Reading TFRecord files from paths, Node streams or async iterables, with
 * transparent GZIP/ZLIB decompression.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createGunzip, createInflate } from 'node:zlib';
import { pipeline, Readable } from 'node:stream';
import { describeFsError, isTfrecordError, TfrecordError, TruncatedRecordError, CorruptRecordError } from '../errors.js';
import { type Compression, type CompressionOption, DETECT_BYTES, detectCompression } from '../record/compression.js';
import { DEFAULT_MAX_RECORD_BYTES, type ParserOptions, type RecordEntry } from '../record/parser.js';
import { FRAME_OVERHEAD, HEADER_BYTES, parseHeader } from '../record/frame.js';
import { parseRecordStream, parseRecords } from '../record/reader.js';
import { crc32cFast } from './native-crc.js';

export type RecordSource = string | AsyncIterable<Uint8Array> | Iterable<Uint8Array> | NodeJS.ReadableStream;

export interface ReadOptions extends Omit<ParserOptions, 'totalBytes' | 'file' | 'startOffset' | 'startIndex'> {
  /** 'auto' (default) detects gzip/zlib from the first bytes. */
  compression?: CompressionOption;
  /** Name used in error messages; defaults to the path when reading a path. */
  file?: string;
  /**
   * Read size for files (default 1 MiB). A record larger than half of it is
   * read whole, in one read, rather than in pieces (see RecordAligner).
   */
  chunkSize?: number;
  /**
   * Read files with blocking calls. Only for threads that do nothing else
   * meanwhile (a worker thread, or a command-line process reading its
   * input): it skips libuv's thread-pool round trip per chunk, which
   * otherwise leaves a fast consumer idle. Never in a server's or an app's
   * main thread, whose event loop it would stall.
   */
  sync?: boolean;
  /**
   * With `sync`: read into this buffer (its length is the read size) instead
   * of a new one, so a caller that reads many files or ranges one after the
   * other can reuse one buffer. It must not be used elsewhere meanwhile.
   */
  buffer?: Uint8Array;
  /**
   * Only this byte range of an uncompressed file: `start` must be the offset
   * of a record header and `end` the end of a record; `firstIndex` is the
   * index of the record at `start`. Entries and errors carry file offsets and
   * indexes, and a range that ends inside a record is reported as truncated.
   */
  range?: FileRange;
  /**
   * Path sources: sees every chunk of the file's own bytes (compressed, if
   * it is) in order, e.g. to hash the file in the same read. A chunk is only
   * valid during the call.
   */
  onChunk?: (chunk: Uint8Array) => void;
}

export interface FileRange {
  start: number;
  end: number;
  firstIndex: number;
}

/**
 * Bytes per read. A bare `readSync` into a reused 128 KiB buffer ran at 7–8
 * GB/s on the reference machine against 1.5–3 GB/s into 1 MiB (README,
 * Performance), but the reader pays per read: with reads cut at record
 * boundaries, 128 KiB meant one read per ~100 KB record, which measured no
 * faster for `stats` and `validate` and slower for convert's read-back
 * (0.05–0.3 CPU-s at 20,000 images), so reads stay at 1 MiB, blocking or not.
 */
const DEFAULT_CHUNK = 1024 * 1024;

/**
 * Yields record payloads. A payload is never overwritten by later reads, so
 * a caller may keep any of them (see `readRecordEntries` for what a kept
 * payload holds on to).
 */
export async function* readRecords(source: RecordSource, options: ReadOptions = {}): AsyncGenerator<Uint8Array, void, undefined> {
  for await (const entry of readRecordEntries(source, options)) yield entry.data;
}

/**
 * Yields records with their index, header offset and length.
 *
 * Reading a file path, each record's payload is a view of the memory the
 * file was read into, not a copy: the reader reads into fresh memory for
 * every chunk (never reusing it) and cuts its reads at record boundaries,
 * so the kernel's copy is the only one. A payload therefore keeps its whole
 * read chunk alive (up to `chunkSize`, or the record itself when larger)
 * for as long as the caller keeps it, and its `.buffer` is that chunk's:
 * use `payload.slice()` for a compact copy of a record kept among many
 * dropped ones. Other sources (streams, iterables) may reuse their chunks,
 * so their payloads are copies. With `borrow`, payloads are only lent until
 * the next record is requested, from buffers the reader reuses.
 */
export async function* readRecordEntries(source: RecordSource, options: ReadOptions = {}): AsyncGenerator<RecordEntry, void, undefined> {
  const file = options.file ?? (typeof source === 'string' ? source : undefined);
  if (options.range) {
    if (typeof source !== 'string') throw new TfrecordError('bad-argument', 'a byte range can only be read from a file path', { file });
    yield* readRange(source, file, options.range, options);
    return;
  }
  let totalBytes: number | undefined;
  let chunks: AsyncIterable<Uint8Array>;
  // Whether the chunks are fresh memory that no later read reuses (see chunkPlan).
  let stable = false;
  if (typeof source === 'string') {
    let size: number;
    try {
      const st = await stat(source);
      if (st.isDirectory()) throw new TfrecordError('io', 'is a directory, not a TFRecord file', { file });
      // A FIFO or device would block the read forever or never end; a stream
      // of one can still be passed in as a Node stream.
      if (!st.isFile()) throw new TfrecordError('io', 'is not a regular file (a FIFO, socket or device); pass its contents as a stream instead', { file });
      size = st.size;
    } catch (err) {
      if (err instanceof TfrecordError) throw err;
      throw new TfrecordError('io', describeFsError(err), { file, cause: err });
    }
    totalBytes = size;
    const plan = chunkPlan(options);
    stable = plan.fresh;
    chunks = options.sync ? toAsync(readChunksSync(source, plan, 0, size)) : readFileChunks(source, plan, 0, size);
    if (options.onChunk) chunks = tap(chunks, options.onChunk);
  } else {
    chunks = toAsyncIterable(source);
  }

  const [head, rest] = await peek(chunks, DETECT_BYTES, file);
  const compression: Compression = !options.compression || options.compression === 'auto' ? detectCompression(head) : options.compression;
  let body: AsyncIterable<Uint8Array> = rest;
  if (compression !== 'none') {
    body = decompress(rest, compression, file);
    totalBytes = undefined; // sizes refer to the compressed file; offsets to the uncompressed stream
    stable = false;
  }
  const parserOptions: ParserOptions = {
    file,
    totalBytes,
    verify: options.verify,
    maxRecordBytes: options.maxRecordBytes,
    onCorrupt: options.onCorrupt,
    borrow: options.borrow,
    stableChunks: stable,
    crc32c: options.crc32c ?? crc32cFast,
  };
  yield* parseRecordStream(body, parserOptions);
}

/**
 * readRecordEntries for an uncompressed file (or a byte range of one, see
 * ReadOptions.range), with blocking reads and no promise per record: for
 * worker threads (see ReadOptions.sync). Compressed files are refused.
 */
export function* readRecordEntriesSync(
  path: string,
  options: Omit<ReadOptions, 'sync' | 'compression'> & { compression?: 'none' } = {},
): Generator<RecordEntry, void, undefined> {
  const file = options.file ?? path;
  let range = options.range;
  if (range) checkRange(range, file);
  else {
    try {
      range = { start: 0, end: statSync(path).size, firstIndex: 0 };
    } catch (err) {
      throw new TfrecordError('io', describeFsError(err), { file, cause: err });
    }
  }
  const plan = chunkPlan({ ...options, sync: true });
  let chunks: Iterable<Uint8Array> = readChunksSync(path, plan, range.start, range.end);
  if (options.onChunk) chunks = tapSync(chunks, options.onChunk);
  yield* parseRecords(ioErrorsNamedSync(chunks, file), parserOptions(file, range, options, plan.fresh));
}

function checkRange(range: FileRange, file: string | undefined): void {
  const { start, end } = range;
  if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && end >= start)) {
    throw new TfrecordError('bad-argument', `invalid byte range ${start}..${end}`, { file });
  }
}

function parserOptions(file: string | undefined, range: FileRange, options: ReadOptions, stableChunks: boolean): ParserOptions {
  return {
    file,
    totalBytes: range.end,
    startOffset: range.start,
    startIndex: range.firstIndex,
    verify: options.verify,
    maxRecordBytes: options.maxRecordBytes,
    onCorrupt: options.onCorrupt,
    borrow: options.borrow,
    stableChunks,
    crc32c: options.crc32c ?? crc32cFast,
  };
}

function* tapSync(chunks: Iterable<Uint8Array>, see: (chunk: Uint8Array) => void): Generator<Uint8Array> {
  for (const chunk of chunks) {
    see(chunk);
    yield chunk;
  }
}

function* ioErrorsNamedSync(chunks: Iterable<Uint8Array>, file: string | undefined): Generator<Uint8Array> {
  try {
    yield* chunks;
  } catch (err) {
    if (isTfrecordError(err)) throw err;
    throw new TfrecordError('io', describeFsError(err), { file, cause: err });
  }
}

async function* readRange(path: string, file: string | undefined, range: FileRange, options: ReadOptions): AsyncGenerator<RecordEntry, void, undefined> {
  if (options.compression !== undefined && options.compression !== 'none') {
    throw new TfrecordError('bad-argument', 'a byte range can only be read from an uncompressed file', { file });
  }
  checkRange(range, file);
  const plan = chunkPlan(options);
  let chunks = options.sync ? toAsync(readChunksSync(path, plan, range.start, range.end)) : readFileChunks(path, plan, range.start, range.end);
  if (options.onChunk) chunks = tap(chunks, options.onChunk);
  yield* parseRecordStream(ioErrorsNamed(chunks, file), parserOptions(file, range, options, plan.fresh));
}

/** File-system errors from a chunk source as TfrecordError 'io' naming the file. */
async function* ioErrorsNamed(chunks: AsyncIterable<Uint8Array>, file: string | undefined): AsyncGenerator<Uint8Array> {
  try {
    yield* chunks;
  } catch (err) {
    if (isTfrecordError(err)) throw err;
    throw new TfrecordError('io', describeFsError(err), { file, cause: err });
  }
}

/** How a file is read into memory (see RecordAligner). */
export interface ChunkPlan {
  /** Bytes per read, unless a record needs more. */
  base: number;
  /**
   * Every chunk in fresh memory that no later read reuses, so the parser
   * may hand out records as views of it (ParserOptions.stableChunks);
   * otherwise two buffers are reused in turn (borrowed records, or a
   * caller's `buffer`).
   */
  fresh: boolean;
  /** The caller's buffer (ReadOptions.buffer), reused as the first of the two. */
  buffer?: Uint8Array;
  /** The largest buffer a whole record is read into; larger records go to the parser in pieces. */
  limit: number;
  maxRecordBytes: number;
}

/**
 * Reused buffers grow to hold a whole record up to this size (the parser's
 * lending buffers stop at the same size); a fresh chunk holds a record of
 * any size the parser accepts, since the parser would allocate that much
 * for it anyway.
 */
const REUSED_LIMIT = 16 * 1024 * 1024;

export function chunkPlan(options: ReadOptions): ChunkPlan {
  const fresh = !options.borrow && options.buffer === undefined;
  const base = Math.max(1, options.chunkSize ?? options.buffer?.length ?? DEFAULT_CHUNK);
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const limit = fresh ? maxRecordBytes + FRAME_OVERHEAD + HEADER_BYTES : REUSED_LIMIT;
  return { base, fresh, limit, maxRecordBytes, ...(options.buffer ? { buffer: options.buffer } : {}) };
}

/**
 * Cuts a file's reads at record boundaries, so the parser meets every record
 * whole inside one chunk and hands it out as a view, with no copy to gather
 * a record that straddles two reads. After each read it walks the record
 * headers in the buffer (their lengths, with the length CRC), hands out the
 * whole records, and carries the incomplete one at the end over to the
 * start of the next buffer; when that record's length is known and it is
 * large, the next read is sized to end just past it (plus the header after
 * it), so a file of large records is read one record a read and nothing is
 * carried over but a header.
 *
 * It only decides where reads start and end: the parser still checks every
 * header and CRC, and any cut gives the same records. Where a header does
 * not check out (damage, or a compressed file) it stops aligning and hands
 * the bytes over as read, for the parser to report.
 */
export class RecordAligner {
  /** The buffer being filled; bytes [0, have) of it are read. */
  buf: Uint8Array;
  have = 0;
  /** Bytes wanted in `buf` before it is handed out. */
  want: number;
  /** File offset of buf[0]. */
  private at: number;
  private aligning = true;
  /** Reused buffers, in turn (not fresh). */
  private readonly spare: Uint8Array[] = [];

  constructor(
    private readonly plan: ChunkPlan,
    start: number,
    private readonly end: number,
  ) {
    this.at = start;
    this.want = Math.min(plan.base, end - start);
    this.buf = plan.buffer && plan.buffer.length >= this.want ? plan.buffer : allocate(this.want);
  }

  /** Where the next read goes: `buf` from `have`, this many bytes at file offset `position`. */
  get position(): number {
    return this.at + this.have;
  }

  get room(): number {
    return this.want - this.have;
  }

  /**
   * After a read of `n` bytes: the chunk to hand out now, if any (its bytes
   * stay as they are until the next call but one: reused buffers alternate).
   * With `n` 0 or the range read to its end, what is left is handed out.
   */
  afterRead(n: number): Uint8Array | undefined {
    this.have += n;
    if (n === 0 || this.position >= this.end) return this.take(this.have, undefined);
    if (this.have < this.want) return undefined;
    if (!this.aligning) return this.take(this.have, undefined);
    const { boundary, next } = this.scan();
    if (boundary > 0) return this.take(boundary, next);
    if (this.aligning && next === undefined) {
      // Not even a whole header yet (a read size below 12 bytes).
      this.grow(HEADER_BYTES);
      return undefined;
    }
    if (next !== undefined && next + HEADER_BYTES <= this.plan.limit) {
      // The first record alone is larger than the buffer: read all of it (and the next header).
      this.grow(next + HEADER_BYTES);
      return undefined;
    }
    return this.take(this.have, undefined);
  }

  /** Whether the range is read to its end and handed out. */
  get done(): boolean {
    return this.position >= this.end && this.have === 0;
  }

  /** The whole records at the start of `buf`: where they end, and the size of the record after them when its header is in and sound. */
  private scan(): { boundary: number; next: number | undefined } {
    const buf = this.buf;
    let p = 0;
    while (this.have - p >= HEADER_BYTES) {
      const h = parseHeader(buf, p);
      const size = h.length + FRAME_OVERHEAD;
      if (h.storedCrc !== h.computedCrc || h.length > this.plan.maxRecordBytes || this.at + p + size > this.end) {
        // Not a header to trust: hand over up to here, and from there on the bytes as read.
        this.aligning = false;
        return { boundary: p, next: undefined };
      }
      if (p + size > this.have) return { boundary: p, next: size };
      p += size;
    }
    return { boundary: p, next: undefined };
  }

  /** Hands out buf[0, n) and moves what follows it to the start of the buffer for the next read. */
  private take(n: number, next: number | undefined): Uint8Array | undefined {
    if (n === 0) return undefined;
    const chunk = this.buf.subarray(0, n);
    const tail = this.have - n;
    const remaining = this.end - (this.at + n);
    // A large record: read to just past it. Small ones: a base-sized read holds many.
    let want =
      next !== undefined && this.aligning && next >= this.plan.base / 2 && next + HEADER_BYTES <= this.plan.limit ? next + HEADER_BYTES : this.plan.base;
    // Always room for more than the tail (at least a header), up to the end of the range.
    want = Math.min(Math.max(want, tail + 1, HEADER_BYTES), remaining);
    const nextBuf = this.nextBuffer(want);
    if (tail > 0) nextBuf.set(this.buf.subarray(n, this.have));
    if (!this.plan.fresh) this.spare.push(this.buf);
    this.buf = nextBuf;
    this.at += n;
    this.have = tail;
    this.want = want;
    return chunk;
  }

  private nextBuffer(size: number): Uint8Array {
    if (this.plan.fresh) return allocate(size);
    // Reused: the other buffer (the one handed out before this chunk, done with by now).
    const other = this.spare.shift();
    return other && other.length >= size ? other : allocate(Math.max(size, this.plan.base));
  }

  private grow(size: number): void {
    const bigger = allocate(size);
    bigger.set(this.buf.subarray(0, this.have));
    this.buf = bigger;
    this.want = size;
  }
}

/** Uninitialised memory (every byte is read into before it is used). */
function allocate(size: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(size);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * A file's bytes, read with blocking calls (see ReadOptions.sync), cut at
 * record boundaries (RecordAligner). Reused buffers alternate, so a chunk is
 * valid until the one after next is requested, which is how the parser
 * consumes them (it copies what it keeps, and lends views only until the
 * next record).
 */
function* readChunksSync(path: string, plan: ChunkPlan, start: number, end: number): Generator<Uint8Array> {
  const fd = openSync(path, 'r');
  try {
    const a = new RecordAligner(plan, start, end);
    while (!a.done) {
      const n = a.room > 0 ? readSync(fd, a.buf, a.have, a.room, a.position) : 0;
      const chunk = a.afterRead(n);
      if (chunk) yield chunk;
      if (n === 0 && !chunk) return;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * readChunksSync with asynchronous reads, the next read already in flight
 * while the current chunk is parsed. Reusing buffers where records are only
 * lent (rather than a fresh 1 MiB per read, as a file stream does) saves the
 * page faults and the unmapping of ~1,000 buffers per GB.
 */
async function* readFileChunks(path: string, plan: ChunkPlan, start: number, end: number): AsyncGenerator<Uint8Array> {
  const handle = await open(path, 'r');
  let pending: Promise<number> | undefined;
  try {
    const a = new RecordAligner(plan, start, end);
    const read = () => (a.room > 0 ? handle.read(a.buf, a.have, a.room, a.position).then((r) => r.bytesRead) : Promise.resolve(0));
    pending = read();
    while (!a.done) {
      const n: number = await pending!;
      pending = undefined;
      const chunk = a.afterRead(n);
      if (!a.done) pending = read();
      if (chunk) yield chunk;
      else if (n === 0) return;
    }
  } finally {
    await pending?.catch(() => undefined);
    await handle.close();
  }
}

async function* tap(chunks: AsyncIterable<Uint8Array>, see: (chunk: Uint8Array) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of chunks) {
    see(chunk);
    yield chunk;
  }
}

async function* toAsync(chunks: Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

function toAsyncIterable(source: Exclude<RecordSource, string>): AsyncIterable<Uint8Array> {
  if (Symbol.asyncIterator in source) return source as AsyncIterable<Uint8Array>;
  if (Symbol.iterator in source) return toAsync(source as Iterable<Uint8Array>);
  // Old-style streams without async iteration.
  return Readable.from(Readable.prototype.wrap.call(new Readable(), source as NodeJS.ReadableStream)) as AsyncIterable<Uint8Array>;
}

/**
 * Reads until `want` bytes are buffered (or the stream ends) and returns them
 * along with an iterable that replays them followed by the rest of the stream.
 */
async function peek(source: AsyncIterable<Uint8Array>, want: number, file?: string): Promise<[Uint8Array, AsyncIterable<Uint8Array>]> {
  const iterator = source[Symbol.asyncIterator]();
  const buffered: Uint8Array[] = [];
  let have = 0;
  let done = false;
  try {
    while (have < want) {
      const r = await iterator.next();
      if (r.done) {
        done = true;
        break;
      }
      // Copied: a source may reuse its buffer for the next chunk, and these are
      // replayed later. (Not Buffer#slice, which on a Node Buffer is only a view.)
      const chunk = Uint8Array.prototype.slice.call(toUint8(r.value));
      buffered.push(chunk);
      have += chunk.length;
    }
  } catch (err) {
    throw new TfrecordError('io', describeFsError(err), { file, cause: err });
  }
  const head = concat(buffered, Math.min(have, want));
  const rest = (async function* () {
    try {
      yield* buffered;
      while (!done) {
        const r = await iterator.next();
        if (r.done) done = true;
        else yield toUint8(r.value);
      }
    } catch (err) {
      done = true; // a source that threw is finished
      throw new TfrecordError('io', describeFsError(err), { file, cause: err });
    } finally {
      // A reader that stops early (an error in a record, a --limit) must
      // still let the source finish: a file source closes its handle then.
      if (!done) await iterator.return?.();
    }
  })();
  return [head, rest];
}

function toUint8(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return new TextEncoder().encode(value);
  throw new TypeError('record source yielded something other than bytes');
}

function concat(parts: Uint8Array[], limit: number): Uint8Array {
  const out = new Uint8Array(limit);
  let at = 0;
  for (const p of parts) {
    if (at >= limit) break;
    const take = Math.min(p.length, limit - at);
    out.set(p.subarray(0, take), at);
    at += take;
  }
  return out;
}

function decompress(source: AsyncIterable<Uint8Array>, compression: Compression, file?: string): AsyncIterable<Uint8Array> {
  const inflater = compression === 'gzip' ? createGunzip() : createInflate();
  // The stream machinery reads ahead and the inflater queues what it has not
  // consumed yet, while a file source hands out chunks in two buffers that it
  // refills in turn (readFileChunks): without a copy, the inflater later reads
  // bytes of a newer chunk in place of the queued one, and any compressed file
  // larger than a few read-aheads (about 3 MiB) came out "corrupt". The copy
  // is of compressed bytes, small beside the inflating itself.
  pipeline(Readable.from(ownedChunks(source), { objectMode: false }), inflater, () => {
    // Errors surface through iteration of `inflater` below.
  });
  return (async function* () {
    try {
      for await (const chunk of inflater) yield chunk as Uint8Array;
    } catch (err) {
      throw mapZlibError(err, compression, file);
    }
  })();
}

/** Each chunk copied into memory of its own, for consumers that keep chunks past the next one. */
async function* ownedChunks(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) yield Uint8Array.prototype.slice.call(chunk);
}

function mapZlibError(err: unknown, compression: Compression, file?: string): unknown {
  if (err instanceof TfrecordError) return err;
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'Z_BUF_ERROR' || /unexpected end/i.test(message)) {
    return new TruncatedRecordError('truncated', `${compression} stream ends early (${message})`, { file, cause: err });
  }
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return new CorruptRecordError('crc-mismatch', `${compression} stream is corrupt (${message})`, { file, cause: err });
  }
  return err;
}
