/**
 * Reading TFRecord files from paths, Node streams or async iterables, with
 * transparent GZIP/ZLIB decompression.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { createGunzip, createInflate } from 'node:zlib';
import { pipeline, Readable } from 'node:stream';
import { describeFsError, isTfrecordError, TfrecordError, TruncatedRecordError, CorruptRecordError } from '../errors.js';
import { type Compression, type CompressionOption, DETECT_BYTES, detectCompression } from '../record/compression.js';
import type { ParserOptions, RecordEntry } from '../record/parser.js';
import { parseRecordStream, parseRecords } from '../record/reader.js';
import { crc32cFast } from './native-crc.js';

export type RecordSource = string | AsyncIterable<Uint8Array> | Iterable<Uint8Array> | NodeJS.ReadableStream;

export interface ReadOptions extends Omit<ParserOptions, 'totalBytes' | 'file' | 'startOffset' | 'startIndex'> {
  /** 'auto' (default) detects gzip/zlib from the first bytes. */
  compression?: CompressionOption;
  /** Name used in error messages; defaults to the path when reading a path. */
  file?: string;
  /** Read size for files (default 1 MiB). */
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

const DEFAULT_CHUNK = 1024 * 1024;

/** Yields record payloads. Each payload is a fresh buffer the caller owns. */
export async function* readRecords(source: RecordSource, options: ReadOptions = {}): AsyncGenerator<Uint8Array, void, undefined> {
  for await (const entry of readRecordEntries(source, options)) yield entry.data;
}

/** Yields records with their index, header offset and length. */
export async function* readRecordEntries(source: RecordSource, options: ReadOptions = {}): AsyncGenerator<RecordEntry, void, undefined> {
  const file = options.file ?? (typeof source === 'string' ? source : undefined);
  if (options.range) {
    if (typeof source !== 'string') throw new TfrecordError('bad-argument', 'a byte range can only be read from a file path', { file });
    yield* readRange(source, file, options.range, options);
    return;
  }
  let totalBytes: number | undefined;
  let chunks: AsyncIterable<Uint8Array>;
  let opened: FileChunks | undefined;
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
    opened = await openFileChunks(source, file, options.chunkSize ?? DEFAULT_CHUNK, options.sync ? (options.buffer ?? null) : undefined);
    chunks = opened.chunks;
    if (options.onChunk) chunks = tap(chunks, options.onChunk);
  } else {
    chunks = toAsyncIterable(source);
  }

  // The file is closed here, before the caller hears of the end, an error or
  // its own return(): with a compressed file the inflater's pipeline reads the
  // file on its own, and left to that pipeline the handle was closed some
  // ticks later, or by the garbage collector ("Closing file descriptor N on
  // garbage collection") when the pipeline was dropped mid-read.
  try {
    const [head, rest] = await peek(chunks, DETECT_BYTES, file);
    const compression: Compression = !options.compression || options.compression === 'auto' ? detectCompression(head) : options.compression;
    let body: AsyncIterable<Uint8Array> = rest;
    if (compression !== 'none') {
      body = decompress(rest, compression, file);
      totalBytes = undefined; // sizes refer to the compressed file; offsets to the uncompressed stream
    }
    const parserOptions: ParserOptions = {
      file,
      totalBytes,
      verify: options.verify,
      maxRecordBytes: options.maxRecordBytes,
      onCorrupt: options.onCorrupt,
      borrow: options.borrow,
      crc32c: options.crc32c ?? crc32cFast,
    };
    yield* parseRecordStream(body, parserOptions);
  } finally {
    await opened?.close();
  }
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
  let chunks: Iterable<Uint8Array> = readChunksSync(path, options.chunkSize ?? DEFAULT_CHUNK, options.buffer, range.start, range.end);
  if (options.onChunk) chunks = tapSync(chunks, options.onChunk);
  yield* parseRecords(ioErrorsNamedSync(chunks, file), parserOptions(file, range, options));
}

function checkRange(range: FileRange, file: string | undefined): void {
  const { start, end } = range;
  if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && end >= start)) {
    throw new TfrecordError('bad-argument', `invalid byte range ${start}..${end}`, { file });
  }
}

