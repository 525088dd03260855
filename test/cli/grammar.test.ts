/**
 * Counts and articles in what the CLI prints: "1 record", "3 records",
 * "an int64_list", "1 class is declared". The helpers, then the commands'
 * own output for one of a thing.
 */
import { describe, expect, it } from 'vitest';
import { toExample } from '../../src/detection/to-example.js';
import { floatFeature } from '../../src/example/features.js';
import { article, isAre, plural, withArticle } from '../../src/words.js';
import { runCli } from '../helpers/cli.js';
import { payload, tempDir, validRecords } from '../validate/helpers.js';

describe('the helpers', () => {
  it('plural: one and many, irregular plurals', () => {
    expect(plural(1, 'image')).toBe('1 image');
    expect(plural(3, 'image')).toBe('3 images');
    expect(plural(0, 'record')).toBe('0 records');
    expect(plural(1, 'box', 'boxes')).toBe('1 box');
    expect(plural(2, 'box', 'boxes')).toBe('2 boxes');
    expect(plural(1, 'entry', 'entries')).toBe('1 entry');
    expect(`${plural(1, 'class', 'classes')} ${isAre(1)} declared`).toBe('1 class is declared');
    expect(`${plural(4, 'class', 'classes')} ${isAre(4)} declared`).toBe('4 classes are declared');
  });

  it('article: by the sound, for the words messages use', () => {
    expect(withArticle('int64_list')).toBe('an int64_list');
    expect(withArticle('float_list')).toBe('a float_list');
    expect(withArticle('bytes_list')).toBe('a bytes_list');
    expect(withArticle('empty')).toBe('an empty');
    expect(withArticle('XML file')).toBe('an XML file');
    expect(withArticle('HTML page')).toBe('an HTML page');
    expect(withArticle('JPEG image')).toBe('a JPEG image');
    expect(withArticle('PNG image')).toBe('a PNG image');
    expect(withArticle('HEIF image')).toBe('a HEIF image');
    expect(withArticle('AVIF image')).toBe('an AVIF image');
    expect(article('gzip-compressed JSON file')).toBe('a');
  });
});

describe('command output', () => {
  it('validate: "1 file, 1 record, 1 box" and "expected an int64_list"', async () => {
    const dir = await tempDir();
    try {
      const valid = await validRecords();
      // One box, labelled 1 so the labels are 1..N.
      const first = valid.examples.find((e) => e.objects.length === 1)!;
      const one = { ...first, objects: first.objects.map((o) => ({ ...o, label: 1 })) };
      await dir.write('one.tfrecord', [payload(one)]);
      const ok = await runCli(['validate', 'one.tfrecord'], dir.path);
      expect(ok.stdout).toBe('VALID: 1 file, 1 record, 1 box; 0 errors, 0 warnings\n');
      const f = toExample(one);
      f['image/object/class/label'] = floatFeature(1);
      await dir.write('float-label.tfrecord', [payload(f)]);
      const bad = await runCli(['validate', 'float-label.tfrecord'], dir.path);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toContain("'image/object/class/label' is a float_list, expected an int64_list");
      expect(bad.stdout).toMatch(/INVALID: 1 file, 1 record, 1 box; 1 error, 0 warnings\n$/);
    } finally {
      await dir.remove();
    }
  });

  it('stats and inspect: one record, one file, in the singular', async () => {
    const dir = await tempDir();
    try {
      const valid = await validRecords();
      await dir.write('one.tfrecord', valid.payloads.slice(0, 1));
      const stats = await runCli(['stats', 'one.tfrecord'], dir.path);
      expect(stats.stdout.split('\n')[0]).toMatch(/^1 file, 1 record, \d+ box(es)?, \d+ images? without boxes$/);
      const inspect = await runCli(['inspect', 'one.tfrecord'], dir.path);
      expect(inspect.stdout.trimEnd().split('\n').at(-1)).toBe('  1 record');
    } finally {
      await dir.remove();
    }
  });
});
