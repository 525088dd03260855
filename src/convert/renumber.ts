/**
 * Renumbering once every record is written. Pass 1 gave an id to every class
 * the annotations use, but skipped items (--on-error skip) and dropped boxes
 * (--bbox drop) can leave a class without a single box. A class this run
 * added (not one of the user's or the output folder's label map, whose ids
 * are fixed) that ends up without a box leaves the label map and the added
 * classes after it move down, so the ids stay consecutive.
 *
 * Only the whole run's counts can tell (a class may keep its boxes in
 * another task's shards), so this is finalize's step: the shards that hold
 * a moved id are rewritten into new files, read back with the new label map
 * (rare: only then is any record read twice), and renamed over the old ones
 * by finalize's journalled publish.
 */
import { basename } from 'node:path';
import { decodeExample, encodeExample } from '../example/codec.js';
import { CLASS_LABEL } from '../detection/keys.js';
import { readRecords } from '../io/read.js';
import { RecordWriter } from '../io/write.js';
import type { Compression } from '../record/compression.js';
import type { ShardInfo } from '../shard/sharded-writer.js';
import type { RecordCheckOptions } from '../validate/record-check.js';
import { checkRecords, type FileDigest, type FileHashes } from '../validate/range.js';
import { DatasetValidator, type ValidationReport } from '../validate/validate.js';
import { ShardVerifier } from './verify.js';

export interface RewrittenShards {
  /** Per rewritten shard (by its new path): its new digests, and its framed bytes before compression. */
  shards: Map<string, { digest: FileDigest; uncompressedBytes: number }>;
  /** The read-back of the rewritten shards with the new label map. */
  report: ValidationReport;
}

/**
 * Rewrites each shard `from` into a new file `to` (which must not exist)
 * with its labels mapped through `moved` (old id → new id), and reads the
 * new files back against `checkOptions` (which carries the new label map).
 * The originals stay as they were: the caller's publish puts the new files
 * in their place, so a run cut short before it leaves every shard as its
 * task wrote it.
 */
export async function relabelShards(
  shards: ReadonlyArray<{ from: string; to: string }>,
  moved: ReadonlyMap<number, number>,
  compression: Compression,
  checkOptions: RecordCheckOptions,
): Promise<RewrittenShards> {
  const rewritten: ShardInfo[] = [];
  for (const { from, to } of shards) {
    // `to` is already a name private to this run: written directly, removed on failure.
    const writer = await RecordWriter.create(to, { compression, digest: true, atomic: false });
    try {
      for await (const payload of readRecords(from, { compression })) await writer.write(relabel(payload, moved));
      await writer.close();
    } catch (err) {
      await writer.abort();
      throw err;
    }
    const digest = writer.digest();
    rewritten.push({ name: basename(to), path: to, stagedPath: to, records: writer.records, bytes: writer.bytes, ...(digest ? { digest } : {}) });
  }
  const hashes: FileHashes = new Map();
  const verifier = new ShardVerifier({
    check: (request) => checkRecords(request, hashes),
    inOrder: false,
    validator: await DatasetValidator.create({ ...checkOptions, compression }),
    options: checkOptions,
    compression,
    rangeBytes: Number.POSITIVE_INFINITY,
  });
  const { report, digests } = await verifier.finish(rewritten);
  return { shards: new Map(rewritten.map((s) => [s.path, { digest: digests.get(s.stagedPath)!, uncompressedBytes: s.bytes }])), report };
}

/** The same tf.Example with its class labels mapped through `ids` (other features and labels untouched). */
export function relabel(payload: Uint8Array, ids: ReadonlyMap<number, number>): Uint8Array {
  const features = decodeExample(payload);
  const labels = features[CLASS_LABEL];
  if (labels?.kind !== 'int64_list' || labels.values.length === 0) return payload;
  labels.values = labels.values.map((v) => ids.get(Number(v)) ?? v);
  return encodeExample(features);
}
