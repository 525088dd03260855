import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { frameRecord } from '../../src/record/frame.js';
import { runCli } from '../helpers/cli.js';
import { concatBytes } from '../helpers/streams.js';

const recordsOf = (...sizes: number[]) => concatBytes(sizes.map((n) => frameRecord(new Uint8Array(n).fill(n))));

async function folder(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'tfrecord-od-cli-index-'));
}

describe('tfrecord-od index', () => {
  it('writes FILE.index beside each file of a folder, and a second run does not index the indexes', async () => {
    const d = await folder();
    await writeFile(join(d, 'a.tfrecord'), recordsOf(10, 0));
    await writeFile(join(d, 'b.tfrecord-00000-of-00001'), recordsOf(3));
    const res = await runCli(['index', d]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(`${join(d, 'a.tfrecord.index')}  2 records\n${join(d, 'b.tfrecord-00000-of-00001.index')}  1 record\n`);
    expect(await readFile(join(d, 'a.tfrecord.index'), 'utf8')).toBe('0 26\n26 16\n');
    expect(await readFile(join(d, 'b.tfrecord-00000-of-00001.index'), 'utf8')).toBe('0 19\n');
    const again = await runCli(['index', d]);
    expect(again.code).toBe(0);
    expect(again.stdout.trim().split('\n')).toHaveLength(2);
  });

  it('--out DIR puts the indexes there (relative paths from cwd), creating it', async () => {
    const d = await folder();
    await writeFile(join(d, 'a.tfrecord'), recordsOf(5));
    const res = await runCli(['index', 'a.tfrecord', '--out', 'idx/sub'], d);
    expect(res.code).toBe(0);
    expect(res.stdout).toBe('idx/sub/a.tfrecord.index  1 record\n');
    expect(await readFile(join(d, 'idx', 'sub', 'a.tfrecord.index'), 'utf8')).toBe('0 21\n');
    expect(existsSync(join(d, 'a.tfrecord.index'))).toBe(false);
  });

  it('--out with two inputs of one name is a usage error before anything is written', async () => {
    const d = await folder();
    await mkdir(join(d, 'x'));
    await mkdir(join(d, 'y'));
    await writeFile(join(d, 'x', 'a.tfrecord'), recordsOf(1));
    await writeFile(join(d, 'y', 'a.tfrecord'), recordsOf(1));
    const res = await runCli(['index', 'x/a.tfrecord', 'y/a.tfrecord', '--out', 'out'], d);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('would both be indexed as out/a.tfrecord.index');
    expect(existsSync(join(d, 'out'))).toBe(false);
  });

  it('damaged and compressed files are reported with their location and get no index; the others do; exit 1', async () => {
    const d = await folder();
    const good = recordsOf(4, 4);
    const bad = good.slice();
    bad[20 + 12 + 1]! ^= 0x10; // second record's payload
    await writeFile(join(d, 'bad.tfrecord'), bad);
    await writeFile(join(d, 'good.tfrecord'), good);
    await writeFile(join(d, 'packed.tfrecord.gz'), gzipSync(good));
    const res = await runCli(['index', 'bad.tfrecord', 'good.tfrecord', 'packed.tfrecord.gz'], d);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('good.tfrecord.index  2 records\n');
    expect(res.stderr).toContain('tfrecord-od index: bad.tfrecord: record 1 at byte 20: data CRC mismatch');
    expect(res.stderr).toContain('no index written');
    expect(res.stderr).toMatch(/packed\.tfrecord\.gz: the file is gzip-compressed/);
    expect(res.stderr).toContain('2 files of 3 not indexed');
    expect(res.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(d, 'bad.tfrecord.index'))).toBe(false);
    expect(existsSync(join(d, 'packed.tfrecord.gz.index'))).toBe(false);
  });

  it('no input is a usage error', async () => {
    const res = await runCli(['index']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('Usage: tfrecord-od index');
  });
});
