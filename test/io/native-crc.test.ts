import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { crc32cFast, crc32cImplementation, crc32cNative } from '../../src/io/native-crc.js';
import { crc32cJs } from 'tfrecord-od/record';

const ascii = (s: string) => new TextEncoder().encode(s);

/** Whether the optional package loads in this process at all (independent of native-crc.ts). */
function nativePackageLoads(): boolean {
  try {
    const mod = createRequire(import.meta.url)('@node-rs/crc32') as { crc32c?: unknown };
    return typeof mod.crc32c === 'function';
  } catch {
    return false;
  }
}

describe('native CRC32C (io layer)', () => {
  it('is used whenever the optional @node-rs/crc32 loads', () => {
    const loads = nativePackageLoads();
    expect(crc32cNative !== undefined).toBe(loads);
    expect(crc32cImplementation).toBe(loads ? 'native' : 'js');
    expect(crc32cFast).toBe(crc32cNative ?? crc32cJs);
  });

  it('gives the standard check value and RFC 3720 vectors', () => {
    expect(crc32cFast(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32cFast(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32cFast(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32cFast(new Uint8Array(0))).toBe(0);
  });

  it('continues across pieces with a seed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (data, cut) => {
        const k = data.length === 0 ? 0 : cut % (data.length + 1);
        expect(crc32cFast(data.subarray(k), crc32cFast(data.subarray(0, k)))).toBe(crc32cFast(data));
      }),
    );
  });

  it.skipIf(!crc32cNative)('native and JS implementations agree', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.integer({ min: 0, max: 0xffffffff }), (data, seed) => {
        expect(crc32cNative!(data, seed)).toBe(crc32cJs(data, seed));
      }),
    );
  });
});
