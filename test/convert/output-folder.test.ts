/**
 * The output folder's integrity: one convert at a time (a lock naming the
 * holder, taken over when its process is gone), a file where the folder
 * should be, and an interrupted publish (new shards renamed in, manifest not
 * yet written) that validate names and the next run repairs.
 */
import { copyFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertDataset } from 'tfrecord-od/convert';
import { validateDataset } from 'tfrecord-od/validate';
import { LOCK_FILE } from '../../src/convert/lock.js';
import { sampleSource, tempDir } from './helpers.js';

describe('one convert at a time', () => {
  it('refuses while a live process holds the lock, naming it; nothing is written', async () => {
    const out = await tempDir();
    // The test runner's own parent process is certainly alive.
    await writeFile(path.join(out, LOCK_FILE), JSON.stringify({ pid: process.ppid, host: (await import('node:os')).hostname(), started: 'earlier' }));
    await expect(convertDataset({ ...sampleSource('csv'), out, workers: 0 })).rejects.toThrow(
      new RegExp(`another tfrecord-od convert \\(process ${process.ppid} on .*\\) is writing this folder`),
    );
    expect(await readdir(out)).toEqual([LOCK_FILE]);
  });

  it('takes over a lock whose process is gone, and removes its own when done', async () => {
    const out = await tempDir();
    await writeFile(path.join(out, LOCK_FILE), JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import('node:os')).hostname(), started: 'long ago' }));
    const r = await convertDataset({ ...sampleSource('csv'), out, workers: 0 });
    expect(r.ok, r.failure).toBe(true);
    expect(await readdir(out)).not.toContain(LOCK_FILE);
  });

  it('an --out that is a file is refused in plain words', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'not-a-folder');
    await writeFile(file, 'x');
    await expect(convertDataset({ ...sampleSource('csv'), out: file, workers: 0 })).rejects.toThrow(/not-a-folder: the output path is a file, not a folder/);
  });
});

describe('an interrupted publish', () => {
  it('is named by validate (the new shards are not in the manifest) and repaired by the next run', async () => {
    const out = await tempDir();
    expect((await convertDataset({ ...sampleSource('csv'), out, workers: 0, shards: 3 })).ok).toBe(true);
    // A run with 4 shards killed after renaming its shards, before its manifest.
    const other = await tempDir();
    expect((await convertDataset({ ...sampleSource('csv'), out: other, workers: 0, shards: 4 })).ok).toBe(true);
    for (const f of (await readdir(other)).filter((n) => n.endsWith('.tfrecord'))) await copyFile(path.join(other, f), path.join(out, f));
    const r = await validateDataset([out]);
    expect(r.valid).toBe(false);
    expect(r.findings.filter((f) => f.code === 'unlisted-shard').map((f) => path.basename(f.file))).toEqual(
      [0, 1, 2, 3].map((i) => `data-0000${i}-of-00004.tfrecord`),
    );
    // The same command again: one set, the manifest's, and validate is clean.
    const again = await convertDataset({ ...sampleSource('csv'), out, workers: 0, shards: 3 });
    expect(again.ok).toBe(true);
    expect(again.replaced.sort()).toEqual([0, 1, 2, 3].map((i) => `data-0000${i}-of-00004.tfrecord`));
    expect((await validateDataset([out])).valid).toBe(true);
  });
});
