/**
 * The class table of an export: which label ids exist, what each is called,
 * and (for YOLO) which 0-based index each gets. Built once, from a first pass
 * over the records, before anything is written, because YOLO label files
 * need every box's index as they are written and the index depends on the
 * whole set of ids.
 *
 * Names come from the label map when there is one (the OD API's source of
 * truth for what an id means), else from the boxes' `image/object/class/text`.
 * Formats that carry only names (VOC, CSV) then write the table's name for
 * every box, so a box whose text disagrees with its id's name is reported:
 * that text does not survive.
 */
import type { LabelMap } from '../detection/label-map.js';

export interface Category {
  id: number;
  name: string;
  /** YOLO class index. */
  index: number;
  /** Boxes with this id in the records. */
  boxes: number;
}

export interface ClassTable {
  /** By id, ascending. */
  categories: Category[];
  byId: ReadonlyMap<number, Category>;
  /** Whether the YOLO indices are the label ids minus one (ids exactly 1..N). */
  indicesAreIdsMinusOne: boolean;
  notes: string[];
}

/** Label ids and the texts their boxes carry, counted over the first pass. */
export class ClassUsage {
  /** id → text → boxes */
  private readonly texts = new Map<number, Map<string, number>>();

  add(label: number, text: string): void {
    let byText = this.texts.get(label);
    if (!byText) this.texts.set(label, (byText = new Map()));
    byText.set(text, (byText.get(text) ?? 0) + 1);
  }

  ids(): number[] {
    return [...this.texts.keys()].sort((a, b) => a - b);
  }

  boxes(id: number): number {
    let n = 0;
    for (const c of this.texts.get(id)?.values() ?? []) n += c;
    return n;
  }

  /** Texts of an id, most boxes first (ties: first seen). */
  textsOf(id: number): Array<[string, number]> {
    return [...(this.texts.get(id) ?? new Map<string, number>()).entries()].sort((a, b) => b[1] - a[1]);
  }
}

/** The name given to an id no label map names and no box has a text for. */
export function placeholderName(id: number): string {
  return `class_${id}`;
}

const MAX_LISTED = 5;

export function buildClassTable(usage: ClassUsage, labelMap: LabelMap | undefined): ClassTable {
  const notes: string[] = [];
  const names = new Map<number, string>();
  const unnamed: number[] = [];
  if (labelMap) {
    for (const item of labelMap.items) if (!names.has(item.id)) names.set(item.id, item.name);
  }
  const outsideMap: number[] = [];
  const disagreeing: string[] = [];
  for (const id of usage.ids()) {
    const texts = usage.textsOf(id);
    const named = names.get(id);
    if (named === undefined) {
      if (labelMap) outsideMap.push(id);
      const text = texts.find(([t]) => t !== '')?.[0];
      if (text === undefined) unnamed.push(id);
      names.set(id, text ?? placeholderName(id));
    }
    const name = names.get(id)!;
    const others = texts.filter(([t]) => t !== name && t !== '');
    if (others.length > 0) {
      const n = others.reduce((s, [, c]) => s + c, 0);
      disagreeing.push(`label ${id} is '${name}' but ${n} of its boxes say ${others.map(([t]) => `'${t}'`).join(', ')}`);
    }
  }
  if (outsideMap.length > 0) notes.push(`label ids ${outsideMap.join(', ')} are not in the label map; named from their boxes' class texts`);
  if (unnamed.length > 0)
    notes.push(`label ids ${unnamed.join(', ')} have no name (no label map entry, empty class texts): exported as ${unnamed.map(placeholderName).join(', ')}`);
  if (disagreeing.length > 0) {
    const more = disagreeing.length > MAX_LISTED ? ` (and ${disagreeing.length - MAX_LISTED} more)` : '';
    notes.push(`class texts that disagree with their label's name are replaced by the name: ${disagreeing.slice(0, MAX_LISTED).join('; ')}${more}`);
  }

  // Names must be unique: COCO importers refuse two categories of one name,
  // and VOC and CSV would merge them into one class.
  const ids = [...names.keys()].sort((a, b) => a - b);
  const seen = new Set<string>();
  const renamed: string[] = [];
  for (const id of ids) {
    let name = names.get(id)!;
    if (seen.has(name)) {
      const unique = `${name}_${id}`;
      renamed.push(`label ${id} '${name}' → '${unique}'`);
      name = unique;
      names.set(id, name);
    }
    seen.add(name);
  }
  if (renamed.length > 0) notes.push(`two label ids share a name, so the later ones were renamed: ${renamed.join('; ')}`);

  const indicesAreIdsMinusOne = ids.every((id, i) => id === i + 1);
  const categories = ids.map((id, i) => ({ id, name: names.get(id)!, index: indicesAreIdsMinusOne ? id - 1 : i, boxes: usage.boxes(id) }));
  return { categories, byId: new Map(categories.map((c) => [c.id, c])), indicesAreIdsMinusOne, notes };
}

/** The note for a YOLO export whose ids are not 1..N (YOLO indices are 0..N-1 without gaps). */
export function yoloIndexNote(table: ClassTable): string | undefined {
  if (table.indicesAreIdsMinusOne || table.categories.length === 0) return undefined;
  const shown = table.categories
    .slice(0, 10)
    .map((c) => `${c.id}→${c.index}`)
    .join(', ');
  const more = table.categories.length > 10 ? ', …' : '';
  return `label ids are not 1..N, so YOLO class indices number them consecutively in id order (${shown}${more}); label_map.pbtxt keeps the original ids`;
}
