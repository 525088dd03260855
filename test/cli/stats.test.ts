import { readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { HAVE_INTEROP, interopPath } from '../helpers/interop.js';
import { box, example, greyImage, type Scratch, scratch } from '../stats/helpers.js';

let dir: Scratch;

beforeAll(async () => {
  dir = await scratch();
  const jpeg = await greyImage('jpeg', 64, 48);
  const png = await greyImage('png', 32, 32);
  await dir.write('train-00000.tfrecord', [
    example(jpeg, 'jpeg', 64, 48, 'a', [box(0, 0, 0.5, 0.5, 1, 'cat'), box(0.25, 0.25, 0.5, 0.5, 2, 'dog')]),
    example(png, 'png', 32, 32, 'b', []),
  ]);
  await dir.write('train-00001.tfrecord', [example(jpeg, 'jpeg', 64, 48, 'c', [box(0, 0, 0.0625, 0.0625, 2, 'dog')])]);
  await writeFile(join(dir.path, 'label_map.pbtxt'), "item { id: 1 name: 'cat' }\nitem { id: 2 name: 'dog' }\nitem { id: 3 name: 'bird' }\n");
});
afterAll(() => dir.remove());

describe('tfrecord-od stats', () => {
  it('prints a readable report for a directory, with paths relative to the working directory', async () => {
    const r = await runCli(['stats', '.', '--label-map', 'label_map.pbtxt'], dir.path);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out.split('\n')[0]).toBe('2 files, 3 records, 3 boxes, 1 image without boxes');
    expect(out).toMatch(/^ {2}train-00000\.tfrecord\s+\S+ \S+\s+2\s+\S+ \S+$/m);
    expect(out).toMatch(/^ {2}train-00001\.tfrecord\s+\S+ \S+\s+1\s+\S+ \S+$/m);
    expect(out).toMatch(/^ {2}total\s+\S+ \S+\s+3\s/m);
    // Class rows: label, name, boxes, share, images (bird is in the map but unused).
    expect(out).toMatch(/^ {2}1\s+cat\s+1\s+33\.3%\s+1$/m);
    expect(out).toMatch(/^ {2}2\s+dog\s+2\s+66\.7%\s+2$/m);
    expect(out).toMatch(/^ {2}3\s+bird\s+0\s+0\.0%\s+0$/m);
    expect(out).toContain('Boxes per image: min 0, mean 1, median 1, max 2');
    expect(out).toMatch(/^ {2}<1%\s+1\s+33\.3%\s+#+$/m);
    expect(out).toMatch(/^ {2}>=25%\s+1\s+33\.3%\s+#+$/m);
    expect(out).toMatch(/^ {2}jpeg\s+2\s+66\.7%$/m);
    expect(out).toMatch(/^ {2}64x48\s+2\s+66\.7%$/m);
  });

  it('aligns table columns', async () => {
    const r = await runCli(['stats', '.'], dir.path);
    const lines = r.stdout.split('\n');
    const header = lines.findIndex((l) => l.startsWith('  label'));
    const rows = lines.slice(header, header + 3);
    // Every row ends its "boxes" column at the same place as the header's.
    const end = rows[0]!.indexOf('boxes') + 'boxes'.length;
    for (const row of rows.slice(1)) expect(row[end - 1]).toMatch(/\d/);
  });

  it('prints one JSON object with --json', async () => {
    const r = await runCli(['stats', 'train-00000.tfrecord', 'train-00001.tfrecord', '--json'], dir.path);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const s = JSON.parse(r.stdout);
    expect(s.records).toBe(3);
    expect(s.boxes).toBe(3);
    expect(s.imagesWithoutBoxes).toBe(1);
    expect(s.files.map((f: { file: string; records: number }) => [f.file, f.records])).toEqual([
      ['train-00000.tfrecord', 2],
      ['train-00001.tfrecord', 1],
    ]);
    expect(s.classes.map((c: { label: number; name: string; boxes: number; images: number }) => [c.label, c.name, c.boxes, c.images])).toEqual([
      [1, 'cat', 1, 1],
      [2, 'dog', 2, 2],
    ]);
    expect(s.boxSizes.buckets.map((b: { count: number }) => b.count)).toEqual([1, 0, 1, 1]);
    expect(s.errors).toEqual([]);
  });

  it('reports a truncated file on stderr with its location, prints what was read and exits 1', async () => {
    const src = join(dir.path, 'train-00000.tfrecord');
    const cut = join(dir.path, 'cut.bin');
    await writeFile(cut, await readFile(src));
    await truncate(cut, (await stat(cut)).size - 5);
    const r = await runCli(['stats', 'cut.bin', '--json'], dir.path);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tfrecord-od stats: cut\.bin: record 1 at byte \d+: file ends/m);
    const s = JSON.parse(r.stdout);
    expect(s.records).toBe(1);
    expect(s.errors[0]).toMatchObject({ code: 'truncated', file: 'cut.bin', record: 1 });
  });

  it('exits 2 on usage errors', async () => {
    expect((await runCli(['stats'], dir.path)).code).toBe(2);
    expect((await runCli(['stats', '.', '--bogus'], dir.path)).code).toBe(2);
    expect((await runCli(['stats', '.', '--compression', 'lz4'], dir.path)).code).toBe(2);
  });

  it('exits 2 (a usage mistake) with a message for a missing file or label map', async () => {
    const missing = await runCli(['stats', 'nope.tfrecord'], dir.path);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.tfrecord');
    const noMap = await runCli(['stats', '.', '--label-map', 'nope.pbtxt'], dir.path);
    expect(noMap.code).toBe(2);
    expect(noMap.stderr).toContain('nope.pbtxt');
  });

  it.skipIf(!HAVE_INTEROP)('describes the golden od_three.tfrecord', async () => {
    const r = await runCli(['stats', interopPath('golden/od_three.tfrecord'), '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect([s.records, s.boxes, s.imagesWithoutBoxes]).toEqual([3, 3, 1]);
    expect(s.classes.map((c: { label: number; name: string }) => [c.label, c.name])).toEqual([
      [1, 'cat'],
      [2, 'dog'],
      [3, 'bird'],
    ]);
  });
});
