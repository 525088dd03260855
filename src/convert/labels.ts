/**
 * Class names → label ids, for a whole dataset rather than one run.
 *
 * Google's built-in training wants the labels used across the dataset to be
 * 1..N; the OD API accepts any ids of its label map. Train and val are often
 * converted in two runs into one output folder, so the ids must agree across
 * runs: the label map already in the output folder (written by the first
 * run) fixes the ids of the classes it knows, and a later run only appends.
 *
 * Ids come from, in this order:
 *   1. the user's --label-map and the output folder's label map (they must
 *      agree where they overlap; their union is the dataset's map). With a
 *      user map, a class outside it is an item error;
 *   2. for classes neither map knows, the next free ids after the largest
 *      fixed one, in the declared order (COCO categories as listed in the
 *      file, the YOLO names list, --classes), skipping declared classes no
 *      box uses, else in order of first appearance.
 */
import { TfrecordError } from '../errors.js';
import type { LabelMap, LabelMapItem } from '../detection/label-map.js';

export type LabelOrder = 'label-map' | 'dataset' | 'declared' | 'first-appearance';

export interface LabelAssignment {
  /** class name → label id */
  ids: Map<string, number>;
  /** The dataset's label map after this run (fixed items, then the new ones). */
  labelMap: LabelMap;
  /** Ids that belong to the user's or the output folder's map: never renumbered. */
  fixed: ReadonlySet<number>;
  /** How the ids of this run's classes were chosen, for the manifest. */
  order: LabelOrder;
}

/** Name and display-name lookups of a label map's items, built on first use (see labelMapId). */
const lookups = new WeakMap<readonly LabelMapItem[], { size: number; byName: Map<string, number>; byDisplay: Map<string, number> }>();

/**
 * Looks a class up in a label map by `name`, then by `display_name` (the
 * first item that has it). Called for every box: with a map of many items a
 * scan of the list per box was quadratic, so the lookups are indexed once
 * per item list.
 */
export function labelMapId(map: LabelMap, className: string): number | undefined {
  let index = lookups.get(map.items);
  if (index === undefined || index.size !== map.items.length) {
    const byName = new Map<string, number>();
    const byDisplay = new Map<string, number>();
    for (const item of map.items) {
      if (!byName.has(item.name)) byName.set(item.name, item.id);
      if (item.displayName !== undefined && !byDisplay.has(item.displayName)) byDisplay.set(item.displayName, item.id);
    }
    index = { size: map.items.length, byName, byDisplay };
    lookups.set(map.items, index);
  }
  return index.byName.get(className) ?? index.byDisplay.get(className);
}

/**
 * The union of the user's label map and the one already in the output
 * folder, or an error naming every entry on which they disagree (the same
 * name with two ids, or one id with two names). Called before any image is
 * read, so a mismatch costs the user nothing.
 */
export function reconcileLabelMaps(user: LabelMap | undefined, existing: LabelMap | undefined, existingFile: string): LabelMap | undefined {
  if (!user) return existing;
  if (!existing) return user;
  const conflicts: string[] = [];
  const byId = new Map<number, LabelMapItem>();
  const byName = new Map<string, LabelMapItem>();
  for (const it of existing.items) {
    byId.set(it.id, it);
    if (!byName.has(it.name)) byName.set(it.name, it);
  }
  for (const it of user.items) {
    const other = byId.get(it.id);
    if (other && other.name !== it.name) conflicts.push(`id ${it.id} is '${it.name}' in --label-map but '${other.name}' in the output folder`);
    const sameName = byName.get(it.name);
    if (sameName && sameName.id !== it.id) conflicts.push(`'${it.name}' is id ${it.id} in --label-map but id ${sameName.id} in the output folder`);
  }
  if (conflicts.length > 0) {
    const shown = conflicts.slice(0, 5).join('; ');
    const more = conflicts.length > 5 ? ` (and ${conflicts.length - 5} more)` : '';
    throw new TfrecordError(
      'label-map',
      `--label-map disagrees with the label map of the dataset already in the output folder: ${shown}${more}. ` +
        'Records converted with different ids cannot be mixed; use that label map, or another --out',
      { file: existingFile },
    );
  }
  const merged = new Map<number, LabelMapItem>();
  for (const it of existing.items) merged.set(it.id, it);
  for (const it of user.items) if (!merged.has(it.id)) merged.set(it.id, it);
  return { items: [...merged.values()].sort((a, b) => a.id - b.id) };
}

