/**
 * The file system failing under convert: a disk that fills up (a small
 * tmpfs, where the test may mount one) while the shards are written, just
 * before the publish, or between the shards and the manifest; a read-only
 * output folder; an --out that is a file; too few file descriptors for the
 * shards asked for. Each fails with exit 1 and a plain message, publishes
 * nothing half-way, and leaves no temporary files; a publish the disk cut
 * short is named by validate and finished by the next convert.
 */
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertDataset } from 'tfrecord-od/convert';
import { validateDataset } from 'tfrecord-od';
import { tempDir } from '../convert/helpers.js';
import { convertArgs, expectCleanStderr, expectOneConsistentSet, filesIn, IMAGES, runCli, sampleCsv, startCli, waitForFile } from './helpers.js';

const isRoot = process.getuid?.() === 0;
const mounts: string[] = [];

/** Mounts a tmpfs of `size` (e.g. '64k') on a new folder; undefined where this process may not mount. */
function mountTmpfs(dir: string, size: string, readOnly = false): boolean {
  if (!isRoot || process.platform !== 'linux') return false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}${readOnly ? ',ro' : ''}`, 'tmpfs', dir], { stdio: 'ignore' });
    mounts.push(dir);
    return true;
  } catch {
    return false;
  }
}

let canMount = false;
let scratch: string;

beforeAll(async () => {
  scratch = await (await import('node:fs/promises')).mkdtemp(path.join((await import('node:os')).tmpdir(), 'tfrecord-od-disk-'));
  const probe = path.join(scratch, 'probe');
  await mkdir(probe);
  canMount = mountTmpfs(probe, '64k');
  if (!canMount) console.log('disk-full tests skipped: mounting a small tmpfs needs root on Linux with mount permission (CAP_SYS_ADMIN)');
});

afterAll(async () => {
  for (const m of mounts.reverse()) {
    try {
      execFileSync('umount', [m], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
  await rm(scratch, { recursive: true, force: true });
});

/** A fresh tmpfs of `size` for one test. */
async function smallDisk(size: string): Promise<string> {
  const dir = path.join(scratch, `disk-${mounts.length}`);
  await mkdir(dir);
  if (!mountTmpfs(dir, size)) throw new Error(`cannot mount a tmpfs on ${dir}`);
  return dir;
}

/** Fills the file system of `dir` to the last byte (the write fails with ENOSPC and keeps what it wrote). */
async function fillUp(dir: string): Promise<void> {
  await writeFile(path.join(dir, 'filler'), Buffer.alloc(16 << 20)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOSPC') throw err;
  });
}

/**
 * On a small disk holding a dataset of 3 shards, a convert of the same
 * images into 4 shards that pauses at `step` (TFRECORD_OD_TEST_PAUSE_AT),
 * finds the disk full when it goes on, and finishes. `before` and
 * `manifest` are the folder as it was before that run.
 */
async function convertFillingDiskAt(step: string) {
  const disk = await smallDisk('256k');
  const dir = await tempDir('faults');
  const csv = await sampleCsv(dir, 12);
  const out = path.join(disk, 'out');
  expect((await convertDataset({ from: 'csv', annotations: csv, images: IMAGES, out, shards: 3, workers: 0 })).ok).toBe(true);
  const before = await filesIn(out);
  const manifest = await readFile(path.join(out, 'manifest.json'), 'utf8');
  const marker = path.join(dir, 'paused');
  const run = startCli(convertArgs(csv, out, '--shards', '4'), { TFRECORD_OD_TEST_PAUSE_AT: step, TFRECORD_OD_TEST_PAUSE_FILE: marker });
  await waitForFile(marker);
  await fillUp(disk);
  await rm(marker);
  return { disk, csv, out, before, manifest, r: await run.done };
}

/** Hidden temporaries and staged shards a run may leave. */
const leftovers = (names: string[]) => names.filter((n) => /\.tmp-|\.staging-|\.tfrecord-od\.lock/.test(n));

describe('a disk that fills up', () => {
  it('while the shards are written: exit 1, nothing published, nothing left behind', async (ctx) => {
    if (!canMount) ctx.skip();
    const disk = await smallDisk('24k');
    const csv = await sampleCsv(await tempDir('faults'), 12);
    const out = path.join(disk, 'out');
    const r = await runCli(convertArgs(csv, out, '--shards', '2'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no space left on the device/);
    expectCleanStderr(r.stderr);
    expect(await filesIn(out)).toEqual([]);
  });

  it('just before the publish (the journal cannot be written): the old dataset stands as it was', async (ctx) => {
    if (!canMount) ctx.skip();
    const { out, before, manifest, r } = await convertFillingDiskAt('staged');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no space left on the device/);
    expectCleanStderr(r.stderr);
    expect(await filesIn(out)).toEqual(before);
    expect(await readFile(path.join(out, 'manifest.json'), 'utf8')).toBe(manifest);
    expect((await validateDataset([out])).valid).toBe(true);
  });

  it('after the shards, before the label map and manifest: named as an interrupted publish, finished by the next run', async (ctx) => {
    if (!canMount) ctx.skip();
    const { disk, csv, out, r } = await convertFillingDiskAt('rename-4');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /publishing stopped after 4 of 4 shards took their final names: .*label_map\.pbtxt.*no space left on the device.*interrupted publish/,
    );
    expectCleanStderr(r.stderr);
    // No half-written label map or manifest under a temporary name (.manifest.json.tmp-PID).
    expect(leftovers(await filesIn(out))).toEqual([]);
    const report = await validateDataset([out]);
    expect(report.valid).toBe(false);
    expect(report.findings.map((f) => f.code)).toContain('interrupted-publish');
    // Space again, and any convert into the folder finishes the publish first.
    await rm(path.join(disk, 'filler'));
    const again = await convertDataset({ from: 'csv', annotations: csv, images: IMAGES, out, shards: 4, workers: 0 });
    expect(again.ok, again.failure).toBe(true);
    expect(again.notes.map((n) => n.code)).toContain('interrupted-publish');
    expect(await expectOneConsistentSet(out, { data: 4 })).toBe(12);
  });
});

describe('an output folder that cannot be written', () => {
  it('read-only: exit 1 in plain words, nothing written', async (ctx) => {
    const csv = await sampleCsv(await tempDir('faults'), 12);
    // In the scratch folder, which is unmounted before it is removed.
    const ro = path.join(scratch, 'ro');
    await mkdir(ro);
    if (isRoot) {
      // Root ignores permission bits; a read-only mount stops it.
      if (!mountTmpfs(ro, '64k', true)) ctx.skip();
    } else {
      await (await import('node:fs/promises')).chmod(ro, 0o555);
    }
    for (const out of [ro, path.join(ro, 'new')]) {
      const r = await runCli(convertArgs(csv, out));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(isRoot ? /read-only file system/ : /permission denied/);
      expect(r.stderr).toContain(out);
      expectCleanStderr(r.stderr);
    }
    expect(await filesIn(ro)).toEqual([]);
  });

  it('--out names a file: a usage error (exit 2), the file untouched', async () => {
    const dir = await tempDir('faults');
    const csv = await sampleCsv(dir, 12);
    const file = path.join(dir, 'not-a-folder');
    await writeFile(file, 'keep me');
    const r = await runCli(convertArgs(csv, file));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--out is a file, not a folder: .*not-a-folder/);
    expect(await readFile(file, 'utf8')).toBe('keep me');
  });
});

describe('shard counts', () => {
  it('--shards 100000000 is a usage error naming the limit; nothing is created', async () => {
    const dir = await tempDir('faults');
    const out = path.join(dir, 'out');
    const r = await runCli(convertArgs(await sampleCsv(dir, 12), out, '--shards', '100000000'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/shard count must be a whole number from 1 to 10000 .*got 100000000/);
    expect(await filesIn(dir)).toEqual(['sample-12.csv']);
  });

  it('more shards than file descriptors: exit 1 in plain words, and the shards opened so far are removed', async (ctx) => {
    if (process.platform === 'win32') ctx.skip();
    const dir = await tempDir('faults');
    const out = path.join(dir, 'out');
    // A planned shard is closed after its last image, so only more images than
    // shards keep them all open at once: 400 copies of one small image, two per shard.
    const images = path.join(dir, 'images');
    await mkdir(images);
    const rows = ['filename,width,height,class,xmin,ymin,xmax,ymax'];
    for (let i = 0; i < 400; i++) {
      await copyFile(path.join(IMAGES, 'img04.jpg'), path.join(images, `copy${i}.jpg`));
      rows.push(`copy${i}.jpg,,,thing,1,1,5,5`);
    }
    const csv = path.join(dir, 'copies.csv');
    await writeFile(csv, rows.join('\n') + '\n');
    const args = convertArgs(csv, out, '--shards', '200').map((a) => (a === IMAGES ? images : a));
    // `ulimit -n` in the shell lowers both limits, so Node cannot raise its own again.
    const r = await runCli(args, {}, ['/bin/sh', '-c', 'ulimit -n 128 && exec "$0" "$@"']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/too many open files \(the system limit; see ulimit -n\)/);
    expectCleanStderr(r.stderr);
    expect(await filesIn(out)).toEqual([]);
  });
});
