import { readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLabelMap } from 'tfrecord-od/detection';
import { bytesFeature, createFeatures, int64Feature } from 'tfrecord-od/example';
import { formatProblem } from '../../src/problem.js';
import { datasetStats, MAX_DISTINCT, StatsAccumulator } from '../../src/stats/stats.js';
import { HAVE_INTEROP, INTEROP_SKIP_MESSAGE, interopPath } from '../helpers/interop.js';
import { box, example, greyImage, payload, type Scratch, scratch } from './helpers.js';

// Boxes with exactly representable coordinates, so float32 storage cannot move
// an area across a bucket edge: A = 25% (the edge itself), B = 6.25%,
// C = 1.5625%, D = 0.390625%, and an inverted box whose area is invalid.
const A = (label: number, text: string) => box(0, 0, 0.5, 0.5, label, text);
const B = (label: number, text: string) => box(0.25, 0.25, 0.5, 0.5, label, text);
const C = (label: number, text: string) => box(0, 0, 0.125, 0.125, label, text);
const D = (label: number, text: string) => box(0, 0, 0.0625, 0.0625, label, text);
const INVERTED = (label: number, text: string) => box(0.5, 0, 0.25, 0.5, label, text);

let dir: Scratch;
let a: string;
let b: string;

beforeAll(async () => {
  dir = await scratch();
  const jpeg64 = await greyImage('jpeg', 64, 48);
  const png32 = await greyImage('png', 32, 32);
  const jpeg40 = await greyImage('jpeg', 40, 80);
  a = await dir.write('a.tfrecord', [
    example(jpeg64, 'jpeg', 64, 48, 'a0', [A(1, 'cat'), B(2, 'dog'), D(1, 'cat')]),
    example(png32, 'png', 32, 32, 'a1', []),
    example(jpeg64, 'jpeg', 64, 48, 'a2', [C(3, 'bird')]),
  ]);
  b = await dir.write('b.tfrecord', [
    example(
      jpeg40,
      'jpeg',
      40,
      80,
      'b0',
      Array.from({ length: 5 }, () => B(2, 'dog')),
    ),
    example(png32, 'png', 32, 32, 'b1', [INVERTED(1, 'kitty')]),
  ]);
});
afterAll(() => dir.remove());

