/**
 * The report `convertDataset` returns (also the body of manifest.json), and
 * the running counts the stages fill it from.
 */
import type { LabelMap } from '../detection/label-map.js';
import type { ImportNoteCode, ItemError, SourceRef } from '../formats/types.js';
import type { Finding } from '../validate/findings.js';
import type { BoxChange } from './boxes.js';

/** An item that could not be converted, with where it came from. */
export interface ItemProblem {
  code: string;
  itemId?: string;
  source: SourceRef;
  reason: string;
}

export interface BoxReport extends BoxChange {
  itemId: string;
  source: SourceRef;
}

export interface ConvertWarning {
  /**
   * 'duplicate-across-splits': the image has the same bytes as one in
   * another split (found among the images one task converted; reported,
   * not kept in the manifest, see publish.ts).
   */
  code: 'annotation-size-mismatch' | 'image-reencoded' | 'duplicate-across-splits';
  itemId: string;
  source: SourceRef;
  message: string;
}

export interface ShardReport {
  name: string;
  path: string;
  records: number;
  /** Size of the file on disk. */
  bytes: number;
  /** Framed records before compression (= bytes when uncompressed). */
  uncompressedBytes: number;
  /** SHA-256 (hex) of the file on disk. */
  sha256: string;
  /** CRC32C of the file on disk in Cloud Storage's form (base64, big-endian). */
  crc32c: string;
}

export interface SplitReport {
  name: string;
  /** Shard file prefix. */
  prefix: string;
  records: number;
  boxes: number;
  /** Boxes and images per class in this split alone. */
  classes: ClassReport[];
  shards: ShardReport[];
}

/**
 * A note about the run as a whole rather than one item: compression that the
 * training readers do not expect, class names that differ only in case, other
 * shard sets already in the output folder, and the importer's own notes (how
 * CSV columns were read, polygons taken as boxes, splits from the file).
 */
export interface RunNote {
  code: 'compressed-shards' | 'class-name-trimmed' | 'class-name-case' | 'other-sets' | 'images-without-label-file' | 'interrupted-publish' | ImportNoteCode;
  message: string;
}

export interface ClassReport {
  label: number;
  name: string;
  boxes: number;
  images: number;
}

export interface ConvertReport {
  ok: boolean;
  /** Why it failed, in one sentence (when !ok). */
  failure?: string;
  outDir: string;
  labelMapPath?: string;
  manifestPath?: string;
  splits: SplitReport[];
  /**
   * `withoutLabelFile`: YOLO images with no label file at all (converted as
   * negatives, but often a forgotten label), counted apart from images whose
   * label file is empty; they are also among `withoutBoxes`.
   */
  items: { total: number; converted: number; skipped: number; reencoded: number; withoutBoxes: number; withoutLabelFile: number };
  boxes: { total: number; clipped: number; dropped: number };
  /** Per class, this run's records only. */
  classes: ClassReport[];
  labelOrder: string;
  /** Whose rules the dataset was checked against. */
  target: string;
  /**
   * Whether the images stored as they are were decoded (ConvertOptions.decode),
   * so their pixel data is known to be readable. When false only their header
   * and end were checked; re-encoded images are decoded either way.
   */
  decoded: boolean;
  /** The YOLO images without a label file (ids). */
  withoutLabelFile: string[];
  notes: RunNote[];
  errors: ItemProblem[];
  clipped: BoxReport[];
  dropped: BoxReport[];
  warnings: ConvertWarning[];
  /** Findings of the read-back validation (errors and warnings). */
  findings: Finding[];
  /** Old shard files of the same prefixes that the new set replaced. */
  replaced: string[];
  /**
   * A task of a scaled-out run (convert --task-index): which one, and its
   * part manifest. Its report covers its own shards and items only; the
   * dataset's manifest and label map are finalize's.
   */
  task?: { index: number; count: number; part: string };
  /**
   * A finalize that only finished a publish an earlier run had begun (the
   * `interrupted-publish` note says whose): `splits` are the sets that
   * publish wrote; nothing was converted.
   */
  finishedPublish?: boolean;
}

export function emptyReport(outDir: string): ConvertReport {
  return {
    ok: false,
    outDir,
    splits: [],
    items: { total: 0, converted: 0, skipped: 0, reencoded: 0, withoutBoxes: 0, withoutLabelFile: 0 },
    boxes: { total: 0, clipped: 0, dropped: 0 },
    classes: [],
    labelOrder: '',
    target: '',
    decoded: false,
    withoutLabelFile: [],
    notes: [],
    errors: [],
    clipped: [],
    dropped: [],
    warnings: [],
    findings: [],
    replaced: [],
  };
}

export function toProblem(e: ItemError): ItemProblem {
  return { code: e.code, ...(e.itemId !== undefined ? { itemId: e.itemId } : {}), source: e.source, reason: e.reason };
}

/**
 * How many items the problems are about. One item can have several (a COCO
 * image with two bad annotations, an image with three boxes of an unknown
 * class) and is still one skipped image; a problem that names no item counts
 * on its own.
 */
export function countItems(problems: readonly ItemProblem[]): number {
  const items = new Set<string>();
  problems.forEach((p, i) => items.add(p.itemId !== undefined ? `item:${p.itemId}` : `problem:${i}`));
  return items.size;
}

export interface ClassCount {
  boxes: number;
  images: number;
}

export interface SplitTally {
  records: number;
  boxes: number;
  classes: Map<number, ClassCount>;
}

/** What pass 2 converted: records, boxes and classes per split, and boxes and images per label id overall. */
export interface Tally {
  splits: Map<string | undefined, SplitTally>;
  classes: Map<number, ClassCount>;
}

export function emptyTally(splitNames: ReadonlyArray<string | undefined>): Tally {
  return { splits: new Map(splitNames.map((s) => [s, { records: 0, boxes: 0, classes: new Map() }] as const)), classes: new Map() };
}

function countClasses(classes: Map<number, ClassCount>, labels: readonly number[]): void {
  for (const l of labels) {
    const c = classes.get(l) ?? { boxes: 0, images: 0 };
    c.boxes++;
    classes.set(l, c);
  }
  for (const l of new Set(labels)) classes.get(l)!.images++;
}

/** Counts one converted record of `split` with the label ids of its boxes. */
export function countRecord(tally: Tally, split: string | undefined, labels: readonly number[]): void {
  const st = tally.splits.get(split)!;
  st.records++;
  st.boxes += labels.length;
  countClasses(st.classes, labels);
  countClasses(tally.classes, labels);
}

/** The class table of `labelMap` with the counts given (zero for classes without any). */
export function classTable(labelMap: LabelMap, counts: ReadonlyMap<number, ClassCount>): ClassReport[] {
  return labelMap.items.map((it) => ({
    label: it.id,
    name: it.name,
    boxes: counts.get(it.id)?.boxes ?? 0,
    images: counts.get(it.id)?.images ?? 0,
  }));
}

/** Fills the per-class lines (and the box total) for the classes of `labelMap`. */
export function reportClasses(report: ConvertReport, labelMap: LabelMap, counts: ReadonlyMap<number, ClassCount>): void {
  report.classes = classTable(labelMap, counts);
  report.boxes.total = report.classes.reduce((n, c) => n + c.boxes, 0);
}
