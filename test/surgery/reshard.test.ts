import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertDataset } from '../../src/convert/convert.js';
import { readRecords } from '../../src/io/read.js';
import { frameRecord } from '../../src/record/frame.js';
import { reshardDataset } from '../../src/surgery/reshard.js';
import { hashTree, sampleSource, sha256, shardFiles, tempDir } from '../convert/helpers.js';

/** The sample converted into 3 shards, and its records in file order. */
let input: string;
let records: string[];

async function payloadsOf(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const f of await shardFiles(dir)) for await (const p of readRecords(path.join(dir, f))) out.push(sha256(p));
  return out;
}

beforeAll(async () => {
  // Not tempDir(): that folder is removed after each test, this one is shared by all.
  input = await mkdtemp(path.join(tmpdir(), 'tfrecord-od-reshard-in-'));
  const r = await convertDataset({ ...sampleSource('coco'), out: input, workers: 0, shards: 3 });
  expect(r.ok, r.failure).toBe(true);
  records = await payloadsOf(input);
  expect(records).toHaveLength(12);
});
afterAll(async () => {
  await rm(input, { recursive: true, force: true });
});

describe('reshardDataset', () => {
  it('--shards N deals the records round-robin, byte for byte, and carries the label map over', async () => {
    const out = path.join(await tempDir('rs'), 'out');
    const r = await reshardDataset([input], { out, shards: 5 });
    expect(r.ok, r.failure).toBe(true);
    expect(r.records).toBe(12);
    expect(r.shards.map((s) => [s.name, s.records])).toEqual([
      ['data-00000-of-00005.tfrecord', 3],
      ['data-00001-of-00005.tfrecord', 3],
      ['data-00002-of-00005.tfrecord', 2],
      ['data-00003-of-00005.tfrecord', 2],
      ['data-00004-of-00005.tfrecord', 2],
    ]);
    // Record i is in shard i mod 5, at position floor(i / 5).
    const shards = await Promise.all(
      (await shardFiles(out)).map(async (f) => {
        const list: string[] = [];
        for await (const p of readRecords(path.join(out, f))) list.push(sha256(p));
        return list;
      }),
    );
    records.forEach((h, i) => expect(shards[i % 5]![Math.floor(i / 5)]).toBe(h));
    expect(await readFile(path.join(out, 'label_map.pbtxt'), 'utf8')).toBe(await readFile(path.join(input, 'label_map.pbtxt'), 'utf8'));
    expect((await readdir(out)).sort()).toEqual([...(await shardFiles(out)), 'label_map.pbtxt', 'manifest.json'].sort());
  });

  it('--shard-size keeps the order across shards; gzip on and off again gives the same records', async () => {
    const dir = await tempDir('rs-size');
    const gz = await reshardDataset([input], { out: path.join(dir, 'gz'), shardSize: 40_000, compression: 'gzip', name: 'train' });
    expect(gz.ok, gz.failure).toBe(true);
    expect(gz.shards.length).toBeGreaterThan(1);
    expect(gz.shards.every((s) => s.name.startsWith('train-') && s.name.endsWith('.tfrecord.gz'))).toBe(true);
    expect(gz.shards.every((s) => s.bytes <= 40_000 || s.records === 1)).toBe(true);
    expect(await payloadsOf(path.join(dir, 'gz'))).toEqual(records);
    const plain = await reshardDataset([path.join(dir, 'gz')], { out: path.join(dir, 'plain'), shards: 1 });
    expect(plain.ok, plain.failure).toBe(true);
    expect(await payloadsOf(path.join(dir, 'plain'))).toEqual(records);
  });

  it('is deterministic: the same input and options give the same bytes', async () => {
    const dir = await tempDir('rs-det');
    await reshardDataset([input], { out: path.join(dir, 'a'), shards: 2, compression: 'gzip' });
    await reshardDataset([input], { out: path.join(dir, 'b'), shards: 2, compression: 'gzip' });
    expect(await hashTree(path.join(dir, 'a'))).toEqual(await hashTree(path.join(dir, 'b')));
  });

  it('without a layout: as many shards as input files; inputs untouched', async () => {
    const before = await hashTree(input);
    const r = await reshardDataset([input], { out: path.join(await tempDir('rs-same'), 'o') });
    expect(r.shards).toHaveLength(3);
    expect(await hashTree(input)).toEqual(before);
  });

  it('a damaged input: located problem, nothing written, the new folder gone again', async () => {
    const dir = await tempDir('rs-bad');
    const shard = (await shardFiles(input))[0]!;
    const bytes = new Uint8Array(await readFile(path.join(input, shard)));
    bytes[bytes.length - 100]! ^= 0x04;
    await writeFile(path.join(dir, 'bad.tfrecord'), bytes);
    const out = path.join(dir, 'out');
    const r = await reshardDataset([path.join(dir, 'bad.tfrecord')], { out, shards: 1 });
    expect(r.ok).toBe(false);
    expect(r.problems[0]).toMatchObject({ code: 'crc-mismatch', file: path.join(dir, 'bad.tfrecord'), record: 3 });
    expect(r.failure).toContain('nothing was written');
    expect(existsSync(out)).toBe(false);
  });

  it('shards that fail validation are not published (an existing empty folder stays, empty)', async () => {
    const dir = await tempDir('rs-invalid');
    // Framing is fine, but label 0 is not a class.
    const { encodeExample } = await import('../../src/example/codec.js');
    const { toExample } = await import('../../src/detection/to-example.js');
    const png = new Uint8Array(await readFile(path.join(sampleSource('coco').images!, 'img03.png')));
    const ex = toExample({
      image: png,
      format: 'png',
      width: 256,
      height: 256,
      filename: 'x.png',
      sourceId: 'x.png',
      sha256: '',
      objects: [{ xmin: 0, ymin: 0, xmax: 1, ymax: 1, label: 0, text: '' }],
    });
    await writeFile(path.join(dir, 'x.tfrecord'), frameRecord(encodeExample(ex)));
    const out = path.join(dir, 'out');
    await mkdir(out);
    const r = await reshardDataset([path.join(dir, 'x.tfrecord')], { out, shards: 1 });
    expect(r.ok).toBe(false);
    expect(r.failure).toContain('did not pass validation');
    expect(r.findings.some((f) => f.code === 'label-out-of-range' && f.file === path.join(out, 'data-00000-of-00001.tfrecord'))).toBe(true);
    expect(await readdir(out)).toEqual([]);
  });

  it('refuses a non-empty output folder and two layouts at once', async () => {
    const dir = await tempDir('rs-full');
    await writeFile(path.join(dir, 'x.txt'), 'x');
    await expect(reshardDataset([input], { out: dir, shards: 1 })).rejects.toMatchObject({ code: 'bad-argument' });
    await expect(reshardDataset([input], { out: path.join(dir, 'o'), shards: 1, shardSize: 10 })).rejects.toMatchObject({ code: 'bad-argument' });
    expect(await readdir(dir)).toEqual(['x.txt']);
  });
});
