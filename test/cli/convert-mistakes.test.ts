/**
 * The mistakes people make with `convert` and what they get back: one error
 * for a wrong --images folder (not one per item), hints on missing images
 * (letter case; images in another folder than the default), an --out that is
 * a file, --split fractions that do not add up, negative numbers, counts that
 * agree, and counts written in good English.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listTree, SAMPLE, tempDir } from '../convert/helpers.js';
import { runCli } from '../helpers/cli.js';

const IMAGE = path.join(SAMPLE, 'images', 'img01.jpg'); // 320x240
const HEADER = 'filename,width,height,class,xmin,ymin,xmax,ymax';

/** A folder with the given files: string contents, or `null` for a copy of the sample JPEG. */
async function tree(files: Record<string, string | null>): Promise<string> {
  const root = await tempDir('mistakes');
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(root, name);
    await mkdir(path.dirname(file), { recursive: true });
    if (content === null) await copyFile(IMAGE, file);
    else await writeFile(file, content);
  }
  return root;
}

const row = (name: string, box = '10,10,50,50') => `${name},320,240,raccoon,${box}`;
const csv = (...rows: string[]) => [HEADER, ...rows].join('\n') + '\n';

function voc(filename: string): string {
  return `<annotation><filename>${filename}</filename><size><width>320</width><height>240</height></size>
<object><name>raccoon</name><bndbox><xmin>10</xmin><ymin>10</ymin><xmax>50</xmax><ymax>50</ymax></bndbox></object></annotation>\n`;
}

const convert = (cwd: string, ...args: string[]) => runCli(['convert', '--workers', '0', '--out', 'out', ...args], cwd);

describe('convert: the images folder', () => {
  it('a missing --images folder is one usage error naming it, not a missing image per item', async () => {
    const root = await tree({ 'labels.csv': csv(row('a.jpg'), row('b.jpg'), row('c.jpg')), 'images/a.jpg': null });
    const r = await convert(root, '--from', 'csv', '--annotations', 'labels.csv', '--images', 'imgs');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('tfrecord-od convert: images folder does not exist: imgs');
    expect(lines.filter((l) => /missing-image|not found/.test(l))).toEqual([]);
    expect(await listTree(root)).not.toContain('out');
  });

  it('a misspelt --images folder gets a did-you-mean (here: the letter case)', async () => {
    const root = await tree({ 'labels.csv': csv(row('a.jpg')), 'images/a.jpg': null });
    const r = await convert(root, '--from', 'csv', '--annotations', 'labels.csv', '--images', 'Images');
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('tfrecord-od convert: images folder does not exist: Images (did you mean images?)');
  });

  it('--images that is a file is a usage error', async () => {
    const root = await tree({ 'labels.csv': csv(row('a.jpg')), 'a.jpg': null });
    const r = await convert(root, '--from', 'csv', '--annotations', 'labels.csv', '--images', 'a.jpg');
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('tfrecord-od convert: --images is a file, not a folder: a.jpg');
  });

  it('--out that is an existing file is exit 2, not EEXIST', async () => {
    const root = await tree({ 'labels.csv': csv(row('a.jpg')), 'a.jpg': null, result: 'x' });
    const r = await runCli(['convert', '--from', 'csv', '--annotations', 'labels.csv', '--out', 'result'], root);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('tfrecord-od convert: --out is a file, not a folder: result');
    expect(r.stderr).not.toMatch(/EEXIST|ENOTDIR/);
    expect(await readFile(path.join(root, 'result'), 'utf8')).toBe('x');
  });
});

describe('convert: hints on missing images', () => {
  it('a file name that differs only in letter case: "did you mean"', async () => {
    const root = await tree({ 'data/labels.csv': csv(row('raccoon-105.jpg'), row('raccoon-2.jpg')), 'data/Raccoon-105.JPG': null, 'data/raccoon-2.jpg': null });
    const r = await convert(root, '--from', 'csv', '--annotations', 'data/labels.csv');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `data/labels.csv:2: missing-image: image file not found: ${path.join(root, 'data', 'raccoon-105.jpg')} (did you mean Raccoon-105.JPG? the letter case differs)`,
    );
  });

  it('a folder that differs only in letter case (COCO file_name Images/…)', async () => {
    const doc = {
      images: [{ id: 1, file_name: 'Images/a.jpg', width: 320, height: 240 }],
      annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [10, 10, 40, 40] }],
      categories: [{ id: 1, name: 'raccoon' }],
    };
    const root = await tree({ 'ann.json': JSON.stringify(doc), 'images/a.jpg': null });
    const r = await convert(root, '--from', 'coco', '--annotations', 'ann.json');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('(did you mean images/a.jpg? the letter case differs)');
  });

  it('no hint when nothing fits', async () => {
    const root = await tree({ 'labels.csv': csv(row('gone.jpg')) });
    const r = await convert(root, '--from', 'csv', '--annotations', 'labels.csv');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/image file not found: \S+gone\.jpg\n/);
  });

  it('CSV with the images root left to its default: points at ../images, where they are', async () => {
    const root = await tree({ 'dataset/annotations/labels.csv': csv(row('a.jpg'), row('b.jpg')), 'dataset/images/a.jpg': null, 'dataset/images/b.jpg': null });
    const r = await convert(root, '--from', 'csv', '--annotations', 'dataset/annotations/labels.csv');
    expect(r.code).toBe(1);
    const images = path.join(root, 'dataset', 'images');
    expect(r.stderr).toContain(
      `missing-image: image file not found: ${path.join(root, 'dataset', 'annotations', 'a.jpg')} (it is in ${images}: pass --images ${images})`,
    );
    // Following the hint works.
    const again = await convert(root, '--from', 'csv', '--annotations', 'dataset/annotations/labels.csv', '--images', images);
    expect(again.code, again.stderr).toBe(0);
  });

  it('VOC (a folder of XML files, no VOC root) with the images in ../JPEGImages', async () => {
    const root = await tree({ 'set/xml/a.xml': voc('a.jpg'), 'set/JPEGImages/a.jpg': null });
    const r = await convert(root, '--from', 'voc', '--annotations', 'set/xml');
    expect(r.code).toBe(1);
    const images = path.join(root, 'set', 'JPEGImages');
    expect(r.stderr).toContain(`(it is in ${images}: pass --images ${images})`);
  });

  it('no folder hint when --images was given: the user chose the folder', async () => {
    const root = await tree({ 'ann/labels.csv': csv(row('a.jpg')), 'pics/x.jpg': null, 'images/a.jpg': null });
    const r = await convert(root, '--from', 'csv', '--annotations', 'ann/labels.csv', '--images', 'pics');
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('pass --images');
  });
});

