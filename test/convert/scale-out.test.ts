/**
 * Scale-out: `convert --task-index I --task-count N` in N processes of the
 * built CLI, each writing its share of the shards and a part manifest into
 * one folder, then `finalize`. The union of the tasks' shards with the label
 * map and manifest finalize writes must be byte for byte what one machine's
 * run writes, for any N (more tasks than shards included), with and without
 * --split; the task numbers come from flags or from each job engine's
 * environment variables.
 */
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertDataset, finalizeDataset, type ConvertOptions } from 'tfrecord-od/convert';
import { runCli } from '../helpers/cli.js';
import { cliTask as cli, taskArgs } from '../helpers/tasks.js';
import { hashTree, listTree, SAMPLE, sampleSource, sampleWithoutCircles, tempDir } from './helpers.js';

const COUNTS = [1, 2, 3, 7];

describe.each([
  ['without --split, shards cut by size (4 shards)', false],
  ['with --split and --shards 2, gzip, skipped items and renumbered labels (4 shards)', true],
])('%s', (_, split) => {
  it('N = 1, 2, 3 and 7 tasks in separate processes, then finalize, give the bytes of one machine', async () => {
    const root = split ? await sampleWithoutCircles() : SAMPLE;
    const source = ['--from', 'csv', '--annotations', path.join(root, 'csv', 'annotations.csv'), '--images', path.join(root, 'images'), '--quiet'];
    const options = split
      ? ['--split', 'train=0.5,val=0.5', '--seed', '3', '--shards', '2', '--on-error', 'skip', '--compression', 'gzip']
      : ['--shard-size', '15KB'];
    const work = await tempDir('scale');
    const one = path.join(work, 'one');
    // The reference and every task of every N at once: many processes on one machine, as a job engine would start them.
    const runs = [cli(['convert', ...source, ...options, '--out', one])];
    for (const n of COUNTS) {
      for (let i = 0; i < n; i++) {
        const t = taskArgs(i, n);
        runs.push(cli(['convert', ...source, ...options, ...t.args, '--out', path.join(work, `n${n}`)], t.env));
      }
    }
    const results = await Promise.all(runs);
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const reference = await hashTree(one);
    const shardNames = Object.keys(reference).filter((f) => f.includes('.tfrecord'));
    expect(shardNames).toHaveLength(4);
    expect(COUNTS.some((n) => n > shardNames.length)).toBe(true);
    if (split) {
      // The run these options make: skipped items, and labels renumbered after circle lost its boxes.
      const manifest = JSON.parse(await readFile(path.join(one, 'manifest.json'), 'utf8'));
      expect(manifest.labelMap).toEqual([
        { id: 1, name: 'square' },
        { id: 2, name: 'triangle' },
      ]);
      expect(manifest.runs[0].skipped).toHaveLength(8);
      expect(manifest.splits.map((s: { name: string }) => s.name)).toEqual(['train', 'val']);
    }
    for (const n of COUNTS) {
      const out = path.join(work, `n${n}`);
      const parts = await readdir(path.join(out, '.tfrecord-od-parts'));
      expect(parts.sort()).toEqual(Array.from({ length: n }, (_, i) => `task-0000${i}-of-0000${n}.json`));
      // Before finalize: the shards, but no label map or manifest.
      expect((await listTree(out)).filter((f) => !f.startsWith('.'))).toEqual(shardNames);
      const done = await runCli(['finalize', out]);
      expect(done.code, done.stderr).toBe(0);
      expect(await hashTree(out), `N = ${n}`).toEqual(reference);
    }
  });
});

