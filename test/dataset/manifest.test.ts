/**
 * The dataset manifest: runs merged by prefix, older layouts upgraded, the
 * job arguments' shard patterns, and the Cloud Storage form of a CRC32C.
 */
import { describe, expect, it } from 'vitest';
import { computeJobArgs, splitPattern } from 'tfrecord-od/dataset';
import { crc32cToBase64, listedShards, mergeRun, upgradeManifest, type ManifestSplit } from '../../src/dataset/manifest.js';
import { crc32c } from 'tfrecord-od/record';

const tool = { name: 'tfrecord-od', version: 'test' };
const labelMap = [
  { id: 1, name: 'cat' },
  { id: 2, name: 'dog' },
];

function split(name: string, prefix: string, records: number, shards = 2): Omit<ManifestSplit, 'run'> {
  return {
    name,
    prefix,
    records,
    boxes: records * 2,
    classes: [
      { label: 1, name: 'cat', boxes: records, images: records },
      { label: 2, name: 'dog', boxes: records, images: 1 },
    ],
    shards: Array.from({ length: shards }, (_, i) => ({
      name: `${prefix}-${String(i).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.tfrecord`,
      records: records / shards,
      bytes: 100,
      uncompressedBytes: 100,
      sha256: 'x',
      crc32c: 'y',
    })),
  };
}

describe('mergeRun', () => {
  it('a second run adds its sets; one of the same prefix replaces the older set and a run left without sets goes', () => {
    const first = mergeRun(undefined, {
      tool,
      target: 'ai-platform',
      labelMap,
      run: { prefixes: ['train'], options: { n: 1 } },
      splits: [split('train', 'train', 10)],
    });
    const second = mergeRun(first, { tool, target: 'ai-platform', labelMap, run: { prefixes: ['val'], options: { n: 2 } }, splits: [split('val', 'val', 4)] });
    expect(second.splits.map((s) => [s.prefix, s.run])).toEqual([
      ['train', 0],
      ['val', 1],
    ]);
    expect(second.runs.map((r) => r.options)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(second.classes).toEqual([
      { label: 1, name: 'cat', boxes: 14, images: 14 },
      { label: 2, name: 'dog', boxes: 14, images: 2 },
    ]);
    expect(listedShards(second)).toEqual([
      'train-00000-of-00002.tfrecord',
      'train-00001-of-00002.tfrecord',
      'val-00000-of-00002.tfrecord',
      'val-00001-of-00002.tfrecord',
    ]);

    const third = mergeRun(second, {
      tool,
      target: 'ai-platform',
      labelMap,
      run: { prefixes: ['train'], options: { n: 3 } },
      splits: [split('train', 'train', 6, 3)],
    });
    expect(third.runs.map((r) => r.options)).toEqual([{ n: 2 }, { n: 3 }]);
    expect(third.splits.map((s) => [s.prefix, s.run, s.shards.length])).toEqual([
      ['train', 1, 3],
      ['val', 0, 2],
    ]);
  });
});

describe('upgradeManifest', () => {
  it('turns a one-run manifest of version 0.1 into one run owning its sets', () => {
    const old = {
      tool,
      options: { from: 'csv', compression: 'none' },
      labelOrder: 'declared',
      labelMap,
      splits: [{ name: 'data', records: 3, boxes: 5, shards: [{ name: 'data-00000-of-00001.tfrecord', records: 3, bytes: 99, sha256: 'ab' }] }],
      classes: [],
      items: { total: 3 },
    };
    const m = upgradeManifest(old, 'manifest.json');
    expect(m.layout).toBe(2);
    expect(m.splits[0]).toMatchObject({ name: 'data', prefix: 'data', run: 0, records: 3 });
    expect(m.runs[0]).toMatchObject({ prefixes: ['data'], options: old.options, labelOrder: 'declared', items: { total: 3 } });
  });

  it('refuses what is not a manifest, naming the file', () => {
    expect(() => upgradeManifest([], 'x/manifest.json')).toThrow(/x\/manifest.json: the manifest is not a JSON object/);
    expect(() => upgradeManifest({ layout: 99 }, 'm.json')).toThrow(/layout 99 is newer/);
  });
});

describe('job arguments', () => {
  it('patterns match exactly one split: five ? for the index, the exact total', () => {
    const s = { ...split('train', 'raccoon-train', 8, 4), run: 0 };
    expect(splitPattern(s)).toBe('raccoon-train-?????-of-00004.tfrecord');
    const gz = { ...s, shards: s.shards.map((sh) => ({ ...sh, name: sh.name + '.gz' })) };
    expect(splitPattern(gz)).toBe('raccoon-train-?????-of-00004.tfrecord.gz');
  });

  it('train and val found by name; num_eval_images is every validation record; the bucket prefixes the patterns', () => {
    const m = {
      labelMap,
      splits: [
        { ...split('train', 'train', 80, 4), run: 0 },
        { ...split('val', 'val', 20, 1), run: 0 },
      ],
    };
    const args = computeJobArgs(m, 'gs://b/data/');
    expect(args.args).toEqual([
      '--training_data_path=gs://b/data/train-?????-of-00004.tfrecord',
      '--validation_data_path=gs://b/data/val-?????-of-00001.tfrecord',
      '--num_classes=2',
      '--num_eval_images=20',
    ]);
    expect(args.notes).toEqual([]);
  });

  it('without a validation split, says so instead of inventing one', () => {
    const args = computeJobArgs({ labelMap, splits: [{ ...split('data', 'data', 10), run: 0 }] });
    expect(args.training?.pattern).toBe('data-?????-of-00002.tfrecord');
    expect(args.validation).toBeNull();
    expect(args.notes.join('\n')).toMatch(/validation_data_path/);
  });
});

describe('crc32cToBase64', () => {
  it("gives Cloud Storage's form: base64 of the big-endian CRC32C", () => {
    // CRC32C("123456789") = 0xe3069283, the standard check value.
    expect(crc32cToBase64(crc32c(new TextEncoder().encode('123456789')))).toBe(Buffer.from([0xe3, 0x06, 0x92, 0x83]).toString('base64'));
    // An empty object: Cloud Storage reports AAAAAA==.
    expect(crc32cToBase64(crc32c(new Uint8Array(0)))).toBe('AAAAAA==');
  });
});