describe('convert: counts agree and read well', () => {
  it('problems and items are counted apart when an item has several problems', async () => {
    // a.jpg: missing and with an inverted box (two problems, one item); b.jpg: missing.
    const root = await tree({ 'labels.csv': csv(row('a.jpg', '50,10,10,50'), row('b.jpg')), 'c.jpg': null });
    const r = await convert(root, '--from', 'csv', '--annotations', 'labels.csv');
    expect(r.code).toBe(1);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('Items that could not be converted (3 problems in 2 items):');
    expect(lines.at(-1)).toBe('FAILED: 2 items could not be converted (--on-error fail); nothing was written');
  });

  it('one item, one problem: the heading count and the verdict say 1', async () => {
    const root = await tree({ 'labels.csv': csv(row('a.jpg'), row('gone.jpg')), 'a.jpg': null });
    const r = await convert(root, '--from', 'csv', '--annotations', 'labels.csv');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('Items that could not be converted (1):');
    expect(lines.at(-1)).toBe('FAILED: 1 item could not be converted (--on-error fail); nothing was written');
  });

  it('the summary of a one-image dataset is in the singular', async () => {
    const root = await tree({ 'labels.csv': csv(row('a.jpg')), 'a.jpg': null });
    const r = await convert(root, '--from', 'csv', '--annotations', 'labels.csv');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('    1  raccoon                    1 box   in 1 image\n');
    expect(r.stdout).toContain('Converted 1 of 1 image (0 skipped, 0 re-encoded, 0 without boxes); 1 box (0 clipped, 0 dropped).\n');
    expect(r.stdout).toMatch(/\ndata: 1 record, 1 box in 1 shard\n {2}out\/data-00000-of-00001\.tfrecord {2}\(1 record, /);
  });
});

describe('convert: numbers on the command line', () => {
  const base = ['--from', 'csv', '--annotations', 'labels.csv'];
  const cases: Array<[string, string[], string]> = [
    ['fractions over 1', ['--split', 'train=0.8,val=0.3'], '--split fractions add up to 1.1; make them add up to 1, or give weights like train=8,val=3'],
    ['fractions under 1', ['--split', 'train=0.5,val=0.25'], '--split fractions add up to 0.75; make them add up to 1, or give weights like train=50,val=25'],
    ['a negative shard count', ['--shards', '-3'], '--shards must be at least 1; got -3'],
    ['too many workers', ['--workers', '1000'], '--workers must be between 0 and 256; got 1000'],
  ];
  it.each(cases)('%s is a usage error that says so', async (_, args, message) => {
    const root = await tree({ 'labels.csv': csv(row('a.jpg')), 'a.jpg': null });
    const r = await runCli(['convert', ...base, '--out', 'out', ...args], root);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toContain(message);
    expect(r.stderr).not.toMatch(/ambiguous|ERR_PARSE_ARGS/);
  });

  it('whole-number weights are still normalised, and fractions that add up to 1 are taken', async () => {
    for (const split of ['train=8,val=2', 'train=0.7,val=0.2,test=0.1']) {
      const root = await tree({ 'labels.csv': csv(row('a.jpg')), 'a.jpg': null });
      const r = await runCli(['convert', ...base, '--out', 'out', '--workers', '0', '--split', split, '--json'], root);
      expect(r.code, r.stderr).toBe(0);
    }
  });
});

describe('convert: a truncated COCO file', () => {
  it('names a byte offset inside the file: its end, wherever it was cut', async () => {
    const whole = await readFile(path.join(SAMPLE, 'coco', 'instances.json'));
    // The last cut drops only the closing brace.
    for (const cut of [30, 100, 1000, Math.floor(whole.length / 2), whole.lastIndexOf(0x7d)]) {
      const root = await tree({ 'instances.json': whole.subarray(0, cut).toString('latin1') });
      const r = await runCli(['convert', '--from', 'coco', '--annotations', 'instances.json', '--out', 'out'], root);
      expect(r.code).toBe(1);
      const m = /^tfrecord-od convert: (\S+): line \d+ at byte (\d+): COCO annotations are not valid JSON: /.exec(r.stderr);
      expect(m, r.stderr).not.toBeNull();
      expect(Number(m![2]), `cut at ${cut}: ${r.stderr}`).toBe(cut);
    }
  });
});
