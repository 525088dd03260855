/**
 * The one loop over "every record of every file" that the dataset commands
 * share (validate, stats, preview, inspect, and convert's read-back checks
 * through walkFile/walkFileSync). It expands folders, opens each file with
 * the shared read options, hands out records, and reports what went wrong
 * with the framing or the file as a problem value rather than by throwing,
 * so each consumer decides what a problem means to it (a finding, a line on
 * stderr, a placeholder tile, or a reason to stop).
 *
 * ```ts
 * for await (const ev of walkRecords(paths, { borrow: true })) {
 *   if (ev.kind === 'record') use(ev.file, ev.index, ev.offset, ev.payload);
 *   else if (ev.kind === 'problem') {
 *     if (!isFramingProblem(ev.problem)) throw ev.error; // the file could not be read at all
 *     report(ev.problem);                                // ev.fatal: the rest of the file is lost
 *   }
 *   // ev.kind === 'file': a file is about to be read (its size on disk in ev.bytes)
 * }
 * ```
 *
 * Events, per file, in this order: one `file` event, then `record` and
 * `problem` events in record order (a record skipped for a bad data CRC is
 * reported between its neighbours, though the parser notices it while
 * reading ahead), and at most one `fatal` problem, last. Paths that cannot
 * be expanded (an unreadable folder, or one without `*.tfrecord*` files) are
 * reported before any file is read, so a consumer that stops on them has
 * read nothing.
 *
 * A file that fails before its first record and whose first bytes show it is
 * something else (an image, JSON, text, a gzip file of something else) gets
 * its problem worded "not a TFRecord file (it is a JPEG image)", without a
 * record or offset, instead of the header damage the reader saw (sniff.ts).
 *
 * `walk.skipFile()` leaves the current file (closing it) and goes on with the
 * next; called on its `file` event, the file is never opened. Problems of a
 * skipped file are not reported. A `break` out of the loop closes the file
 * being read.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describeFsError, isTfrecordError, TfrecordError } from '../errors.js';
import { type ReadOptions, readRecordEntries, readRecordEntriesSync } from '../io/read.js';
import { type Problem, problemFromError } from '../problem.js';
import type { CompressionOption } from '../record/compression.js';
import type { RecordEntry } from '../record/parser.js';
import { NOT_TFRECORD, notTfrecordReason, SNIFF_BYTES } from './sniff.js';

/** Damage to the framing of a file: reading can go on (a skipped record) or not (the rest of the file). */
export type FramingCode = 'truncated' | 'crc-mismatch' | 'record-too-large';
/** Framing damage, or a path that cannot be read at all ('io'). */
export type WalkProblemCode = FramingCode | 'io';

export interface WalkOptions {
  /** 'auto' (the default) detects gzip/zlib from a file's first bytes. */
  compression?: CompressionOption;
  /** Check both CRCs of every record (default true). */
  verify?: boolean;
  /** Largest record accepted before `record-too-large` (default: the reader's, 2 GiB). */
  maxRecordBytes?: number;
  /**
   * Lend each payload (a view into the read buffer, valid until the next
   * event is asked for) instead of copying it: for consumers that are done
   * with a record before they take the next.
   */
  borrow?: boolean;
  /** Read with blocking calls: for worker threads only (see ReadOptions.sync). */
  sync?: boolean;
  /**
   * Whether a folder stands for the `*.tfrecord*` files directly inside it
   * (default true). When false, a folder is read as a file and reported as
   * an 'io' problem, for commands that take files only.
   */
  expandDirectories?: boolean;
  /**
   * Sees every chunk of each file's own bytes (compressed, if it is), in
   * order, after that file's `file` event: a caller can hash the files in
   * the same read. A file whose read ends early (a fatal framing problem, a
   * skip) is seen only up to there. A chunk is valid only during the call.
   */
  onChunk?: (chunk: Uint8Array) => void;
}