/**
 * Ids for the classes a run uses. `fixedMap` is the reconciled map (user's
 * and output folder's); `userGiven` says whether the user supplied one, in
 * which case every used class is already in it (pass 1 refused the others).
 */
export function assignLabels(
  usedInOrder: readonly string[],
  options: { classOrder?: readonly string[]; fixedMap?: LabelMap; userGiven?: boolean },
): LabelAssignment {
  const fixedItems = options.fixedMap?.items ?? [];
  const fixed = new Set(fixedItems.map((it) => it.id));
  const ids = new Map<string, number>();
  const fresh: string[] = [];
  for (const name of usedInOrder) {
    const id = options.fixedMap ? labelMapId(options.fixedMap, name) : undefined;
    if (id !== undefined) ids.set(name, id);
    else fresh.push(name);
  }
  let names: string[] = fresh;
  let order: LabelOrder;
  if (options.userGiven) order = 'label-map';
  else if (fixedItems.length > 0 && fresh.length === 0) order = 'dataset';
  else if (options.classOrder) {
    const freshSet = new Set(fresh);
    names = options.classOrder.filter((n) => freshSet.has(n));
    const declared = new Set(names);
    for (const n of fresh) if (!declared.has(n)) names.push(n);
    order = fixedItems.length > 0 ? 'dataset' : 'declared';
  } else order = fixedItems.length > 0 ? 'dataset' : 'first-appearance';
  let next = fixedItems.reduce((m, it) => Math.max(m, it.id), 0);
  const added: LabelMapItem[] = [];
  for (const name of names) {
    ids.set(name, ++next);
    added.push({ id: next, name });
  }
  return { ids, labelMap: { items: [...fixedItems, ...added] }, fixed, order };
}

/**
 * After pass 2: classes this run added that ended with no box (their items
 * were skipped, their boxes dropped) leave the map, and the added classes
 * after them move down so the ids stay consecutive. Fixed ids never move.
 * Returns the old → new id mapping of the ids that changed, and the new map.
 */
export function dropUnusedAdded(labels: LabelAssignment, boxesOf: (id: number) => number): { labelMap: LabelMap; moved: Map<number, number> } {
  const items = labels.labelMap.items;
  const fixedItems = items.filter((it) => labels.fixed.has(it.id));
  const added = items.filter((it) => !labels.fixed.has(it.id));
  const keptAdded = added.filter((it) => boxesOf(it.id) > 0);
  if (keptAdded.length === added.length) return { labelMap: labels.labelMap, moved: new Map() };
  let next = fixedItems.reduce((m, it) => Math.max(m, it.id), 0);
  const moved = new Map<number, number>();
  const renumbered = keptAdded.map((it) => {
    const id = ++next;
    if (id !== it.id) moved.set(it.id, id);
    return { ...it, id };
  });
  return { labelMap: { items: [...fixedItems, ...renumbered] }, moved };
}

/**
 * Ids missing from 1..max of a label map (Google's built-in training wants
 * none): the first `show` of them and how many in all. Worked out from the
 * sorted ids, not by listing 1..max: one item with id 2147483647 made that
 * list two billion numbers long, and convert ran out of memory.
 */
export function labelMapGaps(map: LabelMap, show = 8): { first: number[]; count: number } {
  const ids = [...new Set(map.items.map((it) => it.id))].sort((a, b) => a - b);
  const first: number[] = [];
  let count = 0;
  let expected = 1;
  for (const id of ids) {
    for (let g = expected; g < id && first.length < show; g++) first.push(g);
    count += id - expected;
    expected = id + 1;
  }
  return { first, count };
}

/**
 * The refusal of a label map with gaps under Google's built-in training
 * (--target ai-platform), naming the missing ids and the ways out: the OD
 * API keeps such ids, or `remedy` (what the calling command offers). None
 * when the map has no gaps.
 */
export function gapRefusal(map: LabelMap, file: string | undefined, remedy: string): TfrecordError | undefined {
  const gaps = labelMapGaps(map);
  if (gaps.count === 0) return undefined;
  const shown = gaps.count > gaps.first.length ? `${gaps.first.join(', ')}, … (${gaps.count} in all)` : gaps.first.join(', ');
  return new TfrecordError(
    'label-map',
    `the label map's ids skip ${shown}; Google's built-in training needs ids 1..N without gaps. ` +
      `Keep these ids for the OD API with --target od-api, or ${remedy}`,
    { file },
  );
}
