/**
 * What the surgery commands (reshard, remap, split, merge) take over from
 * their inputs' datasets and what they publish about their own.
 *
 * An input folder written by convert (or by one of these commands) has a
 * manifest. Of what it says, two things still hold for records copied or
 * rewritten from it: whose rules the dataset is for (its target) and the
 * label map (remap and merge make a new one). Everything else (shards,
 * digests, counts, class tables) describes files that are not the output's,
 * so it is computed again from what is written.
 *
 * The output's manifest has the layout of convert's (dataset/manifest.ts)
 * and is built by the same mergeRun, so `validate OUT` and `job-args` read a
 * surgery output exactly as a converted one.
 */
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { TfrecordError } from '../errors.js';
import { type DatasetManifest, MANIFEST_FILE, type ManifestShard, mergeRun, readManifest, type Target } from '../dataset/manifest.js';
import * as K from '../detection/keys.js';
import type { LabelMap } from '../detection/label-map.js';
import { decodeExample } from '../example/codec.js';
import { gapRefusal } from '../convert/labels.js';
import { CONVERT_DEFAULTS } from '../convert/options.js';
import { type ClassCount, classTable, countRecord, emptyTally, type Tally } from '../convert/report.js';
import { findLabelMap, type LabelMapSource } from '../export/find-label-map.js';
import { version } from '../version.js';
import type { SetCounts } from './plan.js';

export interface InputManifest {
  /** The manifest file (absolute). */
  path: string;
  manifest: DatasetManifest;
}

/**
 * The manifests of the inputs' folders (a folder input's own, a file's
 * folder's), each once, in the order of the inputs.
 */
export async function readInputManifests(paths: readonly string[]): Promise<InputManifest[]> {
  const seen = new Set<string>();
  const out: InputManifest[] = [];
  for (const p of paths) {
    let dir: string;
    try {
      dir = resolve((await stat(p)).isDirectory() ? p : dirname(p));
    } catch {
      continue; // the walk reports it
    }
    if (seen.has(dir)) continue;
    seen.add(dir);
    const manifest = await readManifest(dir);
    if (manifest) out.push({ path: join(dir, MANIFEST_FILE), manifest });
  }
  return out;
}

/**
 * The label map that names the inputs' classes: the given one, else
 * label_map.pbtxt beside the inputs (findLabelMap), else the label map an
 * input's manifest records (a folder whose label_map.pbtxt went missing).
 */
export async function inputLabelMap(
  paths: readonly string[],
  given: string | LabelMap | undefined,
  manifests: readonly InputManifest[],
): Promise<{ labelMap: LabelMap | undefined; source: LabelMapSource }> {
  const found = await findLabelMap(paths, given);
  if (found.labelMap) return found;
  const m = manifests.find((m) => m.manifest.labelMap.length > 0);
  if (m) return { labelMap: { items: m.manifest.labelMap.map((it) => ({ ...it })) }, source: { kind: 'beside-input', path: m.path } };
  return found;
}

/**
 * Whose rules apply: the given target, else the one the inputs' manifests
 * agree on, else convert's default. Inputs whose manifests name different
 * targets must be told which one the output is for.
 */
export function inputTarget(given: Target | undefined, manifests: readonly InputManifest[]): Target {
  if (given !== undefined) return given;
  const targets = [...new Set(manifests.map((m) => m.manifest.target))];
  if (targets.length > 1) {
    const which = manifests.map((m) => `${m.path}: ${m.manifest.target}`).join(', ');
    throw new TfrecordError('bad-argument', `the inputs' manifests name different targets (${which}); choose the output's with --target`);
  }
  return targets[0] ?? CONVERT_DEFAULTS.target;
}

/**
 * Records copied as they are keep their label ids: for Google's built-in
 * training a label map with gaps is refused before anything is written,
 * rather than found by the check of the new shards.
 */
export function refuseGaps(labelMap: LabelMap | undefined, target: Target, source: LabelMapSource): void {
  if (!labelMap || target !== 'ai-platform') return;
  const err = gapRefusal(labelMap, source.path, '`tfrecord-od remap` numbers the classes it keeps 1..N');
  if (err) throw err;
}

const utf8 = new TextDecoder();

/**
 * Per shard set, the records, boxes and classes written (convert's tally,
 * keyed by prefix), and the first class text seen for each label, which
 * names the classes of a dataset without a label map. "First" is by the
 * record's position in the inputs, so the tallies of the tasks of a job
 * add up to the one machine's (fromCounts).
 */
export class SetTally {
  readonly tally: Tally;
  private readonly texts = new Map<number, { text: string; at: number }>();

  constructor(private readonly prefixes: readonly string[]) {
    this.tally = emptyTally(prefixes);
  }

