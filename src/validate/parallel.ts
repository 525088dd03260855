/**
 * validateDataset with the per-record checks spread over worker threads and
 * this one. Files are cut into pieces: a large uncompressed file into ranges
 * of whole records (found from the record headers alone, scan-headers.ts),
 * anything else whole. Each piece is checked on whichever thread is least
 * busy (range.ts: the same walk and checks as one thread's), and the results
 * are added to the one DatasetValidator in file and record order, so the
 * report is the one a single thread gives.
 *
 * Memory stays bounded: a few pieces per thread are in flight, and a piece
 * holds the findings and summaries of at most RANGE_BYTES of records, or of
 * one file that could not be cut (small, compressed, or damaged framing).
 */
import { availableParallelism } from 'node:os';
import { statSync } from 'node:fs';
import type { ManifestShard } from '../dataset/manifest.js';
import type { CompressionOption } from '../record/compression.js';
import { crc32cCombine } from '../record/crc32c.js';
import { createWorkerPool, orderedPipeline, workerScript } from '../pool/workers.js';
import { fileCompression, scanHeaders } from '../walk/scan-headers.js';
import { checkRecords, type FileDigest, type RecordCheckRequest, type RecordCheckResult } from './range.js';
import type { RecordCheckOptions } from './record-check.js';
import type { DatasetValidator } from './validate.js';

/** Bytes of records per piece of a large uncompressed file. */
export const RANGE_BYTES = 16 * 1024 * 1024;

/**
 * Worker threads worth starting for `bytes` of files: none below
 * BYTES_PER_WORKER, then one more per BYTES_PER_WORKER, up to one per CPU
 * but one (this thread checks pieces too). A worker costs ~50 ms of start-up
 * (its own isolate loading the checks), which a small dataset never earns back.
 */
export function defaultValidateWorkers(bytes: number): number {
  return Math.max(0, Math.min(availableParallelism() - 1, Math.floor(bytes / BYTES_PER_WORKER)));
}

const BYTES_PER_WORKER = 64 * 1024 * 1024;

export interface ParallelInputs {
  /** The files, folders already expanded. */
  files: string[];
  /** Listed shards whose manifest gives digests, by path: their size and CRC32C are checked. */
  digests: Map<string, ManifestShard>;
  workers: number;
  compression: CompressionOption;
  maxRecordBytes?: number;
  /** Blocking reads on this thread too (a command-line process). */
  syncReads: boolean;
  options: RecordCheckOptions;
  /** Bytes per range (default RANGE_BYTES); a file is cut when larger than two ranges. */
  rangeBytes?: number;
}

interface Piece {
  file: string;
  request: RecordCheckRequest;
  /** Its weight for the pool: its bytes on disk, in ranges (at least 1). */
  cost: number;
  first: boolean;
  last: boolean;
}

type Outcome = { ok: true; result: RecordCheckResult } | { ok: false; error: unknown };

/**
 * Checks every record of `inputs.files` into `validator`. `checkDigest`
 * gets each listed shard's size and CRC32C, as read (the caller compares
 * them with the manifest). Returns the number of files.
 */
export async function validateInParallel(
  inputs: ParallelInputs,
  validator: DatasetValidator,
  checkDigest: (file: string, shard: ManifestShard, got: FileDigest) => void,
): Promise<number> {
  const pool = createWorkerPool<RecordCheckRequest, RecordCheckResult>({
    size: inputs.workers,
    script: () => workerScript(import.meta.url, 'check-worker.js', 'validate'),
    inline: (request) => checkRecords({ ...request, sync: inputs.syncReads }),
    shareThisThread: true,
  });
  let files = 0;
  // The listed shard being read, and its digest so far.
  let hashing: { shard: ManifestShard; crc32c: number; bytes: number } | undefined;
  try {
    await orderedPipeline<Piece, Outcome>(
      pieces(inputs),
      pool.size * 3,
      (piece) =>
        pool.run(piece.request, undefined, piece.cost).then(
          (result): Outcome => ({ ok: true, result }),
          (error: unknown): Outcome => ({ ok: false, error }),
        ),
      async (piece, outcome) => {
        if (!outcome.ok) throw outcome.error;
        if (piece.first) {
          files++;
          const shard = inputs.digests.get(piece.file);
          hashing = shard ? { shard, crc32c: 0, bytes: 0 } : undefined;
        }
        for (const checked of outcome.result.records) validator.add(piece.file, checked);
        const d = outcome.result.digest;
        if (hashing && d) {
          hashing.crc32c = crc32cCombine(hashing.crc32c, d.crc32c, d.bytes);
          hashing.bytes += d.bytes;
        }
        if (piece.last && hashing) checkDigest(piece.file, hashing.shard, { sha256: '', crc32c: hashing.crc32c, bytes: hashing.bytes });
      },
    );
  } finally {
    await pool.close();
  }
  return files;
}

/** The pieces of every file, in order; a file is scanned for its ranges only when the pipeline reaches it. */
async function* pieces(inputs: ParallelInputs): AsyncGenerator<Piece> {
  for (const file of inputs.files) {
    const base: RecordCheckRequest = {
      path: file,
      options: inputs.options,
      ...(inputs.maxRecordBytes !== undefined ? { maxRecordBytes: inputs.maxRecordBytes } : {}),
    };
    const hash = inputs.digests.has(file);
    const rangeBytes = inputs.rangeBytes ?? RANGE_BYTES;
    const { size, ranges } = rangesOf(file, inputs, rangeBytes);
    if (ranges) {
      for (let i = 0; i < ranges.length; i++) {
        const first = i === 0;
        const last = i === ranges.length - 1;
        yield {
          file,
          first,
          last,
          cost: Math.max(1, Math.round((ranges[i]!.end - ranges[i]!.start) / rangeBytes)),
          request: { ...base, compression: 'none', range: ranges[i]!, ...(hash ? { hash: { first: true, last: true, sha256: false } } : {}) },
        };
      }
    } else {
      yield {
        file,
        first: true,
        last: true,
        cost: Math.max(1, Math.round(size / rangeBytes)),
        request: { ...base, compression: inputs.compression, ...(hash ? { hash: { first: true, last: true, sha256: false } } : {}) },
      };
    }
  }
}

/**
 * A file's size, and when it is large and uncompressed its ranges of whole
 * records, about `rangeBytes` each; no ranges for a file read whole: a small one, a compressed one, one
 * whose framing the header walk cannot vouch for (the walk then reports its
 * damage as one thread would), or any file under a record size limit of the
 * caller's, whose `record-too-large` ends the file's read.
 */
function rangesOf(
  file: string,
  inputs: ParallelInputs,
  rangeBytes: number,
): { size: number; ranges?: Array<{ start: number; end: number; firstIndex: number }> } {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) return { size: 0 };
    size = st.size;
  } catch {
    return { size: 0 };
  }
  if (inputs.maxRecordBytes !== undefined || size <= 2 * rangeBytes || fileCompression(file, inputs.compression) !== 'none') return { size };
  const ranges: Array<{ start: number; end: number; firstIndex: number }> = [];
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
