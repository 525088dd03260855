/**
 * Item errors through a whole conversion. Under --on-error fail (the
 * default) the run reports every problem with where it is written and leaves
 * nothing under a final name in --out (nor any staging file); under
 * --on-error skip the rest is converted and the manifest lists what was
 * skipped and why.
 */
import { copyFile, cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { DatasetValidator } from 'tfrecord-od/validate';
import { convertDataset } from 'tfrecord-od/convert';
import { runCli } from '../helpers/cli.js';
import { hashTree, listTree, readOutput, SAMPLE, sampleSource, tempDir } from './helpers.js';

/**
 * A CSV dataset with one item per error kind the CSV path can produce, plus
 * two good images (img01, img12). Line numbers are those of the file.
 */
async function brokenCsv(): Promise<{ dir: string; csv: string; args: string[] }> {
  const dir = await tempDir('broken');
  await mkdir(path.join(dir, 'images'));
  for (const f of ['img01.jpg', 'img02.jpg', 'img10.jpg', 'img11.jpg', 'img12.jpg']) {
    await copyFile(path.join(SAMPLE, 'images', f), path.join(dir, 'images', f));
  }
  // A real image beside (not inside) the images root: reachable only through '../'.
  await copyFile(path.join(SAMPLE, 'images', 'img01.jpg'), path.join(dir, 'outside.jpg'));
  await writeFile(path.join(dir, 'images', 'bad.jpg'), 'this is not a JPEG, just text in a file called .jpg');
  await writeFile(path.join(dir, 'classes.txt'), 'circle\nsquare\ntriangle\n');
  const csv = path.join(dir, 'annotations.csv');
  await writeFile(
    csv,
    [
      'filename,width,height,class,xmin,ymin,xmax,ymax',
      'img01.jpg,320,240,circle,40,70,140,170', // 2 ok
      'missing.jpg,100,100,circle,1,1,5,5', // 3 missing-image
      '../outside.jpg,320,240,circle,40,70,140,170', // 4 image-outside-root
      'img02.jpg,240,320,triangle,30,40,130', // 5 malformed-annotation (7 columns)
      'img10.jpg,160,160,square,,,,', // 6 box-without-coordinates
      'bad.jpg,100,100,square,1,1,5,5', // 7 bad-image (found in pass 2)
      'img11.jpg,384,256,hexagon,20,60,120,160', // 8 unknown-class (not in classes.txt)
      'img12.jpg,288,224,circle,20,20,100,100', // 9 ok
      'img12.jpg,288,224,triangle,200,130,280,210', // 10 ok
    ].join('\n') + '\n',
  );
  const args = [
    'convert',
    '--from',
    'csv',
    '--annotations',
    csv,
    '--images',
    path.join(dir, 'images'),
    '--classes',
    path.join(dir, 'classes.txt'),
    '--workers',
    '0',
  ];
  return { dir, csv, args };
}

const EXPECTED_ERRORS = (csv: string) => [
  { code: 'missing-image', itemId: 'missing.jpg', source: { file: csv, line: 3 } },
  { code: 'image-outside-root', source: { file: csv, line: 4 }, reason: expect.stringContaining('../outside.jpg') },
  { code: 'malformed-annotation', itemId: 'img02.jpg', source: { file: csv, line: 5 }, reason: 'row has 7 columns, the header has 8' },
  { code: 'box-without-coordinates', itemId: 'img10.jpg', source: { file: csv, line: 6 } },
  { code: 'unknown-class', itemId: 'img11.jpg', source: { file: csv, line: 8 }, reason: expect.stringContaining('hexagon') },
  // Image problems are found in the second pass, so they are listed last.
  { code: 'bad-image', itemId: 'bad.jpg', source: { file: csv, line: 7 }, reason: expect.stringContaining('not a decodable image') },
];

describe('every item error kind, from a CSV', () => {
  it('--on-error fail: exit 1, every error with its line, nothing written to --out', async () => {
    const { csv, args } = await brokenCsv();
    const out = await tempDir();
    await writeFile(path.join(out, 'notes.txt'), 'not ours');
    const json = await runCli([...args, '--out', out, '--json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(report.ok).toBe(false);
    expect(report.errors).toEqual(EXPECTED_ERRORS(csv).map((e) => expect.objectContaining(e)));
    expect(report.errors.every((e: { reason: string }) => e.reason.length > 0)).toBe(true);
    // Eight images in the CSV: two fine, six not.
    expect(report.items).toMatchObject({ total: 8, converted: 2, skipped: 6 });
    expect(report.failure).toBe('6 items could not be converted (--on-error fail); nothing was written');
    expect(await listTree(out)).toEqual(['notes.txt']);

    const human = await runCli([...args, '--out', out]);
    expect(human.code).toBe(1);
    expect(human.stdout).toBe('');
    expect(human.stderr).toContain('Items that could not be converted (6):');
    expect(human.stderr).toContain(`${csv}:3: missing-image:`);
    expect(human.stderr).toContain(`${csv}:4: image-outside-root:`);
    // Five are shown; the pointer for the rest must not name a manifest that a failed run never writes.
    expect(human.stderr).toContain('… and 1 more (all are listed in --json)');
    expect(human.stderr).toMatch(/FAILED: 6 items could not be converted/);
    expect(await listTree(out)).toEqual(['notes.txt']);
  });

  it('--on-error skip: exit 0, the good images converted, the manifest lists the skipped with reasons', async () => {
    const { csv, args } = await brokenCsv();
    const out = await tempDir();
    const r = await runCli([...args, '--out', out, '--on-error', 'skip', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(true);
    expect(report.items).toMatchObject({ total: 8, converted: 2, skipped: 6 });
    const output = await readOutput(out);
    expect(output.examples.map((e) => [e.filename, e.objects.map((o) => o.text)])).toEqual([
      ['img01.jpg', ['circle']],
      ['img12.jpg', ['circle', 'triangle']],
    ]);
    // Declared order circle, square, triangle; no box is a square, so triangle is 2.
    expect(output.labelMap.items.map((i) => [i.id, i.name])).toEqual([
      [1, 'circle'],
      [2, 'triangle'],
    ]);
    expect(output.manifest.runs[0].skipped).toEqual(EXPECTED_ERRORS(csv).map((e) => expect.objectContaining(e)));
    expect(output.manifest.runs[0].items).toMatchObject({ total: 8, converted: 2, skipped: 6 });
    expect(await listTree(out)).toEqual(['data-00000-of-00001.tfrecord', 'label_map.pbtxt', 'manifest.json']);
  });
});

describe('a JPEG cut short', () => {
  it('is an item error naming the image, not silently stored', async () => {
    const input = await tempDir('input');
    await cp(SAMPLE, input, { recursive: true });
    const jpeg = path.join(input, 'images', 'img09.jpg');
    const whole = await readFile(jpeg);
    await writeFile(jpeg, whole.subarray(0, Math.floor(whole.length / 2)));
    const out = await tempDir();
    const report = await convertDataset({ ...sampleSource('csv', input), out, workers: 0 });
    expect(report.ok).toBe(false);
    expect(report.errors).toEqual([expect.objectContaining({ code: 'bad-image', itemId: 'img09.jpg' })]);
    expect(report.errors[0]!.reason).toMatch(/truncated|premature|not a decodable/i);
    expect(await listTree(out)).toEqual([]);
  });
});

describe('an image error found after shards were opened', () => {
  it('fails without touching the previous output in --out, with or without workers', async () => {
    // A good conversion first: a failed re-run must leave it as it was.
    const out = await tempDir();
    const first = await convertDataset({ ...sampleSource('csv'), out, workers: 0, shards: 2 });
    expect(first.ok).toBe(true);
    const before = await hashTree(out);

    const input = await tempDir('input');
    await cp(SAMPLE, input, { recursive: true });
    // img09 comes late in the CSV, after several records were written.
    await writeFile(path.join(input, 'images', 'img09.jpg'), Buffer.from('garbage, not an image'));
    for (const workers of [0, 2]) {
      const report = await convertDataset({ ...sampleSource('csv', input), out, workers, shards: 3 });
      expect(report.ok).toBe(false);
      expect(report.errors).toEqual([
        expect.objectContaining({ code: 'bad-image', itemId: 'img09.jpg', source: { file: path.join(input, 'csv', 'annotations.csv'), line: 20 } }),
      ]);
      expect(report.splits).toEqual([]);
      expect(report.replaced).toEqual([]);
      // No shard of the new set (-of-00003), no staging or temporary file, old files intact.
      expect(await hashTree(out)).toEqual(before);
    }

    const skipped = await convertDataset({ ...sampleSource('csv', input), out, workers: 0, shards: 3, onError: 'skip' });
    expect(skipped.ok).toBe(true);
    expect(skipped.items).toMatchObject({ total: 12, converted: 11, skipped: 1 });
    // The re-run with three shards replaced the two old ones.
    expect(skipped.replaced.sort()).toEqual(['data-00000-of-00002.tfrecord', 'data-00001-of-00002.tfrecord']);
    expect(await listTree(out)).toEqual([
      'data-00000-of-00003.tfrecord',
      'data-00001-of-00003.tfrecord',
      'data-00002-of-00003.tfrecord',
      'label_map.pbtxt',
      'manifest.json',
    ]);
  });
});

describe('errors of the other importers reach the report with their source', () => {
  it('VOC: an XML file that does not parse is malformed-annotation at that file', async () => {
    const dir = await tempDir('voc');
    await copyFile(path.join(SAMPLE, 'voc', 'Annotations', 'img01.xml'), path.join(dir, 'img01.xml'));
    const text = await readFile(path.join(SAMPLE, 'voc', 'Annotations', 'img02.xml'), 'utf8');
    await writeFile(path.join(dir, 'img02.xml'), text.slice(0, text.indexOf('<object>') + 20));
    const out = await tempDir();
    const failed = await convertDataset({ from: 'voc', annotations: dir, images: path.join(SAMPLE, 'images'), out, workers: 0 });
    expect(failed.ok).toBe(false);
    expect(failed.errors).toEqual([
      expect.objectContaining({ code: 'malformed-annotation', source: expect.objectContaining({ file: path.join(dir, 'img02.xml') }) }),
    ]);
    expect(await listTree(out)).toEqual([]);

    const report = await convertDataset({ from: 'voc', annotations: dir, images: path.join(SAMPLE, 'images'), out, workers: 0, onError: 'skip' });
    expect(report.ok).toBe(true);
    expect((await readOutput(out)).examples.map((e) => e.filename)).toEqual(['img01.jpg']);
  });

  it('COCO: an undeclared category and a missing image, each at its JSON pointer', async () => {
    const coco = JSON.parse(await readFile(path.join(SAMPLE, 'coco', 'instances.json'), 'utf8'));
    coco.annotations[3].category_id = 42; // annotation 3 belongs to image 2 (img02)
    coco.images[2].file_name = 'nothere.jpg'; // image id 3
    const dir = await tempDir('coco');
    const file = path.join(dir, 'instances.json');
    await writeFile(file, JSON.stringify(coco));
    const out = await tempDir();
    const failed = await convertDataset({ from: 'coco', annotations: file, images: path.join(SAMPLE, 'images'), out, workers: 0 });
    expect(failed.ok).toBe(false);
    expect(failed.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'unknown-class', source: expect.objectContaining({ file, pointer: '/annotations/3', index: 3 }) }),
        expect.objectContaining({ code: 'missing-image', source: expect.objectContaining({ file, pointer: '/images/2', index: 2 }) }),
      ]),
    );
    expect(failed.errors).toHaveLength(2);
    expect(await listTree(out)).toEqual([]);
  });

  it('YOLO: a class index past the class list is unknown-class at its line', async () => {
    const dir = await tempDir('yolo');
    await cp(path.join(SAMPLE, 'yolo'), dir, { recursive: true });
    const label = path.join(dir, 'labels', 'img01.txt');
    await writeFile(label, (await readFile(label, 'utf8')) + '7 0.5 0.5 0.1 0.1\n');
    const out = await tempDir();
    const failed = await convertDataset({ from: 'yolo', annotations: path.join(dir, 'labels'), images: path.join(SAMPLE, 'images'), out, workers: 0 });
    expect(failed.ok).toBe(false);
    expect(failed.errors).toEqual([expect.objectContaining({ code: 'unknown-class', itemId: 'img01.jpg', source: { file: label, line: 3 } })]);
    expect(await listTree(out)).toEqual([]);
  });

  it('an annotation file that cannot be read at all fails the run before anything is created', async () => {
    const dir = await tempDir('coco');
    const file = path.join(dir, 'instances.json');
    await writeFile(file, '{"images": [ {"id": 1, ');
    const out = path.join(await tempDir(), 'not-yet');
    const r = await runCli(['convert', '--from', 'coco', '--annotations', file, '--images', path.join(SAMPLE, 'images'), '--out', out, '--workers', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(file);
    expect(await listTree(path.dirname(out))).toEqual([]);
  });
});

describe('a read-back validation failure', () => {
  it('publishes nothing and leaves no staged shard behind', async () => {
    // Nothing convert writes from sound inputs fails its own read-back any
    // more (a label map whose ids a split does not all use is fine now), so
    // the failure is injected: the validator reports one error at the end.
    const finish = DatasetValidator.prototype.finish;
    const spy = vi.spyOn(DatasetValidator.prototype, 'finish').mockImplementation(function (this: DatasetValidator, files: number) {
      const report = finish.call(this, files);
      const injected = { severity: 'error' as const, code: 'labels-not-consecutive' as const, file: '', message: 'injected: missing 2' };
      return { ...report, valid: false, findings: [...report.findings, injected] };
    });
    try {
      for (const workers of [0, 2]) {
        const out = await tempDir();
        const report = await convertDataset({ ...sampleSource('csv'), out, workers, shards: 2 });
        expect(report.ok).toBe(false);
        expect(report.failure).toBe('the converted shards did not pass validation; nothing was published');
        expect(report.findings).toMatchObject([{ severity: 'error', code: 'labels-not-consecutive', message: expect.stringContaining('missing 2') }]);
        expect(report.splits).toEqual([]);
        expect(await listTree(out)).toEqual([]);
      }
    } finally {
      spy.mockRestore();
    }
  });
});
