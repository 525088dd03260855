/**
 * Scale-out of the surgery commands: `reshard` and `remap` with
 * `--task-index I --task-count N` in N processes of the built CLI, each
 * writing its share of the shards and a part manifest into one folder, then
 * `finalize`. The union must be byte for byte the one-machine run's output
 * (manifest.json included: it holds no timing field), for N = 1, 2, 3 and 7
 * (more tasks than shards included), by count and by size, from plain and
 * gzip inputs; the task numbers come from flags or from each job engine's
 * environment variables. split and merge run as tasks through the same
 * body; they are checked in this process.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeDataset, reshardDataset, splitDataset } from 'tfrecord-od';
import { convertDataset, finalizeDataset } from 'tfrecord-od/convert';
import { indexInputs } from '../../src/surgery/inputs.js';
import { runCli } from '../helpers/cli.js';
import { cliTask as cli, taskArgs } from '../helpers/tasks.js';
import { hashTree, listTree, sampleSource, shardFiles, tempDir } from '../convert/helpers.js';

const COUNTS = [1, 2, 3, 7];

/** The sample (12 records, 3 classes) in 3 plain shards, and in 2 gzip ones with a label map numbered with a gap. */
let work: string;
let plain: string;
let gzip: string;

beforeAll(async () => {
  // Not tempDir(): that folder is removed after each test, this one is shared by all.
  work = await mkdtemp(path.join(tmpdir(), 'tfrecord-od-surgery-scale-'));
  plain = path.join(work, 'plain');
  gzip = path.join(work, 'gzip');
  expect((await convertDataset({ ...sampleSource('coco'), out: plain, workers: 0, shards: 3 })).ok).toBe(true);
  expect((await convertDataset({ ...sampleSource('csv'), out: gzip, workers: 0, shards: 2, compression: 'gzip' })).ok).toBe(true);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe.each([
  ['reshard --shards 5 from plain inputs', () => ['reshard', plain, '--shards', '5'], 5],
  ['reshard --shard-size from gzip inputs, gzip out', () => ['reshard', gzip, '--shard-size', '20KB', '--compression', 'gzip', '--name', 'train'], 3],
  ['remap --drop --rename from gzip inputs, by size', () => ['remap', gzip, '--drop', 'circle', '--rename', 'square=box', '--shard-size', '25KB'], 3],
])('%s', (_, command, shardCount) => {
  it('N = 1, 2, 3 and 7 task processes, then finalize, give the bytes of one machine', async () => {
    const dir = await tempDir('scale');
    const one = path.join(dir, 'one');
    const args = command();
    const runs = [];
    for (const n of COUNTS) {
      for (let i = 0; i < n; i++) {
        const t = taskArgs(i, n);
        runs.push(cli([...args, ...t.args, '--out', path.join(dir, `n${n}`)], t.env));
      }
    }
    const reference = await runCli([...args, '--out', one]);
    expect(reference.code, reference.stderr).toBe(0);
    const results = await Promise.all(runs);
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const expected = await hashTree(one);
    const shards = await shardFiles(one);
    expect(shards).toHaveLength(shardCount);
    expect(Object.keys(expected).sort()).toEqual([...shards, 'label_map.pbtxt', 'manifest.json'].sort());
    for (const n of COUNTS) {
      const out = path.join(dir, `n${n}`);
      expect((await readdir(path.join(out, '.tfrecord-od-parts'))).sort()).toEqual(Array.from({ length: n }, (_, i) => `task-0000${i}-of-0000${n}.json`));
      // Before finalize: the shards, but no label map or manifest.
      expect((await listTree(out)).filter((f) => !f.startsWith('.'))).toEqual(shards);
      const done = await runCli(['finalize', out]);
      expect(done.code, done.stderr).toBe(0);
      if (args[0] === 'remap') expect(done.stdout).toMatch(/1 circle\s+→ dropped/);
      expect(await hashTree(out), `N = ${n}`).toEqual(expected);
    }
  });
});

describe('tasks and finalize of the surgery commands', () => {
  const reshardTask = (out: string, index: number, count: number) => reshardDataset([plain], { out, shards: 4, task: { index, count } });

  it('finalize refuses while tasks are missing, naming them, and changes nothing; a task run again writes the same bytes', async () => {
    const out = path.join(await tempDir('missing'), 'out');
    for (const index of [0, 2]) expect((await reshardTask(out, index, 4)).ok).toBe(true);
    const before = await hashTree(out);
    const refused = await runCli(['finalize', out]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('2 of 4 tasks have not finished: no part manifest from tasks 1, 3');
    expect(await hashTree(out)).toEqual(before);
    for (const index of [1, 3]) await reshardTask(out, index, 4);
    const all = await hashTree(out);
    expect((await reshardTask(out, 1, 4)).ok).toBe(true);
    expect(await hashTree(out)).toEqual(all);
    const done = await runCli(['finalize', out, '--json']);
    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ ok: true, records: 12 });
    const one = path.join(await tempDir('one'), 'out');
    expect((await reshardDataset([plain], { out: one, shards: 4 })).ok).toBe(true);
    expect(await hashTree(out)).toEqual(await hashTree(one));
  });

  it('a task refuses a folder holding what is not its job’s; finalize refuses parts of another command or run', async () => {
    const out = path.join(await tempDir('foreign'), 'out');
    await reshardTask(out, 0, 2);
    await writeFile(path.join(out, 'notes.txt'), 'x');
    await expect(reshardTask(out, 1, 2)).rejects.toThrow(/the output folder holds files that are not this job's \(notes\.txt\)/);
    await rm(path.join(out, 'notes.txt'));
    // Task 1 of another run (the same shards, checked for another target) leaves a part that does not agree with task 0's.
    expect((await reshardDataset([plain], { out, shards: 4, target: 'od-api', task: { index: 1, count: 2 } })).ok).toBe(true);
    const refused = await runCli(['finalize', out]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/come from different runs.*task-00000-of-00002\.json and task-00001-of-00002\.json/);
    // Parts of a surgery command are not convert's: its finalize says whose they are.
    await expect(finalizeDataset(out)).rejects.toThrow(/a part manifest of tfrecord-od reshard, not of convert/);
  });

  it('a task reads only its own records: a damaged payload fails the task that writes it, and finalize fails the run naming it', async () => {
    const dir = await tempDir('damaged');
    const input = path.join(dir, 'in.tfrecord');
    const first = (await shardFiles(plain))[0]!;
    const bytes = new Uint8Array(await readFile(path.join(plain, first)));
    // A byte inside the last record's payload: its data CRC no longer holds, its framing does.
    bytes[bytes.length - 100]! ^= 0x04;
    await writeFile(input, bytes);
    // The index reads the framing only: it finds nothing wrong.
    const index = await indexInputs([input]);
    expect(index.problemCount).toBe(0);
    const last = index.offsets.length - 1;
    const out = path.join(dir, 'out');
    // Two shards by round-robin: the last record is in shard last % 2, which task (last % 2) writes.
    const reports = [];
    for (const i of [0, 1]) reports.push(await reshardDataset([input], { out, shards: 2, task: { index: i, count: 2 } }));
    const bad = last % 2;
    expect(reports[1 - bad]!.ok).toBe(true);
    expect(reports[bad]!.ok).toBe(false);
    expect(reports[bad]!.problems).toEqual([expect.objectContaining({ code: 'crc-mismatch', file: input, record: last })]);
    const done = await runCli(['finalize', out]);
    expect(done.code).toBe(1);
    expect(done.stderr).toContain('FAILED: the input has 1 problem; nothing was written');
    expect(done.stderr).toContain(`record ${last}`);
    // Nothing of the run stays: the good task's shard is gone with the parts.
    expect(await listTree(out)).toEqual([]);
  });

  it('split and merge as 3 tasks give the bytes of one machine', async () => {
    const dir = await tempDir('split-merge');
    const splits = [
      { name: 'train', fraction: 0.5 },
      { name: 'val', fraction: 0.5 },
    ];
    const runs = {
      split: (out: string, task?: { index: number; count: number }) => splitDataset([plain], { out, splits, shards: 2, seed: 1, ...(task ? { task } : {}) }),
      merge: (out: string, task?: { index: number; count: number }) => mergeDataset([plain, gzip], { out, shards: 3, ...(task ? { task } : {}) }),
    };
    for (const [name, run] of Object.entries(runs)) {
      const one = path.join(dir, `${name}-one`);
      expect((await run(one)).ok).toBe(true);
      const out = path.join(dir, `${name}-tasks`);
      for (const index of [0, 1, 2]) expect((await run(out, { index, count: 3 })).ok).toBe(true);
      expect((await runCli(['finalize', out])).code).toBe(0);
      expect(await hashTree(out), name).toEqual(await hashTree(one));
    }
  });

  it('usage mistakes in the task numbers exit 2 with the reason', async () => {
    const out = path.join(await tempDir('usage'), 'out');
    const noCount = await cli(['remap', plain, '--out', out], { JOB_COMPLETION_INDEX: '1' });
    expect(noCount.code).toBe(2);
    expect(noCount.stderr).toContain('JOB_COMPLETION_INDEX gives task index 1 but not how many tasks there are: give --task-count');
    const tooBig = await runCli(['reshard', plain, '--out', out, '--task-index', '3', '--task-count', '3']);
    expect(tooBig.code).toBe(2);
    expect(tooBig.stderr).toContain('task index 3 (--task-index) is not below the task count 3 (--task-count)');
  });
});
