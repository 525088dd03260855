/**
 * Records crafted to cost far more memory decoded than their size (issue 17):
 * validate, inspect and stats refuse them with `example-too-large`, naming the
 * record, and go on. The built CLI also runs them as a child process under a
 * 128 MB heap: before the decoder's limits each of these 20 MB records needed
 * 0.5-1.3 GB and V8 aborted (exit 134, "heap out of memory").
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameRecord } from 'tfrecord-od/record';
import { encodeExample, int64Feature } from 'tfrecord-od/example';
import { runCli } from '../helpers/cli.js';
import { distinctKeysPayload, emptyBytesValuesPayload, packedInt64Payload } from '../helpers/hostile-payloads.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

let dir: string;
const big: Record<string, string> = {};

function framed(...payloads: Uint8Array[]): Uint8Array {
  return Buffer.concat(payloads.map((p) => frameRecord(p)));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tfrecord-od-hostile-'));
  // Just over each default limit, between two ordinary records.
  const plain = encodeExample({ n: int64Feature(1) });
  await writeFile(
    join(dir, 'over.tfrecord'),
    framed(plain, emptyBytesValuesPayload(500_001), packedInt64Payload(2_000_001), distinctKeysPayload(100_001), plain),
  );
  // 20 MB each, as in the issue.
  const payloads = { bytes: emptyBytesValuesPayload(10_000_000), int64: packedInt64Payload(20_000_000), keys: distinctKeysPayload(1_430_000) };
  for (const [name, p] of Object.entries(payloads)) {
    big[name] = join(dir, `${name}.tfrecord`);
    await writeFile(big[name]!, frameRecord(p));
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('records over the decoder limits', () => {
  it('validate: one example-too-large finding per record, naming it, exit 1', async () => {
    const res = await runCli(['validate', 'over.tfrecord', '--json'], dir);
    expect(res.code).toBe(1);
    const report = JSON.parse(res.stdout) as { records: number; findings: Array<{ code: string; record: number; message: string }> };
    expect(report.records).toBe(5);
    const over = report.findings.filter((f) => f.code === 'example-too-large');
    expect(over.map((f) => f.record)).toEqual([1, 2, 3]);
    expect(over[0]!.message).toMatch(/more than 500,000 bytes values .*feature 'k'/);
    expect(over[1]!.message).toMatch(/more than 2,000,000 int64 values/);
    expect(over[2]!.message).toMatch(/more than 100,000 features/);
  });

  it('inspect: an error line per refused record, the others shown, exit 1', async () => {
    const res = await runCli(['inspect', 'over.tfrecord'], dir);
    expect(res.code).toBe(1);
    expect(res.stderr.split('\n').filter((l) => l.includes('so it is not decoded'))).toHaveLength(3);
    expect(res.stderr).toContain('over.tfrecord: record 2 at byte');
    expect(res.stdout).toContain('record 4 at byte');
  });

  it('stats: counted as not decoded and listed as errors', async () => {
    const res = await runCli(['stats', 'over.tfrecord', '--json'], dir);
    const stats = JSON.parse(res.stdout) as { records: number; examples: number; notExamples: number; errors: Array<{ code: string; record: number }> };
    expect(stats).toMatchObject({ records: 5, examples: 2, notExamples: 3 });
    expect(stats.errors.map((e) => [e.code, e.record])).toEqual([
      ['example-too-large', 1],
      ['example-too-large', 2],
      ['example-too-large', 3],
    ]);
  });

  for (const command of ['validate', 'inspect', 'stats']) {
    it(`${command} of 20 MB crafted records fits a 128 MB heap`, () => {
      for (const [name, file] of Object.entries(big)) {
        const started = performance.now();
        const res = spawnSync(process.execPath, ['--max-old-space-size=128', CLI, command, file], { encoding: 'utf8' });
        const seconds = (performance.now() - started) / 1000;
        expect(res.stderr, name).not.toMatch(/heap out of memory|at .*\.js:\d+/);
        expect(res.status, `${name}: ${res.stderr}`).toBe(1);
        expect(res.stdout + res.stderr, name).toMatch(/more than [\d,]+ (bytes values|int64 values|features) \(the limit per record/);
        expect(seconds, name).toBeLessThan(20);
      }
    });
  }
});

describe('records at the decoder limits', () => {
  it('inspect shows a record of exactly 100,000 features', async () => {
    await writeFile(join(dir, 'at.tfrecord'), frameRecord(distinctKeysPayload(100_000)));
    const res = await runCli(['inspect', 'at.tfrecord'], dir);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/record 0 at byte 0 · [\d,]+ bytes · 100,?000 features/);
    expect(res.stdout).toContain('k00002ri  none        (no kind set)');
  });
});