/** Options of one file's walk: the shared ones plus what a caller reading parts of files needs (see ReadOptions). */
export interface WalkFileOptions extends Omit<WalkOptions, 'expandDirectories'>, Pick<ReadOptions, 'range' | 'chunkSize' | 'buffer'> {}

export interface FileEvent {
  kind: 'file';
  file: string;
  /** Size on disk (compressed size for gzip/zlib files); 0 when it cannot be read. */
  bytes: number;
}

export interface RecordEvent {
  kind: 'record';
  file: string;
  /** 0-based index of the record within its file. */
  index: number;
  /** Byte offset of the record's header (in the uncompressed stream). */
  offset: number;
  /** Payload length. */
  length: number;
  /** The payload; only lent until the next event when `borrow` is set. */
  payload: Uint8Array;
}

export interface ProblemEvent {
  kind: 'problem';
  problem: Problem<WalkProblemCode>;
  /**
   * True when nothing more of this file is read (damaged header, truncation,
   * corrupt compressed stream, unreadable file); false when only this record
   * is skipped (bad data CRC) and reading goes on.
   */
  fatal: boolean;
  /** The reader's error, for a consumer that stops on the problem or words it its own way. */
  error: TfrecordError;
}

export type WalkEvent = FileEvent | RecordEvent | ProblemEvent;

export interface RecordWalk extends AsyncIterable<WalkEvent> {
  /** Stops reading the current file and goes on with the next (see the file comment). */
  skipFile(): void;
}

const FRAMING_CODES: ReadonlySet<string> = new Set<FramingCode>(['truncated', 'crc-mismatch', 'record-too-large']);

/** True for damage inside a file; false for 'io' (a path that could not be read at all). */
export function isFramingProblem<P extends Problem<WalkProblemCode>>(p: P): p is P & Problem<FramingCode> {
  return FRAMING_CODES.has(p.code);
}

/**
 * What a framing problem costs, as the end of its message; nothing for "not a
 * TFRecord file (…)", which says it all. Told by the wording, not an object
 * flag, so it holds for problems that crossed a thread as data.
 */
export function describeFramingLoss(reason: string, fatal: boolean): string {
  if (NOT_TFRECORD.test(reason)) return reason;
  return fatal ? `${reason}; the rest of the file is not read` : `${reason}; the record is skipped`;
}

/** A path ending like this (train.tfrecord, x.tfrecord.gz, x.tfrecord-00001-of-00010) counts as a record file. */
export const TFRECORD_NAME = /\.tfrecords?(?:$|[.-])/i;
/** …unless it is an index beside one (tfrecord2idx's `x.tfrecord.index`, DALI's `x.tfrecord.idx`): text, not records. */
const INDEX_NAME = /\.(?:index|idx)$/i;

/**
 * Expands directories to the `*.tfrecord*` files directly inside them
 * (sorted by name); other paths are passed through as given. Throws
 * TfrecordError 'io' for a folder that cannot be listed or has no such file.
 */
export async function listTfrecordFiles(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const path of paths) out.push(...(await expandPath(path)));
  return out;
}

async function expandPath(path: string): Promise<string[]> {
  let isDir = false;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch {
    // Passed through: the reader reports a missing file with its usual message.
  }
  if (!isDir) return [path];
  let names: string[];
  try {
    names = (await readdir(path, { withFileTypes: true }))
      // Hidden files are never a dataset's: convert's lock (.tfrecord-od.lock) and publish journal match the name pattern.
      .filter((d) => d.isFile() && !d.name.startsWith('.') && TFRECORD_NAME.test(d.name) && !INDEX_NAME.test(d.name))
      .map((d) => d.name)
      .sort();
  } catch (err) {
    throw new TfrecordError('io', describeFsError(err), { file: path, cause: err });
  }
  if (names.length === 0) throw new TfrecordError('io', 'directory contains no *.tfrecord* files', { file: path });
  return names.map((name) => join(path, name));
}

