/**
 * CRC32C (Castagnoli) as TFRecord framing uses it: the pure-JS,
 * table-driven implementation from `crc-32`, so this layer runs anywhere
 * (no Node APIs).
 *
 * Faster implementations are passed in, not installed: every record-layer
 * function that CRCs a payload takes an optional `Crc32c` (ParserOptions.crc32c,
 * frameInPlace's second argument). The io layer
 * (io/native-crc.ts) loads the optional `@node-rs/crc32` binary and hands it
 * down, so readRecords, RecordWriter and convert use the CPU's CRC instruction
 * when it is installed. Both give identical results (tested).
 */
import crcJs from 'crc-32/crc32c.js';

/** CRC32C of `data`; `seed` continues a previous CRC (pass its result). */
export type Crc32c = (data: Uint8Array, seed?: number) => number;

/** Table-driven CRC32C. */
export const crc32cJs: Crc32c = (data, seed = 0) => crcJs.buf(data, seed) >>> 0;

/** The record layer's default CRC32C (the pure-JS one). */
export const crc32c: Crc32c = crc32cJs;

/**
 * TFRecord stores CRCs "masked" so that a CRC computed over data that itself
 * contains CRCs stays well distributed: rotate right by 15 bits, then add a
 * constant (TensorFlow's lib/hash/crc32c.h, kMaskDelta).
 */
export const CRC_MASK_DELTA = 0xa282ead8;

export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + CRC_MASK_DELTA) >>> 0;
}

export function unmaskCrc(masked: number): number {
  const rot = (masked - CRC_MASK_DELTA) >>> 0;
  return ((rot >>> 17) | (rot << 15)) >>> 0;
}

/** The CRC32C polynomial, bit-reflected (as the CRC is computed LSB first). */
const POLY_REFLECTED = 0x82f63b78;

/** a(x) * b(x) modulo the polynomial, both reflected (the x^0 coefficient in the top bit). */
function multModP(a: number, b: number): number {
  let m = 0x8000_0000;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY_REFLECTED : b >>> 1;
  }
  return p >>> 0;
}

/** x^(2^k) modulo the polynomial for k = 0..31. */
const X2N: Uint32Array = (() => {
  const t = new Uint32Array(32);
  let p = 0x4000_0000; // x^1
  t[0] = p;
  for (let k = 1; k < 32; k++) t[k] = p = multModP(p, p);
  return t;
})();

/** x^(n * 2^k) modulo the polynomial. */
function x2nModP(n: number, k: number): number {
  let p = 0x8000_0000; // x^0
  while (n > 0) {
    if (n % 2 === 1) p = multModP(X2N[k & 31]!, p);
    n = Math.floor(n / 2);
    k++;
  }
  return p;
}

/**
 * The CRC32C of A followed by B, from the CRC32C of A, that of B and B's
 * length, without the bytes (zlib's crc32_combine, for this polynomial):
 * shifting A's CRC past B's `lengthB` bytes is a multiplication by
 * x^(8 * lengthB) modulo the polynomial, about 20 small loops for a 100 KB
 * B. Lets a writer compute a file's CRC32C from its records' own CRCs.
 */
export function crc32cCombine(crcA: number, crcB: number, lengthB: number): number {
  return (multModP(x2nModP(lengthB, 3), crcA >>> 0) ^ crcB) >>> 0;
}
