/**
 * The surgery commands publish a manifest.json like convert's: every shard
 * with its size, SHA-256 and Cloud Storage CRC32C (checked here against the
 * files on disk, hashed independently), per-set records and class tables
 * (checked against the records read back), the label map and target carried
 * over from the input's manifest. `validate OUT` reads the folder by it and
 * catches a shard changed in place. The folder is locked as convert locks it.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeDataset, remapDataset, reshardDataset, splitDataset } from 'tfrecord-od';
import { convertDataset } from 'tfrecord-od/convert';
import { type DatasetManifest, readManifest } from 'tfrecord-od/dataset';
import { decodeExample } from 'tfrecord-od/example';
import { crc32c } from 'tfrecord-od/record';
import { validateDataset } from 'tfrecord-od/validate';
import { readRecords } from 'tfrecord-od';
import { LOCK_FILE } from '../../src/convert/lock.js';
import { sampleSource, shardFiles, tempDir } from '../convert/helpers.js';
import { tamperKeepingCrcs } from '../helpers/tamper.js';

let input: string;
let inputManifest: DatasetManifest;

beforeAll(async () => {
  input = await mkdtemp(path.join(tmpdir(), 'tfrecord-od-surgery-manifest-'));
  const r = await convertDataset({ ...sampleSource('coco'), out: input, workers: 0, shards: 3 });
  expect(r.ok, r.failure).toBe(true);
  inputManifest = (await readManifest(input))!;
});
afterAll(async () => {
  await rm(input, { recursive: true, force: true });
});

/** Cloud Storage's form of a CRC32C, computed here with the pure-JS CRC rather than the hasher's native one. */
function gcsCrc32c(bytes: Uint8Array): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc32c(bytes) >>> 0, 0);
  return b.toString('base64');
}

