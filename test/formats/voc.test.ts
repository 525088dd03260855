import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectImport } from '../../src/formats/common.js';
import { detectVoc } from 'tfrecord-od/formats';
import { readVoc } from 'tfrecord-od/formats';
import { IMG, makeTree } from './helpers.js';

function voc(filename: string, objects: string, size = '<size><width>64</width><height>48</height><depth>3</depth></size>'): string {
  return `<?xml version="1.0"?>\n<annotation>\n  <folder>VOC</folder>\n  <filename>${filename}</filename>\n  <path>/home/someone/${filename}</path>\n  ${size}\n${objects}</annotation>\n`;
}

const catObject = `  <object>
    <name>cat</name>
    <pose>Left</pose>
    <truncated>1</truncated>
    <difficult>0</difficult>
    <bndbox><xmin>1.5</xmin><ymin>2</ymin><xmax>30.25</xmax><ymax>40</ymax></bndbox>
    <part>
      <name>head</name>
      <bndbox><xmin>100</xmin><ymin>100</ymin><xmax>200</xmax><ymax>200</ymax></bndbox>
    </part>
  </object>
`;

describe('readVoc', () => {
  it('reads a VOC root: JPEGImages default, sorted by file, part boxes ignored, floats kept', async () => {
    const dir = await makeTree({
      'Annotations/b.xml': voc('b.jpg', catObject),
      'Annotations/a.xml': voc(
        'a.jpg',
        `  <object><name>dog &amp; co</name><bndbox><xmin>0</xmin><ymin>0</ymin><xmax>64</xmax><ymax>48</ymax></bndbox></object>\n`,
      ),
      'Annotations/notes.txt': 'ignored',
      'JPEGImages/a.jpg': IMG,
      'JPEGImages/b.jpg': IMG,
    });
    const r = await readVoc({ annotations: dir });
    expect(r.classOrder).toBeUndefined();
    expect(r.expectedItems).toBe(2);
    const { items, errors } = await collectImport(r);
    expect(errors).toEqual([]);
    const bFile = path.join(dir, 'Annotations', 'b.xml');
    expect(items.map((i) => i.id)).toEqual(['a.jpg', 'b.jpg']);
    expect(items[0]!.objects).toEqual([
      { className: 'dog & co', xmin: 0, ymin: 0, xmax: 64, ymax: 48, source: { file: path.join(dir, 'Annotations', 'a.xml'), line: 7 } },
    ]);
    expect(items[1]).toEqual({
      id: 'b.jpg',
      source: { file: bFile },
      imagePath: path.join(dir, 'JPEGImages', 'b.jpg'),
      width: 64,
      height: 48,
      coords: 'pixel',
      objects: [
        { className: 'cat', xmin: 1.5, ymin: 2, xmax: 30.25, ymax: 40, truncated: true, difficult: false, view: 'Left', source: { file: bFile, line: 7 } },
      ],
    });
  });

  it('follows an image set, in its order, and reports ids without XML', async () => {
    const dir = await makeTree({
      'Annotations/a.xml': voc('a.jpg', ''),
      'Annotations/b.xml': voc('b.jpg', ''),
      'ImageSets/Main/val.txt': 'b\n\na\nc\n',
      'ImageSets/Main/cat_val.txt': 'a  1\nb -1\n',
      'JPEGImages/a.jpg': IMG,
      'JPEGImages/b.jpg': IMG,
    });
    const r = await collectImport(await readVoc({ annotations: dir, imageSet: 'val' }));
    expect(r.items.map((i) => i.id)).toEqual(['b.jpg', 'a.jpg']);
    expect(r.errors).toMatchObject([{ code: 'missing-annotation', source: { file: path.join(dir, 'ImageSets', 'Main', 'val.txt'), line: 4 } }]);
    const perClass = await collectImport(await readVoc({ annotations: path.join(dir, 'Annotations'), imageSet: 'cat_val', empty: 'drop' }));
    expect(perClass).toEqual({ items: [], errors: [] });
    await expect(readVoc({ annotations: dir, imageSet: 'nope' })).rejects.toThrow(/cannot read image set/);
  });

  it('reads a flat folder of XML beside the images (Roboflow) and a declared class list', async () => {
    const dir = await makeTree({
      'x.xml': voc('x.jpg', catObject),
      'y.xml': voc('y.jpg', `  <object><name>zebra</name><bndbox><xmin>0</xmin><ymin>0</ymin><xmax>1</xmax><ymax>1</ymax></bndbox></object>\n`),
      'x.jpg': IMG,
      'y.jpg': IMG,
    });
    const r = await readVoc({ annotations: dir, classes: ['cat', 'dog'] });
    expect(r.classOrder).toEqual(['cat', 'dog']);
    const { items, errors } = await collectImport(r);
    expect(items.map((i) => [i.imagePath, i.objects.map((o) => o.className)])).toEqual([[path.join(dir, 'x.jpg'), ['cat']]]);
    expect(errors).toMatchObject([{ code: 'unknown-class', itemId: 'y.jpg', source: { file: path.join(dir, 'y.xml'), line: 7 } }]);
  });

  it('reports each item error kind with file and line', async () => {
    const box = (x: string) => `<bndbox><xmin>${x}</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox>`;
    const dir = await makeTree({
      'a-nobox.xml': voc('ok.jpg', `  <object>\n    <name>cat</name>\n  </object>\n`),
      'b-nan.xml': voc('ok2.jpg', `  <object><name>cat</name>${box('abc')}</object>\n`),
      'c-missing-coord.xml': voc('ok3.jpg', `  <object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax></bndbox></object>\n`),
      'd-broken.xml': '<annotation>\n<filename>x.jpg</filename>\n<object>\n</annotation>\n',
      'e-outside.xml': voc('../../secret.jpg', ''),
      'f-missing.xml': voc('nothere.jpg', ''),
      'g-inverted.xml': voc('ok4.jpg', `  <object><name>cat</name>${box('9')}</object>\n`),
      'h-entity.xml': '<!DOCTYPE a [<!ENTITY e "x">]><annotation/>',
      'i-noname.xml': voc('ok5.jpg', `  <object>${box('1')}</object>\n`),
      'j-flag.xml': voc('ok6.jpg', `  <object><name>cat</name><difficult>maybe</difficult>${box('1')}</object>\n`),
      'k-dup.xml': voc('ok6.jpg', ''),
      'l-root.xml': '<doc/>',
      'm-nofile.xml': '<annotation><size/></annotation>',
      'ok.jpg': IMG,
      'ok2.jpg': IMG,
      'ok3.jpg': IMG,
      'ok4.jpg': IMG,
      'ok5.jpg': IMG,
      'ok6.jpg': IMG,
    });
    const { items, errors } = await collectImport(await readVoc({ annotations: dir }));
    expect(items).toEqual([]);
    const at = (name: string) => path.join(dir, name);
    expect(errors.map((e) => [path.basename(e.source.file), e.source.line, e.code])).toEqual([
      ['a-nobox.xml', 7, 'box-without-coordinates'],
      ['b-nan.xml', 7, 'box-without-coordinates'],
      ['c-missing-coord.xml', 7, 'box-without-coordinates'],
      ['d-broken.xml', 4, 'malformed-annotation'],
      ['e-outside.xml', 4, 'image-outside-root'],
      ['f-missing.xml', 4, 'missing-image'],
      ['g-inverted.xml', 7, 'invalid-box'],
      ['h-entity.xml', 1, 'malformed-annotation'],
      ['i-noname.xml', 7, 'malformed-annotation'],
      ['j-flag.xml', 7, 'malformed-annotation'],
      ['k-dup.xml', 2, 'duplicate-item'],
      ['l-root.xml', 1, 'malformed-annotation'],
      ['m-nofile.xml', 1, 'malformed-annotation'],
    ]);
    expect(errors[0]!.reason).toMatch(/no <bndbox>/);
    expect(errors[1]!.reason).toMatch(/<xmin> is not a number: "abc"/);
    expect(errors[2]!.reason).toMatch(/no <ymax>/);
    expect(errors[3]!.reason).toMatch(/<\/annotation> does not match <object> from line 3/);
    expect(errors[7]!.reason).toMatch(/DOCTYPE/);
    expect(errors[7]!.source.file).toBe(at('h-entity.xml'));
  });

  it('throws when the annotations directory is missing', async () => {
    await expect(readVoc({ annotations: '/definitely/not/here' })).rejects.toMatchObject({ name: 'AnnotationError' });
  });

  it('detectVoc accepts a VOC root or a folder of <annotation> files', async () => {
    const dir = await makeTree({ 'root/Annotations/a.xml': voc('a.jpg', ''), 'flat/a.xml': voc('a.jpg', ''), 'other/a.xml': '<svg/>' });
    expect(await detectVoc(path.join(dir, 'root'))).toBe(true);
    expect(await detectVoc(path.join(dir, 'flat'))).toBe(true);
    expect(await detectVoc(path.join(dir, 'other'))).toBe(false);
    expect(await detectVoc(path.join(dir, 'flat', 'a.xml'))).toBe(false);
  });
});
