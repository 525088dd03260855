/**
 * `manifest.json`: the description of everything in an output folder, which
 * is one dataset even when several runs wrote it (train in one run, val in
 * another). Each run adds its shard sets or replaces the sets of the same
 * prefix; the manifest lists every set with its shards and class table, the
 * dataset's label map, and each run's options and report.
 *
 * The manifest is what `validate OUT` checks against (exactly the shards it
 * lists; shard-like files it does not list are stale), and what `job-args`
 * turns into a training job's data arguments.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TfrecordError } from '../errors.js';
import type { LabelMapItem } from '../detection/label-map.js';
import { computeJobArgs, type JobArgs } from './job-args.js';

export const MANIFEST_FILE = 'manifest.json';
export const LABEL_MAP_FILE = 'label_map.pbtxt';

/** Which training consumer the dataset is checked for. */
export type Target = 'ai-platform' | 'od-api';
export const TARGETS: readonly Target[] = ['ai-platform', 'od-api'];

/** Version of the manifest's layout; 2 is the first that describes several runs. */
export const MANIFEST_LAYOUT = 2;

export interface ManifestShard {
  /** Path relative to the output folder. */
  name: string;
  records: number;
  /** Size of the file on disk. */
  bytes: number;
  /** Framed records before compression (equal to `bytes` for uncompressed shards). */
  uncompressedBytes: number;
  /** SHA-256 (hex) of the file on disk. */
  sha256: string;
  /**
   * CRC32C of the file on disk as Cloud Storage reports it for an object
   * (`gcloud storage objects describe` → crc32c_hash): base64 of the 4 bytes,
   * big-endian, of the plain (unmasked) CRC32C.
   */
  crc32c: string;
}

export interface ManifestClass {
  label: number;
  name: string;
  boxes: number;
  images: number;
}

export interface ManifestSplit {
  /** The split's name (`train`), or the prefix for a run without --split. */
  name: string;
  /** Shard file prefix: files are `PREFIX-NNNNN-of-NNNNN.tfrecord…`. */
  prefix: string;
  /** Index into `runs` of the run that wrote this set. */
  run: number;
  records: number;
  boxes: number;
  classes: ManifestClass[];
  shards: ManifestShard[];
}

export interface ManifestRun {
  /** Prefixes this run wrote (the sets it still owns are those in `splits`). */
  prefixes: string[];
  options: Record<string, unknown>;
  [key: string]: unknown;
}

export interface DatasetManifest {
  layout: number;
  tool: { name: string; version: string };
  target: Target;
  /** The dataset's label map, as in label_map.pbtxt. */
  labelMap: LabelMapItem[];
  /** Per class over every set. */
  classes: ManifestClass[];
  splits: ManifestSplit[];
  runs: ManifestRun[];
  /** The data arguments of a built-in training job (see job-args.ts), without a bucket. */
  jobArgs: JobArgs;
}

