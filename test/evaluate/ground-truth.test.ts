import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DetectionExample } from '../../src/detection/schema.js';
import { toExample } from '../../src/detection/to-example.js';
import { encodeExample } from '../../src/example/codec.js';
import { pixelBox, readGroundTruth } from '../../src/evaluate/ground-truth.js';
import { writeRecords } from '../../src/io/write.js';
import { greyImage } from '../stats/helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tfrecord-od-gt-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const example = (over: Partial<DetectionExample>): DetectionExample => ({
  image: new Uint8Array([1, 2, 3]),
  format: 'jpeg',
  width: 200,
  height: 100,
  filename: '',
  sourceId: '',
  sha256: '',
  objects: [],
  ...over,
});

async function write(name: string, examples: DetectionExample[]): Promise<string> {
  const file = join(dir, name);
  await writeRecords(
    file,
    examples.map((e) => encodeExample(toExample(e))),
  );
  return file;
}

describe('readGroundTruth', () => {
  it('puts boxes in pixels, takes given areas and crowd flags, keys by source_id or else filename', async () => {
    const file = await write('a.tfrecord', [
      example({ sourceId: 'one', objects: [{ xmin: 0.25, xmax: 0.75, ymin: 0.5, ymax: 1, label: 3, text: 'cat', isCrowd: true, area: 123.5 }] }),
      example({ filename: 'two.jpg', objects: [{ xmin: 0, xmax: 0.5, ymin: 0, ymax: 0.5, label: 1, text: 'dog' }] }),
      example({ sourceId: 'empty' }),
    ]);
    const gt = await readGroundTruth([file]);
    expect(gt.images.map((i) => [i.key, i.record])).toEqual([
      ['one', 0],
      ['two.jpg', 1],
      ['empty', 2],
    ]);
    expect(gt.images[0]!.boxes).toEqual([{ category: 3, bbox: [50, 50, 100, 50], area: 123.5, iscrowd: true }]);
    // Without image/object/area: the pixel box's own.
    expect(gt.images[1]!.boxes).toEqual([{ category: 1, bbox: [0, 0, 100, 50], area: 5000, iscrowd: false }]);
    expect(gt.labels).toEqual([1, 3]);
    expect(gt.classText.get(3)).toBe('cat');
    expect(gt.byKey.get('two.jpg')).toBe(1);
  });

  it('pixelBox scales the corners, then takes their difference', () => {
    const [x, , w] = pixelBox(0, 0.1, 1, 0.7, 333, 1);
    expect(x).toBe(0.1 * 333);
    expect(w).toBe(0.7 * 333 - 0.1 * 333);
  });

  it('reads the size from the image header when the record has none', async () => {
    const png = await greyImage('png', 40, 30);
    const file = await write('nosize.tfrecord', [
      example({ sourceId: 's', width: 0, height: 0, image: png, objects: [{ xmin: 0, xmax: 1, ymin: 0, ymax: 1, label: 1, text: '' }] }),
    ]);
    const gt = await readGroundTruth([file]);
    expect(gt.images[0]).toMatchObject({ width: 40, height: 30 });
    expect(gt.images[0]!.boxes[0]!.bbox).toEqual([0, 0, 40, 30]);
    const bad = await write('nosize-bad.tfrecord', [example({ sourceId: 's', width: 0, height: 0 })]);
    await expect(readGroundTruth([bad])).rejects.toThrow(/nosize-bad\.tfrecord: record 0 at byte 0: image\/width or image\/height is missing/);
  });

  it('refuses keys that two images share, and records with no key, naming them', async () => {
    const file = await write('dup.tfrecord', [example({ sourceId: 'x' }), example({ sourceId: 'y' }), example({ sourceId: 'x' })]);
    await expect(readGroundTruth([file])).rejects.toThrow(/dup\.tfrecord: record 2 at byte \d+: image key 'x' .* also used by .*dup\.tfrecord record 0/);
    const nokey = await write('nokey.tfrecord', [example({})]);
    await expect(readGroundTruth([nokey])).rejects.toThrow(/record 0 .*neither image\/source_id nor image\/filename/);
  });

  it('stops at damage rather than scoring against part of the ground truth', async () => {
    const file = await write('whole.tfrecord', [example({ sourceId: 'a' }), example({ sourceId: 'b' })]);
    const bytes = readFileSync(file);
    const cut = join(dir, 'cut.tfrecord');
    await writeFile(cut, bytes.subarray(0, bytes.length - 3));
    await expect(readGroundTruth([cut])).rejects.toThrow(/cut\.tfrecord: record 1/);
    const notExample = join(dir, 'junk.tfrecord');
    await writeRecords(notExample, [new Uint8Array([0xff, 0xff, 0xff])]);
    await expect(readGroundTruth([notExample])).rejects.toThrow(/junk\.tfrecord: record 0/);
  });
});