describe('datasetStats', () => {
  it('counts records, boxes, classes, histograms, formats, sizes and shards', async () => {
    const s = await datasetStats([a, b]);
    expect(s.records).toBe(5);
    expect(s.examples).toBe(5);
    expect(s.notExamples).toBe(0);
    expect(s.boxes).toBe(10);
    expect(s.imagesWithoutBoxes).toBe(1);
    expect(s.errors).toEqual([]);
    expect(s.errorCount).toBe(0);

    expect(s.classes).toEqual([
      { label: 1, name: 'cat', texts: ['cat', 'kitty'], inLabelMap: false, boxes: 3, images: 2 },
      { label: 2, name: 'dog', texts: ['dog'], inLabelMap: false, boxes: 6, images: 2 },
      { label: 3, name: 'bird', texts: ['bird'], inLabelMap: false, boxes: 1, images: 1 },
    ]);

    // Boxes per image are 3, 0, 1, 5, 1.
    expect(s.boxesPerImage).toMatchObject({ min: 0, mean: 2, median: 1, max: 5 });
    expect(s.boxesPerImage.histogram.map((h) => [h.label, h.count])).toEqual([
      ['0', 1],
      ['1', 2],
      ['2', 0],
      ['3-5', 2],
      ['6-10', 0],
      ['11-20', 0],
      ['21-50', 0],
      ['51-100', 0],
      ['>100', 0],
    ]);

    expect(s.boxSizes.buckets.map((h) => [h.label, h.count])).toEqual([
      ['<1%', 1],
      ['1%-5%', 1],
      ['5%-25%', 6],
      ['>=25%', 1],
    ]);
    expect(s.boxSizes.invalid).toBe(1);

    expect(s.imageFormats).toEqual([
      { format: 'jpeg', count: 3 },
      { format: 'png', count: 2 },
    ]);
    expect(s.imageSizes.sizes).toEqual([
      { width: 32, height: 32, count: 2 },
      { width: 64, height: 48, count: 2 },
      { width: 40, height: 80, count: 1 },
    ]);
    expect(s.imageSizes.other).toBe(0);
    expect(s.imageSizes.width).toEqual({ min: 32, max: 64 });
    expect(s.imageSizes.height).toEqual({ min: 32, max: 80 });

    expect(s.files.map((f) => [f.file, f.records])).toEqual([
      [a, 3],
      [b, 2],
    ]);
    for (const f of s.files) {
      expect(f.bytes).toBe((await stat(f.file)).size);
      // Uncompressed: the framed record bytes are the whole file.
      expect(f.recordBytes).toBe(f.bytes);
    }
  });

  it('expands a directory to its *.tfrecord* files in name order', async () => {
    const s = await datasetStats([dir.path]);
    expect(s.files.map((f) => f.file)).toEqual([a, b]);
    expect(s.records).toBe(5);
  });

  it('names classes from a label map and lists its unused classes', async () => {
    const labelMap = parseLabelMap("item { id: 1 name: 'Cat' } item { id: 2 name: 'dog' } item { id: 3 name: 'bird' } item { id: 4 name: 'fish' }");
    const s = await datasetStats([a, b], { labelMap });
    expect(s.classes.map((c) => [c.label, c.name, c.inLabelMap, c.boxes, c.images])).toEqual([
      [1, 'Cat', true, 3, 2],
      [2, 'dog', true, 6, 2],
      [3, 'bird', true, 1, 1],
      [4, 'fish', true, 0, 0],
    ]);
  });

  it('reports a truncated file with its location and keeps what was read', async () => {
    const bytes = await readFile(a);
    const cut = join(dir.path, 'cut.data');
    await writeFile(cut, bytes);
    const size = (await stat(cut)).size;
    await truncate(cut, size - 10);
    const s = await datasetStats([cut, b]);
    expect(s.records).toBe(4); // two of cut's three records, then all of b
    expect(s.boxes).toBe(3 + 0 + 5 + 1);
    expect(s.errorCount).toBe(1);
    expect(s.errors[0]).toMatchObject({ code: 'truncated', file: cut, record: 2 });
    expect(typeof s.errors[0]!.offset).toBe('number');
    // The message leaves the location to its fields; written out, the problem names the file.
    expect(formatProblem(s.errors[0]!)).toContain(`${cut}: record 2 at byte ${s.errors[0]!.offset}: `);
    expect(s.files.map((f) => f.records)).toEqual([2, 2]);
  });

  it('skips a record with a bad data CRC and goes on', async () => {
    const bytes = new Uint8Array(await readFile(a));
    bytes[12 + 20]! ^= 0xff; // inside record 0's payload
    const bad = join(dir.path, 'crc.tfrecord.bad');
    await writeFile(bad, bytes);
    const s = await datasetStats([bad]);
    expect(s.records).toBe(2);
    expect(s.errors).toHaveLength(1);
    expect(s.errors[0]).toMatchObject({ code: 'crc-mismatch', file: bad, record: 0, offset: 0 });
  });

  it('counts records that are not tf.Examples as errors with their location', async () => {
    const file = await dir.write('mixed.data', [new Uint8Array([0xff, 0xff, 0xff]), payload(example(await greyImage('png', 8, 8), 'png', 8, 8, 'x', []))]);
    const s = await datasetStats([file]);
    expect(s.records).toBe(2);
    expect(s.examples).toBe(1);
    expect(s.notExamples).toBe(1);
    expect(s.errors[0]).toMatchObject({ code: 'not-an-example', file, record: 0, offset: 0 });
  });

  it('throws an io error for a missing file', async () => {
    await expect(datasetStats([join(dir.path, 'nope.tfrecord')])).rejects.toMatchObject({ code: 'io' });
  });

  it.skipIf(!HAVE_INTEROP)('describes the golden od_three.tfrecord written by TensorFlow', async () => {
    const s = await datasetStats([interopPath('golden/od_three.tfrecord')]);
    expect(s.records).toBe(3);
    expect(s.boxes).toBe(3);
    expect(s.imagesWithoutBoxes).toBe(1);
    expect(s.classes.map((c) => [c.label, c.name, c.boxes, c.images])).toEqual([
      [1, 'cat', 1, 1],
      [2, 'dog', 1, 1],
      [3, 'bird', 1, 1],
    ]);
    expect(s.boxesPerImage).toMatchObject({ min: 0, median: 1, max: 2, mean: 1 });
    expect(s.imageFormats.map((f) => [f.format.toLowerCase(), f.count])).toEqual([
      ['jpeg', 2],
      ['png', 1],
    ]);
    expect(s.imageSizes.sizes.map((z) => `${z.width}x${z.height}`).sort()).toEqual(['32x32', '40x80', '64x48']);
    expect(s.errors).toEqual([]);
  });
  if (!HAVE_INTEROP) it.skip(INTEROP_SKIP_MESSAGE, () => undefined);
});

describe('StatsAccumulator', () => {
  it('takes the mean of the two middle values for an even number of images', () => {
    const acc = new StatsAccumulator();
    for (const n of [0, 2, 4, 10]) {
      const f = createFeatures();
      f['image/object/class/label'] = int64Feature(...Array.from({ length: n }, () => 1));
      acc.add(f);
    }
    const s = acc.finish();
    expect(s.boxesPerImage).toMatchObject({ min: 0, median: 3, mean: 4, max: 10 });
    // Boxes without coordinates are counted but have no area.
    expect(s.boxSizes.invalid).toBe(16);
  });

  it('caps the distinct image-size table and counts the overflow', () => {
    const acc = new StatsAccumulator();
    const n = MAX_DISTINCT.imageSizes + 500;
    for (let i = 0; i < n; i++) {
      const f = createFeatures();
      f['image/width'] = int64Feature(i + 1);
      f['image/height'] = int64Feature(10);
      f['image/format'] = bytesFeature('png');
      acc.add(f);
    }
    const s = acc.finish();
    expect(s.imageSizes.sizes).toHaveLength(MAX_DISTINCT.imageSizes);
    expect(s.imageSizes.other).toBe(500);
    expect(s.imageSizes.width).toEqual({ min: 1, max: n });
  });

  it('reads features of the wrong kind as absent instead of throwing', () => {
    const acc = new StatsAccumulator();
    const f = createFeatures();
    f['image/width'] = bytesFeature('64');
    f['image/object/class/label'] = bytesFeature('cat');
    acc.add(f);
    const s = acc.finish();
    expect(s.boxes).toBe(0);
    expect(s.imageSizes.sizes).toEqual([{ width: null, height: null, count: 1 }]);
  });
});
