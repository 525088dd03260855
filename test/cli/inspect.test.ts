import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeExample } from 'tfrecord-od/example';
import { bytesFeature, int64Feature } from 'tfrecord-od/example';
import { frameRecord } from 'tfrecord-od/record';
import { writeRecords } from 'tfrecord-od';
import { runCli } from '../helpers/cli.js';
import { concatBytes } from '../helpers/streams.js';
import { HAVE_INTEROP, interopPath, loadExpected } from '../helpers/interop.js';

async function fileWith(records: Uint8Array[], name = 'x.tfrecord') {
  const dir = await mkdtemp(join(tmpdir(), 'tfrecord-od-inspect-'));
  const path = join(dir, name);
  await writeFile(path, concatBytes(records.map(frameRecord)));
  return path;
}

describe('tfrecord-od inspect', () => {
  it.skipIf(!HAVE_INTEROP)('--json reproduces the interop expectations line for line', async () => {
    const rel = 'golden/edge_values.tfrecord';
    const path = interopPath(rel);
    const res = await runCli(['inspect', '--json', path]);
    expect(res.code).toBe(0);
    const got = res.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const want = loadExpected()
      .filter((e) => e.file === rel)
      .map((e) => ({ ...e, file: path }));
    expect(got).toEqual(want);
  });

  it('human output names records, sizes, types and summarises image bytes', async () => {
    // A minimal PNG signature + IHDR is enough for format sniffing.
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 4, 0, 0, 0, 3, 8, 2, 0, 0, 0]);
    const path = await fileWith([encodeExample({ 'image/encoded': bytesFeature(png), 'image/height': int64Feature(3), 'image/format': bytesFeature('png') })]);
    const res = await runCli(['inspect', path]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('record 0 at byte 0');
    expect(res.stdout).toMatch(/image\/encoded\s+bytes \[1\]\s+<29 bytes, png, sha256 [0-9a-f]{12}>/);
    expect(res.stdout).toMatch(/image\/format\s+bytes \[1\]\s+"png"/);
    expect(res.stdout).toMatch(/image\/height\s+int64 \[1\]\s+3/);
    expect(res.stdout).toContain('1 record');
  });

  it('--limit stops after N records', async () => {
    const path = await fileWith([1, 2, 3].map((i) => encodeExample({ i: int64Feature(i) })));
    const res = await runCli(['inspect', '--json', '--limit', '2', path]);
    expect(res.stdout.trim().split('\n').length).toBe(2);
  });

  it('a damaged file: good records first, then the located error on stderr, exit 1, no stack', async () => {
    const recs = [1, 2, 3].map((i) => encodeExample({ i: int64Feature(i) }));
    const bytes = concatBytes(recs.map(frameRecord));
    const second = recs[0]!.length + 16;
    bytes[second + 13]! ^= 0x40;
    const dir = await mkdtemp(join(tmpdir(), 'tfrecord-od-inspect-'));
    const path = join(dir, 'bad.tfrecord');
    await writeFile(path, bytes);
    const res = await runCli(['inspect', '--json', path]);
    expect(res.code).toBe(1);
    expect(
      res.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).index),
    ).toEqual([0]);
    expect(res.stderr).toBe(`tfrecord-od inspect: ${path}: record 1 at byte ${second}: data CRC mismatch\n`);
  });

  it('a record that is not a tf.Example is reported with its location', async () => {
    const path = await fileWith([new Uint8Array([0x0a, 0x7f])]);
    const res = await runCli(['inspect', path]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/record 0 at byte 0: not a tf.Example/);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });

  it('usage errors exit 2; so do missing files, with a plain message', async () => {
    expect((await runCli(['inspect'])).code).toBe(2);
    expect((await runCli(['inspect', '--limit', 'x', 'f'])).code).toBe(2);
    expect((await runCli(['inspect', '--compression', 'lz4', 'f'])).code).toBe(2);
    expect((await runCli(['nope'])).code).toBe(2);
    const missing = await runCli(['inspect', '/nonexistent/a.tfrecord']);
    expect(missing.code).toBe(2);
    expect(missing.stderr.split('\n')[0]).toBe('tfrecord-od inspect: no such file or directory: /nonexistent/a.tfrecord');
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  });

  it('reads gzip and zlib files transparently, or as told by --compression', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tfrecord-od-inspect-'));
    for (const compression of ['gzip', 'zlib'] as const) {
      const path = join(dir, `c.${compression}`);
      await writeRecords(
        path,
        [1, 2].map((i) => encodeExample({ i: int64Feature(i) })),
        { compression },
      );
      for (const args of [[], ['--compression', compression]]) {
        const res = await runCli(['inspect', '--json', ...args, path]);
        expect(res.code).toBe(0);
        expect(
          res.stdout
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l).features.i.values[0]),
        ).toEqual([1, 2]);
      }
      // Told the wrong compression, the damage is reported rather than misread.
      expect((await runCli(['inspect', '--compression', 'none', path])).code).toBe(1);
    }
  });
});

describe('tfrecord-od as a process', () => {
  it('stops quietly when its output pipe closes early (… | head)', async () => {
    const { spawn } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
    const recs = Array.from({ length: 3000 }, (_, i) => encodeExample({ i: int64Feature(i), t: bytesFeature('x'.repeat(200)) }));
    const path = await fileWith(recs, 'many.tfrecord');
    const child = spawn(process.execPath, [cli, 'inspect', path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    // Read one chunk, then close our end, as `head -1` does.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
