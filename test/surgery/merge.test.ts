import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseLabelMap } from '../../src/detection/label-map.js';
import { toExample } from '../../src/detection/to-example.js';
import type { DetectionObject } from '../../src/detection/schema.js';
import { decodeExample, encodeExample } from '../../src/example/codec.js';
import type { Features } from '../../src/example/features.js';
import { readRecords } from '../../src/io/read.js';
import { writeRecords } from '../../src/io/write.js';
import { mergeDataset } from '../../src/surgery/merge.js';
import { shardFiles, tempDir } from '../convert/helpers.js';
import { solid } from '../image/make-images.js';

let png: Uint8Array;
beforeAll(async () => {
  png = await solid('png', 20, 10);
});

const box = (label: number, text: string): DetectionObject => ({ xmin: 0.1, ymin: 0.2, xmax: 0.4, ymax: 0.9, label, text });
const record = (name: string, objects: DetectionObject[]): Features =>
  toExample({ image: png, format: 'png', width: 20, height: 10, filename: name, sourceId: name, sha256: '', objects });

async function dataset(dir: string, records: Features[], labelMap?: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeRecords(
    path.join(dir, 'data-00000-of-00001.tfrecord'),
    records.map((r) => encodeExample(r)),
  );
  if (labelMap !== undefined) await writeFile(path.join(dir, 'label_map.pbtxt'), labelMap);
  return dir;
}

async function outputRecords(dir: string): Promise<Features[]> {
  const out: Features[] = [];
  for (const f of await shardFiles(dir)) for await (const p of readRecords(path.join(dir, f))) out.push(decodeExample(p));
  return out;
}
const texts = (f: Features) => (f['image/object/class/text'] as { values: Uint8Array[] }).values.map((v) => new TextDecoder().decode(v));
const labels = (f: Features) => (f['image/object/class/label'] as { values: unknown[] }).values.map(Number);
const filename = (f: Features) => new TextDecoder().decode((f['image/filename'] as { values: Uint8Array[] }).values[0]);

describe('mergeDataset', () => {
  it('reconciles swapped ids by name into one label map, labels rewritten, texts and the rest kept', async () => {
    const root = await tempDir('merge');
    const a = await dataset(
      path.join(root, 'a'),
      [record('a0.png', [box(1, 'cat'), box(2, 'dog')]), record('a1.png', [box(2, 'dog')])],
      "item { id: 1 name: 'cat' }\nitem { id: 2 name: 'dog' }\n",
    );
    // The same names with the ids swapped, and a class the first dataset lacks.
    const b = await dataset(
      path.join(root, 'b'),
      [record('b0.png', [box(1, 'dog'), box(2, 'cat'), box(3, 'fox')]), record('b1.png', [])],
      "item { id: 1 name: 'dog' }\nitem { id: 2 name: 'cat' }\nitem { id: 3 name: 'fox' }\n",
    );
    // No label map: its classes are named by their texts (ids 7 and 9 mean nothing here).
    const c = await dataset(path.join(root, 'c'), [record('c0.png', [box(7, 'owl'), box(9, 'cat')])]);
    const out = path.join(root, 'out');
    const r = await mergeDataset([a, b, c], { out, shards: 1 });
    expect(r.ok, r.failure).toBe(true);
    expect(r.records).toBe(5);
    const want = [
      { id: 1, name: 'cat' },
      { id: 2, name: 'dog' },
      { id: 3, name: 'fox' },
      { id: 4, name: 'owl' },
    ];
    expect(r.labelMap.items).toEqual(want);
    expect(parseLabelMap(await readFile(path.join(out, 'label_map.pbtxt'), 'utf8')).items).toEqual(want);
    expect(r.datasets[1]!.ids).toEqual([
      { oldId: 1, name: 'dog', newId: 2 },
      { oldId: 2, name: 'cat', newId: 1 },
      { oldId: 3, name: 'fox', newId: 3 },
    ]);
    const got = await outputRecords(out);
    expect(got.map(filename)).toEqual(['a0.png', 'a1.png', 'b0.png', 'b1.png', 'c0.png']);
    expect(got.map(labels)).toEqual([[1, 2], [2], [2, 1, 3], [], [4, 1]]);
    expect(got.map(texts)).toEqual([['cat', 'dog'], ['dog'], ['dog', 'cat', 'fox'], [], ['owl', 'cat']]);
    // Every label agrees with its text under the merged map.
    for (const f of got) labels(f).forEach((l, i) => expect(want[l - 1]!.name).toBe(texts(f)[i]));
    // Everything but the labels travels unchanged.
    const b0 = record('b0.png', [box(1, 'dog'), box(2, 'cat'), box(3, 'fox')]);
    b0['image/object/class/label'] = { kind: 'int64_list', values: [2, 1, 3] };
    expect(encodeExample(got[2]!)).toEqual(encodeExample(b0));
  });

  it('refuses a box that neither a label map nor a text names, with its location, and publishes nothing', async () => {
    const root = await tempDir('merge-bad');
    const a = await dataset(path.join(root, 'a'), [record('a0.png', [box(1, 'cat')])], "item { id: 1 name: 'cat' }\n");
    const bad = record('b1.png', [box(5, 'x')]);
    delete bad['image/object/class/text'];
    const b = await dataset(path.join(root, 'b'), [record('b0.png', [box(5, 'emu')]), bad]);
    const r = await mergeDataset([a, b], { out: path.join(root, 'out') });
    expect(r.ok).toBe(false);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ code: 'annotation', file: path.join(b, 'data-00000-of-00001.tfrecord'), record: 1 });
    expect(r.problems[0]!.message).toContain('label 5');
    expect((await readdir(root)).sort()).toEqual(['a', 'b']);
  });
});
