import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { crc32c, crc32cCombine, crc32cJs, maskCrc, unmaskCrc, CRC_MASK_DELTA } from 'tfrecord-od/record';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('crc32c', () => {
  it('matches the standard check value and RFC 3720 vectors', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32cJs(ascii('123456789'))).toBe(0xe3069283);
    // iSCSI test vectors (RFC 3720 B.4): 32 zero bytes, 32 0xff bytes.
    expect(crc32cJs(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32cJs(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it("combines the CRCs of two pieces into the CRC of both, from the second's length alone", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 3000 }), (a, b) => {
        const both = new Uint8Array(a.length + b.length);
        both.set(a);
        both.set(b, a.length);
        expect(crc32cCombine(crc32c(a), crc32c(b), b.length)).toBe(crc32c(both));
      }),
    );
    // Lengths far beyond what a property run builds (4 MiB of zeros).
    const zeros = new Uint8Array(1 << 20);
    let run = 0;
    for (let i = 0; i < 4; i++) run = crc32c(zeros, run);
    expect(crc32cCombine(crc32c(ascii('head')), run, 4 << 20)).toBe(crc32c(zeros, crc32c(zeros, crc32c(zeros, crc32c(zeros, crc32c(ascii('head')))))));
  });

  it('continues across pieces with a seed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (data, cut) => {
        const k = data.length === 0 ? 0 : cut % (data.length + 1);
        expect(crc32c(data.subarray(k), crc32c(data.subarray(0, k)))).toBe(crc32c(data));
      }),
    );
  });

  it('masks as TensorFlow does and unmasks back', () => {
    // rotate right 15 then add the delta, modulo 2^32
    const crc = 0x12345678;
    const rotated = ((crc >>> 15) | (crc << 17)) >>> 0;
    expect(maskCrc(crc)).toBe((rotated + CRC_MASK_DELTA) >>> 0);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (v) => {
        expect(unmaskCrc(maskCrc(v))).toBe(v);
      }),
    );
  });
});