/** Reads `OUT/manifest.json`, or undefined when there is none. Older layouts are brought up to date. */
export async function readManifest(dir: string): Promise<DatasetManifest | undefined> {
  const file = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TfrecordError('io', `cannot read the manifest: ${(err as Error).message}`, { file, cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new TfrecordError('io', `the manifest is not valid JSON (${(err as Error).message}); remove it or convert into another folder`, { file });
  }
  return upgradeManifest(raw, file);
}

type Json = Record<string, unknown>;

/**
 * Brings a parsed manifest to the current layout. Layout 1 (version 0.1)
 * described one run: its splits become sets of run 0; their class tables
 * were not kept per split and stay empty.
 */
export function upgradeManifest(raw: unknown, file: string): DatasetManifest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new TfrecordError('io', 'the manifest is not a JSON object', { file });
  }
  const m = raw as Json;
  if (m.layout === MANIFEST_LAYOUT) return m as unknown as DatasetManifest;
  if (m.layout !== undefined) throw new TfrecordError('io', `manifest layout ${String(m.layout)} is newer than this tool understands`, { file });
  if (!Array.isArray(m.splits) || typeof m.options !== 'object') throw new TfrecordError('io', 'the manifest lacks splits and options', { file });
  const options = m.options as Json;
  const splits: ManifestSplit[] = (m.splits as Json[]).map((s) => {
    const shards = (s.shards as Json[]).map((sh) => ({
      name: String(sh.name),
      records: Number(sh.records),
      bytes: Number(sh.bytes),
      uncompressedBytes: Number(sh.bytes),
      sha256: String(sh.sha256),
      crc32c: '',
    }));
    const first = shards[0]?.name ?? `${String(s.name)}-`;
    const prefix = first.replace(/-\d{5}-of-\d{5}\.tfrecord(?:\.gz|\.zz)?$/, '');
    return { name: String(s.name), prefix, run: 0, records: Number(s.records), boxes: Number(s.boxes), classes: [], shards };
  });
  const { splits: _s, tool: _t, labelMap: _l, classes: _c, ...run } = m;
  const labelMap = (Array.isArray(m.labelMap) ? m.labelMap : []) as LabelMapItem[];
  return finishManifest({
    tool: m.tool as DatasetManifest['tool'],
    target: 'ai-platform',
    labelMap,
    splits,
    runs: [{ ...run, prefixes: splits.map((s) => s.prefix), options }],
  });
}

/** Fills the derived parts (dataset class table, job arguments) of a manifest. */
export function finishManifest(m: Omit<DatasetManifest, 'layout' | 'classes' | 'jobArgs'>): DatasetManifest {
  const classes = new Map<number, ManifestClass>();
  for (const item of m.labelMap) classes.set(item.id, { label: item.id, name: item.name, boxes: 0, images: 0 });
  for (const s of m.splits) {
    for (const c of s.classes) {
      const total = classes.get(c.label) ?? { label: c.label, name: c.name, boxes: 0, images: 0 };
      total.boxes += c.boxes;
      total.images += c.images;
      classes.set(c.label, total);
    }
  }
  const partial = { layout: MANIFEST_LAYOUT, ...m, classes: [...classes.values()].sort((a, b) => a.label - b.label) };
  return { ...partial, jobArgs: computeJobArgs(partial) };
}

/**
 * The manifest after a run that wrote `splits` (with `run` describing it):
 * sets of the same prefix are replaced, others kept; runs left without a set
 * are dropped and the rest renumbered.
 */
export function mergeRun(
  existing: DatasetManifest | undefined,
  update: { tool: DatasetManifest['tool']; target: Target; labelMap: LabelMapItem[]; run: ManifestRun; splits: Omit<ManifestSplit, 'run'>[] },
): DatasetManifest {
  const replaced = new Set(update.splits.map((s) => s.prefix));
  const kept = (existing?.splits ?? []).filter((s) => !replaced.has(s.prefix));
  const oldRuns = existing?.runs ?? [];
  const runIndex = new Map<number, number>();
  const runs: ManifestRun[] = [];
  for (const s of kept) {
    if (!runIndex.has(s.run)) {
      runIndex.set(s.run, runs.length);
      runs.push(oldRuns[s.run]!);
    }
  }
  const newRun = runs.length;
  runs.push(update.run);
  const splits: ManifestSplit[] = [...kept.map((s) => ({ ...s, run: runIndex.get(s.run)! })), ...update.splits.map((s) => ({ ...s, run: newRun }))];
  splits.sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
  return finishManifest({ tool: update.tool, target: update.target, labelMap: update.labelMap, splits, runs });
}

/** Every shard file the manifest lists, relative to the output folder. */
export function listedShards(m: DatasetManifest): string[] {
  return m.splits.flatMap((s) => s.shards.map((sh) => sh.name));
}

/** The base64 form of a CRC32C that Cloud Storage reports (big-endian bytes). */
export function crc32cToBase64(crc: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(crc >>> 0, 0);
  return bytes.toString('base64');
}