function parserOptions(file: string | undefined, range: FileRange, options: ReadOptions): ParserOptions {
  return {
    file,
    totalBytes: range.end,
    startOffset: range.start,
    startIndex: range.firstIndex,
    verify: options.verify,
    maxRecordBytes: options.maxRecordBytes,
    onCorrupt: options.onCorrupt,
    borrow: options.borrow,
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
  const opened = await openFileChunks(
    path,
    file,
    options.chunkSize ?? DEFAULT_CHUNK,
    options.sync ? (options.buffer ?? null) : undefined,
    range.start,
    range.end,
  );
  let chunks = opened.chunks;
  if (options.onChunk) chunks = tap(chunks, options.onChunk);
  try {
    yield* parseRecordStream(ioErrorsNamed(chunks, file), parserOptions(file, range, options));
  } finally {
    await opened.close();
  }
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

/**
 * A file's bytes, read with blocking calls (see ReadOptions.sync) into one
 * reused buffer: a chunk is only valid until the next one is requested, which
 * is exactly how the record parser consumes them (it copies what it keeps,
 * and lends views only until the next record).
 */
function* readChunksSync(path: string, chunkSize: number, given: Uint8Array | undefined, start = 0, end = Infinity): Generator<Uint8Array> {
  const fd = openSync(path, 'r');
  try {
    const buf = given ?? Buffer.allocUnsafe(Math.max(1, Math.min(chunkSize, end - start)));
    for (let position = start; position < end; ) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, end - position), position);
      if (n === 0) return;
      position += n;
      yield buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * An open file's chunks, and a close its reader awaits when it stops. The
 * chunks end once the file is closed, so a consumer left behind (an
 * inflater's pipeline) cannot read from it, nor from another file that has
 * been given the same descriptor since; closing twice is harmless.
 */
interface FileChunks {
  chunks: AsyncIterable<Uint8Array>;
  close(): Promise<void>;
}

/**
 * Opens `path` for reading (an 'io' error naming `file` if it cannot be):
 * with blocking reads into `syncBuffer` (null: a buffer of its own) when
 * that is given (see ReadOptions.sync), else with two alternating buffers.
 */
async function openFileChunks(
  path: string,
  file: string | undefined,
  chunkSize: number,
  syncBuffer: Uint8Array | null | undefined,
  start = 0,
  end = Infinity,
): Promise<FileChunks> {
  try {
    if (syncBuffer !== undefined) return fileChunksSync(openSync(path, 'r'), chunkSize, syncBuffer ?? undefined, start, end);
    return fileChunksAsync(await open(path, 'r'), chunkSize, start, end);
  } catch (err) {
    throw new TfrecordError('io', describeFsError(err), { file, cause: err });
  }
}

function fileChunksSync(fd: number, chunkSize: number, given: Uint8Array | undefined, start: number, end: number): FileChunks {
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    closeSync(fd);
  };
  function* chunks(): Generator<Uint8Array> {
    try {
      const buf = given ?? Buffer.allocUnsafe(Math.max(1, Math.min(chunkSize, end - start)));
      for (let position = start; position < end && !closed; ) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, end - position), position);
        if (n === 0) return;
        position += n;
        yield buf.subarray(0, n);
      }
    } finally {
      close();
    }
  }
  return { chunks: toAsync(chunks()), close: async () => close() };
}

/**
 * A file's bytes through two alternating buffers, the next read already in
 * flight while the current chunk is parsed. Reusing buffers (rather than a
 * fresh 1 MiB buffer per read, as a file stream does) saves the page faults
 * and the unmapping of ~1,000 buffers per GB, which cost more than the CRC.
 * A chunk is valid until the next one is requested (see readChunksSync).
 */
function fileChunksAsync(handle: FileHandle, chunkSize: number, start: number, end: number): FileChunks {
  let closing: Promise<void> | undefined;
  // FileHandle.close waits for a read in flight; no read starts after it.
  const close = () => (closing ??= handle.close());
  async function* chunks(): AsyncGenerator<Uint8Array> {
    try {
      const size = Math.max(1, Math.min(chunkSize, end - start));
      const buffers = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];
      let position = start;
      let turn = 0;
      const readInto = (buf: Buffer) => {
        const at = position;
        if (at >= end || closing) return Promise.resolve(0);
        return handle.read(buf, 0, Math.min(buf.length, end - at), at).then(({ bytesRead }) => {
          position = at + bytesRead;
          return bytesRead;
        });
      };
      let pending = readInto(buffers[0]!);
      for (;;) {
        const n = await pending;
        if (n === 0 || closing) return;
        const current = buffers[turn]!;
        turn ^= 1;
        // The other buffer held the chunk before this one, which the consumer is done with.
        pending = readInto(buffers[turn]!);
        yield current.subarray(0, n);
      }
    } finally {
      await close();
    }
  }
  return { chunks: chunks(), close };
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
  const input = Readable.from(ownedChunks(source), { objectMode: false });
  pipeline(input, inflater, () => {
    // Errors surface through iteration of `inflater` below.
  });
  return (async function* () {
    try {
      for await (const chunk of inflater) yield chunk as Uint8Array;
    } catch (err) {
      throw mapZlibError(err, compression, file);
    } finally {
      // Stop the pipeline's read-ahead now; the file itself is closed by readRecordEntries.
      input.destroy();
      inflater.destroy();
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
