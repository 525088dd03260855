/**
 * The target (ai-platform or od-api) of the surgery commands: given, else
 * the inputs' manifest's, else convert's default. A dataset for the OD API
 * whose label map has gaps (COCO-style ids) is resharded and split under
 * od-api as it is, and refused before anything is written under
 * ai-platform, naming the gaps and the way out. remap and merge number their
 * classes 1..N, so their output has no gaps under either target.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeDataset, remapDataset, reshardDataset, splitDataset } from 'tfrecord-od';
import { convertDataset } from 'tfrecord-od/convert';
import { readManifest } from 'tfrecord-od/dataset';
import { decodeExample } from 'tfrecord-od/example';
import { readRecords } from 'tfrecord-od';
import { validateDataset } from 'tfrecord-od/validate';
import { runCli } from '../helpers/cli.js';
import { sampleSource, shardFiles, tempDir } from '../convert/helpers.js';

/** The sample converted for the OD API with COCO-like ids: circle 1, square 3, triangle 7. */
let gapped: string;
/** The same shards and label map without a manifest: nothing says whose dataset it is. */
let bare: string;
const GAP_MESSAGE = /label_map\.pbtxt: the label map's ids skip 2, 4, 5, 6; .*--target od-api/;
const halves = [
  { name: 'train', fraction: 0.5 },
  { name: 'val', fraction: 0.5 },
];

beforeAll(async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'tfrecord-od-surgery-target-'));
  const map = path.join(root, 'coco_like.pbtxt');
  await writeFile(map, "item { id: 1 name: 'circle' }\nitem { id: 3 name: 'square' }\nitem { id: 7 name: 'triangle' }\n");
  gapped = path.join(root, 'gapped');
  const r = await convertDataset({ ...sampleSource('coco'), out: gapped, workers: 0, shards: 2, labelMap: map, target: 'od-api' });
  expect(r.ok, r.failure).toBe(true);
  bare = path.join(root, 'bare');
  await cp(gapped, bare, { recursive: true });
  await rm(path.join(bare, 'manifest.json'));
});
afterAll(async () => {
  await rm(path.dirname(gapped), { recursive: true, force: true });
});

async function labelsOf(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const f of await shardFiles(dir)) {
    for await (const p of readRecords(path.join(dir, f))) {
      const ex = decodeExample(p);
      const labels = (ex['image/object/class/label'] as { values: unknown[] }).values.map(Number);
      const texts = (ex['image/object/class/text'] as { values: Uint8Array[] }).values.map((v) => new TextDecoder().decode(v));
      texts.forEach((t, i) => out.set(t, labels[i]!));
    }
  }
  return out;
}

describe('reshard and split keep the ids, so the target decides', () => {
  it("reshard: the input manifest's od-api applies without being asked; the ids and the gaps stay", async () => {
    const out = path.join(await tempDir('t-rs'), 'out');
    const r = await reshardDataset([gapped], { out, shards: 1 });
    expect(r.ok, r.failure).toBe(true);
    expect(r.target).toBe('od-api');
    expect(Object.fromEntries(await labelsOf(out))).toEqual({ circle: 1, square: 3, triangle: 7 });
    const m = (await readManifest(out))!;
    expect(m.target).toBe('od-api');
    expect(m.labelMap.map((it) => it.id)).toEqual([1, 3, 7]);
    // validate OUT takes the target from the new manifest too.
    expect((await validateDataset([out])).valid).toBe(true);
  });

  it('reshard --target ai-platform refuses before writing, naming the gaps and --target od-api', async () => {
    const out = path.join(await tempDir('t-rs-ai'), 'out');
    await expect(reshardDataset([gapped], { out, target: 'ai-platform' })).rejects.toThrow(GAP_MESSAGE);
    expect(existsSync(out)).toBe(false);
  });

  it('split: the same, both ways', async () => {
    const dir = await tempDir('t-split');
    const ok = await splitDataset([gapped], { out: path.join(dir, 'od'), splits: halves, shards: 1 });
    expect(ok.ok, ok.failure).toBe(true);
    expect((await readManifest(path.join(dir, 'od')))!.target).toBe('od-api');
    expect(Object.fromEntries(await labelsOf(path.join(dir, 'od')))).toEqual({ circle: 1, square: 3, triangle: 7 });
    await expect(splitDataset([gapped], { out: path.join(dir, 'ai'), splits: halves, target: 'ai-platform' })).rejects.toThrow(GAP_MESSAGE);
    expect(existsSync(path.join(dir, 'ai'))).toBe(false);
  });

  it("without a manifest the default is convert's (ai-platform): refused, and accepted when told od-api", async () => {
    const dir = await tempDir('t-bare');
    await expect(reshardDataset([bare], { out: path.join(dir, 'a') })).rejects.toThrow(GAP_MESSAGE);
    await expect(splitDataset([bare], { out: path.join(dir, 'b'), splits: halves })).rejects.toThrow(GAP_MESSAGE);
    const r = await reshardDataset([bare], { out: path.join(dir, 'c'), target: 'od-api' });
    expect(r.ok, r.failure).toBe(true);
    expect((await readManifest(path.join(dir, 'c')))!.target).toBe('od-api');
  });

  it('gapped labels with no label map at all are caught by the check of the new shards under ai-platform', async () => {
    const dir = await tempDir('t-nomap');
    const input = path.join(dir, 'in');
    await cp(bare, input, { recursive: true });
    await rm(path.join(input, 'label_map.pbtxt'));
    const refused = await reshardDataset([input], { out: path.join(dir, 'a') });
    expect(refused.ok).toBe(false);
    expect(refused.findings.map((f) => f.code)).toContain('labels-not-consecutive');
    expect(existsSync(path.join(dir, 'a'))).toBe(false);
    const r = await reshardDataset([input], { out: path.join(dir, 'b'), target: 'od-api' });
    expect(r.ok, r.failure).toBe(true);
  });
});

