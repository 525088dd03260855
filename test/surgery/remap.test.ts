import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseLabelMap } from '../../src/detection/label-map.js';
import { toExample } from '../../src/detection/to-example.js';
import type { DetectionExample, DetectionObject } from '../../src/detection/schema.js';
import { decodeExample, encodeExample } from '../../src/example/codec.js';
import { bytesFeature, floatFeature, int64Feature, type Features } from '../../src/example/features.js';
import { readRecords } from '../../src/io/read.js';
import { writeRecords } from '../../src/io/write.js';
import { planRemap, remapDataset, remapFeatures } from '../../src/surgery/remap.js';
import { hashTree, shardFiles, tempDir } from '../convert/helpers.js';
import { solid } from '../image/make-images.js';

let png: Uint8Array;
beforeAll(async () => {
  png = await solid('png', 20, 10);
});

function box(label: number, text: string, x = 0.1): DetectionObject {
  return { xmin: x, ymin: 0.2, xmax: x + 0.3, ymax: 0.9, label, text, difficult: label === 2 };
}

function example(filename: string, objects: DetectionObject[]): DetectionExample {
  return { image: png, format: 'png', width: 20, height: 10, filename, sourceId: filename, sha256: '', objects };
}

/** A record with features remap knows nothing about: a per-box mask, 2 keypoints per box, a top-level extra. */
function withExtras(e: DetectionExample): Features {
  const f = toExample(e);
  f['image/object/mask'] = bytesFeature(...e.objects.map((_, i) => `mask${i}`));
  f['image/object/keypoint/x'] = floatFeature(...e.objects.flatMap((_, i) => [i, i + 0.5]));
  f['image/custom'] = int64Feature(42, 2n ** 60n);
  return f;
}

async function inputOf(records: Features[]): Promise<string> {
  const dir = await tempDir('remap-in');
  await writeRecords(
    path.join(dir, 'in.tfrecord'),
    records.map((r) => encodeExample(r)),
  );
  await writeFile(
    path.join(dir, 'label_map.pbtxt'),
    "item { id: 1 name: 'cat' }\nitem { id: 2 name: 'dog' }\nitem { id: 3 name: 'kitten' }\nitem { id: 4 name: 'car' }\n",
  );
  return path.join(dir, 'in.tfrecord');
}

async function outputRecords(dir: string): Promise<Features[]> {
  const out: Features[] = [];
  for (const f of await shardFiles(dir)) for await (const p of readRecords(path.join(dir, f))) out.push(decodeExample(p));
  return out;
}

const text = (f: Features, key: string) => (f[key] as { values: Uint8Array[] }).values.map((v) => new TextDecoder().decode(v));
const values = (f: Features, key: string) => (f[key] as { values: unknown[] }).values;

describe('planRemap', () => {
  const classes = [
    { id: 1, name: 'cat', boxes: 3 },
    { id: 2, name: 'dog', boxes: 1 },
    { id: 3, name: 'kitten', boxes: 2 },
    { id: 4, name: 'car', boxes: 5 },
    { id: 5, name: 'unused', boxes: 0 },
  ];

  it('merges into the smallest old id, drops, and numbers the rest 1..N in old-id order', () => {
    const plan = planRemap(classes, { rename: { kitten: 'cat', car: 'vehicle' }, drop: ['dog'] });
    expect([...plan.table]).toEqual([
      [1, { id: 1, name: 'cat' }],
      [2, null],
      [3, { id: 1, name: 'cat' }],
      [4, { id: 2, name: 'vehicle' }],
      [5, null],
    ]);
    expect(plan.labelMap.items).toEqual([
      { id: 1, name: 'cat' },
      { id: 2, name: 'vehicle' },
    ]);
    expect(plan.changes.filter((c) => c.gone).map((c) => [c.oldName, c.gone])).toEqual([
      ['dog', 'dropped'],
      ['unused', 'unused'],
    ]);
  });

  it('renaming to a new name that two classes share merges them; a pure rename keeps the ids', () => {
    expect(planRemap(classes, { rename: { cat: 'feline' } }).labelMap.items.map((i) => [i.id, i.name])).toEqual([
      [1, 'feline'],
      [2, 'dog'],
      [3, 'kitten'],
      [4, 'car'],
    ]);
    const merged = planRemap(classes, {
      rename: new Map([
        ['dog', 'pet'],
        ['cat', 'pet'],
      ]),
    });
    expect(merged.table.get(1)).toEqual({ id: 1, name: 'pet' });
    expect(merged.table.get(2)).toEqual({ id: 1, name: 'pet' });
  });

  it('refuses rules that name no class, or rename and drop one class', () => {
    expect(() => planRemap(classes, { drop: ['horse'] })).toThrow("no class is called 'horse'; the classes are 'cat', 'dog', 'kitten', 'car', 'unused'");
    expect(() => planRemap(classes, { rename: { cat: 'x' }, drop: ['cat'] })).toThrow("class 'cat' is both renamed and dropped");
  });
});

