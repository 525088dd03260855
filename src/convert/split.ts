/**
 * Train/val/test splits. An image's split is decided by a hash of its content
 * (convert passes the SHA-256 of the stored image) and the seed, never by its
 * position in the input: adding, removing or reordering other images does not
 * move it, the same inputs always give the same split, and byte-identical
 * images under different names always share a split (a copy in both train
 * and val would score the model on an image it trained on).
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
