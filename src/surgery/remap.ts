/**
 * Remap: rename, merge and drop classes of an existing dataset, and number
 * what is left 1..N, rewriting `image/object/class/label` and
 * `image/object/class/text` together so the two never disagree.
 *
 * Classes are named as the label map names them (the given one, or
 * label_map.pbtxt beside the inputs, or the one their manifest records),
 * else by their boxes' class texts, as
 * export names them. Renaming a class to another's name merges the two.
 * After the rules, the classes left are numbered 1..N in the order of their
 * smallest old id, so pure renames keep every id, and a drop closes the gap
 * (Google's built-in training and the validator want the labels used to be
 * exactly 1..N; for the same reason a label map entry no box uses gets no
 * id and leaves the map).
 *
 * A dropped box leaves every per-object list (`image/object/*`): lists with
 * one entry per box lose that entry, lists with k entries per box (keypoint
 * coordinates, box-major) lose that box's k. A list of any other length
 * cannot be cut without guessing, so such a record is a problem and nothing
 * is published. Only the label features are re-encoded; every other feature
 * is carried over as it was. A record whose boxes are all dropped stays, as
 * an image without objects.
 */
import { resolve } from 'node:path';
import { TfrecordError } from '../errors.js';
import { decodeExample, encodeExample } from '../example/codec.js';
import type { Feature, Features } from '../example/features.js';
import { fromExample } from '../detection/from-example.js';
import * as K from '../detection/keys.js';
import type { LabelMap } from '../detection/label-map.js';
import { buildClassTable, ClassUsage } from '../export/classes.js';
import type { LabelMapSource } from '../export/find-label-map.js';
import { inputLabelMap, inputTarget, readInputManifests } from './dataset.js';
import { DEFAULT_PREFIX, layoutOf, type ReshardOptions, rewriteOutput, runOptions } from './reshard.js';
import { indexInputs } from './inputs.js';
import { checkOutput, rewriteDataset, type RewriteReport } from './rewrite.js';

export interface RemapRules {
  /** Old class name → new name (a name another class has, or several old names share, merges them). */
  rename?: ReadonlyMap<string, string> | Readonly<Record<string, string>>;
  /** Class names whose boxes are removed. */
  drop?: readonly string[];
}

/**
 * Where the remapped dataset goes: as reshard's options, except that the
 * label map (default: label_map.pbtxt beside the first input that has one,
 * else an input manifest's, else the class texts) also names the old ids.
 */
export interface RemapOptions extends RemapRules, ReshardOptions {}

/** What became of one old class. */
export interface ClassChange {
  oldId: number;
  oldName: string;
  /** Undefined when dropped. */
  newId?: number;
  newName?: string;
  /** Boxes of the old class in the input. */
  boxes: number;
  /** Why it has no new id: a drop rule, or no box uses it (nor any class merged with it). */
  gone?: 'dropped' | 'unused';
}

export interface RemapReport extends RewriteReport {
  labelMapSource: LabelMapSource;
  changes: ClassChange[];
  /** The new classes, as written to label_map.pbtxt. */
  labelMap: LabelMap;
  droppedBoxes: number;
  /** Records that had boxes and have none left. */
  emptiedRecords: number;
  /** About the old class names (texts that disagreed with their id's name, …). */
  notes: string[];
}

/** Old id → new class, or null for a dropped one. */
export type RemapTable = ReadonlyMap<number, { id: number; name: string } | null>;

/**
 * The new numbering for a set of classes under the rules. Throws
 * TfrecordError 'bad-argument' for a rule naming no class, or a class both
 * renamed and dropped.
 */
export function planRemap(
  classes: ReadonlyArray<{ id: number; name: string; boxes: number }>,
  rules: RemapRules,
): { table: RemapTable; changes: ClassChange[]; labelMap: LabelMap } {
  const rename = rules.rename instanceof Map ? rules.rename : new Map(Object.entries(rules.rename ?? {}));
  const drop = new Set(rules.drop ?? []);
  const known = new Set(classes.map((c) => c.name));
  const list = [...known].map((n) => `'${n}'`).join(', ');
  for (const name of [...rename.keys(), ...drop]) {
    if (!known.has(name)) throw new TfrecordError('bad-argument', `no class is called '${name}'; the classes are ${list || '(none)'}`);
  }
  for (const name of drop) if (rename.has(name)) throw new TfrecordError('bad-argument', `class '${name}' is both renamed and dropped`);
  for (const [from, to] of rename) if (to.trim() === '') throw new TfrecordError('bad-argument', `class '${from}' cannot be renamed to an empty name`);

  // Boxes per new name: a class no box uses (a label map entry this data
  // never mentions) gets no id, as the labels used must be exactly 1..N.
  const sorted = [...classes].sort((a, b) => a.id - b.id);
  const boxesOf = new Map<string, number>();
  for (const c of sorted) {
    if (drop.has(c.name)) continue;
    const to = rename.get(c.name) ?? c.name;
    boxesOf.set(to, (boxesOf.get(to) ?? 0) + c.boxes);
  }
  // New names in the order of their smallest old id.
  const newIds = new Map<string, number>();
  for (const c of sorted) {
    const to = rename.get(c.name) ?? c.name;
    if (!drop.has(c.name) && boxesOf.get(to)! > 0 && !newIds.has(to)) newIds.set(to, newIds.size + 1);
  }
  const table = new Map<number, { id: number; name: string } | null>();
  const changes: ClassChange[] = [];
  for (const c of sorted) {
    const name = rename.get(c.name) ?? c.name;
    const id = newIds.get(name);
    if (drop.has(c.name) || id === undefined) {
      table.set(c.id, null);
      changes.push({ oldId: c.id, oldName: c.name, boxes: c.boxes, gone: drop.has(c.name) ? 'dropped' : 'unused' });
      continue;
    }
    table.set(c.id, { id, name });
    changes.push({ oldId: c.id, oldName: c.name, newId: id, newName: name, boxes: c.boxes });
  }
  return { table, changes, labelMap: { items: [...newIds].map(([name, id]) => ({ id, name })) } };
}

