/**
 * `export --to vertex`: the Vertex AI import file line by line (URIs under
 * --uri-prefix, normalized corners, ml_use from the shard set's split
 * name), the split assignment surviving a round trip through
 * `convert --from vertex`, the prefix checks, and group_of listed as a
 * feature no export target holds. (The record-for-record round trips, on
 * TensorFlow-written records too, are in round-trip.test.ts.)
 */
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertDataset } from 'tfrecord-od/convert';
import { exportDataset } from 'tfrecord-od';
import type { DetectionExample } from 'tfrecord-od/detection';
import { fromExample, toExample } from '../../src/detection/index.js';
import { decodeExample, encodeExample } from '../../src/example/codec.js';
import { readRecords } from '../../src/io/read.js';
import { writeRecords } from '../../src/io/write.js';
import { runCli } from '../helpers/cli.js';
import { readOutput, sampleSource, sha256, shardFiles, tempDir } from '../convert/helpers.js';
import { solid } from '../image/make-images.js';

const PREFIX = 'gs://my-bucket/datasets/shapes';
const halves = [
  { name: 'train', fraction: 0.5 },
  { name: 'val', fraction: 0.3 },
  { name: 'test', fraction: 0.2 },
];

/** The sample converted into train/val/test, and its records by file name and split. */
let split: string;
const splitOf = new Map<string, string>();

beforeAll(async () => {
  // Not tempDir(): that folder is removed after each test, this one is shared by all.
  split = await mkdtemp(path.join(tmpdir(), 'tfrecord-od-vertex-split-'));
  const r = await convertDataset({ ...sampleSource('coco'), out: split, workers: 0, split: halves });
  expect(r.ok, r.failure).toBe(true);
  for (const f of await shardFiles(split)) {
    for await (const p of readRecords(path.join(split, f))) splitOf.set(fromExample(decodeExample(p)).filename, f.split('-')[0]!);
  }
  expect(new Set(splitOf.values())).toEqual(new Set(['train', 'val', 'test']));
});
afterAll(async () => {
  await rm(split, { recursive: true, force: true });
});

async function lines(file: string): Promise<Array<Record<string, any>>> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
}

