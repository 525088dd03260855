/**
 * The per-record stage of validation over a whole file or a byte range of
 * one, returning each record's findings and summary instead of folding them
 * into a report. A conversion runs this on its worker threads, on stretches
 * of a shard as soon as they are on disk, and adds the results to one
 * DatasetValidator in record order; the outcome is the report validateDataset
 * would give for the same records.
 */
import type { CompressionOption } from '../record/compression.js';
import type { FileRange } from '../io/read.js';
import { type FileDigest, FileHasher } from '../io/digest.js';
import { isFramingProblem, type ProblemEvent, type RecordEvent, walkFile, type WalkFileOptions, walkFileSync } from '../walk/walk-records.js';
import { type CheckedRecord, checkRecordDetached, framingRecord, recordCheckContext, type RecordCheckOptions } from './record-check.js';

export interface RecordCheckRequest {
  path: string;
  /** The records in this byte range only (uncompressed files); the whole file when absent. */
  range?: FileRange;
  compression?: CompressionOption;
  maxRecordBytes?: number;
  options: RecordCheckOptions;
  /** Blocking reads: for worker threads only (see ReadOptions.sync). */
  sync?: boolean;
  /**
   * Also hash the file's bytes, in the same read. A file read in ranges is
   * hashed across requests, which must then come in file order to the same
   * `hashes` map: `first` starts the digest, `last` returns it.
   * `sha256: false` computes the CRC32C and size only.
   */
  hash?: { first: boolean; last: boolean; sha256?: boolean };
  /**
   * Check the framing only (both CRCs of every record), not the records'
   * contents: for a reader that checked each record's contents when it
   * built it (convert). `records` then holds the framing problems only, and
   * `read` the records read intact, to be paired with what was found when
   * each was built.
   */
  framingOnly?: boolean;
}

/** A record read back intact, under `framingOnly`: its contents were checked elsewhere. */
export interface ReadRecord {
  index: number;
  offset: number;
}

export interface RecordCheckResult {
  /** In record order. */
  records: CheckedRecord[];
  /** Under `framingOnly`: the records read intact, in record order. */
  read?: ReadRecord[];
  /** Digests of the whole file, on the request marked `last`. */
  digest?: FileDigest;
}

export type { FileDigest };

/** Digests in progress for files hashed across several requests, by path. */
export type FileHashes = Map<string, FileHasher>;

/**
 * One read buffer for every synchronous request of this thread: a conversion
 * sends hundreds of ranges to each worker, and a fresh megabyte for each
 * would pile up outside the heap until a garbage collection.
 */
let syncBuffer: Uint8Array | undefined;
const SYNC_READ_BYTES = 1024 * 1024;

/**
 * Reads the records (both CRCs checked) and checks each on its own. A bad
 * data CRC skips that record; a damaged header or a short file ends the read
 * with a `fatal` framing entry. I/O errors are thrown.
 */
export async function checkRecords(request: RecordCheckRequest, hashes: FileHashes = new Map()): Promise<RecordCheckResult> {
  const context = recordCheckContext(request.options);
  const out: CheckedRecord[] = [];
  const read: ReadRecord[] | undefined = request.framingOnly ? [] : undefined;
  let hash: FileHasher | undefined;
  if (request.hash) {
    if (request.hash.first) hashes.set(request.path, new FileHasher({ sha256: request.hash.sha256 !== false }));
    hash = hashes.get(request.path);
    if (!hash) throw new Error(`no digest in progress for ${request.path}`);
  }
  const options: Omit<WalkFileOptions, 'compression' | 'sync'> = {
    // Each record is checked before the next is read: lend, don't copy.
    borrow: true,
    ...(request.range ? { range: request.range } : {}),
    ...(request.maxRecordBytes !== undefined ? { maxRecordBytes: request.maxRecordBytes } : {}),
    ...(hash ? { onChunk: (chunk: Uint8Array) => hash.update(chunk) } : {}),
  };
  const take = (ev: RecordEvent | ProblemEvent) => {
    if (ev.kind === 'record') {
      if (read) read.push({ index: ev.index, offset: ev.offset });
      else out.push(checkRecordDetached(ev.index, ev.offset, ev.payload, context));
    } else if (!isFramingProblem(ev.problem)) throw ev.error;
    else out.push(framingRecord(ev.error, ev.fatal));
  };
  const uncompressed = request.range !== undefined || request.compression === 'none';
  if (request.sync && uncompressed) {
    // The common case on a worker: no promise per record.
    for (const ev of walkFileSync(request.path, { ...options, buffer: (syncBuffer ??= new Uint8Array(SYNC_READ_BYTES)) })) take(ev);
  } else {
    const compression = uncompressed ? 'none' : (request.compression ?? 'auto');
    for await (const ev of walkFile(request.path, { ...options, compression })) take(ev);
  }
  const result: RecordCheckResult = { records: out, ...(read ? { read } : {}) };
  if (hash && request.hash!.last) {
    hashes.delete(request.path);
    result.digest = hash.digest();
  }
  return result;
}
