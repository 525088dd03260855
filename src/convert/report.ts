/**
 * The report `convertDataset` returns (also the body of manifest.json), and
 * the running counts the stages fill it from.
 */
import type { LabelMap } from '../detection/label-map.js';
import type { ItemError, SourceRef } from '../formats/types.js';
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
  code: 'annotation-size-mismatch' | 'image-reencoded';
  itemId: string;
  source: SourceRef;
  message: string;
}

export interface ShardReport {
  name: string;
  path: string;
  records: number;
  bytes: number;
  sha256: string;
}

export interface SplitReport {
  name: string;
  records: number;
  boxes: number;
  shards: ShardReport[];
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
  items: { total: number; converted: number; skipped: number; reencoded: number; withoutBoxes: number };
  boxes: { total: number; clipped: number; dropped: number };
  classes: ClassReport[];
  labelOrder: string;
  errors: ItemProblem[];
  clipped: BoxReport[];
  dropped: BoxReport[];
  warnings: ConvertWarning[];
  /** Findings of the read-back validation (errors and warnings). */
  findings: Finding[];
  /** Old shard files of the same prefixes that the new set replaced. */
  replaced: string[];
}

export function emptyReport(outDir: string): ConvertReport {
  return {
    ok: false,
    outDir,
    splits: [],
    items: { total: 0, converted: 0, skipped: 0, reencoded: 0, withoutBoxes: 0 },
    boxes: { total: 0, clipped: 0, dropped: 0 },
    classes: [],
    labelOrder: '',
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

/** What pass 2 converted: records and boxes per split, boxes and images per label id. */
export interface Tally {
  splits: Map<string | undefined, { records: number; boxes: number }>;
  classes: Map<number, ClassCount>;
}

export function emptyTally(splitNames: ReadonlyArray<string | undefined>): Tally {
  return { splits: new Map(splitNames.map((s) => [s, { records: 0, boxes: 0 }] as const)), classes: new Map() };
}

/** Counts one converted record of `split` with the label ids of its boxes. */
export function countRecord(tally: Tally, split: string | undefined, labels: readonly number[]): void {
  const st = tally.splits.get(split)!;
  st.records++;
  st.boxes += labels.length;
  for (const l of labels) {
    const c = tally.classes.get(l) ?? { boxes: 0, images: 0 };
    c.boxes++;
    tally.classes.set(l, c);
  }
  for (const l of new Set(labels)) tally.classes.get(l)!.images++;
}

/** Fills the per-class lines (and the box total) for the classes of `labelMap`. */
export function reportClasses(report: ConvertReport, labelMap: LabelMap, counts: ReadonlyMap<number, ClassCount>): void {
  report.classes = labelMap.items.map((it) => ({
    label: it.id,
    name: it.name,
    boxes: counts.get(it.id)?.boxes ?? 0,
    images: counts.get(it.id)?.images ?? 0,
  }));
  report.boxes.total = report.classes.reduce((n, c) => n + c.boxes, 0);
}
