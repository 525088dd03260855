import { existsSync } from 'node:fs';
import { readFile, readdir, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { HAVE_INTEROP, interopPath } from '../helpers/interop.js';
import { box, example, greyImage, type Scratch, scratch } from '../stats/helpers.js';

let dir: Scratch;

beforeAll(async () => {
  dir = await scratch();
  const jpeg = await greyImage('jpeg', 80, 60);
  const png = await greyImage('png', 50, 40);
  await dir.write('data/val-00000.tfrecord', []);
  await dir.write('data/val-00001.tfrecord', [
    example(jpeg, 'jpeg', 80, 60, 'a', [box(0.1, 0.1, 0.6, 0.6, 1, 'cat')]),
    example(png, 'png', 50, 40, 'b', [box(0.5, 0.5, 1.25, 0.9, 2, 'dog')]), // out of range
    example(png, 'png', 50, 40, 'c', []),
    example(jpeg, 'jpeg', 80, 60, 'd', [box(0.2, 0.2, 0.4, 0.4, 1, 'cat'), box(0.3, 0.3, 0.5, -0.1, 2, 'dog')]), // out of range
  ]);
});
afterAll(() => dir.remove());

describe('tfrecord-od preview', () => {
  it('writes one JPEG thumbnail per record and an index.html, and prints its path', async () => {
    const r = await runCli(['preview', 'data', '--out', 'out'], dir.path);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${join('out', 'index.html')}\n`);
    const files = (await readdir(join(dir.path, 'out'))).sort();
    expect(files).toEqual(['index.html', 'val-00001-0.jpg', 'val-00001-1.jpg', 'val-00001-2.jpg', 'val-00001-3.jpg']);
    const meta = await sharp(join(dir.path, 'out', 'val-00001-1.jpg')).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([50, 40, 'jpeg']);
    const html = await readFile(join(dir.path, 'out', 'index.html'), 'utf8');
    // Files as the user named them (relative), not absolute paths.
    expect(html).toContain(`"file":${JSON.stringify(join('data', 'val-00001.tfrecord'))}`);
    expect(r.stderr).toContain('previewed 4 of 4 records');
    expect(html).not.toContain(dir.path);
  });

  it('--filter picks exactly the records with that finding and --limit caps them', async () => {
    const r = await runCli(['preview', 'data', '--out', 'bad', '--filter', 'bbox-out-of-range'], dir.path);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('2 of 2 records with bbox-out-of-range');
    expect((await readdir(join(dir.path, 'bad'))).sort()).toEqual(['index.html', 'val-00001-1.jpg', 'val-00001-3.jpg']);
    const html = await readFile(join(dir.path, 'bad', 'index.html'), 'utf8');
    expect(html.match(/"src":/g)).toHaveLength(2);
    expect(html).toMatch(
      /"src":"val-00001-1\.jpg","file":"[^"]*","record":1,"name":"b\.png","classes":\["dog"\],"codes":\["bbox-out-of-range"[^\]]*\],"boxes":1/,
    );
    expect(html).toMatch(/"record":3,"name":"d\.jpeg","classes":\["cat","dog"\],"codes":\["bbox-out-of-range"[^\]]*\],"boxes":2/);

    const one = await runCli(['preview', 'data', '--out', 'bad1', '--filter', 'bbox-out-of-range', '--limit', '1'], dir.path);
    expect(one.code).toBe(0);
    expect((await readdir(join(dir.path, 'bad1'))).sort()).toEqual(['index.html', 'val-00001-1.jpg']);
  });

  it('reports a truncated file with its location and exits 1, still writing the sheet', async () => {
    const src = join(dir.path, 'data', 'val-00001.tfrecord');
    const cut = join(dir.path, 'cut.bin');
    await writeFile(cut, await readFile(src));
    await truncate(cut, (await stat(cut)).size - 3);
    const r = await runCli(['preview', 'cut.bin', '--out', 'cut'], dir.path);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tfrecord-od preview: cut\.bin: record 3 at byte \d+: /m);
    expect(existsSync(join(dir.path, 'cut', 'index.html'))).toBe(true);
    // The cut record gets a placeholder tile that says what happened.
    expect(existsSync(join(dir.path, 'cut', 'cut.bin-3.jpg'))).toBe(true);
  });

  it('exits 2 on usage errors', async () => {
    for (const argv of [
      ['preview', 'data'],
      ['preview', '--out', 'x'],
      ['preview', 'data', '--out', 'x', '--filter', 'no-such-code'],
      ['preview', 'data', '--out', 'x', '--limit', '0'],
      ['preview', 'data', '--out', 'x', '--bogus'],
    ]) {
      const r = await runCli(argv, dir.path);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toContain('Usage: tfrecord-od preview');
    }
  });

  it.skipIf(!HAVE_INTEROP)('previews the Datumaro records with a label 0 box', async () => {
    const r = await runCli(['preview', interopPath('datumaro/tf_detection_api_dataset'), '--out', 'dm', '--filter', 'label-out-of-range'], dir.path);
    expect(r.code).toBe(0);
    const html = await readFile(join(dir.path, 'dm', 'index.html'), 'utf8');
    expect(html).toContain('train.tfrecord');
    expect(html).toContain('<code>label-out-of-range</code>');
  });
});
