/**
 * Files cut into pieces for reading on several threads (validate's and
 * stats' workers): a large uncompressed file into ranges of whole records,
 * found from the record headers alone (scan-headers.ts), anything else
 * whole. Each piece is read on whichever thread of a pool is least busy,
 * and its result handed back in file and record order, so a caller that
 * folds the results in that order gets what one thread reading the files
 * in turn would get.
 *
 * Memory stays bounded: a few pieces per thread are in flight, and a piece
 * holds the results of at most `rangeBytes` of records, or of one file that
 * could not be cut (small, compressed, or damaged framing).
 */
import { statSync } from 'node:fs';
import type { FileRange } from '../io/read.js';
import { orderedPipeline, type WorkerPool } from '../pool/workers.js';
import type { CompressionOption } from '../record/compression.js';
import { fileCompression, scanHeaders } from './scan-headers.js';

/** Bytes of records per range of a large uncompressed file. */
export const RANGE_BYTES = 16 * 1024 * 1024;

export interface PieceOptions {
  compression: CompressionOption;
  /**
   * A record size limit of the caller's: its `record-too-large` ends the
   * read of a file, so files are then read whole.
   */
  maxRecordBytes?: number;
  /** Bytes per range (default RANGE_BYTES); a file is cut when larger than two ranges. */
  rangeBytes?: number;
}

export interface FilePiece {
  file: string;
  /** A range of whole records of an uncompressed file; absent for the whole file. */
  range?: FileRange;
  /** 'none' for a range; the caller's option for a whole file. */
  compression: CompressionOption;
  /** Its file's size on disk (compressed size for gzip/zlib files); 0 when it cannot be looked up (reading it says why). */
  fileBytes: number;
  /** Whether it is its file's first piece, and its last. */
  first: boolean;
  last: boolean;
  /** Its weight for the pool: its bytes on disk, in ranges (at least 1). */
  cost: number;
}

type Outcome<R> = { ok: true; result: R } | { ok: false; error: unknown };

/**
 * Reads every piece of `files` on `pool` (`request` turns a piece into the
 * pool's job) and hands each result to `consume` in file and record order.
 * A job that fails fails the whole read, in that order too: the results of
 * the pieces before it are consumed first.
 */
export async function readPieces<J, R>(
  files: readonly string[],
  options: PieceOptions,
  pool: WorkerPool<J, R>,
  request: (piece: FilePiece) => J,
  consume: (piece: FilePiece, result: R) => void,
): Promise<void> {
  await orderedPipeline<FilePiece, Outcome<R>>(
    filePieces(files, options),
    Math.max(1, pool.size) * 3,
    (piece) =>
      pool.run(request(piece), undefined, piece.cost).then(
        (result): Outcome<R> => ({ ok: true, result }),
        (error: unknown): Outcome<R> => ({ ok: false, error }),
      ),
    async (piece, outcome) => {
      if (!outcome.ok) throw outcome.error;
      consume(piece, outcome.result);
    },
  );
}

/** The pieces of every file, in order; a file is scanned for its ranges only when the reader reaches it. */
async function* filePieces(files: readonly string[], options: PieceOptions): AsyncGenerator<FilePiece> {
  const rangeBytes = options.rangeBytes ?? RANGE_BYTES;
  for (const file of files) {
    const { size, ranges } = rangesOf(file, options, rangeBytes);
    if (!ranges) {
      yield { file, compression: options.compression, fileBytes: size, first: true, last: true, cost: Math.max(1, Math.round(size / rangeBytes)) };
      continue;
    }
    for (let i = 0; i < ranges.length; i++) {
      const range = ranges[i]!;
      yield {
        file,
        range,
        compression: 'none',
        fileBytes: size,
        first: i === 0,
        last: i === ranges.length - 1,
        cost: Math.max(1, Math.round((range.end - range.start) / rangeBytes)),
      };
    }
  }
}

/**
 * A file's size, and when it is large and uncompressed its ranges of whole
 * records, about `rangeBytes` each; no ranges for a file read whole: a small
 * one, a compressed one, one whose framing the header walk cannot vouch for
 * (the walk then reports its damage as one thread would), or any file under
 * a caller's record size limit.
 */
function rangesOf(file: string, options: PieceOptions, rangeBytes: number): { size: number; ranges?: FileRange[] } {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) return { size: st.size };
    size = st.size;
  } catch {
    return { size: 0 };
  }
  if (options.maxRecordBytes !== undefined || size <= 2 * rangeBytes || fileCompression(file, options.compression) !== 'none') return { size };
  const ranges: FileRange[] = [];
  let start = 0;
  let firstIndex = 0;
  let index = 0;
  const whole = scanHeaders(file, (offset, framed) => {
    index++;
    const end = offset + framed;
    if (end - start >= rangeBytes) {
      ranges.push({ start, end, firstIndex });
      start = end;
      firstIndex = index;
    }
  });
  if (!whole) return { size };
  if (start < size) ranges.push({ start, end: size, firstIndex });
  return { size, ranges };
}
