/**
 * Two converts into one output folder at once: the second refuses while the
 * first holds the folder's lock, naming the first process; whatever the
 * timing, the folder ends up as one consistent dataset.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../convert/helpers.js';
import { convertArgs, expectCleanStderr, expectOneConsistentSet, runCli, sampleCsv, startCli, waitForFile } from './helpers.js';

const LOCK_MESSAGE = /another tfrecord-od convert \(process (\d+) on .+, started .+\) is writing this folder/;

describe('two converts into one folder', () => {
  it('while the first holds the lock, the second refuses naming it (exit 1); the first then publishes', async () => {
    const dir = await tempDir('faults');
    const csv = await sampleCsv(dir, 12);
    const out = path.join(dir, 'out');
    const marker = path.join(dir, 'paused');
    // The first stops with its shards staged, the lock held.
    const first = startCli(convertArgs(csv, out, '--shards', '2'), { TFRECORD_OD_TEST_PAUSE_AT: 'staged', TFRECORD_OD_TEST_PAUSE_FILE: marker });
    await waitForFile(marker);
    const second = await runCli(convertArgs(csv, out, '--shards', '3'));
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(LOCK_MESSAGE);
    expect(Number(LOCK_MESSAGE.exec(second.stderr)![1])).toBe(first.child.pid);
    expectCleanStderr(second.stderr);
    await rm(marker);
    expect((await first.done).code).toBe(0);
    expect(await expectOneConsistentSet(out, { data: 2 })).toBe(12);
  });

  it('started together: each finishes or refuses by the lock, and the folder holds one consistent set', async () => {
    const dir = await tempDir('faults');
    const csv = await sampleCsv(dir, 12);
    const out = path.join(dir, 'out');
    const runs = await Promise.all([runCli(convertArgs(csv, out, '--shards', '2')), runCli(convertArgs(csv, out, '--shards', '3'))]);
    for (const r of runs) {
      expect([0, 1]).toContain(r.code);
      if (r.code === 1) expect(r.stderr).toMatch(LOCK_MESSAGE);
      expectCleanStderr(r.stderr);
    }
    // The set in place is the last one published, whole.
    const published = runs.map((r, i) => (r.code === 0 ? i : -1)).filter((i) => i >= 0);
    expect(published.length).toBeGreaterThan(0);
    const manifest = JSON.parse(await (await import('node:fs/promises')).readFile(path.join(out, 'manifest.json'), 'utf8')) as {
      splits: Array<{ shards: unknown[] }>;
    };
    const shards = manifest.splits[0]!.shards.length;
    expect([2, 3]).toContain(shards);
    expect(await expectOneConsistentSet(out, { data: shards })).toBe(12);
  });
});
