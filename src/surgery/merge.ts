/**
 * Merge: several datasets into one shard set, their classes reconciled by
 * name. Each dataset (a folder or a file) names its classes by its own label
 * map (label_map.pbtxt beside it, found as reshard and remap find it), else by
 * its boxes' class texts, so two datasets that gave the same class different
 * ids still merge into one class. The merged classes are numbered 1..N: the
 * first dataset's label map entries in id order, then every other name in the
 * order it first appears (datasets in the order given, each one's label map
 * before its records). Only `image/object/class/label` is rewritten; the class
 * texts and every other feature are carried over as they were.
 *
 * A box whose class cannot be named (its id is not in its dataset's label map
 * and it has no class text) cannot be placed, so its record is a problem and
 * nothing is published.
 */
import { resolve } from 'node:path';
import { TfrecordError } from '../errors.js';
import { decodeExample, encodeExample } from '../example/codec.js';
import type { Features } from '../example/features.js';
import * as K from '../detection/keys.js';
import type { LabelMap } from '../detection/label-map.js';
import { listTfrecordFiles } from '../walk/walk-records.js';
import { inputLabelMap, inputTarget, readInputManifests } from './dataset.js';
import { DEFAULT_PREFIX, layoutOf, type ReshardOptions, rewriteOutput, runOptions } from './reshard.js';
import { indexInputs } from './inputs.js';
import { checkOutput, rewriteDataset, type RewriteReport } from './rewrite.js';

/** As reshard's options, without a label map: each dataset brings its own. */
export type MergeOptions = Omit<ReshardOptions, 'labelMap'>;

export interface MergedDataset {
  path: string;
  /** The label map that named its classes; none when its class texts did. */
  labelMapPath?: string;
  /** Its old ids (those its label map or records use) and their merged ids. */
  ids: Array<{ oldId: number; name: string; newId: number }>;
}

export interface MergeReport extends RewriteReport {
  /** The merged classes, as written to label_map.pbtxt. */
  labelMap: LabelMap;
  datasets: MergedDataset[];
}

const utf8 = new TextDecoder();

/** The class name of each box of a record: its id's name in the dataset's label map, else its text. */
export function boxNames(features: Features, names: ReadonlyMap<number, string>): { labels: Array<number | undefined>; names: string[] } {
  const label = features[K.CLASS_LABEL];
  const text = features[K.CLASS_TEXT];
  if (label && label.kind !== 'empty' && label.kind !== 'int64_list')
    throw new TfrecordError('annotation', `feature '${K.CLASS_LABEL}' is a ${label.kind}, expected an int64_list`);
  if (text && text.kind !== 'empty' && text.kind !== 'bytes_list')
    throw new TfrecordError('annotation', `feature '${K.CLASS_TEXT}' is a ${text.kind}, expected a bytes_list`);
  const labels = label?.kind === 'int64_list' ? label.values.map(Number) : [];
  const texts = text?.kind === 'bytes_list' ? text.values.map((v) => utf8.decode(v)) : [];
  if (labels.length > 0 && texts.length > 0 && labels.length !== texts.length) {
    throw new TfrecordError('annotation', `the record has ${labels.length} class labels but ${texts.length} class texts`);
  }
  const n = Math.max(labels.length, texts.length);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = labels[i];
    const name = (id !== undefined ? names.get(id) : undefined) ?? (texts[i] !== undefined && texts[i] !== '' ? texts[i] : undefined);
    if (name === undefined) {
      throw new TfrecordError(
        'annotation',
        `box ${i} (label ${id ?? 'none'}) has no class name: its dataset's label map does not name that id and the box has no class text`,
      );
    }
    out.push(name);
  }
  return { labels: n === labels.length ? labels : Array.from({ length: n }, (_, i) => labels[i]), names: out };
}

export async function mergeDataset(datasets: readonly string[], options: MergeOptions): Promise<MergeReport> {
  if (datasets.length === 0) throw new TfrecordError('bad-argument', 'give at least one dataset');
  // Before the inputs are read: a full folder is refused at once (a task shares its folder with the others).
  if (!options.task) await checkOutput(resolve(options.out));
  const layout = await layoutOf(options, datasets);
  const manifests = await readInputManifests(datasets);
  // The merged ids are 1..N whatever the target: it only decides the rules the new shards are checked by.
  const target = inputTarget(options.target, manifests);

  // Each dataset's files and label map; a file named by two datasets belongs to the first.
  const datasetOf = new Map<string, number>();
  const idNames: Array<Map<number, string>> = [];
  const merged = new Map<string, number>();
  const addName = (name: string) => {
    if (!merged.has(name)) merged.set(name, merged.size + 1);
  };
  const report: MergedDataset[] = [];
  for (const [i, path] of datasets.entries()) {
    const { labelMap, source } = await inputLabelMap([path], undefined, await readInputManifests([path]));
    const names = new Map<number, string>();
    for (const it of [...(labelMap?.items ?? [])].sort((a, b) => a.id - b.id)) {
      names.set(it.id, it.name);
      addName(it.name);
    }
    idNames.push(names);
    report.push({ path: resolve(path), ...(source.path ? { labelMapPath: source.path } : {}), ids: [] });
    for (const file of await listTfrecordFiles([path])) if (!datasetOf.has(resolve(file))) datasetOf.set(resolve(file), i);
  }

  // Pass 1, which also indexes the inputs: every box's class name, so new
  // names get their ids in order of appearance (every task of a job makes it
  // over every record: the ids depend on all of them).
  const oldIds = datasets.map(() => new Map<number, string>());
  const index = await indexInputs(datasets, {
    compression: options.inputCompression ?? 'auto',
    survey: (payload, where) => {
      const ds = datasetOf.get(resolve(where.file)) ?? 0;
      const r = boxNames(decodeExample(payload), idNames[ds]!);
      r.names.forEach((name, k) => {
        addName(name);
        const id = r.labels[k];
        if (id !== undefined && !oldIds[ds]!.has(id)) oldIds[ds]!.set(id, name);
      });
      return undefined;
    },
  });
  const labelMap: LabelMap = { items: [...merged].map(([name, id]) => ({ id, name })) };
  report.forEach((d, i) => {
    const ids = new Map([...idNames[i]!, ...oldIds[i]!]);
    d.ids = [...ids].sort((a, b) => a[0] - b[0]).map(([oldId, name]) => ({ oldId, name, newId: merged.get(name)! }));
  });

  // Pass 2: labels rewritten to the merged ids, everything else as it was.
  const result = await rewriteDataset({
    paths: datasets,
    ...rewriteOutput(options),
    prefix: options.name ?? DEFAULT_PREFIX,
    layout,
    labelMap,
    target,
    inputManifests: manifests,
    run: { command: 'merge', options: { ...runOptions(options, layout, { kind: 'class-texts' }), datasets: datasets.map((d) => resolve(d)) } },
    index,
    report: { labelMap, datasets: report },
    transform: (payload, where) => {
      const features = decodeExample(payload);
      const { names } = boxNames(features, idNames[datasetOf.get(resolve(where.file)) ?? 0]!);
      if (names.length === 0) return payload;
      features[K.CLASS_LABEL] = { kind: 'int64_list', values: names.map((n) => merged.get(n)!) };
      return encodeExample(features);
    },
  });
  return result as MergeReport;
}