/** Every shard of the manifest against its file, and each set's counts against its records. */
async function expectManifestMatchesFiles(out: string, m: DatasetManifest): Promise<void> {
  const listed = m.splits.flatMap((s) => s.shards.map((sh) => sh.name)).sort();
  expect(listed).toEqual(await shardFiles(out));
  for (const set of m.splits) {
    let records = 0;
    let boxes = 0;
    const perClass = new Map<number, { boxes: number; images: number }>();
    for (const sh of set.shards) {
      const bytes = new Uint8Array(await readFile(path.join(out, sh.name)));
      expect(sh.bytes).toBe(bytes.length);
      expect(sh.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(sh.crc32c).toBe(gcsCrc32c(bytes));
      let n = 0;
      let framed = 0;
      for await (const p of readRecords(path.join(out, sh.name))) {
        n++;
        framed += p.length + 16;
        const label = decodeExample(p)['image/object/class/label'];
        const labels = label?.kind === 'int64_list' ? label.values.map(Number) : [];
        boxes += labels.length;
        for (const l of labels) {
          const c = perClass.get(l) ?? { boxes: 0, images: 0 };
          c.boxes++;
          perClass.set(l, c);
        }
        for (const l of new Set(labels)) perClass.get(l)!.images++;
      }
      expect(sh.records).toBe(n);
      expect(sh.uncompressedBytes).toBe(framed);
      records += n;
    }
    expect(set.records).toBe(records);
    expect(set.boxes).toBe(boxes);
    for (const c of set.classes) expect([c.label, c.boxes, c.images]).toEqual([c.label, perClass.get(c.label)?.boxes ?? 0, perClass.get(c.label)?.images ?? 0]);
    expect(set.classes.reduce((n, c) => n + c.boxes, 0)).toBe(boxes);
  }
}

describe('reshard publishes a manifest', () => {
  it("lists every shard with the digests of the file on disk, the counts of its records, the input's label map and target", async () => {
    const out = path.join(await tempDir('rs-manifest'), 'out');
    const r = await reshardDataset([input], { out, shards: 2 });
    expect(r.ok, r.failure).toBe(true);
    expect(r.manifestPath).toBe(path.join(out, 'manifest.json'));
    const m = (await readManifest(out))!;
    expect(m.layout).toBe(2);
    expect(m.target).toBe(inputManifest.target);
    expect(m.labelMap).toEqual(inputManifest.labelMap);
    expect(m.splits.map((s) => [s.name, s.prefix, s.records])).toEqual([['data', 'data', 12]]);
    // The dataset's class totals equal the input's: the same records.
    expect(m.classes).toEqual(inputManifest.classes);
    expect(m.runs).toHaveLength(1);
    expect(m.runs[0]).toMatchObject({ command: 'reshard', prefixes: ['data'], options: { shards: 2, compression: 'none', target: m.target } });
    await expectManifestMatchesFiles(out, m);
    // The report carries the same digests.
    expect(r.shards.map((s) => s.sha256)).toEqual(m.splits[0]!.shards.map((s) => s.sha256));
    const v = await validateDataset([out]);
    expect(v.valid, JSON.stringify(v.findings)).toBe(true);
    expect(v.records).toBe(12);
  });

  it('compressed shards: digests of the compressed file (hashed in the read-back), uncompressed sizes apart', async () => {
    const out = path.join(await tempDir('rs-gz'), 'out');
    const r = await reshardDataset([input], { out, shards: 2, compression: 'gzip' });
    expect(r.ok, r.failure).toBe(true);
    const m = (await readManifest(out))!;
    await expectManifestMatchesFiles(out, m);
    for (const sh of m.splits[0]!.shards) expect(sh.bytes).toBeLessThan(sh.uncompressedBytes);
    expect((await validateDataset([out])).valid).toBe(true);
  });

  it('validate OUT names a shard changed in place: one byte with its CRC fixed is caught by the digests alone', async () => {
    const out = path.join(await tempDir('rs-tamper'), 'out');
    expect((await reshardDataset([input], { out, shards: 3 })).ok).toBe(true);
    const victim = path.join(out, 'data-00001-of-00003.tfrecord');
    await tamperKeepingCrcs(victim);
    const v = await validateDataset([out]);
    expect(v.valid).toBe(false);
    expect(v.findings.filter((f) => f.severity === 'error').map((f) => [f.code, f.file])).toEqual([['shard-mismatch', victim]]);
    expect(v.findings[0]!.message).toMatch(/the file's CRC32C .* differs from the manifest's/);
  });

  it('a plain flipped byte: validate names the shard by its CRC and by its digests', async () => {
    const out = path.join(await tempDir('rs-flip'), 'out');
    expect((await reshardDataset([input], { out, shards: 3 })).ok).toBe(true);
    const victim = path.join(out, 'data-00002-of-00003.tfrecord');
    const bytes = new Uint8Array(await readFile(victim));
    bytes[bytes.length - 100]! ^= 0x01;
    await writeFile(victim, bytes);
    const codes = (await validateDataset([out])).findings.map((f) => [f.code, f.file]);
    expect(codes).toContainEqual(['crc-mismatch', victim]);
    expect(codes).toContainEqual(['shard-mismatch', victim]);
  });

  it("takes the label map from the input's manifest when label_map.pbtxt is gone", async () => {
    const dir = await tempDir('rs-nomap');
    const copy = path.join(dir, 'in');
    const { cp } = await import('node:fs/promises');
    await cp(input, copy, { recursive: true });
    await rm(path.join(copy, 'label_map.pbtxt'));
    const out = path.join(dir, 'out');
    const r = await reshardDataset([copy], { out });
    expect(r.ok, r.failure).toBe(true);
    expect(r.labelMapPath).toBe(path.join(out, 'label_map.pbtxt'));
    expect((await readManifest(out))!.labelMap).toEqual(inputManifest.labelMap);
  });

  it('without a label map anywhere, the class tables name the labels by their texts', async () => {
    const dir = await tempDir('rs-bare');
    for (const f of await shardFiles(input)) await writeFile(path.join(dir, f), await readFile(path.join(input, f)));
    const out = path.join(dir, 'out');
    const r = await reshardDataset([dir], { out, shards: 1 });
    expect(r.ok, r.failure).toBe(true);
    const m = (await readManifest(out))!;
    expect(m.labelMap).toEqual([]);
    expect(m.target).toBe('ai-platform');
    expect(m.classes.map((c) => [c.label, c.name, c.boxes])).toEqual(inputManifest.classes.map((c) => [c.label, c.name, c.boxes]));
    await expectManifestMatchesFiles(out, m);
  });

  it('a run refused by the check publishes no manifest (nor anything else)', async () => {
    const dir = await tempDir('rs-refused');
    const out = path.join(dir, 'out');
    // A label map that lacks a class the records use: the check refuses them.
    const map = path.join(dir, 'short.pbtxt');
    await writeFile(map, "item { id: 1 name: 'circle' }\nitem { id: 2 name: 'square' }\n");
    const r = await reshardDataset([input], { out, labelMap: map });
    expect(r.ok).toBe(false);
    expect(r.manifestPath).toBeUndefined();
    expect(existsSync(out)).toBe(false);
  });

  it('refuses while another run holds the folder, naming it; the folder is left as it was', async () => {
    const out = await tempDir('rs-locked');
    await writeFile(path.join(out, LOCK_FILE), JSON.stringify({ pid: process.ppid, command: 'merge', host: os.hostname(), started: 'earlier' }));
    await expect(reshardDataset([input], { out })).rejects.toThrow(
      new RegExp(`another tfrecord-od merge \\(process ${process.ppid} on .*\\) is writing this folder`),
    );
    expect(await readdir(out)).toEqual([LOCK_FILE]);
    // A dead holder's lock is taken over, and this run's own is gone when it is done.
    await writeFile(path.join(out, LOCK_FILE), JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname(), started: 'long ago' }));
    const r = await reshardDataset([input], { out });
    expect(r.ok, r.failure).toBe(true);
    expect(await readdir(out)).not.toContain(LOCK_FILE);
  });
});

