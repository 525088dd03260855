/**
 * Label maps of very many items (issue 17): past MAX_LABEL_MAP_ITEMS the
 * parser names the file and the line of the first item over; below it,
 * nothing that reads a label map is quadratic in its size.
 */
import { describe, expect, it } from 'vitest';
import { parseLabelMap } from 'tfrecord-od/detection';
import { readCoco } from 'tfrecord-od/formats';
import { MAX_LABEL_MAP_ITEMS } from '../../src/detection/label-map.js';
import { assignLabels, labelMapGaps, labelMapId, reconcileLabelMaps } from '../../src/convert/labels.js';
import { textTable } from '../../src/cli/io.js';
import { makeTree } from '../formats/helpers.js';
import path from 'node:path';

function mapText(n: number): string {
  let s = '';
  for (let i = 1; i <= n; i++) s += `item {\n  id: ${i}\n  name: "class${i}"\n}\n`;
  return s;
}

describe('label map size', () => {
  it('takes 100,000 items and refuses the next, naming its line', () => {
    expect(MAX_LABEL_MAP_ITEMS).toBe(100_000);
    expect(parseLabelMap(mapText(MAX_LABEL_MAP_ITEMS)).items).toHaveLength(MAX_LABEL_MAP_ITEMS);
    expect(() => parseLabelMap(mapText(MAX_LABEL_MAP_ITEMS + 5), 'big.pbtxt')).toThrow(
      expect.objectContaining({
        code: 'label-map',
        file: 'big.pbtxt',
        line: 4 * MAX_LABEL_MAP_ITEMS + 1,
        reason: 'the label map has more than 100,000 items (the limit); this is the first one over it',
      }),
    );
  });

  it('gaps are counted from the sorted ids, not listed: an id of 2^31-1 is cheap', () => {
    const started = performance.now();
    expect(labelMapGaps({ items: [{ id: 2147483647, name: 'x' }] })).toEqual({ first: [1, 2, 3, 4, 5, 6, 7, 8], count: 2147483646 });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(
      labelMapGaps({
        items: [
          { id: 5, name: 'a' },
          { id: 2, name: 'b' },
          { id: 5, name: 'c' },
        ],
      }),
    ).toEqual({ first: [1, 3, 4], count: 3 });
    expect(
      labelMapGaps({
        items: [
          { id: 1, name: 'a' },
          { id: 2, name: 'b' },
        ],
      }),
    ).toEqual({ first: [], count: 0 });
  });

  it('lookups by name and display name stay first-match and fast on 100,000 items', () => {
    const map = parseLabelMap(mapText(MAX_LABEL_MAP_ITEMS));
    map.items[10]!.displayName = 'shown';
    map.items[20]!.displayName = 'class7';
    expect(labelMapId(map, 'class7')).toBe(7); // a name wins over a display name
    expect(labelMapId(map, 'shown')).toBe(11);
    expect(labelMapId(map, 'nope')).toBeUndefined();
    const names = map.items.map((it) => it.name);
    const started = performance.now();
    // Every class of a dataset as large as the map: a list scan per class was quadratic (minutes).
    const a = assignLabels(names, { fixedMap: map, userGiven: true });
    expect(a.ids.get('class99999')).toBe(99_999);
    const declared = assignLabels([...names].reverse(), { classOrder: names });
    expect(declared.ids.get('class1')).toBe(1);
    expect(reconcileLabelMaps(map, map, 'x')!.items).toHaveLength(MAX_LABEL_MAP_ITEMS);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('a text table of 200,000 rows (a spread of its cells overflowed the stack)', () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => [String(i), `class${i}`]);
    const lines = textTable(['id', 'name'], rows, 'rl');
    expect(lines).toHaveLength(200_001);
    expect(lines[0]).toBe('      id  name');
    expect(lines[200_000]).toBe('  199999  class199999');
  });

  it('a COCO file of 100,000 categories is read without a quadratic name check', async () => {
    const categories = Array.from({ length: MAX_LABEL_MAP_ITEMS }, (_, i) => ({ id: i + 1, name: `c${i}` }));
    const dir = await makeTree({ 'coco.json': JSON.stringify({ images: [], annotations: [], categories }) });
    const started = performance.now();
    const r = await readCoco({ annotations: path.join(dir, 'coco.json') });
    expect(r.classOrder).toHaveLength(MAX_LABEL_MAP_ITEMS);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
