/**
 * Pass 1: the annotations alone, read once for the classes in use (labels
 * must be 1..N over the classes actually used), every annotation error and
 * the plan (plan.ts: each item's split and shard), before a single image is
 * opened.
 *
 * A function of its own, so the importer's state (a large COCO file's
 * tables, say) is released before pass 2 reads the annotations again.
 */
import type { LabelMap } from '../detection/label-map.js';
import type { FormatSpec } from '../formats/registry.js';
import type { ImportNote, SourceItem } from '../formats/types.js';
import type { ClassNameCheck } from './class-names.js';
import type { CoordinateScaleCheck } from './coords-check.js';
import { labelMapId } from './labels.js';
import type { ResolvedConvertOptions } from './options.js';
import { type ConversionPlan, PlanBuilder } from './plan.js';
import { toProblem, type ConvertReport, type ItemProblem } from './report.js';

export interface AnnotationScan {
  /** Classes in the order they were first used. */
  usedInOrder: string[];
  /** Items the importer accepted. */
  scanned: number;
  /** Where each accepted item goes, by its position among them. */
  plan: ConversionPlan;
  /** The accepted items themselves, when there are few enough to keep. */
  cached: SourceItem[] | undefined;
  /** Items the importer refused: they never reach pass 2 but count in the total. */
  refused: ItemProblem[];
  classOrder?: string[];
  /** The importer's notes about how it read the annotations. */
  notes: ImportNote[];
}

/** Boxes the item cache may hold per item of its limit, on average (250,000 boxes at the default 25,000 items). */
const CACHED_BOXES_PER_ITEM = 10;

/** Checks pass 1 runs over every accepted item (class names are cleaned in place). */
export interface ScanChecks {
  classNames: ClassNameCheck;
  coordinates: CoordinateScaleCheck;
}

/**
 * Reads the annotations once; every annotation error is added to
 * `report.errors`. `userLabelMap` (the user's map, reconciled with the
 * output folder's) makes classes outside it item errors.
 */
export async function scanAnnotations(
  spec: FormatSpec,
  opts: ResolvedConvertOptions,
  userLabelMap: LabelMap | undefined,
  report: ConvertReport,
  checks: ScanChecks,
  /** Called once this many items have been accepted (`manyItems.count`), while the scan goes on. */
  manyItems?: { count: number; reached: () => void },
): Promise<AnnotationScan> {
  const progress = opts.onProgress;
  const scan = await spec.read({
    ...opts.importOptions,
    onFileProgress: (read, size) => progress({ phase: 'scan', done: 0, total: 0, bytes: 0, file: { read, size } }),
  });
  const usedInOrder: string[] = [];
  const used = new Set<string>();
  let scanned = 0;
  // Items are kept between the passes only for a source known to be small:
  // keeping them even for a while would make V8 allocate every later item
  // of those shapes straight into the old generation (pretenuring), where
  // the garbage of a large dataset piles up between full collections.
  const cacheLimit = opts.itemCacheLimit;
  // Boxes count too: 400 label files of 10,000 boxes each are few items but
  // 4 million objects, and keeping them took 1.6 GB.
  const boxCacheLimit = cacheLimit * CACHED_BOXES_PER_ITEM;
  let cachedBoxes = 0;
  let cached: SourceItem[] | undefined = [];
  let sized = false;
  const refused: ItemProblem[] = [];
  const planner = new PlanBuilder(opts);
  for await (const entry of scan.entries) {
    if (!sized) {
      // CSV learns its size only once reading has begun, so this is decided here.
      sized = true;
      if (scan.expectedItems !== undefined && scan.expectedItems > cacheLimit) cached = undefined;
    }
    if (!entry.ok) {
      const problem = toProblem(entry.error);
      refused.push(problem);
      report.errors.push(problem);
      continue;
    }
    scanned++;
    if (scanned === manyItems?.count) manyItems.reached();
    const item = entry.item;
    checks.classNames.clean(item);
    checks.coordinates.observe(item);
    // Small datasets keep their items from pass 1 rather than parse the
    // annotations a second time; past the cap, pass 2 reads them again.
    if (cached) {
      cachedBoxes += item.objects.length;
      if (cached.length < cacheLimit && cachedBoxes <= boxCacheLimit) cached.push(item);
      else cached = undefined;
    }
    // An item with a class outside the user's label map gets no place in the plan.
    planner.add(item, !noteClasses(item, userLabelMap, used, usedInOrder, report));
    if (scanned % 1000 === 0) progress({ phase: 'scan', done: scanned, total: 0, bytes: 0 });
  }
  // Declared names get the same trimming as the boxes' names, so the declared order still finds them.
  const classOrder = scan.classOrder?.map((n) => n.trim());
  // Complete now that every entry has been read (see ImportResult.notes).
  const notes = [...(scan.notes ?? [])];
  const plan = planner.finish();
  return { usedInOrder, scanned, plan, cached, refused, notes, ...(classOrder ? { classOrder } : {}) };
}

/**
 * Adds the item's classes to `usedInOrder` on first use. With a user's label
 * map, a class missing from it is an error on the item; returns false then.
 */
function noteClasses(item: SourceItem, userLabelMap: LabelMap | undefined, used: Set<string>, usedInOrder: string[], report: ConvertReport): boolean {
  let known = true;
  for (const o of item.objects) {
    if (userLabelMap && labelMapId(userLabelMap, o.className) === undefined) {
      known = false;
      report.errors.push({
        code: 'unknown-class',
        itemId: item.id,
        source: o.source ?? item.source,
        reason: `class '${o.className}' is not in the label map`,
      });
      continue;
    }
    if (!used.has(o.className)) {
      used.add(o.className);
      usedInOrder.push(o.className);
    }
  }
  return known;
}
