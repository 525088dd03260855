import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { validationReportSchema } from 'tfrecord-od/validate';
import { payload, tempDir, validRecords, type TempDir } from '../validate/helpers.js';

const interop = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/interop');
const haveInterop = existsSync(join(interop, 'README.md'));

let dir: TempDir;
let _good: string;
let _bad: string;

beforeAll(async () => {
  dir = await tempDir();
  const valid = await validRecords();
  _good = await dir.write('good.tfrecord', valid.payloads);
  // Five boxes with label 0 plus a gap (labels {2}): two error codes, one with many occurrences.
  const broken = valid.examples.map((d, i) => payload({ ...d, objects: d.objects.map((o) => ({ ...o, label: i === 0 ? 0 : 2, text: i === 0 ? '' : 'dog' })) }));
  _bad = await dir.write('bad.tfrecord', broken);
  await writeFile(dir.file('labels.pbtxt'), "item { id: 1 name: 'cat' }\nitem { id: 2 name: 'dog' }\n");
});
afterAll(() => dir.remove());

describe('tfrecord-od validate', () => {
  it('exit 0 and a VALID verdict for a valid file, paths shown relative to cwd', async () => {
    const res = await runCli(['validate', 'good.tfrecord', '--label-map', 'labels.pbtxt', '--num-classes', '2'], dir.path);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toBe('VALID: 1 file, 3 records, 5 boxes; 0 errors, 0 warnings\n');
  });

  it('exit 1 with findings grouped by code, counts and the first locations', async () => {
    const res = await runCli(['validate', 'bad.tfrecord'], dir.path);
    expect(res.code).toBe(1);
    const lines = res.stdout.split('\n');
    expect(lines[0]).toBe('error   label-out-of-range (2) [OD API schema]');
    expect(lines[1]).toMatch(/^ {2}bad\.tfrecord: record 0 at byte 0: box 0: label 0 /);
    expect(lines[2]).toMatch(/^ {2}bad\.tfrecord: record 0 at byte 0: box 1: label 0 /);
    expect(lines[3]).toBe('error   labels-not-consecutive (1) [built-in training]');
    expect(lines[4]).toMatch(/^ {2}dataset: the labels used are 2 .*missing 1/);
    expect(res.stdout).toMatch(/\nINVALID: 1 file, 3 records, 5 boxes; 3 errors, 0 warnings\n$/);
  });

  it('--max-findings limits the locations kept, and the rest is counted', async () => {
    const res = await runCli(['validate', 'bad.tfrecord', '--max-findings', '1'], dir.path);
    expect(res.stdout).toContain('error   label-out-of-range (2) [OD API schema]\n  bad.tfrecord: record 0 at byte 0: box 0');
    expect(res.stdout).toContain('  … and 1 more\n');
  });

  it('--json prints one report object', async () => {
    const res = await runCli(['validate', '--json', dir.path, '--decode'], dir.path);
    expect(res.code).toBe(1);
    const report = JSON.parse(res.stdout);
    expect(validationReportSchema.parse(report)).toEqual(report);
    expect(report).toMatchObject({ valid: false, files: 2, records: 6, boxes: 10 });
    expect(report.summary['label-out-of-range']).toEqual({ severity: 'error', count: 2 });
    expect(report.findings[0]).toMatchObject({ code: expect.any(String), file: expect.stringMatching(/\.tfrecord$/) });
  });

  it('warnings alone still exit 0', async () => {
    const valid = await validRecords();
    const file = await dir.write('warn.tfrecord', [...valid.payloads, valid.payloads[0]!]);
    const res = await runCli(['validate', file]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^warning duplicate-image \(1\)/);
    expect(res.stdout).toMatch(/VALID: .*0 errors, 2 warnings\n$/);
  });

  it('usage errors exit 2', async () => {
    for (const argv of [['validate'], ['validate', 'x', '--num-classes', 'many'], ['validate', 'x', '--compression', 'lz4'], ['validate', 'x', '--bogus']]) {
      const res = await runCli(argv, dir.path);
      expect(res.code, argv.join(' ')).toBe(2);
      expect(res.stderr).toContain('Usage: tfrecord-od validate');
    }
  });

  it('a broken label map exits 1 with its file and line', async () => {
    await writeFile(dir.file('broken.pbtxt'), "item {\n  id: 0\n  name: 'bg'\n}\n");
    const res = await runCli(['validate', 'good.tfrecord', '--label-map', 'broken.pbtxt'], dir.path);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('broken.pbtxt: line 2: id must be between 1');
  });

  it('is listed in the help', async () => {
    const res = await runCli(['--help']);
    expect(res.stdout).toMatch(/validate\s+check TFRecord detection datasets/);
  });

  it.skipIf(!haveInterop)('flags the Datumaro dataset directory (interop)', async () => {
    const res = await runCli(['validate', join(interop, 'datumaro/tf_detection_api_dataset')]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('error   label-out-of-range (1)');
    expect(res.stdout).toContain('error   labels-not-consecutive (1)');
    expect(res.stdout).toContain('warning missing-feature (1)');
  });
});
