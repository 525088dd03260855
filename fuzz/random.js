// Seeded randomness for the fuzz campaign. Every case draws from its own
// generator, seeded from (campaign seed, target, case number), so a case can
// be replayed alone without running the ones before it.

/** FNV-1a over a string, for mixing names into seeds. */
function hashString(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The seed of case `index` of `target` in a campaign seeded with `seed`. */
export function caseSeed(seed, target, index) {
  let h = (hashString(target) ^ Math.imul(seed >>> 0, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (index >>> 0), 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** A mulberry32 generator with the helpers the targets use. */
export class Rng {
  constructor(seed) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next() {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n) {
    return Math.floor(this.next() * n);
  }

  /** Integer in [lo, hi]. */
  range(lo, hi) {
    return lo + this.int(hi - lo + 1);
  }

  bool(p = 0.5) {
    return this.next() < p;
  }

  pick(items) {
    return items[this.int(items.length)];
  }

  /** One of `[weight, value]` pairs, by weight. */
  weighted(pairs) {
    const total = pairs.reduce((s, [w]) => s + w, 0);
    let r = this.next() * total;
    for (const [w, v] of pairs) {
      r -= w;
      if (r < 0) return v;
    }
    return pairs[pairs.length - 1][1];
  }

  /** A size skewed towards small values: mostly under 64, sometimes up to `max`. */
  size(max) {
    const r = this.next();
    if (r < 0.6) return this.int(Math.min(64, max + 1));
    if (r < 0.9) return this.int(Math.min(4096, max + 1));
    return this.int(max + 1);
  }

  bytes(n) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/**
 * Generic byte-level mutations, a few at a time: bit flips, byte overwrites
 * with boundary values, insertions, deletions, duplicated slices and cuts.
 * Returns the new bytes and a short description of what was done.
 */
export function mutateBytes(rng, input, count = rng.range(1, 4)) {
  let buf = Uint8Array.from(input);
  const done = [];
  for (let k = 0; k < count; k++) {
    const at = buf.length === 0 ? 0 : rng.int(buf.length);
    const op = rng.weighted([
      [4, 'flip'],
      [2, 'set'],
      [1, 'insert'],
      [1, 'delete'],
      [1, 'duplicate'],
      [1, 'truncate'],
    ]);
    if (buf.length === 0 && op !== 'insert') continue;
    if (op === 'flip') buf[at] ^= 1 << rng.int(8);
    else if (op === 'set') buf[at] = rng.pick([0x00, 0xff, 0x7f, 0x80, 0x01, 0x0a, 0x22, 0x3c]);
    else if (op === 'insert') buf = concat([buf.subarray(0, at), rng.bytes(rng.range(1, 8)), buf.subarray(at)]);
    else if (op === 'delete') buf = concat([buf.subarray(0, at), buf.subarray(Math.min(buf.length, at + rng.range(1, 16)))]);
    else if (op === 'duplicate') {
      const end = Math.min(buf.length, at + rng.range(1, 64));
      buf = concat([buf.subarray(0, end), buf.subarray(at, end), buf.subarray(end)]);
    } else buf = buf.slice(0, at);
    done.push(`${op}@${at}`);
  }
  return { bytes: buf, description: done.join(' ') };
}

export function concat(parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
