/**
 * `tfrecord-od convert` in-process: the --json report, the human summary,
 * paths relative to the working directory, and usage errors (exit 2).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashTree, listTree, readOutput, ROOT, SAMPLE, tempDir } from '../convert/helpers.js';
import { runCli } from '../helpers/cli.js';

const CSV = ['--from', 'csv', '--annotations', path.join(SAMPLE, 'csv', 'annotations.csv'), '--images', path.join(SAMPLE, 'images'), '--workers', '0'];

describe('convert: output', () => {
  it('--json prints the whole report as one JSON document', async () => {
    const out = await tempDir();
    const r = await runCli(['convert', ...CSV, '--out', out, '--json', '--shards', '2']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout);
    expect(Object.keys(report).sort()).toEqual(
      [
        'boxes',
        'classes',
        'clipped',
        'decoded',
        'dropped',
        'errors',
        'findings',
        'items',
        'labelMapPath',
        'labelOrder',
        'manifestPath',
        'notes',
        'ok',
        'outDir',
        'replaced',
        'splits',
        'target',
        'warnings',
        'withoutLabelFile',
      ].sort(),
    );
    expect(report).toMatchObject({
      ok: true,
      outDir: out,
      labelMapPath: path.join(out, 'label_map.pbtxt'),
      manifestPath: path.join(out, 'manifest.json'),
      items: { total: 12, converted: 12, skipped: 0, reencoded: 2, withoutBoxes: 1, withoutLabelFile: 0 },
      boxes: { total: 27, clipped: 1, dropped: 0 },
      labelOrder: 'first-appearance',
      errors: [],
      dropped: [],
      replaced: [],
    });
    expect(report.splits).toEqual([
      {
        name: 'data',
        prefix: 'data',
        records: 12,
        boxes: 27,
        classes: report.classes,
        shards: [0, 1].map((i) => ({
          name: `data-0000${i}-of-00002.tfrecord`,
          path: path.join(out, `data-0000${i}-of-00002.tfrecord`),
          records: 6,
          bytes: expect.any(Number),
          uncompressedBytes: expect.any(Number),
          sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
          crc32c: expect.stringMatching(/^[A-Za-z0-9+/]{6}==$/),
        })),
      },
    ]);
    expect(report.classes.map((c: { name: string }) => c.name)).toEqual(['circle', 'square', 'triangle']);
    expect(report.clipped).toMatchObject([{ itemId: 'img07.jpg', className: 'square' }]);
  });

  it('the human summary lists clipped boxes, classes, then counts and output paths relative to the working directory', async () => {
    const cwd = await tempDir('cwd');
    const r = await runCli(['convert', ...CSV, '--out', 'out'], cwd);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    // Relative --out is taken from the working directory given to the CLI.
    expect(await listTree(cwd)).toEqual(['out/data-00000-of-00001.tfrecord', 'out/label_map.pbtxt', 'out/manifest.json']);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.slice(0, 2)).toEqual(['Clipped boxes (1):', '  img07.jpg box 1 (square): [0.85, 0.833333, 1.015, 1.02] → [0.85, 0.833333, 1, 1]']);
    expect(lines.slice(-10)).toEqual([
      'Classes:',
      '    1  circle                     9 boxes in 8 images',
      '    2  square                    10 boxes in 9 images',
      '    3  triangle                   8 boxes in 6 images',
      'Converted 12 of 12 images (0 skipped, 2 re-encoded, 1 without boxes); 27 boxes (1 clipped, 0 dropped).',
      // Said on every run without --decode: the 10 images kept byte for byte were not decoded.
      'Pixel data not checked: 10 images stored as they are had their header and end checked, not their pixels (--decode decodes them).',
      'data: 12 records, 27 boxes in 1 shard',
      expect.stringMatching(/^ {2}out\/data-00000-of-00001\.tfrecord {2}\(12 records, \d+\.\d KB\)$/),
      'Label map: out/label_map.pbtxt',
      'Manifest:  out/manifest.json',
    ]);
    // Re-encoding is routine and not listed as a warning.
    expect(r.stdout).not.toContain('Warnings');
  });

  it('relative input paths are taken from the working directory too', async () => {
    const cwd = path.dirname(SAMPLE);
    const out = await tempDir();
    const r = await runCli(
      ['convert', '--from', 'yolo', '--annotations', 'sample/yolo/labels', '--images', 'sample/images', '--out', out, '--workers', '0', '--json'],
      cwd,
    );
    expect(r.code, r.stderr).toBe(0);
    expect((await readOutput(out)).examples).toHaveLength(12);
  });

  it('--path-map DIR is taken from the working directory; the report notes the ml_use splits', async () => {
    const dir = await tempDir('vertex');
    const lines = ['img01.jpg', 'img04.jpg'].map((f, i) =>
      JSON.stringify({ imageGcsUri: `gs://b/s/${f}`, dataItemResourceLabels: { 'aiplatform.googleapis.com/ml_use': i === 0 ? 'training' : 'test' } }),
    );
    await writeFile(path.join(dir, 'import.jsonl'), lines.join('\n'));
    const out = await tempDir();
    const r = await runCli(
      ['convert', '--from', 'vertex', '--annotations', path.join(dir, 'import.jsonl'), '--path-map', 'gs://b/s=sample/images', '--out', out, '--workers', '0'],
      path.join(ROOT, 'fixtures'),
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/the file's ml_use assigns 1 to train, 1 to test/);
    expect(r.stdout).toMatch(/^train: 1 record,/m);
    expect(r.stdout).toMatch(/^val: 0 records/m);
    expect(r.stdout).toMatch(/^test: 1 record,/m);
  });

  it('--on-error skip summary names the skipped items with file:line', async () => {
    const out = await tempDir();
    const r = await runCli(['convert', ...CSV, '--out', out, '--max-pixels', '70000', '--on-error', 'skip'], ROOT);
    expect(r.code).toBe(0);
    // Over 70000 pixels: img01, img02, img05 (76800 each), img07 (120000), img11 (98304).
    expect(r.stdout).toContain('Skipped items (5):');
    // The annotation file is shown relative to the working directory (the project root here).
    expect(r.stdout).toContain('  fixtures/sample/csv/annotations.csv:2: bad-image: image is larger than the pixel limit (320x240 = 76800 pixels > 70000)');
    expect(r.stdout).toContain('Converted 7 of 12 images (5 skipped,');
  });

  // A path on the command line that does not exist is a usage mistake (exit 2), named before anything is read.
  it('a missing annotation file is a one-line error naming it, exit 2, nothing written', async () => {
    const out = await tempDir();
    const r = await runCli(['convert', '--from', 'coco', '--annotations', '/nonexistent/instances.json', '--out', out], ROOT);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('tfrecord-od convert: no such file or directory: /nonexistent/instances.json');
    expect(await listTree(out)).toEqual([]);
  });
});

describe('convert: progress on a terminal', () => {
  it('draws a progress bar on stderr when it is a TTY, clears it, and is silent with --quiet', async () => {
    const { PassThrough } = await import('node:stream');
    const { main } = await import('../../src/cli/main.js');
    const run = async (extra: string[]) => {
      const out = await tempDir();
      const stdout = new PassThrough();
      const stderr = Object.assign(new PassThrough(), { isTTY: true });
      let err = '';
      stderr.on('data', (c: Buffer) => (err += c.toString()));
      stdout.resume();
      const code = await main(['convert', ...CSV, '--out', out, '--workers', '0', ...extra], { stdout, stderr, cwd: ROOT });
      return { code, err };
    };
    const shown = await run([]);
    expect(shown.code).toBe(0);
    expect(shown.err).toMatch(/\[#+\.*\] \d+\/12 images/);
    expect(shown.err).toContain('[########################] 12/12 images');
    // The last thing written is the clear-line sequence, so the summary starts on a clean line.
    expect(shown.err.endsWith('\r\u001b[K')).toBe(true);
    const quiet = await run(['--quiet']);
    expect(quiet.code).toBe(0);
    expect(quiet.err).toBe('');
  });
});

describe('convert: progress while a large COCO file is read', () => {
  it('shows how much of the annotation file has been read before the first item', async () => {
    const { readFile, writeFile } = await import('node:fs/promises');
    const { PassThrough } = await import('node:stream');
    const { main } = await import('../../src/cli/main.js');
    // The sample's COCO file padded past the 16 MB whole-parse limit with
    // crowd boxes carrying polygons, which --crowd drop leaves out.
    const doc = JSON.parse(await readFile(path.join(SAMPLE, 'coco', 'instances.json'), 'utf8')) as { annotations: unknown[] };
    const polygon = Array.from({ length: 48 }, (_, k) => 100 + k / 4);
    for (let i = 0; i < 45_000; i++)
      doc.annotations.push({ id: 100_000 + i, image_id: 1, category_id: 1, iscrowd: 1, bbox: [1, 1, 2, 2], area: 4, segmentation: [polygon] });
    const dir = await tempDir('big-coco');
    const annotations = path.join(dir, 'instances.json');
    await writeFile(annotations, JSON.stringify(doc));
    const stdout = new PassThrough();
    const stderr = Object.assign(new PassThrough(), { isTTY: true });
    let err = '';
    stderr.on('data', (c: Buffer) => (err += c.toString()));
    stdout.resume();
    const args = [
      'convert',
      '--from',
      'coco',
      '--annotations',
      annotations,
      '--images',
      path.join(SAMPLE, 'images'),
      '--crowd',
      'drop',
      '--out',
      await tempDir(),
      '--workers',
      '0',
    ];
    const code = await main(args, { stdout, stderr, cwd: ROOT });
    expect(code).toBe(0);
    expect(err).toMatch(/reading annotations… \d+% of 1\d\.\d MB/);
    expect(err).toContain('[########################] 12/12 images');
  });
});

describe('convert: usage errors exit 2 and write nothing', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['no --from', ['--annotations', 'a.csv', '--out', 'o'], /--from is required/],
    ['unknown --from', ['--from', 'kitti', '--annotations', 'a.csv', '--out', 'o'], /--from must be one of coco, openimages, csv, vertex, voc, labelme, yolo/],
    ['no --annotations', ['--from', 'csv', '--out', 'o'], /--annotations is required/],
    ['no --out', ['--from', 'csv', '--annotations', 'a.csv'], /--out is required/],
    [
      '--shards with --shard-size',
      ['--from', 'csv', '--annotations', 'a.csv', '--out', 'o', '--shards', '2', '--shard-size', '1MB'],
      /--shards or --shard-size, not both/,
    ],
    ['--split without a fraction', ['--from', 'csv', '--annotations', 'a.csv', '--out', 'o', '--split', 'train=0.8,val'], /'val' is not NAME=FRACTION/],
    ['--split naming a split twice', ['--from', 'csv', '--annotations', 'a.csv', '--out', 'o', '--split', 'train=1,train=1'], /given twice/],
    ['--split all zero', ['--from', 'csv', '--annotations', 'a.csv', '--out', 'o', '--split', 'train=0,val=0'], /must not all be zero/],
    ['--shards 0', ['--from', 'csv', '--annotations', 'a.csv', '--out', 'o', '--shards', '0'], /--shards must be at least 1/],
    ['--shard-size nonsense', ['--from', 'csv', '--annotations', 'a.csv', '--out', 'o', '--shard-size', 'big'], /--shard-size must be a size/],
    ['--bbox nonsense', ['--from', 'csv', '--annotations', 'a.csv', '--out', 'o', '--bbox', 'shrink'], /--bbox must be one of clip, drop, fail/],
    ['--quality 101', ['--from', 'csv', '--annotations', 'a.csv', '--out', 'o', '--quality', '101'], /--quality must be between 1 and 100/],
    ['--name with a slash', ['--from', 'csv', '--annotations', 'a.csv', '--out', 'o', '--name', 'a/b'], /--name may use only/],
    ['a stray argument', ['--from', 'csv', '--annotations', 'a.csv', '--out', 'o', 'extra'], /unexpected argument 'extra'/],
    ['an unknown option', ['--from', 'csv', '--annotations', 'a.csv', '--out', 'o', '--frobnicate'], /frobnicate/],
    ['--coords nonsense', ['--from', 'csv', '--annotations', 'a.csv', '--out', 'o', '--coords', 'pixels'], /--coords must be one of pixel, normalized/],
    [
      '--columns with an unknown field',
      ['--from', 'csv', '--annotations', 'a.csv', '--out', 'o', '--columns', 'klass=label'],
      /--columns: unknown field 'klass'/,
    ],
    ['--columns mixing names and indexes', ['--from', 'csv', '--annotations', 'a.csv', '--out', 'o', '--columns', 'class=label,filename=0'], /not a mix/],
    [
      '--path-map without a directory',
      ['--from', 'vertex', '--annotations', 'a.jsonl', '--out', 'o', '--path-map', 'gs://bucket/x'],
      /--path-map must be gs:\/\/BUCKET\[\/PREFIX\]=DIR/,
    ],
  ];
  it.each(cases)('%s', async (_, argv, message) => {
    const cwd = await tempDir('cwd');
    const r = await runCli(['convert', ...argv], cwd);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('Usage: tfrecord-od convert');
    expect(await listTree(cwd)).toEqual([]);
  });

  it('--path-map given twice', async () => {
    const cwd = await tempDir('cwd');
    await writeFile(path.join(cwd, 'a.jsonl'), '');
    const r = await runCli(['convert', '--from', 'vertex', '--annotations', 'a.jsonl', '--out', 'o', '--path-map', 'gs://b=x', '--path-map', 'gs://b=y'], cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/gs:\/\/b is given twice/);
  });
});

describe('convert: inputs are never modified', () => {
  it('fixtures/sample hashes the same after a conversion', async () => {
    const before = await hashTree(SAMPLE);
    const out = await tempDir();
    const r = await runCli(['convert', ...CSV, '--out', out, '--split', 'a=1,b=1', '--max-size', '64', '--quiet']);
    expect(r.code).toBe(0);
    expect(await hashTree(SAMPLE)).toEqual(before);
    expect(JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8')).runs[0].items.converted).toBe(12);
  });
});
