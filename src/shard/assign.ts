/**
 * Which shard of its set each record goes to, decided before anything is
 * written, so every task of a job decides alike: round-robin over a fixed
 * count, or cut in order by size as the unplanned writer cuts (a new shard
 * before one would pass the limit, but never an empty one).
 */

/** Members 0..count-1 of one set in their order; `sizeOf(k)` is member k's (estimated) framed size, asked only for a size cut. */
export function assignShards(
  count: number,
  layout: { shards: number } | { shardSize: number },
  sizeOf: (k: number) => number,
): { within: Int32Array; total: number } {
  const within = new Int32Array(count);
  if ('shards' in layout) {
    for (let k = 0; k < count; k++) within[k] = k % layout.shards;
    return { within, total: layout.shards };
  }
  let shard = 0;
  let bytes = 0;
  let held = 0;
  for (let k = 0; k < count; k++) {
    const size = sizeOf(k);
    if (held > 0 && bytes + size > layout.shardSize) {
      shard++;
      bytes = 0;
      held = 0;
    }
    within[k] = shard;
    bytes += size;
    held++;
  }
  // A set without members still gets one (empty) shard, so every set has a file.
  return { within, total: shard + 1 };
}