describe('export --to vertex', () => {
  it('writes one line per image: the URI under the prefix, the corners as stored, ml_use from the split', async () => {
    const out = path.join(await tempDir('vertex'), 'v');
    const r = await exportDataset([split], { to: 'vertex', out, uriPrefix: `${PREFIX}/` });
    expect(r.ok, r.failure).toBe(true);
    expect(r.annotations).toBe(path.join(out, 'import.jsonl'));
    expect(r.images).toBe(path.join(out, 'images'));
    const ML = { train: 'training', val: 'validation', test: 'test' } as Record<string, string>;
    const written = await lines(r.annotations!);
    expect(written).toHaveLength(12);
    const records = new Map<string, DetectionExample>();
    for (const f of await shardFiles(split))
      for await (const p of readRecords(path.join(split, f))) {
        const e = fromExample(decodeExample(p));
        records.set(e.filename, e);
      }
    for (const line of written) {
      expect(Object.keys(line).sort()).toEqual(['boundingBoxAnnotations', 'dataItemResourceLabels', 'imageGcsUri']);
      // The trailing '/' of the prefix is not doubled.
      expect(line.imageGcsUri.startsWith(`${PREFIX}/images/`)).toBe(true);
      const name = line.imageGcsUri.slice(`${PREFIX}/images/`.length);
      const e = records.get(name)!;
      expect(sha256(await readFile(path.join(out, 'images', name)))).toBe(sha256(e.image));
      expect(line.dataItemResourceLabels).toEqual({ 'aiplatform.googleapis.com/ml_use': ML[splitOf.get(name)!] });
      expect(line.boundingBoxAnnotations).toEqual(e.objects.map((o) => ({ displayName: o.text, xMin: o.xmin, yMin: o.ymin, xMax: o.xmax, yMax: o.ymax })));
    }
    expect(r.notes.some((n) => n.includes('ml_use'))).toBe(false);
  });

  it('converting it back keeps every image in its split (ml_use → split), the same records in each', async () => {
    const dir = await tempDir('vertex-back');
    const r = await exportDataset([split], { to: 'vertex', out: path.join(dir, 'v'), uriPrefix: PREFIX });
    expect(r.ok, r.failure).toBe(true);
    const back = path.join(dir, 'back');
    const c = await convertDataset({
      from: 'vertex',
      annotations: r.annotations!,
      pathMap: { [PREFIX]: r.out },
      out: back,
      workers: 0,
      labelMap: r.labelMapPath!,
    });
    expect(c.ok, c.failure).toBe(true);
    for (const s of ['train', 'val', 'test']) {
      const files = (await shardFiles(back)).filter((f) => f.startsWith(`${s}-`));
      const names = (await readOutput(back, files)).examples.map((e) => e.filename.slice(`${PREFIX}/images/`.length)).sort();
      expect(names, s).toEqual(
        [...splitOf]
          .filter(([, v]) => v === s)
          .map(([k]) => k)
          .sort(),
      );
    }
  });

  it('shard sets without a split name get no ml_use, with a note; a shard prefix names the split without a manifest', async () => {
    const dir = await tempDir('vertex-names');
    const plain = path.join(dir, 'plain');
    expect((await convertDataset({ ...sampleSource('csv'), out: plain, workers: 0 })).ok).toBe(true);
    // Bare shards (no manifest beside them): `ds-val-…` is a val set by its name.
    const bare = path.join(dir, 'bare');
    await mkdir(bare);
    const valShard = (await shardFiles(split)).find((f) => f.startsWith('val-'))!;
    await copyFile(path.join(split, valShard), path.join(bare, `ds-${valShard}`));
    const r = await exportDataset([plain, bare], { to: 'vertex', out: path.join(dir, 'v'), uriPrefix: PREFIX });
    expect(r.ok, r.failure).toBe(true);
    const written = await lines(r.annotations!);
    const uses = written.map((l) => l.dataItemResourceLabels?.['aiplatform.googleapis.com/ml_use'] ?? null);
    const valCount = [...splitOf.values()].filter((v) => v === 'val').length;
    expect(uses.filter((u) => u === null)).toHaveLength(12);
    expect(uses.filter((u) => u === 'validation')).toHaveLength(valCount);
    expect(r.notes).toContain(
      '12 images came from shard sets not named train, val or test (or training, validation) and got no ml_use: Vertex AI divides such images into training, validation and test itself',
    );
  });

  it('needs a gs:// --uri-prefix, and takes it for vertex only; nothing is written otherwise', async () => {
    const dir = await tempDir('vertex-prefix');
    const out = path.join(dir, 'v');
    await expect(exportDataset([split], { to: 'vertex', out })).rejects.toThrow(/needs --uri-prefix gs:\/\/BUCKET\/PATH/);
    for (const bad of ['s3://bucket/x', 'my-bucket/x', 'gs://', 'gs:///x']) {
      await expect(exportDataset([split], { to: 'vertex', out, uriPrefix: bad })).rejects.toThrow(/--uri-prefix must be a Cloud Storage folder/);
    }
    await expect(exportDataset([split], { to: 'coco', out, uriPrefix: PREFIX })).rejects.toThrow(/only for the Vertex AI export/);
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(dir)).toEqual([]);
    // The CLI: usage errors (exit 2) saying what to give.
    const missing = await runCli(['export', split, '--to', 'vertex', '--out', out]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--uri-prefix gs://BUCKET/PATH');
    const wrong = await runCli(['export', split, '--to', 'vertex', '--out', out, '--uri-prefix', 'https://storage.googleapis.com/b']);
    expect(wrong.code).toBe(2);
    const ok = await runCli(['export', split, '--to', 'vertex', '--out', out, '--uri-prefix', PREFIX]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`as VERTEX`);
  });
});

describe('image/object/group_of in an export', () => {
  it('is listed as not representable, with how many boxes are groups, by every target', async () => {
    const png = await solid('png', 20, 10);
    const dir = await tempDir('groups');
    const file = path.join(dir, 'g.tfrecord');
    const box = (groupOf: boolean) => ({ xmin: 0.1, ymin: 0.2, xmax: 0.6, ymax: 0.9, label: 1, text: 'people', groupOf });
    const example: DetectionExample = {
      image: png,
      format: 'png',
      width: 20,
      height: 10,
      filename: 'a.png',
      sourceId: 'a.png',
      sha256: '',
      objects: [box(true), box(false)],
    };
    await writeRecords(file, [encodeExample(toExample(example))]);
    for (const to of ['coco', 'voc', 'yolo', 'csv', 'vertex'] as const) {
      const r = await exportDataset([file], { to, out: path.join(dir, to), ...(to === 'vertex' ? { uriPrefix: PREFIX } : {}) });
      expect(r.ok, r.failure).toBe(true);
      expect(
        r.unrepresentable.find((u) => u.feature === 'image/object/group_of'),
        to,
      ).toMatchObject({
        count: 2,
        set: 1,
        message: `image/object/group_of: not representable in ${to.toUpperCase()}, 2 boxes (1 set)`,
      });
    }
  });
});
