/**
 * Label ids for a dataset written by several runs: the output folder's map
 * fixes ids, new classes are appended, a disagreeing --label-map is refused.
 */
import { describe, expect, it } from 'vitest';
import { assignLabels, dropUnusedAdded, labelMapGaps, reconcileLabelMaps } from '../../src/convert/labels.js';

const existing = {
  items: [
    { id: 1, name: 'raccoon_kit' },
    { id: 2, name: 'raccoon' },
  ],
};

describe('assignLabels over a dataset', () => {
  it('a second run keeps the ids the first run gave, whatever order it meets the classes in', () => {
    const a = assignLabels(['raccoon', 'raccoon_kit'], { fixedMap: existing });
    expect([...a.ids]).toEqual([
      ['raccoon', 2],
      ['raccoon_kit', 1],
    ]);
    expect(a.order).toBe('dataset');
    expect(a.labelMap).toEqual(existing);
  });

  it('new classes are appended after the largest id, in declared order', () => {
    const a = assignLabels(['owl', 'raccoon', 'bat'], { fixedMap: existing, classOrder: ['bat', 'owl'] });
    expect(a.ids.get('bat')).toBe(3);
    expect(a.ids.get('owl')).toBe(4);
    expect(a.labelMap.items.map((i) => i.id)).toEqual([1, 2, 3, 4]);
    expect([...a.fixed]).toEqual([1, 2]);
  });

  it('without any map: 1..N in first appearance, as before', () => {
    const a = assignLabels(['b', 'a'], {});
    expect(a.order).toBe('first-appearance');
    expect([...a.ids]).toEqual([
      ['b', 1],
      ['a', 2],
    ]);
  });

  it('a user map keeps its ids and gaps, even for classes this run does not use', () => {
    const coco = {
      items: [
        { id: 1, name: 'person' },
        { id: 3, name: 'car' },
        { id: 90, name: 'toothbrush' },
      ],
    };
    const a = assignLabels(['car'], { fixedMap: coco, userGiven: true });
    expect(a.order).toBe('label-map');
    expect(a.ids.get('car')).toBe(3);
    expect(a.labelMap).toEqual(coco);
    expect(labelMapGaps(a.labelMap).count).toBe(87);
  });
});

describe('dropUnusedAdded', () => {
  it('an added class left without boxes goes and the added ones after it move down; fixed ids never move', () => {
    const a = assignLabels(['owl', 'bat', 'cow'], { fixedMap: existing });
    const boxes = new Map([
      [1, 0],
      [2, 0],
      [3, 4],
      [4, 0],
      [5, 2],
    ]);
    const { labelMap, moved } = dropUnusedAdded(a, (id) => boxes.get(id) ?? 0);
    expect(labelMap.items).toEqual([
      { id: 1, name: 'raccoon_kit' },
      { id: 2, name: 'raccoon' },
      { id: 3, name: 'owl' },
      { id: 4, name: 'cow' },
    ]);
    expect([...moved]).toEqual([[5, 4]]);
  });
});

describe('reconcileLabelMaps', () => {
  it('the union when they agree', () => {
    const user = {
      items: [
        { id: 2, name: 'raccoon' },
        { id: 3, name: 'owl' },
      ],
    };
    expect(reconcileLabelMaps(user, existing, 'out/label_map.pbtxt')!.items.map((i) => i.name)).toEqual(['raccoon_kit', 'raccoon', 'owl']);
  });

  it('refuses a map that gives a known class another id, naming both', () => {
    const user = {
      items: [
        { id: 1, name: 'raccoon' },
        { id: 2, name: 'raccoon_kit' },
      ],
    };
    expect(() => reconcileLabelMaps(user, existing, 'out/label_map.pbtxt')).toThrow(
      /out\/label_map.pbtxt: --label-map disagrees .*id 1 is 'raccoon' in --label-map but 'raccoon_kit' in the output folder/,
    );
  });
});
