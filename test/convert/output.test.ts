/**
 * What a conversion leaves in --out: shard names and counts, compression,
 * splits, clean-up of an earlier run's shards, and manifest.json.
 */
import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { crc32c } from 'tfrecord-od/record';
import { describe, expect, it } from 'vitest';
import { convertDataset, type ConvertOptions } from 'tfrecord-od/convert';
import { readRecords } from 'tfrecord-od';
import { listTree, readOutput, ROOT, SAMPLE, sampleSource, sha256, shardFiles, tempDir, truth } from './helpers.js';

/** CSV order of the sample's images (the order records are written in). */
const CSV_ORDER = truth.images.map((i) => i.file);

async function convert(extra: Partial<ConvertOptions> = {}, out?: string) {
  const dir = out ?? (await tempDir());
  const report = await convertDataset({ ...sampleSource('csv'), out: dir, workers: 0, ...extra });
  expect(report.ok, report.failure).toBe(true);
  return { out: dir, report };
}

describe('shards', () => {
  it('--shards 3: TensorFlow-style names, records dealt round-robin', async () => {
    const { out, report } = await convert({ shards: 3 });
    expect(await shardFiles(out)).toEqual(['data-00000-of-00003.tfrecord', 'data-00001-of-00003.tfrecord', 'data-00002-of-00003.tfrecord']);
    // Record i goes to shard i mod 3.
    for (let s = 0; s < 3; s++) {
      const output = await readOutput(out, [`data-0000${s}-of-00003.tfrecord`]);
      expect(output.examples.map((e) => e.filename)).toEqual(CSV_ORDER.filter((_, i) => i % 3 === s));
    }
    expect(report.splits[0]!.shards.map((s) => s.records)).toEqual([4, 4, 4]);
  });

  it("a small --shard-size cuts several shards, planned from the image files' sizes, named -of-<total>", async () => {
    const shardSize = 12_000;
    const { out, report } = await convert({ shardSize });
    const files = await shardFiles(out);
    const n = files.length;
    expect(n).toBeGreaterThan(2);
    expect(files).toEqual(files.map((_, i) => `data-${String(i).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.tfrecord`));
    // Shards are cut before an image is read, by the sizes of the image files
    // plus an allowance per record for its annotations (well under 1 KB for
    // these): the files of a shard's records fit in the size, and one more
    // would not have. The records themselves may come out a little larger
    // (re-encoded images, the annotations).
    const fileSize = async (name: string) => (await stat(path.join(SAMPLE, 'images', name))).size;
    const shards = report.splits[0]!.shards;
    for (const [i, sh] of shards.entries()) {
      expect(sh.bytes).toBe((await stat(sh.path)).size);
      let files = 0;
      for (const e of (await readOutput(out, [path.basename(sh.path)])).examples) files += await fileSize(e.filename);
      if (sh.records > 1) expect(files).toBeLessThanOrEqual(shardSize);
      const following = shards[i + 1];
      const next = following && (await readOutput(out, [path.basename(following.path)])).examples[0]?.filename;
      if (next !== undefined) expect(files + (await fileSize(next)) + (sh.records + 1) * 1024).toBeGreaterThan(shardSize);
      if (sh.records > 1) expect(sh.bytes).toBeLessThanOrEqual(shardSize * 1.25);
    }
    // Cut in order: reading the shards one after another gives the input order.
    expect((await readOutput(out)).examples.map((e) => e.filename)).toEqual(CSV_ORDER);
  });

  it('--name sets the prefix', async () => {
    const { out } = await convert({ name: 'shapes', shards: 2 });
    expect(await shardFiles(out)).toEqual(['shapes-00000-of-00002.tfrecord', 'shapes-00001-of-00002.tfrecord']);
  });

  it('--compression gzip / zlib: .tfrecord.gz / .tfrecord.zz that the reader reads back', async () => {
    const plain = await readOutput((await convert()).out);
    for (const [compression, ext, magic] of [
      ['gzip', '.tfrecord.gz', 0x1f],
      ['zlib', '.tfrecord.zz', 0x78],
    ] as const) {
      const { out, report } = await convert({ compression });
      const files = await shardFiles(out);
      expect(files).toEqual([`data-00000-of-00001${ext}`]);
      expect((await readFile(path.join(out, files[0]!)))[0]).toBe(magic);
      const output = await readOutput(out);
      expect(output.examples.map((e) => sha256(e.image))).toEqual(plain.examples.map((e) => sha256(e.image)));
      expect(output.manifest.runs[0].options).toMatchObject({ compression, extension: ext });
      expect(report.findings.filter((f) => f.severity === 'error')).toEqual([]);
    }
  });

  it('a re-run with fewer shards removes the old shard files of that prefix, and only those', async () => {
    const out = await tempDir();
    await convert({ shards: 3 }, out);
    await convert({ shards: 2, name: 'other' }, out);
    await writeFile(path.join(out, 'data-notes.txt'), 'mine');
    const { report } = await convert({ shards: 2 }, out);
    expect(report.replaced.sort()).toEqual(['data-00000-of-00003.tfrecord', 'data-00001-of-00003.tfrecord', 'data-00002-of-00003.tfrecord']);
    expect(await listTree(out)).toEqual([
      'data-00000-of-00002.tfrecord',
      'data-00001-of-00002.tfrecord',
      'data-notes.txt',
      'label_map.pbtxt',
      'manifest.json',
      'other-00000-of-00002.tfrecord',
      'other-00001-of-00002.tfrecord',
    ]);
  });

  it("removes hidden staging files of a killed run (dead process), never a live run's", async () => {
    const out = await tempDir();
    // A pid far above any real one stands for a run that was killed.
    const dead = ['.data-0.staging-4194999-abcdef', '.label_map.pbtxt.tmp-4194999'];
    const live = `.data-1.staging-${process.pid}-123456`;
    for (const f of [...dead, live]) await writeFile(path.join(out, f), 'x');
    const { report } = await convert({ shards: 1 }, out);
    expect(report.replaced.sort()).toEqual(dead);
    const left = await listTree(out);
    expect(left).toContain(live);
    for (const f of dead) expect(left).not.toContain(f);
  });
});

