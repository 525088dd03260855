import fc from 'fast-check';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { displaySize, probeImage, sniffFormat, TF_DECODABLE_FORMATS } from 'tfrecord-od/image';
import { bmp24, exifOrientationPayload, insertJpegSegment, insertPngChunk, solid } from './make-images.js';

// Odd, unequal sizes so swapped or off-by-one dimensions cannot pass by luck.
const W = 37;
const H = 23;

const samples: Record<string, Uint8Array> = {};

beforeAll(async () => {
  samples.jpeg = await solid('jpeg', W, H);
  samples.png = await solid('png', W, H);
  samples.gif = await solid('gif', W, H);
  samples.webpLossy = await solid('webp', W, H);
  samples.webpLossless = await solid('webp', W, H, { lossless: true });
  samples.webpAlpha = await solid('webp', W, H, { alpha: true }); // lossy + alpha → VP8X
  samples.tiff = await solid('tiff', W, H);
  samples.avif = await solid('avif', W, H);
  samples.bmp = bmp24(W, H, (x, y) => [x * 5, y * 9, 100]);
  samples.jpegRotated = await solid('jpeg', W, H, { orientation: 6 });
});

describe('probeImage', () => {
  it.each([
    ['jpeg', 'jpeg'],
    ['png', 'png'],
    ['gif', 'gif'],
    ['webpLossy', 'webp'],
    ['webpLossless', 'webp'],
    ['webpAlpha', 'webp'],
    ['tiff', 'tiff'],
    ['avif', 'avif'],
  ])('reads %s like sharp does', async (name, format) => {
    const bytes = samples[name]!;
    const meta = await sharp(bytes).metadata();
    // libtiff writes an explicit orientation 1; the probe should agree with sharp on it.
    const orientation = meta.orientation !== undefined ? { orientation: meta.orientation } : {};
    expect(probeImage(bytes)).toEqual({ format, width: meta.width, height: meta.height, ...orientation });
    expect(sniffFormat(bytes)).toBe(format);
  });

  it('checks the webp variants really are VP8, VP8L and VP8X', () => {
    const chunk = (b: Uint8Array) => new TextDecoder().decode(b.subarray(12, 16));
    expect(chunk(samples.webpLossy!)).toBe('VP8 ');
    expect(chunk(samples.webpLossless!)).toBe('VP8L');
    expect(chunk(samples.webpAlpha!)).toBe('VP8X');
  });

  it('reads a hand-built BMP, bottom-up and top-down', () => {
    expect(probeImage(samples.bmp!)).toEqual({ format: 'bmp', width: W, height: H });
    const topDown = bmp24(W, H, () => [0, 0, 0], true);
    expect(probeImage(topDown)).toEqual({ format: 'bmp', width: W, height: H });
  });

  it('tells HEIF from AVIF by the ftyp brand', () => {
    // sharp's prebuilt libheif cannot encode HEVC, so relabel the AVIF's
    // major brand: the box structure is the same container.
    const heif = samples.avif!.slice();
    heif.set(new TextEncoder().encode('heic'), 8);
    for (let at = 16; at + 4 <= new DataView(heif.buffer).getUint32(0); at += 4) {
      if (new TextDecoder().decode(heif.subarray(at, at + 4)) === 'avif') heif.set(new TextEncoder().encode('mif1'), at);
    }
    expect(probeImage(heif)).toEqual({ format: 'heif', width: W, height: H });
  });

  it('reports EXIF orientation written by sharp', async () => {
    const info = probeImage(samples.jpegRotated!);
    const meta = await sharp(samples.jpegRotated!).metadata();
    expect(meta.orientation).toBe(6);
    expect(info).toEqual({ format: 'jpeg', width: W, height: H, orientation: 6 });
    expect(displaySize(info!)).toEqual({ width: H, height: W });
  });

  it.each([
    [false, 3],
    [true, 8],
  ])('reads a hand-built EXIF block (big-endian %s, orientation %i)', (bigEndian, orientation) => {
    const bytes = insertJpegSegment(samples.jpeg!, 0xe1, exifOrientationPayload(orientation, bigEndian));
    expect(probeImage(bytes)).toEqual({ format: 'jpeg', width: W, height: H, orientation });
  });

  it('ignores out-of-range orientation values', () => {
    const bytes = insertJpegSegment(samples.jpeg!, 0xe1, exifOrientationPayload(9, false));
    expect(probeImage(bytes)).toEqual({ format: 'jpeg', width: W, height: H });
  });

  it('skips DHT/JPG/DAC markers that sit in the SOF range', () => {
    // Payloads that would decode to a bogus 0x0102 × 0x0304 frame if the
    // marker were mistaken for a SOF.
    let bytes = samples.jpeg!;
    for (const marker of [0xc4, 0xc8, 0xcc]) bytes = insertJpegSegment(bytes, marker, Uint8Array.of(8, 1, 2, 3, 4, 3));
    expect(probeImage(bytes)).toEqual({ format: 'jpeg', width: W, height: H });
  });

  it('reads TIFF orientation', async () => {
    const tiff = await solid('tiff', W, H, { orientation: 8 });
    expect(probeImage(tiff)).toEqual({ format: 'tiff', width: W, height: H, orientation: 8 });
  });

  it('reads a PNG eXIf orientation', () => {
    const tiffBlock = exifOrientationPayload(6, true).subarray(6); // eXIf holds the TIFF part only
    const bytes = insertPngChunk(samples.png!, 'eXIf', tiffBlock);
    expect(probeImage(bytes)).toEqual({ format: 'png', width: W, height: H, orientation: 6 });
  });

  it('works from the first bytes of a file only', () => {
    for (const name of ['jpeg', 'png', 'gif', 'webpLossy', 'bmp', 'tiff', 'avif']) {
      const bytes = samples[name]!;
      expect(probeImage(bytes.subarray(0, Math.min(bytes.length, 1024)))?.width).toBe(W);
    }
  });

  it('returns undefined for garbage and near-misses', () => {
    expect(probeImage(new Uint8Array(0))).toBeUndefined();
    expect(probeImage(new TextEncoder().encode('BMW is not a bitmap, it is a car brand'))).toBeUndefined();
    expect(probeImage(new TextEncoder().encode('<?xml version="1.0"?><annotation/>'))).toBeUndefined();
    expect(probeImage(Uint8Array.of(0xff, 0xd8, 0xff))).toBeUndefined();
    expect(sniffFormat(Uint8Array.of(0xff, 0xd8, 0xff))).toBe('jpeg');
  });
});

