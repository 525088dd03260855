import { describe, expect, it } from 'vitest';
import { frameRecord, encodeHeader, parseHeader } from 'tfrecord-od/record';
import { crc32c, maskCrc } from 'tfrecord-od/record';
import { detectCompression } from 'tfrecord-od/record';

describe('framing', () => {
  it('frames a known payload byte for byte', () => {
    const payload = new TextEncoder().encode('hello');
    const framed = frameRecord(payload);
    const lengthBytes = new Uint8Array([5, 0, 0, 0, 0, 0, 0, 0]);
    const expected = new Uint8Array(21);
    expected.set(lengthBytes, 0);
    new DataView(expected.buffer).setUint32(8, maskCrc(crc32c(lengthBytes)), true);
    expected.set(payload, 12);
    new DataView(expected.buffer).setUint32(17, maskCrc(crc32c(payload)), true);
    expect([...framed]).toEqual([...expected]);
  });

  it('frames an empty payload like TensorFlow (length 0, masked CRC of nothing)', () => {
    const framed = frameRecord(new Uint8Array(0));
    expect(framed.length).toBe(16);
    // TensorFlow's masked CRC of the empty string is 0xa282ead8 (mask of 0).
    expect(new DataView(framed.buffer).getUint32(12, true)).toBe(0xa282ead8);
  });

  it('encodes lengths above 4 GiB in the high word', () => {
    const h = encodeHeader(5 * 2 ** 32 + 7);
    const parsed = parseHeader(h);
    expect(parsed.length).toBe(5 * 2 ** 32 + 7);
    expect(parsed.storedCrc).toBe(parsed.computedCrc);
  });

  it('detects compression from the first bytes, preferring a valid record header', () => {
    expect(detectCompression(new Uint8Array([0x1f, 0x8b, 8, 0]))).toBe('gzip');
    expect(detectCompression(new Uint8Array([0x78, 0x9c, 1, 2]))).toBe('zlib');
    expect(detectCompression(new Uint8Array([0x78, 0x01]))).toBe('zlib');
    expect(detectCompression(new Uint8Array(0))).toBe('none');
    // A plain file whose first record is 0x9c78 bytes long starts with 78 9c, a zlib header.
    const header = encodeHeader(0x9c78);
    expect(header[0]).toBe(0x78);
    expect(header[1]).toBe(0x9c);
    expect(detectCompression(header)).toBe('none');
  });
});
