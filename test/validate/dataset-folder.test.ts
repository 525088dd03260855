/**
 * `validate OUT` on a folder written by convert: exactly the shards the
 * manifest lists, stale and missing shards as errors naming them, the
 * folder's label map and target applied; `job-args` from the same manifest.
 */
import { copyFile, rm, truncate, writeFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertDataset } from 'tfrecord-od/convert';
import { validateDataset } from 'tfrecord-od/validate';
import { runCli } from '../helpers/cli.js';
import { tamperKeepingCrcs } from '../helpers/tamper.js';
import { SAMPLE, sampleSource, tempDir } from '../convert/helpers.js';

async function converted(options: Partial<Parameters<typeof convertDataset>[0]> = {}): Promise<string> {
  const out = await tempDir();
  const r = await convertDataset({ ...sampleSource('csv'), out, workers: 0, ...options });
  expect(r.ok, r.failure).toBe(true);
  return out;
}

describe('validate OUT with a manifest', () => {
  it('checks exactly the listed shards and reports a stale one from an earlier run by name', async () => {
    const out = await converted({
      split: [
        { name: 'train', fraction: 0.75 },
        { name: 'val', fraction: 0.25 },
      ],
    });
    const clean = await validateDataset([out]);
    expect(clean.valid).toBe(true);
    expect(clean.records).toBe(12);
    // A plain run's shard left beside the split ones.
    const stale = path.join(out, 'data-00000-of-00001.tfrecord');
    await copyFile(path.join(out, 'train-00000-of-00001.tfrecord'), stale);
    const r = await validateDataset([out]);
    expect(r.records).toBe(12);
    expect(r.valid).toBe(false);
    expect(r.findings.filter((f) => f.code === 'unlisted-shard').map((f) => f.file)).toEqual([stale]);
  });

  it('a missing shard and a cut one are errors; the rest is still checked', async () => {
    const out = await converted({ shards: 3 });
    await rm(path.join(out, 'data-00001-of-00003.tfrecord'));
    await truncate(path.join(out, 'data-00002-of-00003.tfrecord'), 100);
    const r = await validateDataset([out]);
    const codes = r.findings.map((f) => [f.code, path.basename(f.file)]);
    expect(codes).toContainEqual(['missing-shard', 'data-00001-of-00003.tfrecord']);
    expect(codes).toContainEqual(['shard-mismatch', 'data-00002-of-00003.tfrecord']);
    expect(codes).toContainEqual(['truncated', 'data-00002-of-00003.tfrecord']);
  });

  it("a shard changed in place, same size and valid CRCs, is caught by the manifest's digests; one without digests (layout 1) is not judged", async () => {
    const out = await converted({ shards: 2 });
    const victim = path.join(out, 'data-00001-of-00002.tfrecord');
    await tamperKeepingCrcs(victim);
    const r = await validateDataset([out]);
    expect(r.findings.filter((f) => f.severity === 'error').map((f) => [f.code, f.file])).toEqual([['shard-mismatch', victim]]);
    // Empty digests (a manifest from before they were kept) mean "not known", not "wrong".
    const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8'));
    for (const sh of manifest.splits[0].shards) Object.assign(sh, { sha256: '', crc32c: '' });
    await writeFile(path.join(out, 'manifest.json'), JSON.stringify(manifest));
    expect((await validateDataset([out])).valid).toBe(true);
  });

  it("uses the folder's label map: a record whose text disagrees with it is caught", async () => {
    const out = await converted();
    const map = await readFile(path.join(out, 'label_map.pbtxt'), 'utf8');
    // Swap two names: every record now disagrees with the map on its texts.
    await writeFile(path.join(out, 'label_map.pbtxt'), map.replace('"circle"', '"TMP"').replace('"square"', '"circle"').replace('"TMP"', '"square"'));
    const r = await validateDataset([out]);
    expect(r.findings.some((f) => f.code === 'text-label-mismatch' && f.severity === 'error')).toBe(true);
  });

  it('a val set converted with a label map that it does not fully use is valid', async () => {
    const src = await tempDir('csv');
    const lines = (await readFile(path.join(SAMPLE, 'csv', 'annotations.csv'), 'utf8')).trimEnd().split('\n');
    await writeFile(path.join(src, 'val.csv'), [lines[0], ...lines.filter((l) => l.startsWith('img01.jpg,'))].join('\n') + '\n');
    const map = path.join(src, 'label_map.pbtxt');
    await writeFile(map, "item { id: 1 name: 'circle' }\nitem { id: 2 name: 'square' }\nitem { id: 3 name: 'triangle' }\n");
    const out = await converted({ from: 'csv', annotations: path.join(src, 'val.csv'), images: path.join(SAMPLE, 'images'), labelMap: map, name: 'val' });
    const r = await validateDataset([out]);
    expect(r.findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  it('the target comes from the manifest: a gapped label map passes for od-api, fails for ai-platform', async () => {
    const src = await tempDir('map');
    const map = path.join(src, 'gapped.pbtxt');
    await writeFile(map, "item { id: 1 name: 'circle' }\nitem { id: 3 name: 'square' }\nitem { id: 7 name: 'triangle' }\n");
    const out = await converted({ labelMap: map, target: 'od-api' });
    expect((await validateDataset([out])).valid).toBe(true);
    const strict = await validateDataset([out], { target: 'ai-platform' });
    expect(strict.findings.find((f) => f.code === 'labels-not-consecutive')!.message).toMatch(/label map's ids are 1, 3, 7 .*missing 2, 4-6/);
  });

  it('an empty folder of records is an error, not VALID', async () => {
    const dir = await tempDir('empty');
    await writeFile(path.join(dir, 'nothing.tfrecord'), '');
    const res = await runCli(['validate', dir]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/error {3}no-records \(1\)/);
    expect(res.stdout).toMatch(/INVALID/);
  });
});

describe('job-args', () => {
  it("prints the built-in algorithm's data arguments with exact shard patterns under the bucket", async () => {
    const out = await converted({
      split: [
        { name: 'train', fraction: 0.75 },
        { name: 'val', fraction: 0.25 },
      ],
      shards: 2,
    });
    const r = await runCli(['job-args', out, '--bucket', 'gs://my-bucket/raccoons', '--json']);
    expect(r.code).toBe(0);
    const args = JSON.parse(r.stdout);
    const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8'));
    const val = manifest.splits.find((s: { name: string }) => s.name === 'val');
    expect(args.args).toEqual([
      '--training_data_path=gs://my-bucket/raccoons/train-?????-of-00002.tfrecord',
      '--validation_data_path=gs://my-bucket/raccoons/val-?????-of-00002.tfrecord',
      '--num_classes=3',
      `--num_eval_images=${val.records}`,
    ]);
    // The manifest carries the same block (patterns relative to the folder).
    expect(manifest.jobArgs.args[0]).toBe('--training_data_path=train-?????-of-00002.tfrecord');
    const human = await runCli(['job-args', out, '--bucket', 'gs://my-bucket/raccoons']);
    expect(human.stdout).toMatch(/gcloud ai-platform jobs submit training/);
    expect(human.stdout).toMatch(/--master-image-uri=gcr.io\/cloud-ml-algos\/image_object_detection:latest/);
  });

  it('without a validation split: exit 1 and a note that says how to make one', async () => {
    const out = await converted();
    const r = await runCli(['job-args', out]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/note: no split is named val/);
  });
});

describe('validate CLI on a folder', () => {
  it('takes the target from the manifest unless --target is given', async () => {
    const src = await tempDir('map');
    const map = path.join(src, 'gapped.pbtxt');
    await writeFile(map, "item { id: 1 name: 'circle' }\nitem { id: 3 name: 'square' }\nitem { id: 7 name: 'triangle' }\n");
    const out = await converted({ labelMap: map, target: 'od-api' });
    expect((await runCli(['validate', out])).code).toBe(0);
    const strict = await runCli(['validate', out, '--target', 'ai-platform']);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(/labels-not-consecutive \(1\) \[built-in training\]/);
  });
});