const utf8 = new TextEncoder();

/**
 * One record's features under the table: boxes of dropped classes removed
 * from every per-object list, labels and texts rewritten. Returns the number
 * of boxes dropped; `features` is changed in place (its key order kept).
 */
export function remapFeatures(features: Features, table: RemapTable): { dropped: number; boxes: number } {
  const labelFeature = features[K.CLASS_LABEL];
  if (labelFeature === undefined || labelFeature.kind === 'empty') return { dropped: 0, boxes: 0 };
  if (labelFeature.kind !== 'int64_list') throw new TfrecordError('annotation', `feature '${K.CLASS_LABEL}' is a ${labelFeature.kind}, expected an int64_list`);
  const n = labelFeature.values.length;
  const keep: boolean[] = [];
  const labels: number[] = [];
  const texts: Uint8Array[] = [];
  for (const v of labelFeature.values) {
    const to = table.get(Number(v));
    if (to === undefined) throw new TfrecordError('annotation', `label ${v} is not one of the dataset's classes (the file changed during the run?)`);
    keep.push(to !== null);
    if (to) {
      labels.push(to.id);
      texts.push(utf8.encode(to.name));
    }
  }
  const dropped = n - labels.length;
  if (dropped > 0) {
    for (const key of Object.keys(features)) {
      if (!key.startsWith(K.OBJECT_KEY_PREFIX) || key === K.CLASS_LABEL || key === K.CLASS_TEXT) continue;
      const f = features[key]!;
      if (f.kind === 'empty') continue;
      const len = f.values.length;
      if (len % n !== 0) {
        throw new TfrecordError('annotation', `cannot drop boxes: '${key}' has ${len} entries for ${n} boxes, not a whole number per box`);
      }
      features[key] = keepBlocks(f, keep, len / n);
    }
  }
  features[K.CLASS_LABEL] = { kind: 'int64_list', values: labels };
  features[K.CLASS_TEXT] = { kind: 'bytes_list', values: texts };
  return { dropped, boxes: n };
}

/** The entries of the boxes kept, `per` entries a box. */
function keepBlocks(f: Exclude<Feature, { kind: 'empty' }>, keep: readonly boolean[], per: number): Feature {
  const values = f.values as unknown[];
  const out: unknown[] = [];
  keep.forEach((k, box) => {
    if (k) for (let j = 0; j < per; j++) out.push(values[box * per + j]);
  });
  return { kind: f.kind, values: out } as Feature;
}

export async function remapDataset(paths: readonly string[], options: RemapOptions): Promise<RemapReport> {
  // Before the inputs are read: a full folder is refused at once (a task shares its folder with the others).
  if (!options.task) await checkOutput(resolve(options.out));
  const manifests = await readInputManifests(paths);
  // The new ids are 1..N whatever the target: it only decides the rules the new shards are checked by.
  const target = inputTarget(options.target, manifests);
  const { labelMap: given, source } = await inputLabelMap(paths, options.labelMap, manifests);
  const layout = await layoutOf(options, paths);

  // Pass 1, which also indexes the inputs: the classes in use and their boxes
  // (a class no box uses leaves the map, so a label map alone cannot say).
  // Every task of a job makes it over every record: the new ids depend on all
  // of them. fromExample also checks each record is a detection example
  // before anything is written.
  const usage = new ClassUsage();
  const index = await indexInputs(paths, {
    compression: options.inputCompression ?? 'auto',
    survey: (payload) => {
      for (const o of fromExample(decodeExample(payload)).objects) usage.add(o.label, o.text);
      return undefined;
    },
  });
  const classes = buildClassTable(usage, given);
  // The classes of unreadable records are unknown: with problems the rules are not checked, and nothing is written.
  const plan = index.problemCount > 0 ? undefined : planRemap(classes.categories, options);
  const labelMap = plan?.labelMap ?? { items: [] };
  const base = { labelMapSource: source, changes: plan?.changes ?? [], labelMap, droppedBoxes: 0, emptiedRecords: 0, notes: classes.notes };

  // Pass 2: rewrite and write.
  const tally = { dropped: 0, emptied: 0 };
  const report = await rewriteDataset({
    paths,
    ...rewriteOutput(options),
    prefix: options.name ?? DEFAULT_PREFIX,
    layout,
    ...(plan ? { labelMap } : {}),
    target,
    inputManifests: manifests,
    run: {
      command: 'remap',
      options: {
        ...runOptions(options, layout, source),
        rename: Object.fromEntries(options.rename instanceof Map ? options.rename : Object.entries(options.rename ?? {})),
        drop: [...(options.drop ?? [])],
      },
    },
    index,
    report: base,
    transform: (payload) => {
      const features = decodeExample(payload);
      const r = remapFeatures(features, plan!.table);
      tally.dropped += r.dropped;
      if (r.boxes > 0 && r.dropped === r.boxes) tally.emptied++;
      return encodeExample(features);
    },
    counters: () => ({ droppedBoxes: tally.dropped, emptiedRecords: tally.emptied }),
  });
  return report as RemapReport;
}
