/**
 * kill -9 while a surgery command (reshard here; remap, split and merge
 * share its publish, src/surgery/rewrite.ts) publishes into its new folder.
 * It publishes as convert does, by the journal (hook points: PUBLISH_STEPS
 * in src/convert/publish.ts): killed after the journal is written, the
 * folder never passes for a dataset (`validate OUT` names the interrupted
 * publish), the command run again refuses the folder pointing at finalize,
 * and `tfrecord-od finalize OUT` finishes the publish: the same shards,
 * label map and manifest as an uninterrupted run. The same for the
 * finalize of a reshard run as the tasks of a job (its parts go last), which
 * the tasks of another run cannot write under meanwhile.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateDataset } from 'tfrecord-od';
import { convertDataset } from 'tfrecord-od/convert';
import { PUBLISH_STEPS } from '../../src/convert/publish.js';
import { hashTree, sampleSource, tempDir } from '../convert/helpers.js';
import { expectCleanStderr, filesIn, runCli } from './helpers.js';

let input: string;
let reference: string;

let scratch: string;

// Made once for every test (tempDir's folders go after each test).
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'tfrecord-od-surgery-kill-'));
  input = path.join(scratch, 'in');
  expect((await convertDataset({ ...sampleSource('coco'), out: input, workers: 0, shards: 3 })).ok).toBe(true);
  reference = path.join(scratch, 'reference');
  const r = await runCli(['reshard', input, '--out', reference, '--shards', '2']);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** The manifest without what names the folder it was written into. */
async function manifestOf(out: string): Promise<unknown> {
  return JSON.parse((await readFile(path.join(out, 'manifest.json'), 'utf8')).split(out).join('OUT'));
}

describe('reshard killed while it publishes 2 shards', () => {
  // `staged`: nothing was published; only hidden staging files are left, which no reader lists.
  it('killed at staged: nothing under a final name, and the folder does not pass for a dataset', async () => {
    const out = path.join(await tempDir('surgery'), 'out');
    expect((await runCli(['reshard', input, '--out', out, '--shards', '2'], { TFRECORD_OD_TEST_PAUSE_AT: 'staged' })).signal).toBe('SIGKILL');
    expect((await filesIn(out)).filter((f) => !f.startsWith('.'))).toEqual([]);
    await expect(validateDataset([out])).rejects.toThrow(/directory contains no \*\.tfrecord\* files/);
  });

  const steps = PUBLISH_STEPS.filter((s) => s !== 'staged').flatMap((s) => (s === 'rename-K' ? ['rename-1', 'rename-2'] : [s]));
  it.each(steps)('killed at %s: validate names it, reshard again refuses, finalize finishes it as an uninterrupted run', async (step) => {
    const out = path.join(await tempDir('surgery'), 'out');
    const killed = await runCli(['reshard', input, '--out', out, '--shards', '2'], { TFRECORD_OD_TEST_PAUSE_AT: step });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const report = await validateDataset([out]);
    expect(report.valid).toBe(false);
    const interrupted = report.findings.filter((f) => f.code === 'interrupted-publish');
    expect(interrupted).toHaveLength(1);
    expect(interrupted[0]!.message).toMatch(/^a reshard \(process \d+ on .+\) was cut short while publishing data: .*`tfrecord-od finalize` on this folder/);
    const again = await runCli(['reshard', input, '--out', out, '--shards', '2']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(
      /the output folder holds a publish that was cut short \(validate names it\); `tfrecord-od finalize` on it finishes that publish/,
    );
    expectCleanStderr(again.stderr);
    const done = await runCli(['finalize', out]);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/a reshard into this folder .* was cut short while publishing data; its publish was finished first: 2 shards in place/);
    expect(done.stdout).toMatch(/data: \d+ records, \d+ boxes in 2 shards/);
    // The very files of an uninterrupted run (the manifest aside from the folder's name), nothing else.
    const [mine, theirs] = [await hashTree(out), await hashTree(reference)];
    delete mine['manifest.json'];
    delete theirs['manifest.json'];
    expect(mine).toEqual(theirs);
    expect(await manifestOf(out)).toEqual(await manifestOf(reference));
    expect((await validateDataset([out])).valid).toBe(true);
  });
});

describe('reshard as the 2 tasks of a job, finalize killed while it publishes', () => {
  const steps = PUBLISH_STEPS.filter((s) => s !== 'rename-K');
  it.each(steps)('killed at %s: validate names it, the next finalize finishes it as one machine would', async (step) => {
    const out = path.join(await tempDir('surgery'), 'out');
    for (const index of [0, 1]) {
      const t = await runCli(['reshard', input, '--out', out, '--shards', '2', '--task-index', String(index), '--task-count', '2']);
      expect(t.code, t.stderr).toBe(0);
    }
    expect((await runCli(['finalize', out], { TFRECORD_OD_TEST_PAUSE_AT: step })).signal).toBe('SIGKILL');
    const codes = (await validateDataset([out])).findings.map((f) => f.code);
    expect(codes.includes('interrupted-publish')).toBe(step !== 'staged');
    expect(codes.includes('unfinalized-run')).toBe(step !== 'removed');
    // A task of another run refuses the folder while the publish is unfinished.
    if (step !== 'staged') {
      const task = await runCli(['reshard', input, '--out', out, '--shards', '2', '--task-index', '0', '--task-count', '2']);
      expect(task.code).toBe(2);
      expect(task.stderr).toMatch(/holds a publish that was cut short/);
    }
    const done = await runCli(['finalize', out]);
    expect(done.code, done.stderr).toBe(0);
    if (step !== 'staged') expect(done.stdout).toMatch(/a finalize into this folder .* was cut short while publishing data; its publish was finished first/);
    const [mine, theirs] = [await hashTree(out), await hashTree(reference)];
    delete mine['manifest.json'];
    delete theirs['manifest.json'];
    expect(mine).toEqual(theirs);
    expect(await manifestOf(out)).toEqual(await manifestOf(reference));
  });
});
