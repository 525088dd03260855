import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectImport } from '../../src/formats/common.js';
import { detectCsv, detectFormat, detectOpenImages, readOpenImages } from 'tfrecord-od/formats';
import { IMG, makeTree } from './helpers.js';

const HEADER = 'ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,IsTruncated,IsGroupOf,IsDepiction,IsInside';
const DESCRIPTIONS = '/m/01g317,Person\n/m/0k4j,Car\n/m/0199g,Bicycle\n';

describe('readOpenImages', () => {
  it('groups boxes by ImageID, names classes from the descriptions, keeps IsGroupOf and IsTruncated', async () => {
    const dir = await makeTree({
      'boxes.csv': [
        HEADER,
        '000a1249af2bc5f0,xclick,/m/0k4j,1,0.1,0.5,0.2,0.6,0,1,0,0,0',
        '0b2a0c1f5e8d4c33,activemil,/m/01g317,1,0,1,0.25,0.75,1,0,1,0,0',
        '000a1249af2bc5f0,xclick,/m/01g317,1,0.3,0.4,0.35,0.45,0,-1,-1,0,0',
        '',
      ].join('\n'),
      'class-descriptions-boxable.csv': DESCRIPTIONS,
      'imgs/000a1249af2bc5f0.jpg': IMG,
      'imgs/0b2a0c1f5e8d4c33.jpg': IMG,
    });
    const file = path.join(dir, 'boxes.csv');
    const r = await readOpenImages({ annotations: file, images: path.join(dir, 'imgs') });
    // The descriptions file beside the boxes was found; its order is the declared order.
    expect(r.classOrder).toEqual(['Person', 'Car', 'Bicycle']);
    const { items, errors } = await collectImport(r);
    expect(errors).toEqual([]);
    expect(r.expectedItems).toBe(2);
    expect(items).toEqual([
      {
        id: '000a1249af2bc5f0.jpg',
        source: { file, line: 2 },
        imagePath: path.join(dir, 'imgs', '000a1249af2bc5f0.jpg'),
        coords: 'normalized',
        objects: [
          // XMin, XMax, YMin, YMax in the file; corners here.
          { className: 'Car', xmin: 0.1, ymin: 0.2, xmax: 0.5, ymax: 0.6, truncated: true, groupOf: false, source: { file, line: 2 } },
          // -1 (unknown) leaves the flag unset.
          { className: 'Person', xmin: 0.3, ymin: 0.35, xmax: 0.4, ymax: 0.45, source: { file, line: 4 } },
        ],
      },
      {
        id: '0b2a0c1f5e8d4c33.jpg',
        source: { file, line: 3 },
        imagePath: path.join(dir, 'imgs', '0b2a0c1f5e8d4c33.jpg'),
        coords: 'normalized',
        objects: [{ className: 'Person', xmin: 0, ymin: 0.25, xmax: 1, ymax: 0.75, truncated: false, groupOf: true, source: { file, line: 3 } }],
      },
    ]);
    expect(r.notes).toEqual([]);
  });

  it("--crowd drop leaves out IsGroupOf boxes (Open Images' crowd regions) with a note; an image left without boxes stays as a negative", async () => {
    const dir = await makeTree({
      'boxes.csv': [
        HEADER,
        'a,xclick,/m/0k4j,1,0.1,0.5,0.2,0.6,0,0,0,0,0',
        'a,xclick,/m/01g317,1,0,1,0.25,0.75,1,0,1,0,0',
        'b,xclick,/m/01g317,1,0,1,0.25,0.75,1,0,1,0,0',
        'b,xclick,/m/01g317,1,0,0.5,0.25,0.75,1,0,-1,0,0',
        'c,xclick,/m/01g317,1,0,1,0.25,0.75,1,0,1,0,0',
        '',
      ].join('\n'),
      'class-descriptions-boxable.csv': DESCRIPTIONS,
      'a.jpg': IMG,
      'b.jpg': IMG,
      'c.jpg': IMG,
    });
    const file = path.join(dir, 'boxes.csv');
    const boxesOf = async (crowd?: 'keep' | 'drop') => {
      const r = await readOpenImages({ annotations: file, ...(crowd ? { crowd } : {}) });
      const { items, errors } = await collectImport(r);
      expect(errors).toEqual([]);
      return { boxes: Object.fromEntries(items.map((i) => [i.id, i.objects.map((o) => [o.className, o.groupOf])])), notes: r.notes };
    };
    const kept = await boxesOf();
    expect(kept.boxes).toEqual({
      'a.jpg': [
        ['Car', false],
        ['Person', true],
      ],
      'b.jpg': [
        ['Person', true],
        ['Person', undefined],
      ],
      'c.jpg': [['Person', true]],
    });
    expect(kept.notes).toEqual([]);
    expect((await boxesOf('keep')).boxes).toEqual(kept.boxes);
    const dropped = await boxesOf('drop');
    // Unknown (-1) is not a group: kept.
    expect(dropped.boxes).toEqual({ 'a.jpg': [['Car', false]], 'b.jpg': [['Person', undefined]], 'c.jpg': [] });
    expect(dropped.notes).toEqual([
      { code: 'crowd-dropped', message: '3 IsGroupOf boxes were left out (--crowd drop): each covers a group of objects, as a COCO crowd region does' },
    ]);
  });

  it('takes --classes with a header row, refuses ids it does not list, and reports row problems by line', async () => {
    const dir = await makeTree({
      'boxes.csv': [
        HEADER,
        'a,x,/m/0k4j,1,0.1,0.5,0.2,0.6,0,0,0,0,0',
        'b,x,/m/0xyz,1,0.1,0.5,0.2,0.6,0,0,0,0,0', // 3: unknown id
        'c,x,/m/0k4j,1,0.5,0.1,0.2,0.6,0,0,0,0,0', // 4: XMax < XMin
        'd,x,/m/0k4j,1,,0.5,0.2,0.6,0,0,0,0,0', // 5: blank XMin
        'e,x,/m/0k4j,1,0.1,0.5,0.2,0.6,0,2,0,0,0', // 6: IsTruncated 2
        'f,x,/m/0k4j,1,0.1,0.5,0.2,0.6', // 7: short row
        ',x,/m/0k4j,1,0.1,0.5,0.2,0.6,0,0,0,0,0', // 8: no ImageID
        'missing,x,/m/0k4j,1,0.1,0.5,0.2,0.6,0,0,0,0,0', // 9
      ].join('\n'),
      'names.csv': 'LabelName,DisplayName\n/m/0k4j,Car\n',
      ...Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f'].map((id) => [`${id}.jpg`, IMG])),
    });
    const r = await readOpenImages({ annotations: path.join(dir, 'boxes.csv'), classes: path.join(dir, 'names.csv') });
    expect(r.classOrder).toEqual(['Car']);
    const { items, errors } = await collectImport(r);
    expect(items.map((i) => i.id)).toEqual(['a.jpg']);
    expect(errors.map((e) => [e.source.line, e.code, e.itemId])).toEqual([
      [3, 'unknown-class', 'b.jpg'],
      [4, 'invalid-box', 'c.jpg'],
      [5, 'box-without-coordinates', 'd.jpg'],
      [6, 'malformed-annotation', 'e.jpg'],
      [7, 'malformed-annotation', 'f.jpg'],
      [9, 'missing-image', 'missing.jpg'],
      [8, 'malformed-annotation', undefined],
    ]);
    expect(errors[0]!.reason).toMatch(/"\/m\/0xyz" is not in the class descriptions/);
  });

  it('without descriptions keeps the ids as class names and says so; shared display names get their id', async () => {
    const dir = await makeTree({
      'boxes.csv': `${HEADER}\na,x,/m/0k4j,1,0.1,0.5,0.2,0.6,0,0,0,0,0\n`,
      'a.jpg': IMG,
      'dup.csv': '/m/1,Seal\n/m/2,Seal\n/m/3,Otter\n',
    });
    const bare = await readOpenImages({ annotations: path.join(dir, 'boxes.csv') });
    expect(bare.classOrder).toBeUndefined();
    expect((await collectImport(bare)).items[0]!.objects[0]!.className).toBe('/m/0k4j');
    expect(bare.notes).toMatchObject([{ code: 'class-names', message: expect.stringMatching(/named by their Open Images ids/) }]);
    const dup = await readOpenImages({ annotations: path.join(dir, 'boxes.csv'), classes: path.join(dir, 'dup.csv') });
    expect(dup.classOrder).toEqual(['Seal (/m/1)', 'Seal (/m/2)', 'Otter']);
    expect(dup.notes).toMatchObject([{ code: 'class-names', message: expect.stringMatching(/1 display name is used by several class ids \("Seal"\)/) }]);
  });

  it('throws for a header without the box columns and for a broken descriptions file', async () => {
    const dir = await makeTree({ 'labels.csv': 'ImageID,Source,LabelName,Confidence\n', 'boxes.csv': `${HEADER}\n`, 'bad.csv': '/m/1\n' });
    await expect(readOpenImages({ annotations: path.join(dir, 'labels.csv') })).rejects.toMatchObject({
      line: 1,
      message: expect.stringMatching(/lacks Open Images column\(s\) xmin, xmax, ymin, ymax/),
    });
    await expect(readOpenImages({ annotations: path.join(dir, 'boxes.csv'), classes: path.join(dir, 'bad.csv') })).rejects.toMatchObject({
      line: 1,
      message: expect.stringMatching(/LabelName,DisplayName/),
    });
  });

  it('is detected by its header, ahead of the generic CSV', async () => {
    const dir = await makeTree({ 'b.csv': HEADER + '\n', 'labels.csv': 'ImageID,Source,LabelName,Confidence\n' });
    expect(await detectOpenImages(path.join(dir, 'b.csv'))).toBe(true);
    // ImageID and LabelName are generic-CSV aliases too: the registry's order decides.
    expect(await detectCsv(path.join(dir, 'b.csv'))).toBe(true);
    expect(await detectFormat(path.join(dir, 'b.csv'))).toBe('openimages');
    expect(await detectOpenImages(path.join(dir, 'labels.csv'))).toBe(false);
  });
});
