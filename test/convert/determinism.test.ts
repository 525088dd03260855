/**
 * The number of worker threads must not show in the output: results are
 * consumed in input order whatever finishes first, and re-encoding gives the
 * same bytes on any thread. Same inputs + options → byte-identical shards and
 * manifest.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertDataset, type ConvertOptions } from 'tfrecord-od/convert';
import { hashTree, listTree, sampleSource, tempDir } from './helpers.js';

const CASES: Array<[string, Partial<ConvertOptions>]> = [
  [
    'csv, split and fixed shard count',
    {
      ...sampleSource('csv'),
      split: [
        { name: 'train', fraction: 0.7 },
        { name: 'val', fraction: 0.3 },
      ],
      seed: 3,
      shards: 2,
    },
  ],
  ['coco, shards cut by size, resized', { ...sampleSource('coco'), shardSize: 15_000, maxSize: 200 }],
];

describe.each(CASES)('%s', (_, options) => {
  it('gives byte-identical output with --workers 0, 1 and 3, whether pass 2 re-reads the annotations or not', async () => {
    const trees: Array<Record<string, string>> = [];
    const manifests: string[] = [];
    // The last run also reads the annotations twice (no items kept between the passes).
    for (const [workers, itemCacheLimit] of [
      [0, undefined],
      [1, undefined],
      [3, 0],
    ] as const) {
      const out = await tempDir(`w${workers}`);
      const report = await convertDataset({ ...(options as ConvertOptions), out, workers, ...(itemCacheLimit !== undefined ? { itemCacheLimit } : {}) });
      expect(report.ok, report.failure).toBe(true);
      trees.push(await hashTree(out));
      manifests.push(await readFile(path.join(out, 'manifest.json'), 'utf8'));
      expect((await listTree(out)).some((f) => f.startsWith('.'))).toBe(false);
    }
    expect(Object.keys(trees[0]!).filter((f) => f.includes('.tfrecord')).length).toBeGreaterThan(1);
    expect(trees[1]).toEqual(trees[0]);
    expect(trees[2]).toEqual(trees[0]);
    expect(manifests[1]).toBe(manifests[0]);
    expect(manifests[2]).toBe(manifests[0]);
  });
});

it('a second run into the same directory reproduces the same files', async () => {
  const out = await tempDir();
  const options = { ...sampleSource('yolo'), out, workers: 2, shards: 3 } as ConvertOptions;
  await convertDataset(options);
  const first = await hashTree(out);
  const again = await convertDataset(options);
  expect(again.replaced).toEqual([]);
  expect(await hashTree(out)).toEqual(first);
});