describe('remap and merge renumber 1..N under either target', () => {
  it('remap: accepted under the carried od-api and under ai-platform; the manifest records the target used', async () => {
    const dir = await tempDir('t-remap');
    for (const target of [undefined, 'ai-platform', 'od-api'] as const) {
      const out = path.join(dir, target ?? 'default');
      const r = await remapDataset([gapped], { out, rename: { square: 'box' }, ...(target ? { target } : {}) });
      expect(r.ok, r.failure).toBe(true);
      expect(Object.fromEntries(await labelsOf(out))).toEqual({ circle: 1, box: 2, triangle: 3 });
      expect((await readManifest(out))!.target).toBe(target ?? 'od-api');
    }
  });

  it('merge: the same; inputs whose manifests disagree on the target must be told which', async () => {
    const dir = await tempDir('t-merge');
    const r = await mergeDataset([gapped], { out: path.join(dir, 'ai'), target: 'ai-platform' });
    expect(r.ok, r.failure).toBe(true);
    expect((await readManifest(path.join(dir, 'ai')))!.target).toBe('ai-platform');
    const plain = path.join(dir, 'plain');
    expect((await convertDataset({ ...sampleSource('csv'), out: plain, workers: 0 })).ok).toBe(true);
    await expect(mergeDataset([gapped, plain], { out: path.join(dir, 'mixed') })).rejects.toThrow(
      /the inputs' manifests name different targets \(.*gapped.*od-api, .*plain.*ai-platform\); choose the output's with --target/,
    );
    const told = await mergeDataset([gapped, plain], { out: path.join(dir, 'told'), target: 'od-api' });
    expect(told.ok, told.failure).toBe(true);
  });
});

describe('the --target option', () => {
  it('reshard and split: od-api accepted, ai-platform refused with the reason on stderr (exit 1)', async () => {
    const cwd = path.dirname(gapped);
    for (const [command, extra] of [
      ['reshard', []],
      ['split', ['--split', 'train=0.5,val=0.5']],
    ] as const) {
      const ok = await runCli([command, 'gapped', '--out', `${command}-od`, '--target', 'od-api', ...extra], cwd);
      expect(ok.stderr).toBe('');
      expect(ok.code).toBe(0);
      expect(ok.stdout).toContain(`Manifest: ${command}-od/manifest.json (target od-api)`);
      const refused = await runCli([command, 'gapped', '--out', `${command}-ai`, '--target', 'ai-platform', ...extra], cwd);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(GAP_MESSAGE);
      expect(existsSync(path.join(cwd, `${command}-ai`))).toBe(false);
    }
  });

  it('remap with no rule only renumbers: the gapped od-api dataset becomes 1..N and passes under ai-platform', async () => {
    const cwd = path.dirname(gapped);
    const r = await runCli(['remap', 'gapped', '--out', 'renumbered', '--target', 'ai-platform'], cwd);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = path.join(cwd, 'renumbered');
    expect(Object.fromEntries(await labelsOf(out))).toEqual({ circle: 1, square: 2, triangle: 3 });
    const v = await validateDataset([out]);
    expect(v.valid).toBe(true);
  });

  it('remap and merge take it; an unknown target is a usage error; --help shows it on all four', async () => {
    const cwd = path.dirname(gapped);
    const remap = await runCli(['remap', 'gapped', '--out', 'remap-ai', '--rename', 'square=box', '--target', 'ai-platform', '--json'], cwd);
    expect(remap.code).toBe(0);
    expect(JSON.parse(remap.stdout).target).toBe('ai-platform');
    const merge = await runCli(['merge', 'gapped', '--out', 'merge-od', '--target', 'od-api'], cwd);
    expect(merge.code).toBe(0);
    expect(JSON.parse(await readFile(path.join(cwd, 'merge-od', 'manifest.json'), 'utf8')).target).toBe('od-api');
    const bad = await runCli(['reshard', 'gapped', '--out', 'x', '--target', 'tpu'], cwd);
    expect(bad.code).toBe(2);
    for (const command of ['reshard', 'remap', 'split', 'merge']) {
      const help = await runCli([command, '--help'], cwd);
      expect(help.stdout).toMatch(/--target ai-platform\|od-api/);
      expect(help.stdout).toMatch(/the\s+inputs'\s+manifest's,\s+else\s+ai-platform/);
      expect(help.stdout).toContain('manifest.json');
    }
  });
});
