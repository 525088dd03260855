/**
 * The read-back of a finished shard: one pass over the file that computes its
 * SHA-256 (for the manifest) and, when asked, re-reads every record with both
 * CRCs checked, so what is published is provably what was written.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { isTfrecordError } from '../errors.js';
import { readChunksSync, readRecordEntries } from '../io/read.js';
import type { Compression } from '../record/compression.js';

export interface ShardCheck {
  sha256: string;
  records: number;
  /** The first framing problem, if any (code, reason, record, offset). */
  problem?: { code: string; reason: string; record?: number; offset?: number };
}

const CHUNK = 1024 * 1024;

function hashSync(path: string, hash: ReturnType<typeof createHash>): void {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

/** `sync`: blocking reads, for worker threads only (see ReadOptions.sync). */
export async function checkShard(path: string, compression: Compression, verify: boolean, sync = false): Promise<ShardCheck> {
  const hash = createHash('sha256');
  async function* hashed(): AsyncGenerator<Uint8Array> {
    const source: Iterable<Uint8Array> | AsyncIterable<Uint8Array> = sync ? readChunksSync(path, CHUNK, true) : createReadStream(path, { highWaterMark: CHUNK });
    for await (const chunk of source) {
      hash.update(chunk);
      yield chunk;
    }
  }
  let records = 0;
  let problem: ShardCheck['problem'];
  if (!verify) {
    // Hashing only: nothing keeps the chunks, so one buffer serves them all.
    if (sync) hashSync(path, hash);
    else for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) hash.update(chunk as Buffer);
    return { sha256: hash.digest('hex'), records };
  }
  try {
    for await (const _ of readRecordEntries(hashed(), { file: path, compression, borrow: true })) records++;
  } catch (err) {
    if (!isTfrecordError(err)) throw err;
    problem = { code: err.code, reason: err.reason };
    if (err.record !== undefined) problem.record = err.record;
    if (err.offset !== undefined) problem.offset = err.offset;
  }
  return problem ? { sha256: hash.digest('hex'), records, problem } : { sha256: hash.digest('hex'), records };
}
