import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { convertDataset } from '../../src/convert/convert.js';
import { parseSplits } from '../../src/convert/split.js';
import { readRecords } from '../../src/io/read.js';
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
    expect((await readdir(dir)).includes('r2')).toBe(false);
  });
});

describe('tfrecord-od split', () => {
  it('sends every record where convert --split with the same seed sends it, byte for byte', async () => {
    const res = await runCli(['split', 'ds', '--out', 'halves', '--split', 'train=0.6,val=0.4', '--seed', '5', '--shards', '1'], dir);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Wrote 12 records from 2 files into 2 shards (validated');
    expect(res.stdout).toContain('halves/train-00000-of-00001.tfrecord');
    const direct = await convertDataset({
      ...sampleSource('voc'),
      out: join(dir, 'direct'),
      workers: 0,
      shards: 1,
      split: parseSplits('train=0.6,val=0.4'),
      seed: 5,
    });
    expect(direct.ok, direct.failure).toBe(true);
    for (const name of ['train', 'val']) {
      // The same records in each split (the order differs: ds dealt them over two shards).
      expect((await hashes(join(dir, 'halves'), name)).sort()).toEqual((await hashes(join(dir, 'direct'), name)).sort());
    }
    expect((await hashes(join(dir, 'halves'), 'train')).length + (await hashes(join(dir, 'halves'), 'val')).length).toBe(12);
  });

  it('a bad --split is a usage error', async () => {
    expect((await runCli(['split', 'ds', '--out', 's2', '--split', 'train=0.8,val=0.3'], dir)).code).toBe(2);
    expect((await runCli(['split', 'ds', '--out', 's2'], dir)).code).toBe(2);
    expect(existsSync(join(dir, 's2'))).toBe(false);
  });
});

describe('tfrecord-od merge', () => {
  it("matches classes by name across label maps and prints each dataset's ids", async () => {
    const renamed = await runCli(['remap', 'ds', '--out', 'renamed', '--rename', 'square=box', '--drop', 'circle'], dir);
    expect(renamed.code).toBe(0);
    const res = await runCli(['merge', 'renamed', 'ds', '--out', 'merged', '--shards', '1'], dir);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('renamed (label map renamed/label_map.pbtxt): 1 box → 1, 2 triangle → 2');
    expect(res.stdout).toContain('ds (label map ds/label_map.pbtxt): 1 circle → 3, 2 square → 4, 3 triangle → 2');
    expect(res.stdout).toContain('Wrote 24 records from 4 files into 1 shard (validated');
    const check = await runCli(['validate', 'merged', '--label-map', 'merged/label_map.pbtxt'], dir);
    expect(check.code).toBe(0);
  });
});

async function hashes(folder: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for (const f of (await readdir(folder)).filter((n) => n.startsWith(`${prefix}-`)).sort()) {
    for await (const p of readRecords(join(folder, f))) out.push(createHash('sha256').update(p).digest('hex'));
  }
  return out;
}
