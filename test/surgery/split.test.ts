import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignSplit, parseSplits } from '../../src/convert/split.js';
import { parseLabelMap } from '../../src/detection/label-map.js';
import * as K from '../../src/detection/keys.js';
import { toExample } from '../../src/detection/to-example.js';
import { decodeExample, encodeExample } from '../../src/example/codec.js';
import { readRecords } from '../../src/io/read.js';
import { writeRecords } from '../../src/io/write.js';
import { splitDataset } from '../../src/surgery/split.js';
import { shardFiles, tempDir } from '../convert/helpers.js';
import { solid } from '../image/make-images.js';

const hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const splits = parseSplits('train=0.5,val=0.3,test=0.2');

/** 30 records over 2 files: 20 different images, and 10 byte-identical copies of them under other names (split by name, like the rest). */
let input: string;
let payloads: Uint8Array[];
beforeAll(async () => {
  const images: Uint8Array[] = [];
  for (let i = 0; i < 20; i++) images.push(await solid('png', 4 + i, 3));
  payloads = [];
  for (let i = 0; i < 30; i++) {
    const image = images[i % 20]!;
    const f = toExample({
      image,
      format: 'png',
      width: 4 + (i % 20),
      height: 3,
      filename: `img${i}.png`,
      sourceId: `img${i}`,
      sha256: '',
      objects: [{ xmin: 0.1, ymin: 0.1, xmax: 0.5, ymax: 0.5, label: 1, text: 'cat' }],
    });
    payloads.push(encodeExample(f));
  }
  // Not tempDir(): that folder is removed after each test, this one is shared by all.
  input = await mkdtemp(path.join(tmpdir(), 'tfrecord-od-split-in-'));
  await writeRecords(path.join(input, 'a.tfrecord'), payloads.slice(0, 15));
  await writeRecords(path.join(input, 'b.tfrecord'), payloads.slice(15));
  await writeFile(path.join(input, 'label_map.pbtxt'), "item { id: 1 name: 'cat' }\n");
});
afterAll(async () => {
  await rm(input, { recursive: true, force: true });
});

async function recordsOf(dir: string, prefix: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const f of (await shardFiles(dir)).filter((n) => n.startsWith(`${prefix}-`))) for await (const p of readRecords(path.join(dir, f))) out.push(p);
  return out;
}

const filenameOf = (p: Uint8Array) => new TextDecoder().decode((decodeExample(p)[K.IMAGE_FILENAME] as { values: Uint8Array[] }).values[0]!);

describe('splitDataset', () => {
  it('sends each record, unchanged, to the split assignSplit gives its image/filename, exactly once', async () => {
    const out = path.join(await tempDir('split'), 'out');
    const r = await splitDataset([input], { out, splits, seed: 3, shards: 1 });
    expect(r.ok, r.failure).toBe(true);
    expect(r.records).toBe(30);
    const seen = new Map<string, number>();
    const splitOfImage = new Map<string, string>();
    for (const s of splits) {
      const got = await recordsOf(out, s.name);
      for (const p of got) {
        const name = filenameOf(p);
        expect(assignSplit(name, 3, splits)).toBe(s.name);
        splitOfImage.set(name, s.name);
        seen.set(hex(p), (seen.get(hex(p)) ?? 0) + 1);
      }
      // Relative order kept within a split.
      const order = got.map((p) => payloads.findIndex((q) => hex(q) === hex(p)));
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
    // Every input record is there exactly once, byte for byte.
    expect([...seen.keys()].sort()).toEqual(payloads.map(hex).sort());
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(splitOfImage.values()).size).toBeGreaterThan(1);
    expect(parseLabelMap(await readFile(path.join(out, 'label_map.pbtxt'), 'utf8')).items).toEqual([{ id: 1, name: 'cat' }]);
    expect((await readdir(out)).filter((n) => n.startsWith('train-'))).toEqual(['train-00000-of-00001.tfrecord']);
  });

  it('a different seed moves images; --name prefixes the sets; gzip output', async () => {
    const dir = await tempDir('split-name');
    const a = await splitDataset([input], { out: path.join(dir, 'a'), splits, seed: 0, name: 'coco', compression: 'gzip' });
    expect(a.ok, a.failure).toBe(true);
    expect(a.shards.every((s) => /^coco-(train|val|test)-\d{5}-of-\d{5}\.tfrecord\.gz$/.test(s.name))).toBe(true);
    const b = await splitDataset([input], { out: path.join(dir, 'b'), splits, seed: 12345, name: 'coco', compression: 'gzip' });
    const perSplit = (r: typeof a) => splits.map((s) => r.shards.filter((x) => x.name.startsWith(`coco-${s.name}-`)).reduce((n, x) => n + x.records, 0));
    expect(perSplit(a).reduce((x, y) => x + y)).toBe(30);
    const ids = (seed: number) => payloads.map((p) => assignSplit(filenameOf(p), seed, splits));
    expect(ids(0)).not.toEqual(ids(12345));
    expect(perSplit(a)).toEqual(splits.map((s) => ids(0).filter((x) => x === s.name).length));
    expect(perSplit(b)).toEqual(splits.map((s) => ids(12345).filter((x) => x === s.name).length));
  });

  it('a record with only a source id goes where that name sends it', async () => {
    const dir = await tempDir('split-source-id');
    const f = decodeExample(payloads[0]!);
    delete f[K.IMAGE_FILENAME];
    await writeRecords(path.join(dir, 'in.tfrecord'), [encodeExample(f)]);
    const r = await splitDataset([path.join(dir, 'in.tfrecord')], { out: path.join(dir, 'out'), splits, seed: 3 });
    expect(r.ok, r.failure).toBe(true);
    const where = assignSplit('img0', 3, splits);
    expect((await recordsOf(path.join(dir, 'out'), where)).length).toBe(1);
  });

  it('refuses a record that names no image, naming it, and publishes nothing', async () => {
    const dir = await tempDir('split-bad');
    const f = decodeExample(payloads[0]!);
    delete f[K.IMAGE_FILENAME];
    delete f[K.IMAGE_SOURCE_ID];
    await writeRecords(path.join(dir, 'in.tfrecord'), [payloads[1]!, encodeExample(f)]);
    const r = await splitDataset([path.join(dir, 'in.tfrecord')], { out: path.join(dir, 'out'), splits });
    expect(r.ok).toBe(false);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ code: 'annotation', file: path.join(dir, 'in.tfrecord'), record: 1 });
    expect(await readdir(dir)).toEqual(['in.tfrecord']);
  });
});