describe('tasks and finalize', () => {
  const base = (out: string): ConvertOptions => ({
    ...sampleSource('csv'),
    out,
    workers: 0,
    shards: 2,
    split: [
      { name: 'train', fraction: 0.5 },
      { name: 'val', fraction: 0.5 },
    ],
  });

  it('finalize refuses while tasks are missing, naming them; a task run again writes the same bytes', async () => {
    const out = await tempDir('missing');
    for (const index of [0, 3]) expect((await convertDataset({ ...base(out), task: { index, count: 5 } })).ok).toBe(true);
    const before = await hashTree(out);
    const refused = await runCli(['finalize', out]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('3 of 5 tasks have not finished: no part manifest from tasks 1, 2, 4');
    expect(await hashTree(out)).toEqual(before);
    for (const index of [1, 2, 4]) await convertDataset({ ...base(out), task: { index, count: 5 } });
    const all = await hashTree(out);
    // A retry of task 2 (its process killed, say) replaces its shards and its part with the same bytes,
    // here reading the annotations a second time in pass 2 instead of keeping pass 1's items.
    const again = await convertDataset({ ...base(out), itemCacheLimit: 0, task: { index: 2, count: 5 } });
    expect(again.ok).toBe(true);
    expect(again.task).toMatchObject({ index: 2, count: 5 });
    expect(await hashTree(out)).toEqual(all);
    const one = await tempDir('one');
    expect((await convertDataset(base(one))).ok).toBe(true);
    // What a task killed mid-write on another machine leaves: a staging file
    // whose process id means nothing here (a container's node is often PID 1,
    // which is always alive on this machine too). Finalize sweeps it.
    const stale = path.join(out, '.train-1.staging-1-abc123');
    await writeFile(stale, 'half a shard');
    expect((await finalizeDataset(out)).ok).toBe(true);
    expect(existsSync(stale)).toBe(false);
    expect(await hashTree(out)).toEqual(await hashTree(one));
  });

  it('finalize refuses parts of different runs, and shards that are not what their task wrote', async () => {
    const out = await tempDir('foreign');
    await convertDataset({ ...base(out), task: { index: 0, count: 2 } });
    await convertDataset({ ...base(out), seed: 9, task: { index: 1, count: 2 } });
    await expect(finalizeDataset(out)).rejects.toThrow(/come from different runs.*task-00000-of-00002\.json and task-00001-of-00002\.json/);

    const good = await tempDir('tampered');
    for (const index of [0, 1]) await convertDataset({ ...base(good), task: { index, count: 2 } });
    const shard = path.join(good, 'val-00001-of-00002.tfrecord');
    const bytes = await readFile(shard);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 1]! ^= 1;
    await writeFile(shard, flipped);
    await expect(finalizeDataset(good)).rejects.toThrow(/val-00001-of-00002\.tfrecord: its bytes differ.*Run task 1 again/);
    // --quick compares sizes only: a same-size change passes it, a cut one does not.
    await writeFile(shard, bytes.subarray(0, bytes.length - 1));
    await expect(finalizeDataset(good, { check: 'size' })).rejects.toThrow(/val-00001-of-00002\.tfrecord: \d+ bytes, but its task wrote \d+/);
    await writeFile(shard, bytes);
    // A part whose shard names lead out of the folder is not acted on (finalize removes and rewrites shards by name).
    const partFile = path.join(good, '.tfrecord-od-parts', 'task-00001-of-00002.json');
    const text = await readFile(partFile, 'utf8');
    const part = JSON.parse(text);
    part.plan.shards[0].name = '../train-00000-of-00002.tfrecord';
    await writeFile(partFile, JSON.stringify(part));
    await expect(finalizeDataset(good)).rejects.toThrow(/task-00001-of-00002\.json: not a part manifest of tfrecord-od convert \(bad planned shard/);
    await writeFile(partFile, text);
    expect((await finalizeDataset(good, { check: 'size' })).ok).toBe(true);
  });

  it("under --on-error fail, one task's bad image fails the run at finalize, which removes what the other tasks published", async () => {
    const root = await tempDir('bad');
    await cp(SAMPLE, root, { recursive: true });
    await writeFile(path.join(root, 'images', 'img09.jpg'), 'not an image');
    const out = await tempDir('fail');
    const options = { ...base(out), ...sampleSource('csv', root) };
    const reports = [];
    for (const index of [0, 1, 2]) reports.push(await convertDataset({ ...options, task: { index, count: 3 } }));
    // Exactly one task met the bad image; it published nothing, the others did.
    expect(reports.filter((r) => !r.ok)).toHaveLength(1);
    expect(reports.find((r) => !r.ok)!.failure).toMatch(/1 item of this task could not be converted \(--on-error fail\); it published nothing/);
    expect((await listTree(out)).some((f) => f.endsWith('.tfrecord'))).toBe(true);
    const r = await finalizeDataset(out);
    expect(r.ok).toBe(false);
    expect(r.failure).toBe('1 item could not be converted (--on-error fail); nothing was written');
    expect(r.errors.map((e) => [e.itemId, e.code])).toEqual([['img09.jpg', 'bad-image']]);
    expect(await listTree(out)).toEqual([]);
  });

  it('a task with no shard of the plan still leaves a part saying so', async () => {
    const out = await tempDir('idle');
    const r = await convertDataset({ ...sampleSource('csv'), out, workers: 0, shards: 1, task: { index: 2, count: 3 } });
    expect(r.ok).toBe(true);
    expect(r.splits.flatMap((s) => s.shards)).toEqual([]);
    const part = JSON.parse(await readFile(r.task!.part, 'utf8'));
    expect(part.range.start).toBe(part.range.end);
    expect(part.result.shards).toEqual([]);
  });

  it('usage mistakes in the task numbers exit 2 with the reason; a flag wins over the environment', async () => {
    const source = ['convert', ...['--from', 'csv', '--annotations', path.join(SAMPLE, 'csv', 'annotations.csv'), '--images', path.join(SAMPLE, 'images')]];
    const work = await tempDir('usage');
    const [noCount, tooBig, flagWins] = await Promise.all([
      cli([...source, '--out', path.join(work, 'a')], { JOB_COMPLETION_INDEX: '2' }),
      cli([...source, '--out', path.join(work, 'b'), '--task-index', '4', '--task-count', '4']),
      cli([...source, '--out', path.join(work, 'c'), '--task-index', '1', '--shards', '1', '--quiet'], {
        CLOUD_RUN_TASK_INDEX: '0',
        CLOUD_RUN_TASK_COUNT: '2',
      }),
    ]);
    expect(noCount.code).toBe(2);
    expect(noCount.stderr).toContain('JOB_COMPLETION_INDEX gives task index 2 but not how many tasks there are: give --task-count');
    expect(tooBig.code).toBe(2);
    expect(tooBig.stderr).toContain('task index 4 (--task-index) is not below the task count 4 (--task-count)');
    expect(flagWins.code, flagWins.stderr).toBe(0);
    expect(flagWins.stdout).toContain('Task 1 of 2:');
    expect(await readdir(path.join(work, 'c', '.tfrecord-od-parts'))).toEqual(['task-00001-of-00002.json']);
  });
});
