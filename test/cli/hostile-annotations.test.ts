/**
 * Annotation files that took gigabytes to convert (issue 17), run through the
 * built CLI under a 128 MB heap. Before the limits each of these aborted with
 * "heap out of memory": a CSV row of 30 MB (~1.2 GB), a VOC file of 2 million
 * nested elements (~900 MB), a YOLO label file of a million boxes, and 50
 * label files of 10,000 boxes each (all kept between convert's two passes).
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

let dir: string;
let jpeg: Buffer;

async function put(rel: string, content: string | Buffer): Promise<string> {
  const file = join(dir, rel);
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, content);
  return file;
}

function convert128(args: string[]) {
  const started = performance.now();
  const res = spawnSync(process.execPath, ['--max-old-space-size=128', CLI, 'convert', ...args, '--quiet'], { cwd: dir, encoding: 'utf8' });
  return { ...res, seconds: (performance.now() - started) / 1000 };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tfrecord-od-hostile-ann-'));
  jpeg = await sharp({ create: { width: 32, height: 24, channels: 3, background: '#777' } })
    .jpeg()
    .toBuffer();
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('hostile annotation files under a 128 MB heap', () => {
  it('CSV: a 30 MB row is an item error naming its line', async () => {
    await put('csv/a.jpg', jpeg);
    await put('csv/ann.csv', `filename,class,xmin,ymin,xmax,ymax\na.jpg,cat,1,1,9,9\na.jpg,"${'x'.repeat(30_000_000)}",1,1,9,9\n`);
    const res = convert128(['--from', 'csv', '--annotations', 'csv/ann.csv', '--out', 'out-csv']);
    expect(res.stderr + res.stdout).not.toMatch(/heap out of memory/);
    expect(res.status).toBe(1);
    expect(res.stdout + res.stderr).toContain('csv/ann.csv:3: malformed-annotation: the row is longer than 1,048,576 characters');
    expect(res.seconds).toBeLessThan(30);
  });

  it('VOC: 2 million nested elements are an item error naming the line', async () => {
    await put('voc/JPEGImages/a.jpg', jpeg);
    const n = 2_000_000;
    await put('voc/Annotations/a.xml', `<annotation>\n<filename>a.jpg</filename>\n<x>\n${'<a>'.repeat(n)}${'</a>'.repeat(n)}</x>\n</annotation>\n`);
    const res = convert128(['--from', 'voc', '--annotations', 'voc', '--out', 'out-voc']);
    expect(res.stderr + res.stdout).not.toMatch(/heap out of memory/);
    expect(res.status).toBe(1);
    expect(res.stdout + res.stderr).toContain('a.xml:4: malformed-annotation: XML: elements nested more than 100 deep');
  });

  it('YOLO: a label file of a million boxes is an item error at box 100,001', async () => {
    await put('yolo1/images/a.jpg', jpeg);
    await put('yolo1/classes.txt', 'cat\n');
    await put('yolo1/labels/a.txt', '0 0.5 0.5 0.1 0.1\n'.repeat(1_000_000));
    const res = convert128(['--from', 'yolo', '--annotations', 'yolo1/labels', '--out', 'out-yolo1']);
    expect(res.stderr + res.stdout).not.toMatch(/heap out of memory/);
    expect(res.status).toBe(1);
    expect(res.stdout + res.stderr).toContain('a.txt:100001: malformed-annotation: the image has more than 100,000 boxes');
  });

  it('YOLO: 50 label files of 10,000 boxes each convert (not all kept between the passes)', async () => {
    await put('yolo50/classes.txt', 'cat\n');
    const lines = '0 0.5 0.5 0.1 0.1\n'.repeat(10_000);
    for (let i = 0; i < 50; i++) {
      // Distinct images, so none is reported as a duplicate.
      const img = await sharp({ create: { width: 32, height: 24, channels: 3, background: { r: i, g: 0, b: 0 } } })
        .jpeg()
        .toBuffer();
      await put(`yolo50/images/${i}.jpg`, img);
      await put(`yolo50/labels/${i}.txt`, lines);
    }
    const res = convert128(['--from', 'yolo', '--annotations', 'yolo50/labels', '--out', 'out-yolo50', '--json']);
    expect(res.stderr).not.toMatch(/heap out of memory/);
    expect(res.status, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ ok: true, items: { converted: 50 }, boxes: { total: 500_000 } });
  });

  it('a label map id of 2^31-1 is refused for its gaps without listing them', async () => {
    await put('lm/a.jpg', jpeg);
    await put('lm/ann.csv', 'filename,class,xmin,ymin,xmax,ymax\na.jpg,cat,1,1,9,9\n');
    await put('lm/map.pbtxt', "item { id: 2147483647 name: 'cat' }\n");
    const res = convert128(['--from', 'csv', '--annotations', 'lm/ann.csv', '--label-map', 'lm/map.pbtxt', '--out', 'out-lm']);
    expect(res.stderr).not.toMatch(/heap out of memory/);
    expect(res.status).toBe(1);
    expect(res.stderr).toContain("the label map's ids skip 1, 2, 3, 4, 5, 6, 7, 8, … (2147483646 in all)");
  });

  it('a label map of 100,001 items is refused naming the line of the last one', async () => {
    let text = '';
    for (let i = 1; i <= 100_001; i++) text += `item { id: ${i} name: 'c${i}' }\n`;
    await put('lm2/map.pbtxt', text);
    for (const command of [
      ['validate', 'lm2'],
      ['stats', 'lm2'],
    ]) {
      const res = spawnSync(process.execPath, ['--max-old-space-size=128', CLI, ...command, '--label-map', 'lm2/map.pbtxt'], { cwd: dir, encoding: 'utf8' });
      expect(res.status, res.stderr).toBe(1);
      expect(res.stderr).toContain('lm2/map.pbtxt: line 100001: the label map has more than 100,000 items (the limit); this is the first one over it');
    }
  });
});