/** Every record of every file of `paths`, as events (see the file comment). */
export function walkRecords(paths: readonly string[], options: WalkOptions = {}): RecordWalk {
  const control = { skip: false };
  const events = walkEvents(paths, options, control, true);
  return {
    [Symbol.asyncIterator]: () => events,
    skipFile: () => {
      control.skip = true;
    },
  };
}

/** The records and problems of one file (no `file` event; no folder expansion). */
export function walkFile(path: string, options: WalkFileOptions = {}): AsyncGenerator<RecordEvent | ProblemEvent, void, undefined> {
  return walkEvents([path], options, { skip: false }, false) as AsyncGenerator<RecordEvent | ProblemEvent, void, undefined>;
}

/**
 * walkFile for an uncompressed file, with blocking reads and no promise per
 * record: for worker threads (see readRecordEntriesSync).
 */
export function* walkFileSync(
  path: string,
  options: Omit<WalkFileOptions, 'sync' | 'compression'> = {},
): Generator<RecordEvent | ProblemEvent, void, undefined> {
  const pending = new PendingProblems(path);
  let failure: unknown;
  let records = 0;
  try {
    for (const entry of readRecordEntriesSync(path, readOptions(path, options, pending))) {
      for (let p = pending.before(entry.index); p !== undefined; p = pending.before(entry.index)) yield p;
      records++;
      yield recordEvent(path, entry);
    }
  } catch (err) {
    // Only the reader's errors land here: a consumer that stops makes the
    // pending `yield` return, which runs `finally` blocks, not this.
    failure = err;
  }
  if (failsAtStart(failure, records) && (options.range?.start ?? 0) === 0) failure = explainNotTfrecord(failure, path, readHeadSync(path), 'none');
  yield* pending.end(failure);
}

/**
 * The walk itself, for many files (walkRecords) or one (walkFile). One
 * generator over the reader, not one per file under one for the walk: each
 * level of async generators costs every record a few promise turns, which
 * measured ~0.2 µs a record a level (200k small records).
 */
async function* walkEvents(
  paths: readonly string[],
  options: WalkFileOptions & Pick<WalkOptions, 'expandDirectories'>,
  control: { skip: boolean },
  announceFiles: boolean,
): AsyncGenerator<WalkEvent, void, undefined> {
  let files: readonly string[] = paths;
  if (announceFiles && options.expandDirectories !== false) {
    const expanded: string[] = [];
    const unreadable: ProblemEvent[] = [];
    for (const path of paths) {
      try {
        expanded.push(...(await expandPath(path)));
      } catch (err) {
        if (!isTfrecordError(err)) throw err;
        unreadable.push(problemEvent(err, path, true));
      }
    }
    yield* unreadable;
    files = expanded;
  }
  const read = { compression: options.compression ?? 'auto' };
  for (const file of files) {
    control.skip = false;
    if (announceFiles) {
      yield { kind: 'file', file, bytes: await sizeOf(file) };
      if (control.skip) continue;
    }
    const pending = new PendingProblems(file);
    let failure: unknown;
    let records = 0;
    try {
      // Leaving this loop (a skip, or the consumer's break through `return`)
      // returns the reader, which closes the file.
      for await (const entry of readRecordEntries(file, { ...readOptions(file, options, pending), ...read })) {
        for (let p = pending.before(entry.index); p !== undefined && !control.skip; p = pending.before(entry.index)) yield p;
        if (control.skip) break;
        records++;
        yield recordEvent(file, entry);
        if (control.skip) break;
      }
    } catch (err) {
      failure = err; // the reader's, as in walkFileSync
    }
    if (control.skip) continue;
    if (failsAtStart(failure, records) && (options.range?.start ?? 0) === 0) {
      failure = explainNotTfrecord(failure, file, await readHead(file), read.compression);
    }
    for (const p of pending.end(failure)) {
      yield p;
      if (control.skip) break;
    }
  }
}

