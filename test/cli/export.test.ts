import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { toExample } from '../../src/detection/to-example.js';
import { encodeExample } from '../../src/example/codec.js';
import { int64Feature } from '../../src/example/features.js';
import { writeRecords } from '../../src/io/write.js';
import { runCli } from '../helpers/cli.js';
import { solid } from '../image/make-images.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tfrecord-od-cli-export-'));
  const image = await solid('png', 20, 10);
  const base = { image, format: 'png', width: 20, height: 10, sha256: '' };
  await writeRecords(join(dir, 'data.tfrecord'), [
    encodeExample(
      toExample({
        ...base,
        filename: 'a.png',
        sourceId: 'a.png',
        objects: [{ xmin: 0, ymin: 0, xmax: 0.5, ymax: 0.5, label: 1, text: 'cat', difficult: true }],
      }),
    ),
    encodeExample(toExample({ ...base, filename: 'a.png', sourceId: 'a.png', objects: [] })),
  ]);
  await writeRecords(join(dir, 'junk.tfrecord'), [encodeExample({ n: int64Feature(1) })]);
});

describe('tfrecord-od export', () => {
  it('writes the dataset and a report: classes, losses, renames, paths relative to cwd', async () => {
    const res = await runCli(['export', 'data.tfrecord', '--to', 'yolo', '--out', 'yolo'], dir);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('image/object/difficult: not representable in YOLO, 1 box (1 set)');
    expect(res.stdout).toContain('data.tfrecord: record 1: "a.png" → a-1.png (duplicate)');
    expect(res.stdout).toMatch(/1 \[0\]\s+cat\s+1 box\n/);
    expect(res.stdout).toContain('Exported 2 images (1 without boxes) and 1 box from 1 file as YOLO.');
    expect(res.stdout).toContain('Annotations: yolo/labels\n');
    expect(existsSync(join(dir, 'yolo', 'images', 'a-1.png'))).toBe(true);
  });

  it('--json prints the report as JSON', async () => {
    const res = await runCli(['export', 'data.tfrecord', '--to', 'coco', '--out', 'coco-json', '--json'], dir);
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout);
    expect(report).toMatchObject({ ok: true, to: 'coco', records: 2, boxes: 1, renamed: { count: 1 } });
  });

  it('input that is not detection examples: the problems on stderr, exit 1, nothing written', async () => {
    const res = await runCli(['export', 'junk.tfrecord', '--to', 'csv', '--out', 'junk-out'], dir);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain("junk.tfrecord: record 0 at byte 0: not an object-detection example: feature 'image/encoded' is missing");
    expect(res.stderr).toContain('FAILED:');
    expect(existsSync(join(dir, 'junk-out'))).toBe(false);
  });

  it('usage mistakes exit 2: no --to, an unknown --to, a non-empty --out', async () => {
    expect((await runCli(['export', 'data.tfrecord', '--out', 'x'], dir)).code).toBe(2);
    const bad = await runCli(['export', 'data.tfrecord', '--to', 'kitti', '--out', 'x'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--to must be one of coco, voc, yolo, csv');
    await mkdir(join(dir, 'full'));
    await writeFile(join(dir, 'full', 'keep.txt'), 'x');
    const full = await runCli(['export', 'data.tfrecord', '--to', 'voc', '--out', 'full'], dir);
    expect(full.code).toBe(2);
    expect(full.stderr).toContain('full: the output folder is not empty');
  });
});
