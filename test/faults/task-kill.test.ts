/**
 * kill -9 in a convert run as the tasks of a job, over a folder that holds
 * an earlier dataset. The tasks put their shards under their final names
 * before finalize, so the part manifests (and the parts folder, there before
 * a task's first rename) are the trace of the job: `validate OUT` names it
 * (`unfinalized-run`), a one-machine convert refuses the folder rather than
 * mix into it, and the job finishes by running its tasks and finalize.
 * Finalize publishes by the journal, as one machine does: killed at any of
 * its steps (hook points in src/convert/publish.ts: PUBLISH_STEPS; a task's
 * own: TASK_STEPS), validate names the interrupted publish, new tasks
 * refuse the folder, and the next finalize finishes it, byte for byte what
 * an uninterrupted run writes.
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertDataset } from 'tfrecord-od/convert';
import { validateDataset } from 'tfrecord-od';
import { PUBLISH_STEPS, TASK_STEPS } from '../../src/convert/publish.js';
import { hashTree, sampleWithoutCircles, tempDir } from '../convert/helpers.js';
import { convertArgs, expectCleanStderr, expectOneConsistentSet, IMAGES, runCli, sampleCsv } from './helpers.js';

const PARTS = '.tfrecord-od-parts';

/** An output folder holding an earlier run's set: all 12 sample images in `shards` shards. */
async function oldSet(shards: number): Promise<{ out: string; dir: string }> {
  const dir = await tempDir('faults');
  const out = path.join(dir, 'out');
  const r = await convertDataset({ from: 'csv', annotations: await sampleCsv(dir, 12), images: IMAGES, out, shards, workers: 0 });
  expect(r.ok, r.failure).toBe(true);
  return { out, dir };
}

/** Task `index` of `count` of a CSV convert of `csv` into `out`. */
const taskArgs = (csv: string, out: string, index: number, count: number, ...more: string[]) =>
  convertArgs(csv, out, ...more, '--task-index', String(index), '--task-count', String(count));

describe('a task killed while it renames its shards over an old set of the same names', () => {
  it.each(TASK_STEPS.map((s) => s.replace('K', '1')))(
    'killed at %s: validate names the unfinished job, one machine refuses the folder, the job then finishes',
    async (step) => {
      const { out, dir } = await oldSet(3);
      // The new run: the first 8 images, so its shards differ from the old ones under the same names.
      const eight = await sampleCsv(dir, 8);
      const killed = await runCli(taskArgs(eight, out, 0, 2, '--shards', '3'), { TFRECORD_OD_TEST_PAUSE_AT: step });
      expect(killed.signal).toBe('SIGKILL');
      const report = await validateDataset([out]);
      expect(report.valid).toBe(false);
      const unfinished = report.findings.filter((f) => f.code === 'unfinalized-run');
      expect(unfinished).toHaveLength(1);
      expect(unfinished[0]!.file).toBe(path.join(out, PARTS));
      expect(unfinished[0]!.message).toMatch(step === 'task-part' ? /task 0 of 2 has left a part manifest/ : /no task has left its part manifest yet/);
      // One machine does not convert into the half-replaced folder: finalize or give the job up.
      const one = await runCli(convertArgs(eight, out, '--shards', '3'));
      expect(one.code).toBe(1);
      expect(one.stderr).toMatch(
        /the folder holds a convert run as the tasks of a job that was not finalized: .*tfrecord-od finalize.*remove \.tfrecord-od-parts/,
      );
      expectCleanStderr(one.stderr);
      // The job goes on: task 0 again (an engine's retry), task 1, finalize.
      for (const index of [0, 1]) expect((await runCli(taskArgs(eight, out, index, 2, '--shards', '3'))).code).toBe(0);
      const done = await runCli(['finalize', out]);
      expect(done.code, done.stderr).toBe(0);
      expect(await expectOneConsistentSet(out, { data: 3 })).toBe(8);
    },
  );

  it('given up (the parts folder removed), one machine replaces the mixed set whole', async () => {
    const { out, dir } = await oldSet(3);
    const eight = await sampleCsv(dir, 8);
    expect((await runCli(taskArgs(eight, out, 0, 2, '--shards', '3'), { TFRECORD_OD_TEST_PAUSE_AT: 'task-rename-1' })).signal).toBe('SIGKILL');
    await rm(path.join(out, PARTS), { recursive: true });
    // Without the parts folder only the manifest's digests tell: a replaced shard is a mismatch, never silently valid.
    const report = await validateDataset([out]);
    expect(report.findings.map((f) => f.code)).toContain('shard-mismatch');
    const r = await runCli(convertArgs(eight, out, '--shards', '3'));
    expect(r.code, r.stderr).toBe(0);
    expect(await expectOneConsistentSet(out, { data: 3 })).toBe(8);
  });
});