describe('displaySize', () => {
  it('swaps axes for orientations 5..8 only', () => {
    for (let o = 1; o <= 8; o++) {
      const size = displaySize({ width: 4, height: 3, orientation: o });
      expect(size).toEqual(o >= 5 ? { width: 3, height: 4 } : { width: 4, height: 3 });
    }
    expect(displaySize({ width: 4, height: 3 })).toEqual({ width: 4, height: 3 });
  });
});

describe('TF_DECODABLE_FORMATS', () => {
  it('lists what tf.io.decode_image reads', () => {
    expect([...TF_DECODABLE_FORMATS].sort()).toEqual(['bmp', 'gif', 'jpeg', 'png']);
  });
});

describe('probeImage never throws', () => {
  const MAGICS = [
    [0xff, 0xd8, 0xff],
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    [...'GIF89a'].map((c) => c.charCodeAt(0)),
    [...'RIFF\0\0\0\0WEBPVP8X'].map((c) => c.charCodeAt(0)),
    [0x42, 0x4d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 40, 0, 0, 0],
    [0x49, 0x49, 42, 0],
    [0x4d, 0x4d, 0, 42],
    [0, 0, 0, 24, ...'ftypavif'].map((c) => (typeof c === 'string' ? c.charCodeAt(0) : c)),
  ];

  const check = (bytes: Uint8Array) => {
    const info = probeImage(bytes);
    sniffFormat(bytes);
    if (info !== undefined) {
      expect(info.width).toBeGreaterThan(0);
      expect(info.height).toBeGreaterThan(0);
    }
  };

  it('on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), check), { numRuns: 2000 });
  });

  it('on random bytes behind a real magic number', () => {
    fc.assert(
      fc.property(fc.constantFrom(...MAGICS), fc.uint8Array({ maxLength: 256 }), (magic, tail) => {
        check(Uint8Array.of(...magic, ...tail));
      }),
      { numRuns: 3000 },
    );
  });

  it('on every truncation of real images', () => {
    for (const bytes of Object.values(samples)) {
      for (let n = 0; n <= bytes.length; n++) check(bytes.subarray(0, n));
    }
  });

  it('on real images with random byte corruption', () => {
    const all = Object.values(samples);
    fc.assert(
      fc.property(fc.constantFrom(...all), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (bytes, edits) => {
        // Corrupt the header region, where the parsers actually look.
        const copy = bytes.slice();
        for (const [at, value] of edits) copy[at % Math.min(copy.length, 400)] = value;
        check(copy);
      }),
      { numRuns: 3000 },
    );
  });
});
