/**
 * validateDataset with the per-record checks spread over worker threads and
 * this one: the files are read in pieces (walk/pieces.ts), each checked on
 * whichever thread is least busy (range.ts: the same walk and checks as one
 * thread's), and the results are added to the one DatasetValidator in file
 * and record order, so the report is the one a single thread gives.
 */
import type { ManifestShard } from '../dataset/manifest.js';
import { createWorkerPool, workerScript } from '../pool/workers.js';
import { crc32cCombine } from '../record/crc32c.js';
import { type PieceOptions, readPieces } from '../walk/pieces.js';
import { checkRecords, type FileDigest, type RecordCheckRequest, type RecordCheckResult } from './range.js';
import type { RecordCheckOptions } from './record-check.js';
import type { DatasetValidator } from './validate.js';

export interface ParallelInputs extends PieceOptions {
  /** The files, folders already expanded. */
  files: string[];
  /** Listed shards whose manifest gives digests, by path: their size and CRC32C are checked. */
  digests: Map<string, ManifestShard>;
  workers: number;
  /** Blocking reads on this thread too (a command-line process). */
  syncReads: boolean;
  options: RecordCheckOptions;
}

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
  // The listed shard being read, and its digest so far: a range's CRC32C extends it.
  let hashing: { shard: ManifestShard; crc32c: number; bytes: number } | undefined;
  try {
    await readPieces(
      inputs.files,
      inputs,
      pool,
      (piece): RecordCheckRequest => ({
        path: piece.file,
        compression: piece.compression,
        options: inputs.options,
        ...(piece.range ? { range: piece.range } : {}),
        ...(inputs.maxRecordBytes !== undefined ? { maxRecordBytes: inputs.maxRecordBytes } : {}),
        ...(inputs.digests.has(piece.file) ? { hash: { first: true, last: true, sha256: false } } : {}),
      }),
      (piece, result) => {
        if (piece.first) {
          files++;
          const shard = inputs.digests.get(piece.file);
          hashing = shard ? { shard, crc32c: 0, bytes: 0 } : undefined;
        }
        for (const checked of result.records) validator.add(piece.file, checked);
        const d = result.digest;
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