describe('finalize killed at each step of its publish (4 old shards replaced by 3 new ones)', () => {
  const steps = PUBLISH_STEPS.filter((s) => s !== 'rename-K');
  it.each(steps)('killed at %s: validate names it, new tasks refuse the folder, the next finalize finishes it', async (step) => {
    const { out, dir } = await oldSet(4);
    const csv = await sampleCsv(dir, 12);
    for (const index of [0, 1]) expect((await runCli(taskArgs(csv, out, index, 2, '--shards', '3'))).code).toBe(0);
    const killed = await runCli(['finalize', out], { TFRECORD_OD_TEST_PAUSE_AT: step });
    expect(killed.signal).toBe('SIGKILL');
    const codes = (await validateDataset([out])).findings.map((f) => f.code);
    // Before the journal, the job is simply not finalized; from the journal on, the publish is named.
    expect(codes.includes('interrupted-publish')).toBe(step !== 'staged');
    // The parts go with the old shards, after the manifest.
    expect(codes.includes('unfinalized-run')).toBe(step !== 'removed');
    if (step !== 'staged') {
      // The tasks of a new run would rename shards under a publish still under way: they refuse.
      const task = await runCli(taskArgs(csv, out, 0, 2, '--shards', '3'));
      expect(task.code).toBe(1);
      expect(task.stderr).toMatch(/a finalize into this folder \(process \d+ .*\) was cut short while publishing data; run `tfrecord-od finalize` on it/);
    }
    const again = await runCli(['finalize', out]);
    expect(again.code, again.stderr).toBe(0);
    if (step !== 'staged') expect(again.stdout).toMatch(/a finalize into this folder .* was cut short while publishing data; its publish was finished first/);
    expect(await expectOneConsistentSet(out, { data: 3 })).toBe(12);
  });
});

describe('finalize that renumbers labels, killed', () => {
  // Every task's shard holding a moved label is rewritten into a new file, renamed over it by the journal.
  it.each(['staged', 'rename-1', 'manifest'])('at %s: the next finalize writes the bytes of an uninterrupted run', async (step) => {
    const root = await sampleWithoutCircles();
    const work = await tempDir('faults');
    const args = (out: string, ...more: string[]) => [
      'convert',
      ...['--from', 'csv', '--annotations', path.join(root, 'csv', 'annotations.csv'), '--images', path.join(root, 'images')],
      ...['--split', 'train=0.5,val=0.5', '--seed', '3', '--shards', '2', '--on-error', 'skip', '--compression', 'gzip'],
      ...['--out', out, '--quiet', '--workers', '0', ...more],
    ];
    const reference = path.join(work, 'one');
    expect((await runCli(args(reference))).code).toBe(0);
    expect(JSON.parse(await readFile(path.join(reference, 'manifest.json'), 'utf8')).labelMap).toEqual([
      { id: 1, name: 'square' },
      { id: 2, name: 'triangle' },
    ]);
    const out = path.join(work, 'tasks');
    for (const index of [0, 1]) expect((await runCli(args(out, '--task-index', String(index), '--task-count', '2'))).code).toBe(0);
    const tasksWrote = await hashTree(out);
    expect((await runCli(['finalize', out], { TFRECORD_OD_TEST_PAUSE_AT: step })).signal).toBe('SIGKILL');
    if (step === 'staged') {
      // Relabelled into new files only: every shard and part is as the tasks wrote it.
      const now = await hashTree(out);
      for (const [file, hash] of Object.entries(tasksWrote)) expect(now[file], file).toBe(hash);
      expect(Object.keys(now).filter((f) => !(f in tasksWrote))).toEqual(
        expect.arrayContaining([expect.stringMatching(/^\.(train|val)-0000\d-of-00002\.tfrecord\.gz\.tmp-\d+-relabel$/)]),
      );
    }
    const again = await runCli(['finalize', out]);
    expect(again.code, again.stderr).toBe(0);
    expect(await hashTree(out)).toEqual(await hashTree(reference));
  });
});
