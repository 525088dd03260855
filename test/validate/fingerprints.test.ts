import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FingerprintTable } from '../../src/validate/fingerprints.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('FingerprintTable', () => {
  it('returns the first owner of a fingerprint and keeps every entry through growth', () => {
    const table = new FingerprintTable(2);
    const n = 20_000;
    for (let i = 0; i < n; i++) expect(table.claimHexDigest(sha(`image ${i}`), i * 3)).toBeUndefined();
    expect(table.size).toBe(n);
    for (let i = 0; i < n; i += 7) expect(table.claimHexDigest(sha(`image ${i}`), 0)).toBe(i * 3);
    expect(table.size).toBe(n);
  });

  it('tells apart fingerprints that share a probe slot or differ in one word only', () => {
    const table = new FingerprintTable(4);
    expect(table.claim(8, 1, 2, 3, 10)).toBeUndefined();
    expect(table.claim(8, 1, 2, 4, 11)).toBeUndefined();
    expect(table.claim(12, 1, 2, 3, 12)).toBeUndefined(); // same slot as 8 in 4 slots
    expect(table.claim(0xffffffff, 0, 0, 0, 13)).toBeUndefined();
    expect(table.claim(8, 1, 2, 4, 99)).toBe(11);
    expect(table.claim(12, 1, 2, 3, 99)).toBe(12);
    expect(table.claim(0xffffffff, 0, 0, 0, 99)).toBe(13);
    expect(table.claim(8, 1, 2, 3, 99)).toBe(10);
    expect(table.size).toBe(4);
  });

  it('reads hex digests in either case and keys text by its exact UTF-8', () => {
    const table = new FingerprintTable();
    const d = sha('x');
    expect(table.claimHexDigest(d, 1)).toBeUndefined();
    expect(table.claimHexDigest(d.toUpperCase(), 2)).toBe(1);
    expect(table.claimHexDigest(sha('y'), 3)).toBeUndefined();
    expect(table.claimText('a.jpg', 4)).toBeUndefined();
    expect(table.claimText('A.jpg', 5)).toBeUndefined();
    expect(table.claimText('a.jpg ', 6)).toBeUndefined();
    expect(table.claimText('café.jpg', 7)).toBeUndefined();
    expect(table.claimText('cafe\u0301.jpg', 8)).toBeUndefined();
    expect(table.claimText('café.jpg', 9)).toBe(7);
    expect(table.claimText('a.jpg', 9)).toBe(4);
  });

  it('refuses a slot count that is not a power of two', () => {
    expect(() => new FingerprintTable(3)).toThrow(RangeError);
  });
});