  /**
   * Counts a record as written to `prefix`, the record at position `at` of
   * the inputs; returns its labels. A payload that is not a detection
   * example counts as a record without boxes: the check of the new shards
   * reports it, and nothing is published.
   */
  add(prefix: string, payload: Uint8Array, at: number): number[] {
    let labels: number[] = [];
    try {
      const features = decodeExample(payload);
      const label = features[K.CLASS_LABEL];
      if (label?.kind === 'int64_list') labels = label.values.map(Number);
      const text = features[K.CLASS_TEXT];
      if (text?.kind === 'bytes_list') {
        text.values.forEach((v, i) => {
          const id = labels[i];
          if (id !== undefined && v.length > 0) this.noteText(id, utf8.decode(v), at);
        });
      }
    } catch {
      labels = [];
    }
    countRecord(this.tally, prefix, labels);
    return labels;
  }

  private noteText(id: number, text: string, at: number): void {
    const seen = this.texts.get(id);
    if (seen === undefined || at < seen.at) this.texts.set(id, { text, at });
  }

  /** The counts, as a task's part keeps them. */
  toCounts(): { sets: SetCounts[]; texts: Array<[number, string, number]> } {
    return {
      sets: this.prefixes.map((prefix) => {
        const st = this.tally.splits.get(prefix)!;
        return { records: st.records, boxes: st.boxes, classes: [...st.classes].map(([label, c]) => [label, c.boxes, c.images] as [number, number, number]) };
      }),
      texts: [...this.texts].map(([id, t]) => [id, t.text, t.at]),
    };
  }

  /** The tally of a whole run, from the counts of its tasks. */
  static fromCounts(
    prefixes: readonly string[],
    parts: ReadonlyArray<{ sets: readonly SetCounts[]; texts: ReadonlyArray<[number, string, number]> }>,
  ): SetTally {
    const t = new SetTally(prefixes);
    for (const part of parts) {
      part.sets.forEach((counts, i) => {
        const st = t.tally.splits.get(prefixes[i]!)!;
        st.records += counts.records;
        st.boxes += counts.boxes;
        for (const [label, boxes, images] of counts.classes) {
          addCount(st.classes, label, boxes, images);
          addCount(t.tally.classes, label, boxes, images);
        }
      });
      for (const [id, text, at] of part.texts) t.noteText(id, text, at);
    }
    return t;
  }

  /** The classes the tables list: the label map's, else every label written, named by its texts. */
  classes(labelMap: LabelMap | undefined): LabelMap {
    if (labelMap) return labelMap;
    const ids = [...this.tally.classes.keys()].sort((a, b) => a - b);
    return { items: ids.map((id) => ({ id, name: this.texts.get(id)?.text ?? '' })) };
  }
}

function addCount(counts: Map<number, ClassCount>, label: number, boxes: number, images: number): void {
  const c = counts.get(label) ?? { boxes: 0, images: 0 };
  c.boxes += boxes;
  c.images += images;
  counts.set(label, c);
}

export interface SurgeryRun {
  /** reshard, remap, split or merge. */
  command: string;
  /** The command's options as resolved (`null` where not given and without a default). */
  options: Record<string, unknown>;
}

/**
 * The output folder's manifest: one run (this command) that wrote every set
 * in it. Sets are listed with their split names (split's train/val; the
 * prefix for the other commands), per-set class tables and every shard's
 * SHA-256 and Cloud Storage CRC32C.
 *
 * `warnings` counts the warnings of the check of the new shards about single
 * records; those about pairs of records (duplicates, a label with two texts)
 * are the report's only, as in convert's manifest: each task of a job finds
 * them among its own shards alone, and the manifest must not depend on how
 * many tasks wrote the dataset.
 */
export function surgeryManifest(args: {
  run: SurgeryRun;
  target: Target;
  labelMap: LabelMap | undefined;
  inputs: readonly string[];
  inputManifests: readonly string[];
  sets: ReadonlyArray<{ name: string; prefix: string; shards: readonly ManifestShard[] }>;
  tally: SetTally;
  records: number;
  warnings: number;
}): DatasetManifest {
  const classes = args.tally.classes(args.labelMap);
  return mergeRun(undefined, {
    tool: { name: 'tfrecord-od', version },
    target: args.target,
    labelMap: args.labelMap?.items ?? [],
    run: {
      prefixes: args.sets.map((s) => s.prefix),
      command: args.run.command,
      options: { ...args.run.options, target: args.target },
      inputs: [...args.inputs],
      inputManifests: [...args.inputManifests],
      records: args.records,
      warnings: args.warnings,
    },
    splits: args.sets.map((s) => {
      const st = args.tally.tally.splits.get(s.prefix)!;
      return { name: s.name, prefix: s.prefix, records: st.records, boxes: st.boxes, classes: classTable(classes, st.classes), shards: [...s.shards] };
    }),
  });
}