describe('split, remap and merge publish a manifest', () => {
  it('split: one set per split under its split name, counts and digests recomputed, job arguments for train and val', async () => {
    const out = path.join(await tempDir('split-manifest'), 'out');
    const r = await splitDataset([input], {
      out,
      splits: [
        { name: 'train', fraction: 0.5 },
        { name: 'val', fraction: 0.5 },
      ],
      name: 'ds',
      shards: 1,
    });
    expect(r.ok, r.failure).toBe(true);
    const m = (await readManifest(out))!;
    expect(m.splits.map((s) => [s.name, s.prefix])).toEqual([
      ['train', 'ds-train'],
      ['val', 'ds-val'],
    ]);
    expect(m.splits.reduce((n, s) => n + s.records, 0)).toBe(12);
    expect(m.runs[0]).toMatchObject({ command: 'split', prefixes: ['ds-train', 'ds-val'], options: { seed: 0, name: 'ds' } });
    await expectManifestMatchesFiles(out, m);
    expect(m.jobArgs.training?.pattern).toBe('ds-train-?????-of-00001.tfrecord');
    expect(m.jobArgs.validation?.records).toBe(m.splits[1]!.records);
    expect((await validateDataset([out])).valid).toBe(true);
  });

  it('remap: the new label map and class tables, the input target kept', async () => {
    const out = path.join(await tempDir('remap-manifest'), 'out');
    const r = await remapDataset([input], { out, drop: ['circle'], rename: { square: 'box' } });
    expect(r.ok, r.failure).toBe(true);
    const m = (await readManifest(out))!;
    expect(m.labelMap).toEqual(r.labelMap.items);
    expect(m.classes.map((c) => c.name)).toEqual(r.labelMap.items.map((it) => it.name));
    expect(m.runs[0]).toMatchObject({ command: 'remap', options: { drop: ['circle'], rename: { square: 'box' } } });
    await expectManifestMatchesFiles(out, m);
    expect((await validateDataset([out])).valid).toBe(true);
  });

  it("merge: the merged label map, every dataset's records", async () => {
    const out = path.join(await tempDir('merge-manifest'), 'out');
    const r = await mergeDataset([input, input], { out, shards: 2 });
    expect(r.ok, r.failure).toBe(true);
    const m = (await readManifest(out))!;
    expect(m.labelMap).toEqual(r.labelMap.items);
    expect(m.runs[0]).toMatchObject({ command: 'merge', inputManifests: [path.join(input, 'manifest.json')] });
    await expectManifestMatchesFiles(out, m);
    expect((await validateDataset([out])).valid).toBe(true);
  });
});
