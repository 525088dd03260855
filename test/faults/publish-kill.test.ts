/**
 * kill -9 at every step of a publish (the hook in src/convert/publish.ts
 * stops the process there): afterwards `validate OUT` names the interrupted
 * publish (or finds the old dataset intact, when the kill came before
 * anything was published), the folder never reads as a valid mix of the old
 * and new sets, and the next convert into the folder finishes the publish
 * and leaves one consistent set.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertDataset } from 'tfrecord-od/convert';
import { readManifest, validateDataset } from 'tfrecord-od';
import { PUBLISH_STEPS } from '../../src/convert/publish.js';
import { tempDir } from '../convert/helpers.js';
import { convertArgs, expectOneConsistentSet, filesIn, IMAGES, runCli, sampleCsv, sha256 } from './helpers.js';

/** The publish steps for a set of `shards` shards, `rename-K` spelled out. */
function stepsFor(shards: number): string[] {
  return PUBLISH_STEPS.flatMap((s) => (s === 'rename-K' ? Array.from({ length: shards }, (_, k) => `rename-${k + 1}`) : [s]));
}

/** An output folder holding an earlier run's set: all 12 sample images in 3 shards. */
async function oldSet(): Promise<{ out: string; dir: string }> {
  const dir = await tempDir('faults');
  const out = path.join(dir, 'out');
  const r = await convertDataset({ from: 'csv', annotations: await sampleCsv(dir, 12), images: IMAGES, out, shards: 3, workers: 0 });
  expect(r.ok, r.failure).toBe(true);
  return { out, dir };
}

/** After a kill: validate's verdict and what the folder's manifest would have a reader read. */
async function expectKilledState(out: string, step: string, oldManifest: string): Promise<void> {
  const report = await validateDataset([out]);
  const interrupted = report.findings.filter((f) => f.code === 'interrupted-publish');
  if (step === 'staged') {
    // Killed before the journal: nothing was published, the old set stands (staged files are hidden).
    expect(interrupted).toEqual([]);
    expect(report.valid).toBe(true);
    expect(await readFile(path.join(out, 'manifest.json'), 'utf8')).toBe(oldManifest);
    return;
  }
  expect(report.valid).toBe(false);
  expect(interrupted).toHaveLength(1);
  expect(interrupted[0]!.message).toMatch(
    /a convert \(process \d+ on .+, started .+\) was cut short while publishing data: .*`tfrecord-od finalize` on this folder, or the next convert into it, finishes that publish first/,
  );
}

describe('kill -9 while 3 old shards are replaced by 4 new ones (other names)', () => {
  it.each(stepsFor(4))('killed at %s: validate names it, the next convert finishes it', async (step) => {
    const { out, dir } = await oldSet();
    const oldManifest = await readFile(path.join(out, 'manifest.json'), 'utf8');
    const csv = await sampleCsv(dir, 12);
    const killed = await runCli(convertArgs(csv, out, '--shards', '4'), { TFRECORD_OD_TEST_PAUSE_AT: step });
    expect(killed.signal).toBe('SIGKILL');
    await expectKilledState(out, step, oldManifest);
    // The same command again.
    const again = await convertDataset({ from: 'csv', annotations: csv, images: IMAGES, out, shards: 4, workers: 0 });
    expect(again.ok, again.failure).toBe(true);
    expect(again.notes.filter((n) => n.code === 'interrupted-publish')).toHaveLength(step === 'staged' ? 0 : 1);
    expect(await expectOneConsistentSet(out, { data: 4 })).toBe(12);
  });
});

describe('kill -9 while 3 old shards are replaced by 3 new ones of the same names', () => {
  it.each(['journal', 'rename-1', 'rename-2', 'label-map', 'manifest'])(
    'killed at %s: a run of another prefix finishes the publish first; the set is wholly the new one',
    async (step) => {
      const { out, dir } = await oldSet();
      const oldManifest = await readFile(path.join(out, 'manifest.json'), 'utf8');
      // The new set: the first 8 images only, so the files differ from the old ones under the same names.
      const eight = await sampleCsv(dir, 8);
      const killed = await runCli(convertArgs(eight, out, '--shards', '3'), { TFRECORD_OD_TEST_PAUSE_AT: step });
      expect(killed.signal).toBe('SIGKILL');
      await expectKilledState(out, step, oldManifest);
      // Any convert into the folder repairs it: here one writing another prefix.
      const other = await convertDataset({ from: 'csv', annotations: eight, images: IMAGES, out, shards: 1, name: 'other', workers: 0 });
      expect(other.ok, other.failure).toBe(true);
      expect(other.notes.map((n) => n.code)).toContain('interrupted-publish');
      const manifest = (await readManifest(out))!;
      expect(manifest.splits.find((s) => s.prefix === 'data')!.records).toBe(8);
      expect(await expectOneConsistentSet(out, { data: 3, other: 1 })).toBe(16);
      // Every shard of the data set is the new run's: one run's files, by hash.
      const data = manifest.splits.find((s) => s.prefix === 'data')!.shards;
      for (const s of data) expect(sha256(await readFile(path.join(out, s.name)))).toBe(s.sha256);
      expect((await filesIn(out)).filter((f) => f.startsWith('.'))).toEqual([]);
    },
  );
});
