import path from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collectImport } from '../../src/formats/common.js';
import { detectCsv } from 'tfrecord-od/formats';
import { createCsvParser, parseCsvStream, parseCsvText } from '../../src/formats/csv/parse.js';
import { readCsv } from 'tfrecord-od/formats';
import { IMG, makeTree } from './helpers.js';

const HEADER = 'filename,width,height,class,xmin,ymin,xmax,ymax';

describe('CSV parser', () => {
  it('handles quotes, doubled quotes, commas and line breaks inside quoted fields', () => {
    const recs = parseCsvText('a,"b,c","say ""hi"""\r\n"multi\nline",,x\n\n"",z\n');
    expect(recs).toEqual([
      { fields: ['a', 'b,c', 'say "hi"'], line: 1 },
      { fields: ['multi\nline', '', 'x'], line: 2 },
      { fields: ['', 'z'], line: 5 },
    ]);
  });

  it('marks quoting mistakes on the record and keeps going', () => {
    const recs = parseCsvText('ok,1\nab"c,2\n"x"y,3\nlast,4\n"open,5\nmore');
    expect(recs.map((r) => [r.line, r.error])).toEqual([
      [1, undefined],
      [2, expect.stringMatching(/quote inside an unquoted field/)],
      [3, expect.stringMatching(/after a closing quote/)],
      [4, undefined],
      [5, expect.stringMatching(/opened on line 5 is never closed/)],
    ]);
  });

  it('gives the same records however the text is chunked (including between \\r and \\n)', () => {
    const text = '\ufeffh1,h2\r\n"a\r\nb",c\r\n"d""e",f\rg,h\n';
    const whole = parseCsvText(text);
    expect(whole[0]!.fields).toEqual(['h1', 'h2']);
    expect(whole.map((r) => r.line)).toEqual([1, 2, 4, 5]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 40 }), (sizes) => {
        const p = createCsvParser();
        const got = [];
        let at = 0;
        for (let k = 0; at < text.length; k++) {
          const n = sizes[k % sizes.length]!;
          got.push(...p.push(text.slice(at, at + n)));
          at += n;
        }
        got.push(...p.end());
        expect(got).toEqual(whole);
      }),
    );
  });

  it('parses a stream', async () => {
    const recs = [];
    for await (const r of parseCsvStream(Readable.from(['a,"', 'b"\n', 'c,d']))) recs.push(r);
    expect(recs).toEqual([
      { fields: ['a', 'b'], line: 1 },
      { fields: ['c', 'd'], line: 2 },
    ]);
  });
});