describe('remapFeatures', () => {
  it('cuts every per-object list by box (k entries a box too) and rewrites labels and texts together', () => {
    const f = withExtras(example('a.png', [box(1, 'cat'), box(2, 'dog'), box(3, 'kitten')]));
    const table = new Map([
      [1, { id: 1, name: 'cat' }],
      [2, null],
      [3, { id: 1, name: 'cat' }],
    ]);
    expect(remapFeatures(f, table)).toEqual({ dropped: 1, boxes: 3 });
    expect(values(f, 'image/object/class/label')).toEqual([1, 1]);
    expect(text(f, 'image/object/class/text')).toEqual(['cat', 'cat']);
    expect(text(f, 'image/object/mask')).toEqual(['mask0', 'mask2']);
    expect(values(f, 'image/object/keypoint/x')).toEqual([0, 0.5, 2, 2.5]);
    expect(values(f, 'image/object/difficult')).toEqual([0, 0]);
    expect(values(f, 'image/object/bbox/xmin')).toHaveLength(2);
    expect(values(f, 'image/custom')).toEqual([42, 2n ** 60n]);
  });

  it('refuses to cut a list whose length is not a whole number per box', () => {
    const f = toExample(example('a.png', [box(1, 'cat'), box(2, 'dog')]));
    f['image/object/odd'] = floatFeature(1, 2, 3);
    expect(() =>
      remapFeatures(
        f,
        new Map([
          [1, { id: 1, name: 'cat' }],
          [2, null],
        ]),
      ),
    ).toThrow("'image/object/odd' has 3 entries for 2 boxes");
  });
});

describe('remapDataset', () => {
  it('rewrites the records (other features unchanged), writes the new label map, and the result validates', async () => {
    const input = await inputOf([
      withExtras(example('a.png', [box(1, 'cat'), box(2, 'dog'), box(3, 'kitten', 0.5)])),
      withExtras(example('b.png', [box(2, 'dog')])),
      withExtras(example('c.png', [box(4, 'car')])),
    ]);
    const out = path.join(await tempDir('remap'), 'o');
    const r = await remapDataset([input], { out, rename: { kitten: 'cat', car: 'vehicle' }, drop: ['dog'] });
    expect(r.ok, r.failure + JSON.stringify(r.findings)).toBe(true);
    expect(r.labelMapSource.kind).toBe('beside-input');
    expect([r.droppedBoxes, r.emptiedRecords]).toEqual([2, 1]);
    expect(parseLabelMap(await readFile(path.join(out, 'label_map.pbtxt'), 'utf8')).items).toEqual([
      { id: 1, name: 'cat' },
      { id: 2, name: 'vehicle' },
    ]);
    const records = await outputRecords(out);
    expect(records.map((f) => values(f, 'image/object/class/label'))).toEqual([[1, 1], [], [2]]);
    expect(records.map((f) => text(f, 'image/object/class/text'))).toEqual([['cat', 'cat'], [], ['vehicle']]);
    expect(records.map((f) => text(f, 'image/object/mask'))).toEqual([['mask0', 'mask2'], [], ['mask0']]);
    // Everything outside image/object/ is the input's, key for key.
    const inputs: Features[] = [];
    for await (const p of readRecords(input)) inputs.push(decodeExample(p));
    records.forEach((f, i) => {
      for (const key of Object.keys(inputs[i]!).filter((k) => !k.startsWith('image/object/'))) expect(f[key], key).toEqual(inputs[i]![key]);
      expect(Object.keys(f)).toEqual(Object.keys(inputs[i]!));
    });
  });

  it('is deterministic, and leaves the input alone', async () => {
    const input = await inputOf([withExtras(example('a.png', [box(1, 'cat'), box(4, 'car')]))]);
    const before = await hashTree(path.dirname(input));
    const dir = await tempDir('remap-det');
    await remapDataset([input], { out: path.join(dir, 'a'), drop: ['cat'], compression: 'gzip' });
    await remapDataset([input], { out: path.join(dir, 'b'), drop: ['cat'], compression: 'gzip' });
    expect(await hashTree(path.join(dir, 'a'))).toEqual(await hashTree(path.join(dir, 'b')));
    expect(await hashTree(path.dirname(input))).toEqual(before);
  });

  it('a record whose boxes cannot be cut: located problem, nothing written', async () => {
    const odd = toExample(example('a.png', [box(1, 'cat'), box(2, 'dog')]));
    odd['image/object/odd'] = floatFeature(1, 2, 3);
    const input = await inputOf([toExample(example('ok.png', [box(1, 'cat')])), odd]);
    const out = path.join(await tempDir('remap-odd'), 'o');
    const r = await remapDataset([input], { out, drop: ['dog'] });
    expect(r.ok).toBe(false);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ code: 'annotation', file: input, record: 1 });
    expect(existsSync(out)).toBe(false);
  });
});
