import { existsSync } from 'node:fs';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { convertDataset } from '../../src/convert/convert.js';
import { runCli } from '../helpers/cli.js';
import { sampleSource } from '../convert/helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tfrecord-od-cli-surgery-'));
  const r = await convertDataset({ ...sampleSource('voc'), out: join(dir, 'ds'), workers: 0, shards: 2 });
  expect(r.ok, r.failure).toBe(true);
});

describe('tfrecord-od reshard', () => {
  it('prints the new shards, relative to cwd', async () => {
    const res = await runCli(['reshard', 'ds', '--out', 'one', '--shards', '1', '--compression', 'gzip'], dir);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Wrote 12 records from 2 files into 1 shard (validated):');
    expect(res.stdout).toContain('one/data-00000-of-00001.tfrecord.gz  (12 records');
    expect(res.stdout).toContain('Label map: one/label_map.pbtxt');
  });

  it('usage mistakes exit 2 and write nothing', async () => {
    const both = await runCli(['reshard', 'ds', '--out', 'x', '--shards', '1', '--shard-size', '1MB'], dir);
    expect(both.code).toBe(2);
    expect((await runCli(['reshard', 'ds', '--out', 'x', '--compression', 'lz4'], dir)).code).toBe(2);
    expect((await runCli(['reshard', 'ds'], dir)).code).toBe(2);
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });
});

describe('tfrecord-od remap', () => {
  it('renames and drops, printing old → new', async () => {
    const res = await runCli(['remap', 'ds', '--out', 'remapped', '--rename', 'square=box', '--drop', 'circle'], dir);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/1 circle\s+→ dropped/);
    expect(res.stdout).toMatch(/2 square\s+→ 1 box/);
    expect(res.stdout).toMatch(/3 triangle\s+→ 2 triangle/);
    expect(res.stdout).toContain('Wrote 12 records from 2 files into 2 shards (validated');
    const check = await runCli(['validate', 'remapped', '--label-map', 'remapped/label_map.pbtxt'], dir);
    expect(check.code).toBe(0);
  });

  it('an unknown class or a malformed rule is a usage error', async () => {
    const unknown = await runCli(['remap', 'ds', '--out', 'r2', '--drop', 'hexagon'], dir);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("no class is called 'hexagon'; the classes are 'circle', 'square', 'triangle'");
    expect((await runCli(['remap', 'ds', '--out', 'r2', '--rename', 'square'], dir)).code).toBe(2);
    expect((await runCli(['remap', 'ds', '--out', 'r2'], dir)).code).toBe(2);
    expect((await readdir(dir)).includes('r2')).toBe(false);
  });
});
