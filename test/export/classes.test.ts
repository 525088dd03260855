import { describe, expect, it } from 'vitest';
import { buildClassTable, ClassUsage, yoloIndexNote } from '../../src/export/classes.js';

function usageOf(boxes: Array<[number, string]>): ClassUsage {
  const u = new ClassUsage();
  for (const [label, text] of boxes) u.add(label, text);
  return u;
}

describe('buildClassTable', () => {
  it('names ids from the class texts, most common first; ids 1..N give YOLO index id-1', () => {
    const t = buildClassTable(
      usageOf([
        [2, 'dog'],
        [1, 'cat'],
        [2, 'dog'],
        [2, 'Dog'],
        [3, 'bird'],
      ]),
      undefined,
    );
    expect(t.categories).toEqual([
      { id: 1, name: 'cat', index: 0, boxes: 1 },
      { id: 2, name: 'dog', index: 1, boxes: 3 },
      { id: 3, name: 'bird', index: 2, boxes: 1 },
    ]);
    expect(t.indicesAreIdsMinusOne).toBe(true);
    expect(yoloIndexNote(t)).toBeUndefined();
    // The one 'Dog' box loses its spelling in VOC and CSV: said so.
    expect(t.notes).toEqual(["class texts that disagree with their label's name are replaced by the name: label 2 is 'dog' but 1 of its boxes say 'Dog'"]);
  });

  it('ids with gaps are indexed consecutively for YOLO, with a note', () => {
    const t = buildClassTable(
      usageOf([
        [9, 'c'],
        [2, 'a'],
        [5, 'b'],
      ]),
      undefined,
    );
    expect(t.categories.map((c) => [c.id, c.index])).toEqual([
      [2, 0],
      [5, 1],
      [9, 2],
    ]);
    expect(t.indicesAreIdsMinusOne).toBe(false);
    expect(yoloIndexNote(t)).toContain('(2→0, 5→1, 9→2)');
  });

  it('a label map names ids (used or not); ids outside it and unnamed ids are noted', () => {
    const map = {
      items: [
        { id: 1, name: 'person' },
        { id: 2, name: 'car' },
        { id: 3, name: 'bike' },
      ],
    };
    const t = buildClassTable(
      usageOf([
        [2, 'automobile'],
        [7, 'truck'],
        [0, ''],
      ]),
      map,
    );
    expect(t.categories.map((c) => [c.id, c.name, c.boxes])).toEqual([
      [0, 'class_0', 1],
      [1, 'person', 0],
      [2, 'car', 1],
      [3, 'bike', 0],
      [7, 'truck', 1],
    ]);
    expect(t.notes).toContain("label ids 0, 7 are not in the label map; named from their boxes' class texts");
    expect(t.notes).toContain('label ids 0 have no name (no label map entry, empty class texts): exported as class_0');
    expect(t.notes.some((n) => n.includes("label 2 is 'car' but 1 of its boxes say 'automobile'"))).toBe(true);
    expect(t.indicesAreIdsMinusOne).toBe(false);
  });

  it('two ids with one name: the later is renamed, so no two categories share a name', () => {
    const t = buildClassTable(
      usageOf([
        [1, 'x'],
        [2, 'x'],
      ]),
      undefined,
    );
    expect(t.categories.map((c) => c.name)).toEqual(['x', 'x_2']);
    expect(t.notes.join('\n')).toContain("label 2 'x' → 'x_2'");
  });
});