describe('--split', () => {
  const splits = [
    { name: 'train', fraction: 0.5 },
    { name: 'val', fraction: 0.5 },
  ];

  /**
   * The documented rule, written out independently: the first 48 bits of
   * SHA-256("<seed>\0<the image's path relative to the images root>") as a
   * fraction, compared with the running sum of the split fractions.
   */
  function expectedSplit(id: string, seed: number): string {
    const u = createHash('sha256').update(`${seed}\u0000${id}`).digest().readUIntBE(0, 6) / 2 ** 48;
    return u < 0.5 ? 'train' : 'val';
  }

  async function assignment(out: string): Promise<Record<string, string>> {
    const result: Record<string, string> = {};
    for (const split of ['train', 'val']) {
      const files = (await shardFiles(out)).filter((f) => f.startsWith(`${split}-`));
      for (const e of (await readOutput(out, files)).examples) result[e.filename] = split;
    }
    return result;
  }

  it('assigns each image by its identity and the seed, not by its position', async () => {
    const { out, report } = await convert({ split: splits, seed: 1 });
    expect(await shardFiles(out)).toEqual(['train-00000-of-00001.tfrecord', 'val-00000-of-00001.tfrecord']);
    const first = await assignment(out);
    expect(Object.keys(first).sort()).toEqual([...CSV_ORDER].sort());
    for (const [file, split] of Object.entries(first)) expect(split, file).toBe(expectedSplit(file, 1));
    expect(report.splits.map((s) => [s.name, s.records])).toEqual([
      ['train', Object.values(first).filter((s) => s === 'train').length],
      ['val', Object.values(first).filter((s) => s === 'val').length],
    ]);

    // The same rows in reverse order (and image groups reversed): same assignment.
    const lines = (await readFile(path.join(SAMPLE, 'csv', 'annotations.csv'), 'utf8')).trimEnd().split('\n');
    const dir = await tempDir('csv');
    await writeFile(path.join(dir, 'annotations.csv'), [lines[0], ...lines.slice(1).reverse()].join('\n') + '\n');
    const shuffled = await tempDir();
    const again = await convertDataset({
      from: 'csv',
      annotations: path.join(dir, 'annotations.csv'),
      images: path.join(SAMPLE, 'images'),
      out: shuffled,
      workers: 0,
      split: splits,
      seed: 1,
    });
    expect(again.ok).toBe(true);
    expect(await assignment(shuffled)).toEqual(first);
  });

  it('another seed gives another assignment', async () => {
    const { out: a } = await convert({ split: splits, seed: 1 });
    const { out: b } = await convert({ split: splits, seed: 2 });
    const [one, two] = [await assignment(a), await assignment(b)];
    for (const [file, split] of Object.entries(two)) expect(split, file).toBe(expectedSplit(file, 2));
    expect(two).not.toEqual(one);
  });

  it('with --name the prefixes are NAME-SPLIT', async () => {
    const { out } = await convert({ split: splits, seed: 1, name: 'shapes' });
    expect(await shardFiles(out)).toEqual(['shapes-train-00000-of-00001.tfrecord', 'shapes-val-00000-of-00001.tfrecord']);
  });
});

