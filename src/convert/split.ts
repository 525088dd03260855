/**
 * Train/val/test splits. An image's split is decided by a hash of its
 * identity (convert passes the item's id: the image's path relative to the
 * images root, as stored in `image/filename`) and the seed, never by its
 * position in the input: adding, removing or reordering other images does not
 * move it, and the same inputs always give the same split.
 *
 * It used to be a hash of the image's content (the SHA-256 of the stored
 * image), which kept byte-identical copies under two names in one split.
 * But only a reader of the image knows its content, and a conversion that
 * runs as many tasks (plan.ts) must know every image's split, and so its
 * shard, before any image is read: each task reads only the images of its
 * own shards. The cost: copies of one image under two names can now land in
 * two splits (a copy in both train and val scores the model on an image it
 * trained on). Convert still finds them where it is cheap, among the images
 * it converts (their SHA-256 is computed anyway), and reports each one
 * ('duplicate-across-splits').
 */
import { createHash } from 'node:crypto';

export { parseSplits, type SplitSpec } from './split-spec.js';
import type { SplitSpec } from './split-spec.js';

/** A number in [0, 1) from the first 48 bits of SHA-256(seed, id). */
export function splitPoint(id: string, seed: number): number {
  const digest = createHash('sha256').update(`${seed}\u0000${id}`).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

export function assignSplit(id: string, seed: number, splits: readonly SplitSpec[]): string {
  const u = splitPoint(id, seed);
  let acc = 0;
  for (const s of splits) {
    acc += s.fraction;
    if (u < acc) return s.name;
  }
  return splits[splits.length - 1]!.name;
}
