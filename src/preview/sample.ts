/**
 * Uniform sampling of N items from a stream of unknown length in one pass
 * (reservoir sampling, Algorithm R), with a seeded generator so the same seed
 * over the same input picks the same items. Memory: the N kept items.
 */

/** mulberry32: a tiny 32-bit generator; plenty for picking records, and the same on every platform. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Reservoir<T> {
  private readonly kept: T[] = [];
  private seen = 0;
  private readonly random: () => number;

  constructor(
    readonly size: number,
    seed: number,
  ) {
    this.random = seededRandom(seed);
  }

  /**
   * Offers the next item. Returns the item it evicted (or the offered item
   * itself when it is not kept), undefined when nothing was dropped, so a
   * caller can forget what it keeps alongside.
   */
  offer(item: T): T | undefined {
    const i = this.seen++;
    if (i < this.size) {
      this.kept.push(item);
      return undefined;
    }
    const j = Math.floor(this.random() * (i + 1));
    if (j >= this.size) return item;
    const out = this.kept[j] as T;
    this.kept[j] = item;
    return out;
  }

  /** Items offered so far. */
  get count(): number {
    return this.seen;
  }

  /** The kept items (order is not meaningful). */
  items(): readonly T[] {
    return this.kept;
  }
}
