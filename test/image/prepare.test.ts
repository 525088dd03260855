import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { isTfrecordError } from 'tfrecord-od';
import { prepareImage } from 'tfrecord-od/image';
import { probeImage } from 'tfrecord-od/image';
import { bmp24, solid, twoToneJpeg } from './make-images.js';

async function pixel(bytes: Uint8Array, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return [...data.subarray(at, at + 3)];
}

/** Asserts a promise rejects with TfrecordError code 'image' and returns its reason. */
async function imageError(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isTfrecordError(err)).toBe(true);
  if (!isTfrecordError(err)) throw new Error('unreachable');
  expect(err.code).toBe('image');
  return err.reason;
}

describe('prepareImage keeps what TensorFlow can already use', () => {
  it('stores an upright JPEG byte-for-byte', async () => {
    const jpeg = await solid('jpeg', 64, 40);
    const out = await prepareImage(jpeg);
    expect(out.bytes).toEqual(jpeg);
    expect(out).toMatchObject({
      format: 'jpeg',
      width: 64,
      height: 40,
      reencoded: false,
      reasons: [],
      sourceFormat: 'jpeg',
      sourceWidth: 64,
      sourceHeight: 40,
    });
  });

  it('stores a PNG byte-for-byte, also with a generous maxSize', async () => {
    const png = await solid('png', 64, 40, { alpha: true });
    const out = await prepareImage(png, { maxSize: 64 });
    expect(out.bytes).toEqual(png);
    expect(out).toMatchObject({ format: 'png', width: 64, height: 40, reencoded: false });
  });

  it('keeps orientation 1 as upright', async () => {
    const jpeg = await solid('jpeg', 30, 20, { orientation: 1 });
    expect((await prepareImage(jpeg)).reencoded).toBe(false);
  });

  it('refuses a truncated JPEG or PNG: a missing end marker triggers a full decode', async () => {
    for (const format of ['jpeg', 'png'] as const) {
      const image = await solid(format, 256, 256);
      const cut = image.subarray(0, Math.floor(image.length * 0.7));
      expect(await imageError(prepareImage(cut))).toMatch(/truncated|not a decodable/);
      expect(await imageError(prepareImage(cut, { decode: true }))).toMatch(/truncated|not a decodable/);
      expect((await prepareImage(image, { decode: true })).bytes).toEqual(image);
    }
  });

  it('keeps a complete JPEG with bytes appended after its end marker', async () => {
    const jpeg = await solid('jpeg', 64, 40);
    const padded = new Uint8Array(jpeg.length + 7);
    padded.set(jpeg);
    padded.set([1, 2, 3, 4, 5, 6, 7], jpeg.length);
    const out = await prepareImage(padded);
    expect(out.reencoded).toBe(false);
    expect(out.bytes).toEqual(padded);
  });
});