describe('readCsv', () => {
  it('groups rows by filename in first-appearance order, handles quoted names and image-only rows', async () => {
    const dir = await makeTree({
      'ann.csv': [
        HEADER,
        'b.jpg,640,480,dog,10,20,110.5,220',
        '"c, the third.jpg",100,100,,,,,',
        'a.jpg,320,240,cat,1,2,3,4',
        'b.jpg,640,480,"cat",0,0,640,480',
        '',
      ].join('\n'),
      'a.jpg': IMG,
      'b.jpg': IMG,
      'c, the third.jpg': IMG,
    });
    const file = path.join(dir, 'ann.csv');
    const r = await readCsv({ annotations: file });
    expect(r.classOrder).toBeUndefined();
    // The number of images is known once the rows are read, before the first entry.
    expect(r.expectedItems).toBeUndefined();
    const iterator = r.entries[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(r.expectedItems).toBe(3);
    const rest = await collectImport({ entries: { [Symbol.asyncIterator]: () => iterator } });
    const items = [...(first.done || !first.value.ok ? [] : [first.value.item]), ...rest.items];
    const errors = rest.errors;
    expect(errors).toEqual([]);
    expect(items).toEqual([
      {
        id: 'b.jpg',
        source: { file, line: 2 },
        imagePath: path.join(dir, 'b.jpg'),
        width: 640,
        height: 480,
        coords: 'pixel',
        objects: [
          { className: 'dog', xmin: 10, ymin: 20, xmax: 110.5, ymax: 220, source: { file, line: 2 } },
          { className: 'cat', xmin: 0, ymin: 0, xmax: 640, ymax: 480, source: { file, line: 5 } },
        ],
      },
      {
        id: 'c, the third.jpg',
        source: { file, line: 3 },
        imagePath: path.join(dir, 'c, the third.jpg'),
        width: 100,
        height: 100,
        coords: 'pixel',
        objects: [],
      },
      {
        id: 'a.jpg',
        source: { file, line: 4 },
        imagePath: path.join(dir, 'a.jpg'),
        width: 320,
        height: 240,
        coords: 'pixel',
        objects: [{ className: 'cat', xmin: 1, ymin: 2, xmax: 3, ymax: 4, source: { file, line: 4 } }],
      },
    ]);
    const dropped = await collectImport(await readCsv({ annotations: file, empty: 'drop' }));
    expect(dropped.items.map((i) => i.id)).toEqual(['b.jpg', 'a.jpg']);
  });

  it('accepts columns in another order with extra columns, and a declared class list', async () => {
    const dir = await makeTree({
      'x.csv': 'Class,XMin,YMin,XMax,YMax,Filename,Width,Height,Note\ncat,1,2,3,4,p.jpg,10,10,hi\nbird,1,2,3,4,q.jpg,10,10,\n',
      'p.jpg': IMG,
      'q.jpg': IMG,
    });
    const r = await readCsv({ annotations: path.join(dir, 'x.csv'), classes: ['cat', 'dog'] });
    expect(r.classOrder).toEqual(['cat', 'dog']);
    const { items, errors } = await collectImport(r);
    expect(items.map((i) => [i.id, i.objects[0]!.className])).toEqual([['p.jpg', 'cat']]);
    expect(errors).toMatchObject([{ code: 'unknown-class', itemId: 'q.jpg', source: { line: 3 } }]);
  });

  it('reports each row problem with its 1-based line', async () => {
    const dir = await makeTree({
      'data/ann.csv': [
        HEADER,
        'a.jpg,10,10,cat,1,2,3', // 2: column count
        'b.jpg,10,10,cat,1,two,3,4', // 3: non-numeric
        'c.jpg,10,10,cat,,,,', // 4: class without box
        'd.jpg,10,10,,1,2,3,4', // 5: box without class
        'e.jpg,10,10,cat,5,2,3,4', // 6: inverted
        'f.jpg,ten,10,cat,1,2,3,4', // 7: bad width
        'g.jpg,10,10,cat,1,2,3,4',
        'g.jpg,20,10,cat,1,2,3,4', // 9: size disagrees
        '../up.jpg,10,10,cat,1,2,3,4', // 10: outside root
        'missing.jpg,10,10,cat,1,2,3,4', // 11
        ',10,10,cat,1,2,3,4', // 12: no filename
        'h"x.jpg,10,10,cat,1,2,3,4', // 13: bad quoting
        'ok.jpg,10,10,cat,1,2,3,4',
      ].join('\n'),
      'data/a.jpg': IMG,
      'data/b.jpg': IMG,
      'data/c.jpg': IMG,
      'data/d.jpg': IMG,
      'data/e.jpg': IMG,
      'data/f.jpg': IMG,
      'data/g.jpg': IMG,
      'data/ok.jpg': IMG,
      'up.jpg': IMG,
    });
    const { items, errors } = await collectImport(await readCsv({ annotations: path.join(dir, 'data', 'ann.csv') }));
    expect(items.map((i) => i.id)).toEqual(['ok.jpg']);
    expect(errors.map((e) => [e.source.line, e.code, e.itemId])).toEqual([
      [2, 'malformed-annotation', 'a.jpg'],
      [3, 'box-without-coordinates', 'b.jpg'],
      [4, 'box-without-coordinates', 'c.jpg'],
      [5, 'malformed-annotation', 'd.jpg'],
      [6, 'invalid-box', 'e.jpg'],
      [7, 'malformed-annotation', 'f.jpg'],
      [9, 'malformed-annotation', 'g.jpg'],
      [10, 'image-outside-root', undefined],
      [11, 'missing-image', 'missing.jpg'],
      [13, 'malformed-annotation', 'h"x.jpg'],
      [13, 'missing-image', 'h"x.jpg'],
      [12, 'malformed-annotation', undefined],
    ]);
    expect(errors[1]!.reason).toMatch(/ymin is blank or not a number/);
  });

  it('throws for a missing file, an empty file or a header without the required columns', async () => {
    const dir = await makeTree({ 'empty.csv': '', 'bad.csv': 'file,cls\n', 'dup.csv': HEADER + ',class\n' });
    await expect(readCsv({ annotations: path.join(dir, 'none.csv') })).rejects.toThrow(/not found/);
    await expect(readCsv({ annotations: path.join(dir, 'empty.csv') })).rejects.toThrow(/empty/);
    // `file` is an alias of filename and `cls` the one column left for the class; the corners are missing.
    await expect(readCsv({ annotations: path.join(dir, 'bad.csv') })).rejects.toMatchObject({
      line: 1,
      message: expect.stringMatching(/lacks column\(s\) xmin, ymin, xmax, ymax/),
    });
    await expect(readCsv({ annotations: path.join(dir, 'dup.csv') })).rejects.toThrow(/class appears twice/);
  });

  it('detectCsv checks the header', async () => {
    const dir = await makeTree({ 'a.csv': HEADER + '\n', 'b.csv': 'x,y\n' });
    expect(await detectCsv(path.join(dir, 'a.csv'))).toBe(true);
    expect(await detectCsv(path.join(dir, 'b.csv'))).toBe(false);
  });
});
