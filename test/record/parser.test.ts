import { describe, expect, it } from 'vitest';
import { type Crc32c, crc32cJs, maskCrc } from 'tfrecord-od/record';
import { FOOTER_BYTES, frameInPlace, frameRecord, HEADER_BYTES } from '../../src/record/frame.js';
import { type RecordEntry, RecordParser } from 'tfrecord-od/record';
import { isTfrecordError } from 'tfrecord-od';

const payloads = [new Uint8Array([1, 2, 3]), new Uint8Array(500).fill(9), new Uint8Array(0), new Uint8Array([7])];
const file = () => {
  const framed = payloads.map((p) => frameRecord(p));
  const out = new Uint8Array(framed.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of framed) {
    out.set(f, at);
    at += f.length;
  }
  return out;
};

/** A CRC32C that records the bytes it is asked about. */
function recording(): { crc: Crc32c; bytes: number[] } {
  const bytes: number[] = [];
  return {
    bytes,
    crc: (data, seed) => {
      bytes.push(...data);
      return crc32cJs(data, seed);
    },
  };
}

describe('a caller-supplied CRC32C', () => {
  it('checks every payload in the parser, across any chunking', () => {
    for (const chunk of [1, 5, 64, 10_000]) {
      const { crc, bytes } = recording();
      const parser = new RecordParser({ crc32c: crc });
      const out: RecordEntry[] = [];
      const data = file();
      for (let i = 0; i < data.length; i += chunk) parser.push(data.subarray(i, i + chunk), out);
      parser.finish();
      expect(out.map((e) => [...e.data])).toEqual(payloads.map((p) => [...p]));
      // Exactly the payload bytes, in order (headers use the JS CRC, see frame.ts).
      expect(bytes).toEqual(payloads.flatMap((p) => [...p]));
    }
  });

  it('decides the verdict: a CRC that disagrees makes every non-empty record a data CRC mismatch', () => {
    const wrong: Crc32c = (data, seed = 0) => (crc32cJs(data, seed) ^ 1) >>> 0;
    const corrupt: number[] = [];
    const parser = new RecordParser({ crc32c: wrong, onCorrupt: (e) => corrupt.push(e.record!) });
    const out: RecordEntry[] = [];
    parser.push(file(), out);
    parser.finish();
    // The empty payload is never handed to the CRC (its CRC is the seed, 0).
    expect(out.map((e) => e.index)).toEqual([2]);
    expect(corrupt).toEqual([0, 1, 3]);
  });

  it('is not consulted with verify off', () => {
    const { crc, bytes } = recording();
    const out: RecordEntry[] = [];
    const parser = new RecordParser({ crc32c: crc, verify: false });
    parser.push(file(), out);
    expect(out).toHaveLength(payloads.length);
    expect(bytes).toEqual([]);
  });

  it('frames in place with frameInPlace', () => {
    const payload = new Uint8Array([5, 6, 7, 8]);
    const room = new Uint8Array(HEADER_BYTES + payload.length + FOOTER_BYTES);
    room.set(payload, HEADER_BYTES);
    const { crc, bytes } = recording();
    const framed = frameInPlace(room, crc);
    expect(bytes).toEqual([...payload]);
    expect([...framed]).toEqual([...frameRecord(payload)]);
    const wrong = frameInPlace(room.slice(), () => 0);
    expect(new DataView(wrong.buffer).getUint32(HEADER_BYTES + payload.length, true)).toBe(maskCrc(0));
    let thrown: unknown;
    try {
      new RecordParser().push(wrong, []);
    } catch (err) {
      thrown = err;
    }
    expect(isTfrecordError(thrown) && thrown.code).toBe('crc-mismatch');
  });
});
