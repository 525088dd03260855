import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectImport } from '../../src/formats/common.js';
import { detectYolo } from 'tfrecord-od/formats';
import { readYolo } from 'tfrecord-od/formats';
import { IMG, makeTree } from './helpers.js';

describe('readYolo', () => {
  it('pairs train/images with train/labels, finds data.yaml two levels up, keeps negatives', async () => {
    const dir = await makeTree({
      'data.yaml': 'train: ../train/images\nnc: 2\nnames:\n  0: cat\n  1: dog\n',
      'train/images/a.JPG': IMG,
      'train/images/b.png': IMG,
      'train/images/c.webp': IMG,
      'train/images/readme.md': 'not an image',
      'train/labels/a.txt': '1 0.5 0.5 0.25 0.5\n\n0 0.125 0.25 0.25 0.5\n',
      'train/labels/b.txt': '',
    });
    const r = await readYolo({ annotations: path.join(dir, 'train', 'labels') });
    expect(r.classOrder).toEqual(['cat', 'dog']);
    expect(r.expectedItems).toBe(3);
    const { items, errors } = await collectImport(r);
    expect(errors).toEqual([]);
    const aLabels = path.join(dir, 'train', 'labels', 'a.txt');
    expect(items).toEqual([
      {
        id: 'a.JPG',
        source: { file: aLabels },
        imagePath: path.join(dir, 'train', 'images', 'a.JPG'),
        coords: 'normalized',
        objects: [
          { className: 'dog', xmin: 0.375, ymin: 0.25, xmax: 0.625, ymax: 0.75, source: { file: aLabels, line: 1 } },
          { className: 'cat', xmin: 0, ymin: 0, xmax: 0.25, ymax: 0.5, source: { file: aLabels, line: 3 } },
        ],
      },
      {
        id: 'b.png',
        source: { file: path.join(dir, 'train', 'labels', 'b.txt') },
        imagePath: path.join(dir, 'train', 'images', 'b.png'),
        coords: 'normalized',
        objects: [],
        labelFile: 'empty',
      },
      {
        id: 'c.webp',
        source: { file: path.join(dir, 'train', 'images', 'c.webp') },
        imagePath: path.join(dir, 'train', 'images', 'c.webp'),
        coords: 'normalized',
        objects: [],
        labelFile: 'missing',
      },
    ]);
    const dropped = await collectImport(await readYolo({ annotations: path.join(dir, 'train', 'labels'), empty: 'drop' }));
    expect(dropped.items.map((i) => i.id)).toEqual(['a.JPG']);
  });

  it('works darknet-style with images and labels side by side and obj.names, recursing into subfolders', async () => {
    const dir = await makeTree({
      'obj.names': 'person\ncar\n',
      'set/x/1.jpeg': IMG,
      'set/x/1.txt': '1 0.5 0.5 1 1\n',
      'set/classes.txt': 'not a label',
    });
    const { items, errors, classOrder } = await collectImport(await readYolo({ annotations: path.join(dir, 'set'), classes: path.join(dir, 'obj.names') }));
    expect(classOrder).toEqual(['person', 'car']);
    expect(errors).toEqual([]);
    expect(items.map((i) => [i.id, i.objects.map((o) => [o.className, o.xmin, o.ymin, o.xmax, o.ymax])])).toEqual([['x/1.jpeg', [['car', 0, 0, 1, 1]]]]);
  });

  it('reports each item error with file and line', async () => {
    const dir = await makeTree({
      'classes.txt': 'a\nb\n',
      'images/1.jpg': IMG,
      'images/2.jpg': IMG,
      'images/3.jpg': IMG,
      'images/4.jpg': IMG,
      'images/5.jpg': IMG,
      'images/6.jpg': IMG,
      'images/6.png': IMG,
      'labels/1.txt': '0 0.5 0.5 0.1 0.1\n2 0.5 0.5 0.1 0.1\n',
      'labels/2.txt': '0 0.5 0.5 0.1\n0 0.5 0.5 0.1 0.1 0.9\n',
      'labels/3.txt': 'x 0.5 0.5 0.1 0.1\n-1 0.5 0.5 0.1 0.1\n',
      'labels/4.txt': '1 0.5 abc 0.1 0.1\n',
      'labels/5.txt': '1 0.5 0.5 -0.1 0.1\n',
      'labels/6.txt': '0 0.5 0.5 0.1 0.1\n',
      'labels/orphan.txt': '0 0.5 0.5 0.1 0.1\n',
    });
    const { items, errors } = await collectImport(await readYolo({ annotations: path.join(dir, 'labels') }));
    expect(items).toEqual([]);
    expect(errors.map((e) => [e.itemId, path.relative(dir, e.source.file).split(path.sep).join('/'), e.source.line, e.code])).toEqual([
      ['1.jpg', 'labels/1.txt', 2, 'unknown-class'],
      ['2.jpg', 'labels/2.txt', 1, 'malformed-annotation'],
      ['2.jpg', 'labels/2.txt', 2, 'malformed-annotation'],
      ['3.jpg', 'labels/3.txt', 1, 'malformed-annotation'],
      ['3.jpg', 'labels/3.txt', 2, 'malformed-annotation'],
      ['4.jpg', 'labels/4.txt', 1, 'box-without-coordinates'],
      ['5.jpg', 'labels/5.txt', 1, 'invalid-box'],
      ['6.jpg', 'labels/6.txt', undefined, 'duplicate-item'],
      ['6.png', 'labels/6.txt', undefined, 'duplicate-item'],
      ['orphan', 'labels/orphan.txt', undefined, 'missing-image'],
    ]);
    expect(errors[0]!.reason).toMatch(/class index 2 is out of range: 2 classes/);
  });

  it('throws when no class list can be found or the labels dir is missing', async () => {
    const dir = await makeTree({ 'a/b/c/labels/1.txt': '0 0.5 0.5 1 1\n', 'a/b/c/images/1.jpg': IMG });
    await expect(readYolo({ annotations: path.join(dir, 'a/b/c/labels') })).rejects.toThrow(/pass classes/);
    await expect(readYolo({ annotations: path.join(dir, 'nope'), classes: ['a'] })).rejects.toThrow(/labels directory/);
    await expect(readYolo({ annotations: path.join(dir, 'a/b/c/labels'), classes: path.join(dir, 'none.yaml') })).rejects.toThrow(/cannot read class list/);
  });

  it('detectYolo recognises a labels folder by its first line', async () => {
    const dir = await makeTree({ 'labels/a.txt': '3 0.1 0.2 0.3 0.4\n', 'labels/classes.txt': 'x\n', 'notes/a.txt': 'hello world\n' });
    expect(await detectYolo(path.join(dir, 'labels'))).toBe(true);
    expect(await detectYolo(path.join(dir, 'notes'))).toBe(false);
  });
});
