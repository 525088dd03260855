/**
 * Small helpers shared by the readers: strict number parsing, the checks
 * every box goes through, and the policy applied when an item is finished.
 */
import type { EmptyPolicy, ImportEntry, ImportResult, ItemError, SourceItem, SourceObject } from './types.js';

/**
 * A plain decimal number (optionally signed, with fraction and exponent).
 * Stricter than `Number()`, which would read '' as 0 and accept '0x10',
 * turning a blank or garbled coordinate into a real-looking box.
 */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export function parseDecimal(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (!DECIMAL.test(t)) return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}

export interface Corners {
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
}

/**
 * Reason a box with finite corners is unusable, or undefined if it is fine.
 * Only inverted boxes are refused here: zero-size and out-of-image boxes are
 * left for the validator, which can warn and clamp instead of dropping an
 * image.
 */
/**
 * The bounding box of a polygon's points, by loops: spreading the points
 * into Math.min would overflow the call stack for a polygon of a few
 * hundred thousand points, which a crafted file can hold.
 */
export function extent(xs: readonly number[], ys: readonly number[]): Corners {
  let xmin = Number.POSITIVE_INFINITY;
  let ymin = Number.POSITIVE_INFINITY;
  let xmax = Number.NEGATIVE_INFINITY;
  let ymax = Number.NEGATIVE_INFINITY;
  for (const x of xs) {
    if (x < xmin) xmin = x;
    if (x > xmax) xmax = x;
  }
  for (const y of ys) {
    if (y < ymin) ymin = y;
    if (y > ymax) ymax = y;
  }
  return { xmin, ymin, xmax, ymax };
}

export function invertedBoxReason(b: Corners): string | undefined {
  if (b.xmax < b.xmin) return `xmax ${b.xmax} is less than xmin ${b.xmin}`;
  if (b.ymax < b.ymin) return `ymax ${b.ymax} is less than ymin ${b.ymin}`;
  return undefined;
}

/**
 * Most boxes one image may have. Crowded real images have hundreds, dense
 * crowd-counting sets some tens of thousands; every box costs memory in the
 * reader, the converter and the record (a YOLO label file of 4 million boxes
 * took 3.9 GB to convert). Readers stop collecting an image's boxes here and
 * make the image an item error naming the line of the first box too many.
 * It also keeps a converted record inside the decoder's limits
 * (example/codec.ts: 2 bytes values and 5 int64 values per box at most).
 */
export const MAX_BOXES_PER_IMAGE = 100_000;

/** The item-error reason for an image over MAX_BOXES_PER_IMAGE. */
export function tooManyBoxesReason(): string {
  return `the image has more than ${MAX_BOXES_PER_IMAGE.toLocaleString('en-US')} boxes (the limit per image); this is the first one over it`;
}

/**
 * Turns a built item plus its collected errors into entries: errors alone if
 * there are any, otherwise the item unless it is empty and empties are dropped.
 * An item over MAX_BOXES_PER_IMAGE that its reader let through is an error here.
 */
export function finishItem(item: SourceItem, errors: ItemError[], empty: EmptyPolicy | undefined): ImportEntry[] {
  if (item.objects.length > MAX_BOXES_PER_IMAGE) {
    const first = item.objects[MAX_BOXES_PER_IMAGE]!.source ?? item.source;
    errors = [...errors, { source: first, itemId: item.id, code: 'malformed-annotation', reason: tooManyBoxesReason() }];
  }
  if (errors.length > 0) return errors.map((error) => ({ ok: false, error }));
  if (item.objects.length === 0 && empty === 'drop') return [];
  return [{ ok: true, item }];
}

/**
 * The item-error reason for a class name whose bytes were not UTF-8 (the
 * reader saw invalid bytes where the name is; they read as U+FFFD). An error,
 * not a warning: converted, the name would reach the records and the label
 * map as replacement characters, and two different names could become one.
 */
export function notUtf8Reason(className: string): string {
  return `class name ${JSON.stringify(className)} is not valid UTF-8 (the bytes shown as \uFFFD are not UTF-8 text); save the file as UTF-8`;
}

/** Looks up a class name against a declared list, when there is one. */
export function checkClass(name: string, declared: ReadonlySet<string> | undefined): string | undefined {
  if (declared === undefined || declared.has(name)) return undefined;
  return `class ${JSON.stringify(name)} is not in the declared class list`;
}

/** Removes undefined-valued optional fields so items compare cleanly and serialize small. */
export function compactObject(o: SourceObject): SourceObject {
  for (const key of Object.keys(o) as Array<keyof SourceObject>) {
    if (o[key] === undefined) delete o[key];
  }
  return o;
}

export interface CollectedImport {
  classOrder?: string[];
  items: SourceItem[];
  errors: ItemError[];
}

/** Drains an import into arrays: for small datasets, tests and "fail with the full list" callers. */
export async function collectImport(result: ImportResult): Promise<CollectedImport> {
  const items: SourceItem[] = [];
  const errors: ItemError[] = [];
  for await (const entry of result.entries) {
    if (entry.ok) items.push(entry.item);
    else errors.push(entry.error);
  }
  return { ...(result.classOrder ? { classOrder: result.classOrder } : {}), items, errors };
}