describe('prepareImage re-encodes when it must', () => {
  it('bakes EXIF orientation 6 into the pixels and drops the tag', async () => {
    // Stored 40×20 with red on the left; orientation 6 means "turn 90°
    // clockwise to view", so the upright picture is 20×40 with red on top.
    const stored = await twoToneJpeg(40, 20, 6);
    expect(probeImage(stored)?.orientation).toBe(6);
    const out = await prepareImage(stored);
    expect(out).toMatchObject({
      format: 'jpeg',
      width: 20,
      height: 40,
      reencoded: true,
      reasons: ['exif-orientation'],
      sourceFormat: 'jpeg',
      sourceWidth: 20,
      sourceHeight: 40,
    });
    expect(probeImage(out.bytes)).toEqual({ format: 'jpeg', width: 20, height: 40 });
    const [rTop, , bTop] = await pixel(out.bytes, 10, 5);
    const [rBottom, , bBottom] = await pixel(out.bytes, 10, 35);
    expect(rTop).toBeGreaterThan(200);
    expect(bTop).toBeLessThan(60);
    expect(bBottom).toBeGreaterThan(200);
    expect(rBottom).toBeLessThan(60);
  });

  it('converts WebP to JPEG by default and to PNG on request', async () => {
    const webp = await solid('webp', 50, 30);
    const jpeg = await prepareImage(webp);
    expect(jpeg).toMatchObject({ format: 'jpeg', width: 50, height: 30, reencoded: true, reasons: ['format:webp'], sourceFormat: 'webp' });
    expect(probeImage(jpeg.bytes)?.format).toBe('jpeg');
    const png = await prepareImage(webp, { format: 'png' });
    expect(png.format).toBe('png');
    expect(probeImage(png.bytes)).toEqual({ format: 'png', width: 50, height: 30 });
  });

  it.each(['gif', 'tiff', 'avif'] as const)('converts %s', async (format) => {
    const out = await prepareImage(await solid(format, 33, 21));
    expect(out).toMatchObject({ format: 'jpeg', width: 33, height: 21, reasons: [`format:${format}`], sourceFormat: format });
  });

  it('keeps only the first frame of an animated GIF', async () => {
    const frame = (c: string) =>
      sharp({ create: { width: 30, height: 20, channels: 3, background: c } })
        .png()
        .toBuffer();
    const gif = await sharp([await frame('#ff0000'), await frame('#00ff00')], { join: { animated: true } })
      .gif()
      .toBuffer();
    const out = await prepareImage(gif, { format: 'png' });
    expect(out).toMatchObject({ width: 30, height: 20, sourceWidth: 30, sourceHeight: 20, reasons: ['format:gif'] });
    expect(await pixel(out.bytes, 5, 5)).toEqual([255, 0, 0]);
  });

  it('converts a BMP through the built-in decoder, pixel-exact to PNG', async () => {
    const colour = (x: number, y: number): [number, number, number] => [x * 20, y * 30, (x + y) * 10];
    for (const topDown of [false, true]) {
      const out = await prepareImage(bmp24(7, 5, colour, topDown), { format: 'png' });
      expect(out).toMatchObject({ format: 'png', width: 7, height: 5, reasons: ['format:bmp'], sourceFormat: 'bmp' });
      expect(await pixel(out.bytes, 0, 0)).toEqual(colour(0, 0));
      expect(await pixel(out.bytes, 6, 4)).toEqual(colour(6, 4));
      expect(await pixel(out.bytes, 3, 1)).toEqual(colour(3, 1));
    }
  });

  it('downsizes to maxSize keeping the aspect ratio', async () => {
    const out = await prepareImage(await solid('jpeg', 400, 200), { maxSize: 100 });
    expect(out).toMatchObject({ width: 100, height: 50, reencoded: true, reasons: ['max-size'], sourceWidth: 400, sourceHeight: 200 });
  });

  it('applies maxSize to the upright size of a rotated image', async () => {
    const out = await prepareImage(await twoToneJpeg(40, 20, 6), { maxSize: 20 });
    expect(out).toMatchObject({ width: 10, height: 20, reasons: ['exif-orientation', 'max-size'] });
  });

  it('flattens transparency when the target is JPEG', async () => {
    const out = await prepareImage(await solid('webp', 20, 20, { alpha: true }));
    const meta = await sharp(out.bytes).metadata();
    expect(meta.hasAlpha).toBe(false);
  });
});

describe('prepareImage refuses what it cannot store', () => {
  it('rejects images over the pixel limit, before decoding', async () => {
    for (const bytes of [await solid('jpeg', 40, 20), await solid('webp', 40, 20), bmp24(40, 20, () => [0, 0, 0])]) {
      expect(await imageError(prepareImage(bytes, { maxPixels: 799 }))).toMatch(/larger than the pixel limit \(40x20/);
    }
    expect((await prepareImage(await solid('jpeg', 40, 20), { maxPixels: 800 })).reencoded).toBe(false);
  });

  it('rejects garbage, empty input and a cut-off header', async () => {
    expect(await imageError(prepareImage(new TextEncoder().encode('definitely not an image')))).toMatch(/not a decodable image/);
    expect(await imageError(prepareImage(new Uint8Array(0)))).toMatch(/empty/);
    const webp = await solid('webp', 64, 64);
    expect(await imageError(prepareImage(webp.subarray(0, 24)))).toMatch(/not a decodable image|truncated/);
  });

  it('rejects a truncated WebP when re-encoding it', async () => {
    const webp = await solid('webp', 128, 128);
    await imageError(prepareImage(webp.subarray(0, Math.floor(webp.length / 2))));
  });

  it('rejects bad options as bad-argument', async () => {
    const jpeg = await solid('jpeg', 8, 8);
    for (const options of [{ quality: 0 }, { quality: 101 }, { maxSize: 0 }, { maxPixels: -1 }, { format: 'gif' as 'png' }]) {
      await expect(prepareImage(jpeg, options)).rejects.toMatchObject({ code: 'bad-argument' });
    }
  });
});
