/**
 * Input paths on the command line: a path that does not exist is a usage
 * mistake (exit 2) named once; quoted patterns (`validate 'out/val-*'`, as
 * TensorFlow users write file patterns) are expanded by the tool with
 * tf.io.gfile.glob's meaning; a pattern matching nothing is exit 2 naming it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandGlob, globToRegExp } from '../../src/cli/inputs.js';
import { runCli } from '../helpers/cli.js';
import { tempDir, validRecords, type TempDir } from '../validate/helpers.js';

let dir: TempDir;

beforeAll(async () => {
  dir = await tempDir();
  const valid = await validRecords();
  await mkdir(dir.file('out'));
  for (const name of ['train-00000-of-00002.tfrecord', 'train-00001-of-00002.tfrecord', 'val-00000-of-00001.tfrecord', '.hidden.tfrecord']) {
    await dir.write(join('out', name), valid.payloads);
  }
  await mkdir(dir.file('runs/a'), { recursive: true });
  await mkdir(dir.file('runs/b'), { recursive: true });
  await dir.write('runs/a/x.tfrecord', valid.payloads.slice(0, 1));
  await dir.write('runs/b/x.tfrecord', valid.payloads.slice(0, 2));
  await writeFile(dir.file('runs/c'), 'a file, not a folder');
});
afterAll(() => dir.remove());

describe('glob patterns', () => {
  const matches = (pattern: string, name: string) => globToRegExp(pattern).test(name);

  it('* and ? stay inside one path component; [...] sets, ranges and negation; \\ escapes', () => {
    expect(matches('val-*', 'val-00000-of-00001.tfrecord')).toBe(true);
    expect(matches('val-*', 'train-0')).toBe(false);
    expect(matches('*', 'a/b')).toBe(false);
    expect(matches('?', 'ab')).toBe(false);
    expect(matches('x-?', 'x-1')).toBe(true);
    expect(matches('x-[0-2]', 'x-1')).toBe(true);
    expect(matches('x-[0-2]', 'x-3')).toBe(false);
    expect(matches('x-[!0-2]', 'x-3')).toBe(true);
    expect(matches('x-[^0-2]', 'x-1')).toBe(false);
    expect(matches('x-[]a]', 'x-]')).toBe(true);
    expect(matches('a\\*', 'a*')).toBe(true);
    expect(matches('a\\*', 'ab')).toBe(false);
    // Regular-expression characters are literal.
    expect(matches('a.b+(c)', 'a.b+(c)')).toBe(true);
    expect(matches('a.b', 'axb')).toBe(false);
    // An unclosed [ stands for itself.
    expect(matches('a[b', 'a[b')).toBe(true);
  });

  it('* matches a leading dot, as in TensorFlow (fnmatch without FNM_PERIOD)', () => {
    expect(matches('*.tfrecord', '.hidden.tfrecord')).toBe(true);
  });

  it('expands relative patterns to relative paths, sorted, with wildcards in any component', () => {
    expect(expandGlob('out/train-*', dir.path)).toEqual(['out/train-00000-of-00002.tfrecord', 'out/train-00001-of-00002.tfrecord']);
    expect(expandGlob('out/*-0000[0-9]-of-*', dir.path)).toEqual([
      'out/train-00000-of-00002.tfrecord',
      'out/train-00001-of-00002.tfrecord',
      'out/val-00000-of-00001.tfrecord',
    ]);
    // A folder wildcard matches folders only, not the file runs/c.
    expect(expandGlob('runs/*/x.tfrecord', dir.path)).toEqual(['runs/a/x.tfrecord', 'runs/b/x.tfrecord']);
    expect(expandGlob('runs/?', dir.path)).toEqual(['runs/a', 'runs/b', 'runs/c']);
    expect(expandGlob(join(dir.path, 'out', 'val-*'), '/')).toEqual([join(dir.path, 'out', 'val-00000-of-00001.tfrecord')]);
    expect(expandGlob('out/nothing-*', dir.path)).toEqual([]);
    expect(expandGlob('nowhere/*', dir.path)).toEqual([]);
  });
});

describe('input paths on the command line', () => {
  it.each([
    ['validate', []],
    ['stats', []],
    ['inspect', []],
    ['preview', ['--out', 'p']],
  ])('%s: a missing path is exit 2, "no such file or directory: PATH"', async (command, extra) => {
    const r = await runCli([command, 'out/trian-00000-of-00002.tfrecord', ...extra], dir.path);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const first = r.stderr.split('\n')[0];
    expect(first).toBe(
      `tfrecord-od ${command}: no such file or directory: out/trian-00000-of-00002.tfrecord (did you mean out/train-00000-of-00002.tfrecord?)`,
    );
    expect(r.stderr).toContain(`Usage: tfrecord-od ${command}`);
  });

  it.each([
    ['validate', []],
    ['stats', []],
    ['inspect', []],
    ['preview', ['--out', 'p']],
  ])('%s: a pattern that matches nothing is exit 2 naming it', async (command, extra) => {
    const r = await runCli([command, 'out/test-*', ...extra], dir.path);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`tfrecord-od ${command}: no files match 'out/test-*'`);
  });

  it('validate expands a quoted pattern itself and reads exactly the files it matches', async () => {
    const r = await runCli(['validate', 'out/train-*', '--json'], dir.path);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.files).toBe(2);
    const one = JSON.parse((await runCli(['validate', 'out/val-*', '--json'], dir.path)).stdout);
    expect(one.files).toBe(1);
  });

  it('stats, inspect and preview expand patterns too', async () => {
    const stats = JSON.parse((await runCli(['stats', 'runs/*/x.tfrecord', '--json'], dir.path)).stdout);
    expect(stats.files.map((f: { file: string }) => f.file)).toEqual(['runs/a/x.tfrecord', 'runs/b/x.tfrecord']);
    expect(stats.records).toBe(3);
    const inspect = await runCli(['inspect', 'runs/[ab]/x.tfrecord', '--json'], dir.path);
    expect(inspect.code).toBe(0);
    expect(inspect.stdout.trim().split('\n')).toHaveLength(3);
    const preview = await runCli(['preview', 'out/val-*', '--out', 'p'], dir.path);
    expect(preview.code).toBe(0);
    expect(preview.stderr).toMatch(/^previewed 3 of 3 records\n$/);
  });

  it('a path that exists is taken as it is, even with glob characters in its name', async () => {
    const valid = await validRecords();
    await dir.write('odd[1].tfrecord', valid.payloads.slice(0, 1));
    const r = await runCli(['inspect', 'odd[1].tfrecord', '--json'], dir.path);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('a missing --label-map is exit 2 naming it', async () => {
    const r = await runCli(['validate', 'out', '--label-map', 'labels.pbtxt'], dir.path);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('tfrecord-od validate: no such file or directory: labels.pbtxt');
  });

  it('preview: an --out that is a file is exit 2, not EEXIST', async () => {
    const r = await runCli(['preview', 'out', '--out', 'runs/c'], dir.path);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('tfrecord-od preview: --out is a file, not a folder: runs/c');
  });

  it('job-args: a missing folder is exit 2', async () => {
    const r = await runCli(['job-args', 'nowhere'], dir.path);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('tfrecord-od job-args: no such file or directory: nowhere');
  });
});