describe('manifest.json', () => {
  it('records the tool, options, shards (records, bytes, sha256 of the file), classes, label map and box changes', async () => {
    const { out, report } = await convert({ shards: 2, bbox: 'clip', seed: 7 });
    const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8'));
    const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8'));
    expect(manifest.tool).toEqual({ name: 'tfrecord-od', version: pkg.version });
    expect(manifest.runs[0].options).toEqual({
      from: 'csv',
      annotations: path.join(SAMPLE, 'csv', 'annotations.csv'),
      images: path.join(SAMPLE, 'images'),
      classes: null,
      imageSet: null,
      labelMap: null,
      name: null,
      shards: 2,
      shardSize: null,
      compression: 'none',
      split: null,
      seed: 7,
      bbox: 'clip',
      onError: 'fail',
      crowd: 'keep',
      empty: 'keep',
      format: 'jpeg',
      quality: null,
      maxSize: null,
      maxPixels: null,
      target: 'ai-platform',
      extension: '.tfrecord',
    });
    expect(manifest.splits).toHaveLength(1);
    const split = manifest.splits[0];
    expect(split).toMatchObject({ name: 'data', records: 12, boxes: 27 });
    for (const sh of split.shards) {
      const bytes = await readFile(path.join(out, sh.name));
      expect(sh.sha256).toBe(sha256(bytes));
      expect(sh.bytes).toBe(bytes.length);
      expect(sh.uncompressedBytes).toBe(bytes.length);
      // Cloud Storage's crc32c_hash: base64 of the big-endian CRC32C of the object.
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(crc32c(bytes));
      expect(sh.crc32c).toBe(crc.toString('base64'));
      let records = 0;
      for await (const _ of readRecords(path.join(out, sh.name))) records++;
      expect(sh.records).toBe(records);
    }
    expect(split.shards.map((s: { name: string; records: number }) => [s.name, s.records])).toEqual([
      ['data-00000-of-00002.tfrecord', 6],
      ['data-00001-of-00002.tfrecord', 6],
    ]);
    // Counted by hand from truth.json.
    expect(manifest.classes).toEqual([
      { label: 1, name: 'circle', boxes: 9, images: 8 },
      { label: 2, name: 'square', boxes: 10, images: 9 },
      { label: 3, name: 'triangle', boxes: 8, images: 6 },
    ]);
    expect(manifest.labelMap).toEqual([
      { id: 1, name: 'circle' },
      { id: 2, name: 'square' },
      { id: 3, name: 'triangle' },
    ]);
    expect(manifest.runs[0].labelOrder).toBe('first-appearance');
    expect(manifest.runs[0].items).toEqual({ total: 12, converted: 12, skipped: 0, reencoded: 2, withoutBoxes: 1, withoutLabelFile: 0 });
    expect(manifest.runs[0].boxes).toEqual({ total: 27, clipped: 1, dropped: 0 });
    expect(manifest.runs[0].skipped).toEqual([]);
    expect(manifest.runs[0].dropped).toEqual([]);
    expect(manifest.runs[0].clipped).toEqual([
      {
        index: 1,
        className: 'square',
        before: [0.85, 0.833333, 1.015, 1.02],
        after: [0.85, 0.833333, 1, 1],
        reason: 'clipped to the image',
        itemId: 'img07.jpg',
        source: { file: path.join(SAMPLE, 'csv', 'annotations.csv'), line: 14 },
      },
    ]);
    expect(manifest.runs[0].warnings.map((w: { code: string; itemId: string }) => [w.code, w.itemId])).toEqual([
      ['image-reencoded', 'img05.jpg'],
      ['image-reencoded', 'img06.webp'],
    ]);
    // The report returned agrees with what was written.
    expect(report.splits[0]!.shards.map((s) => s.sha256)).toEqual(split.shards.map((s: { sha256: string }) => s.sha256));
  });
});
