/**
 * Class names → label ids. Google's training service wants the labels used in
 * a dataset to be exactly 1..N, so ids are given to the classes actually used,
 * in a documented order:
 *   1. with a label map (--label-map): its ids, unchanged (a class missing
 *      from it is an item error; gaps are then reported by the validator);
 *   2. else in the declared order (COCO categories as listed in the file,
 *      the YOLO names list, --classes), skipping declared classes no box uses;
 *   3. else in order of first appearance in the annotations.
 */
import type { LabelMap } from '../detection/label-map.js';

export interface LabelAssignment {
  /** class name → label id */
  ids: Map<string, number>;
  /** The label map written next to the shards. */
  labelMap: LabelMap;
  /** How the order was chosen, for the manifest. */
  order: 'label-map' | 'declared' | 'first-appearance';
}

/** Looks a class up in a label map by `name`, then by `display_name`. */
export function labelMapId(map: LabelMap, className: string): number | undefined {
  for (const item of map.items) if (item.name === className) return item.id;
  for (const item of map.items) if (item.displayName === className) return item.id;
  return undefined;
}

export function assignLabels(usedInOrder: readonly string[], options: { classOrder?: readonly string[]; labelMap?: LabelMap }): LabelAssignment {
  if (options.labelMap) {
    const ids = new Map<string, number>();
    for (const name of usedInOrder) {
      const id = labelMapId(options.labelMap, name);
      if (id !== undefined) ids.set(name, id);
    }
    return { ids, labelMap: options.labelMap, order: 'label-map' };
  }
  const used = new Set(usedInOrder);
  let names: string[];
  let order: LabelAssignment['order'];
  if (options.classOrder) {
    names = options.classOrder.filter((n) => used.has(n));
    for (const n of usedInOrder) if (!names.includes(n)) names.push(n);
    order = 'declared';
  } else {
    names = [...usedInOrder];
    order = 'first-appearance';
  }
  const ids = new Map(names.map((n, i) => [n, i + 1] as const));
  return { ids, labelMap: { items: names.map((name, i) => ({ id: i + 1, name })) }, order };
}
