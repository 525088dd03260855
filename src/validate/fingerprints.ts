/**
 * What the duplicate checks remember per record: a 128-bit fingerprint (of
 * the image bytes, or of the source id) and the record that first had it.
 *
 * Kept in flat typed arrays, 24 bytes a slot, rather than in a Map keyed by
 * strings: a Map entry with a 64-character hex digest costs about 120 bytes,
 * and a validator fed a million records held about 240 MB in its two maps.
 * 128 bits make an accidental collision between distinct values practically
 * impossible (about 10^-26 for a billion records).
 */
import { createHash } from 'node:crypto';

const INITIAL_SLOTS = 1 << 10;
/** Grow when more than 3/4 of the slots are taken (linear probing stays short below that). */
const MAX_LOAD_NUMERATOR = 3;
const MAX_LOAD_DENOMINATOR = 4;
const EMPTY = -1;

export class FingerprintTable {
  /** Four 32-bit words per slot. */
  private words: Uint32Array;
  /** The owner (a non-negative number) per slot, EMPTY when free. */
  private owners: Float64Array;
  private used = 0;

  constructor(slots = INITIAL_SLOTS) {
    if (slots < 1 || (slots & (slots - 1)) !== 0) throw new RangeError('slots must be a power of two');
    this.words = new Uint32Array(slots * 4);
    this.owners = new Float64Array(slots).fill(EMPTY);
  }

  /** Fingerprints held. */
  get size(): number {
    return this.used;
  }

  /**
   * The owner already recorded for this fingerprint; or, when it is new,
   * records `owner` (a non-negative number) for it and returns undefined.
   */
  claim(a: number, b: number, c: number, d: number, owner: number): number | undefined {
    const words = this.words;
    const owners = this.owners;
    const mask = owners.length - 1;
    let slot = a & mask;
    for (;;) {
      const o = owners[slot] as number;
      if (o === EMPTY) break;
      const w = slot * 4;
      if (words[w] === a && words[w + 1] === b && words[w + 2] === c && words[w + 3] === d) return o;
      slot = (slot + 1) & mask;
    }
    const w = slot * 4;
    words[w] = a;
    words[w + 1] = b;
    words[w + 2] = c;
    words[w + 3] = d;
    owners[slot] = owner;
    this.used++;
    if (this.used * MAX_LOAD_DENOMINATOR > owners.length * MAX_LOAD_NUMERATOR) this.grow();
    return undefined;
  }

  /** Claims the fingerprint of a SHA-256 given as 64 hex digits (its first 128 bits). */
  claimHexDigest(hex: string, owner: number): number | undefined {
    return this.claim(hexWord(hex, 0), hexWord(hex, 8), hexWord(hex, 16), hexWord(hex, 24), owner);
  }

  /** Claims the fingerprint of a string: the first 128 bits of the SHA-256 of its UTF-8 bytes. */
  claimText(text: string, owner: number): number | undefined {
    const h = createHash('sha256').update(text, 'utf8').digest();
    return this.claim(h.readUInt32BE(0), h.readUInt32BE(4), h.readUInt32BE(8), h.readUInt32BE(12), owner);
  }

  private grow(): void {
    const oldWords = this.words;
    const oldOwners = this.owners;
    const slots = oldOwners.length * 2;
    this.words = new Uint32Array(slots * 4);
    this.owners = new Float64Array(slots).fill(EMPTY);
    this.used = 0;
    for (let s = 0; s < oldOwners.length; s++) {
      const o = oldOwners[s] as number;
      if (o === EMPTY) continue;
      const w = s * 4;
      this.claim(oldWords[w] as number, oldWords[w + 1] as number, oldWords[w + 2] as number, oldWords[w + 3] as number, o);
    }
  }
}

/** Eight hex digits of `hex` from `at` as an unsigned 32-bit number (either case). */
function hexWord(hex: string, at: number): number {
  let v = 0;
  for (let i = at; i < at + 8; i++) {
    const c = hex.charCodeAt(i) | 0x20; // lower-case letters; digits keep their value
    const digit = c <= 0x39 ? c - 0x30 : c - 0x57;
    v = v * 16 + digit;
  }
  return v;
}