function readOptions(path: string, options: WalkFileOptions, pending: PendingProblems): Omit<ReadOptions, 'compression'> {
  const read: Omit<ReadOptions, 'compression'> = { file: path, onCorrupt: pending.onCorrupt };
  if (options.verify !== undefined) read.verify = options.verify;
  if (options.maxRecordBytes !== undefined) read.maxRecordBytes = options.maxRecordBytes;
  if (options.borrow) read.borrow = true;
  if (options.sync) read.sync = true;
  if (options.range) read.range = options.range;
  if (options.onChunk) read.onChunk = options.onChunk;
  if (options.chunkSize !== undefined) read.chunkSize = options.chunkSize;
  if (options.buffer) read.buffer = options.buffer;
  return read;
}

function recordEvent(file: string, entry: RecordEntry): RecordEvent {
  return { kind: 'record', file, index: entry.index, offset: entry.offset, length: entry.length, payload: entry.data };
}

function problemEvent(err: TfrecordError, file: string, fatal: boolean): ProblemEvent {
  const message = err.code === 'io' ? err.reason : describeFramingLoss(err.reason, fatal);
  return { kind: 'problem', problem: problemFromError(err as TfrecordError & { code: WalkProblemCode }, file, message), fatal, error: err };
}

/**
 * Records skipped for a bad data CRC, held until the walk reaches them: the
 * parser reports one as soon as it sees it, which can be while records
 * before it (in the same chunk) are still to be handed out.
 */
class PendingProblems {
  private readonly queue: TfrecordError[] = [];
  readonly onCorrupt = (err: TfrecordError): void => void this.queue.push(err);

  constructor(private readonly file: string) {}

  /** The next held problem of a record before `index`, if any. */
  before(index: number): ProblemEvent | undefined {
    const first = this.queue[0];
    if (first === undefined || (first.record ?? 0) >= index) return undefined;
    this.queue.shift();
    return problemEvent(first, this.file, false);
  }

  /** What is left at the end of the file: held problems, then the error that ended the read (if it is one of ours). */
  *end(failure: unknown): Generator<ProblemEvent> {
    for (const err of this.queue.splice(0)) yield problemEvent(err, this.file, false);
    if (failure === undefined) return;
    if (!isTfrecordError(failure) || !(FRAMING_CODES.has(failure.code) || failure.code === 'io')) throw failure;
    yield problemEvent(failure, this.file, true);
  }
}

/** A framing failure before the file's first record: the file may not be TFRecord at all. */
function failsAtStart(failure: unknown, records: number): failure is TfrecordError {
  return records === 0 && isTfrecordError(failure) && FRAMING_CODES.has(failure.code) && (failure.record ?? 0) === 0;
}

/**
 * The failure re-worded as "not a TFRecord file (it is a JPEG image)" when
 * the file's first bytes say what it is instead; the failure as it was
 * otherwise (a genuine header, or bytes that say nothing). Same class and
 * code, so consumers treat it as the framing problem it is; no record or
 * offset, as there is no record in it.
 */
function explainNotTfrecord(failure: TfrecordError, file: string, head: Uint8Array | undefined, compression: CompressionOption): TfrecordError {
  const reason = head && notTfrecordReason(head, compression);
  if (!reason) return failure;
  const Ctor = failure.constructor as new (code: TfrecordError['code'], reason: string, o: { file?: string; cause?: unknown }) => TfrecordError;
  return new Ctor(failure.code, reason, { file: failure.file ?? file, cause: failure });
}

/** The first SNIFF_BYTES of the file on disk, or undefined if they cannot be read. */
async function readHead(file: string): Promise<Uint8Array | undefined> {
  try {
    const handle = await open(file, 'r');
    try {
      const buf = new Uint8Array(SNIFF_BYTES);
      const { bytesRead } = await handle.read(buf, 0, SNIFF_BYTES, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}

function readHeadSync(file: string): Uint8Array | undefined {
  try {
    const fd = openSync(file, 'r');
    try {
      const buf = new Uint8Array(SNIFF_BYTES);
      return buf.subarray(0, readSync(fd, buf, 0, SNIFF_BYTES, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0; // the reader reports why, as a problem
  }
}
