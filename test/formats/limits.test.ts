/**
 * Annotation inputs that cost far more memory read than their size (issue
 * 17): an image's boxes are capped at MAX_BOXES_PER_IMAGE in every reader, a
 * CSV row at MAX_CSV_RECORD_CHARS, an XML file's depth and element count at
 * XML_LIMITS. Each refusal is an item error naming the file and line.
 */
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readCoco, readCsv, readVoc, readYolo } from 'tfrecord-od/formats';
import { collectImport, MAX_BOXES_PER_IMAGE } from '../../src/formats/common.js';
import { createCsvParser, MAX_CSV_RECORD_CHARS, parseCsvText } from '../../src/formats/csv/parse.js';
import { IMG, makeTree } from './helpers.js';

const OVER = 'the image has more than 100,000 boxes (the limit per image); this is the first one over it';

describe('boxes per image', () => {
  it('is 100,000', () => expect(MAX_BOXES_PER_IMAGE).toBe(100_000));

  it('YOLO: a label file with one box line too many is an error at that line; at the limit it converts', async () => {
    const box = '0 0.5 0.5 0.1 0.1\n';
    const dir = await makeTree({
      'classes.txt': 'cat\n',
      'images/at.jpg': IMG,
      'images/over.jpg': IMG,
      'labels/at.txt': box.repeat(MAX_BOXES_PER_IMAGE),
      // A blank line and malformed lines: blank lines do not count, malformed ones do.
      'labels/over.txt': `\n${'x y\n'.repeat(10)}${box.repeat(MAX_BOXES_PER_IMAGE - 10)}${box.repeat(5)}`,
    });
    const { items, errors } = await collectImport(await readYolo({ annotations: path.join(dir, 'labels'), images: path.join(dir, 'images') }));
    expect(items.map((i) => [i.id, i.objects.length])).toEqual([['at.jpg', MAX_BOXES_PER_IMAGE]]);
    const over = errors.filter((e) => e.reason === OVER);
    expect(over).toEqual([
      { source: { file: path.join(dir, 'labels', 'over.txt'), line: MAX_BOXES_PER_IMAGE + 2 }, itemId: 'over.jpg', code: 'malformed-annotation', reason: OVER },
    ]);
    // The ten malformed lines are reported as well; nothing after the limit is.
    expect(errors).toHaveLength(11);
  });

  it('CSV: rows of one image past the limit are one error at the first row over it', async () => {
    const rows = ['filename,class,xmin,ymin,xmax,ymax', ...Array<string>(MAX_BOXES_PER_IMAGE + 3).fill('a.jpg,cat,1,1,9,9'), 'b.jpg,cat,1,1,9,9'];
    const dir = await makeTree({ 'ann.csv': rows.join('\n'), 'a.jpg': IMG, 'b.jpg': IMG });
    const file = path.join(dir, 'ann.csv');
    const { items, errors } = await collectImport(await readCsv({ annotations: file }));
    expect(items.map((i) => i.id)).toEqual(['b.jpg']);
    expect(errors).toEqual([{ source: { file, line: MAX_BOXES_PER_IMAGE + 2 }, itemId: 'a.jpg', code: 'malformed-annotation', reason: OVER }]);
  });

  it('VOC: objects past the limit are an error at the first one over it', async () => {
    const object = '<object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>9</xmax><ymax>9</ymax></bndbox></object>\n';
    const dir = await makeTree({
      'ann/a.xml': `<annotation>\n<filename>a.jpg</filename>\n${object.repeat(MAX_BOXES_PER_IMAGE + 1)}</annotation>\n`,
      'ann/a.jpg': IMG,
    });
    const { items, errors } = await collectImport(await readVoc({ annotations: path.join(dir, 'ann') }));
    expect(items).toEqual([]);
    expect(errors).toEqual([
      { source: { file: path.join(dir, 'ann', 'a.xml'), line: MAX_BOXES_PER_IMAGE + 3 }, itemId: 'a.jpg', code: 'malformed-annotation', reason: OVER },
    ]);
  });

  it('COCO: annotations of one image past the limit are an error naming the first one over it', async () => {
    const n = MAX_BOXES_PER_IMAGE + 2;
    const annotations = Array.from({ length: n }, (_, i) => ({ id: i + 1, image_id: 1, category_id: 1, bbox: [1, 1, 5, 5] }));
    const json = JSON.stringify({ images: [{ id: 1, file_name: 'a.jpg', width: 10, height: 10 }], categories: [{ id: 1, name: 'cat' }], annotations });
    const dir = await makeTree({ 'coco.json': json, 'a.jpg': IMG });
    const file = path.join(dir, 'coco.json');
    const { items, errors } = await collectImport(await readCoco({ annotations: file }));
    expect(items).toEqual([]);
    expect(errors).toEqual([
      {
        source: { file, index: MAX_BOXES_PER_IMAGE, pointer: `/annotations/${MAX_BOXES_PER_IMAGE}` },
        itemId: 'a.jpg',
        code: 'malformed-annotation',
        reason: OVER,
      },
    ]);
  });
});

describe('CSV row length', () => {
  it('is 1 MiB of characters', () => expect(MAX_CSV_RECORD_CHARS).toBe(1_048_576));

  it('an over-long row comes back with an error and no fields; the rows after it parse with their lines', () => {
    const p = createCsvParser(10);
    const text = 'a,b\n"0123456789,\n\n",x,y\nc,d\n0123456789A\ne\n';
    const recs = [...p.push(text), ...p.end()];
    expect(recs).toEqual([
      { fields: ['a', 'b'], line: 1 },
      { fields: [], line: 2, error: 'the row is longer than 10 characters (the limit for one CSV row); it is not read' },
      { fields: ['c', 'd'], line: 5 },
      { fields: [], line: 6, error: expect.stringMatching(/longer than 10 characters/) },
      { fields: ['e'], line: 7 },
    ]);
  });

  it('gives the same records, over-long ones included, however the text is chunked', () => {
    const alphabet = ['a', 'b', ',', '"', '\r', '\n'];
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...alphabet), { maxLength: 60 }).map((cs) => cs.join('')),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 12 }),
        (text, sizes, limit) => {
          const whole = createCsvParser(limit);
          const expected = [...whole.push(text), ...whole.end()];
          const p = createCsvParser(limit);
          const got = [];
          for (let at = 0, k = 0; at < text.length; k++) {
            const n = sizes[k % sizes.length]!;
            got.push(...p.push(text.slice(at, at + n)));
            at += n;
          }
          got.push(...p.end());
          expect(got).toEqual(expected);
          // Below the limit, the records are what the parser gives without one.
          if (expected.every((r) => r.error === undefined || !r.error.includes('longer than'))) expect(expected).toEqual(parseCsvText(text));
        },
      ),
    );
  });

  it('readCsv: a row over the default limit is an item error at its line, and the file goes on', async () => {
    const long = `a.jpg,"${'x'.repeat(MAX_CSV_RECORD_CHARS)}",1,1,9,9`;
    const dir = await makeTree({
      'ann.csv': ['filename,class,xmin,ymin,xmax,ymax', 'a.jpg,cat,1,1,9,9', long, 'b.jpg,cat,1,1,9,9'].join('\n'),
      'a.jpg': IMG,
      'b.jpg': IMG,
    });
    const file = path.join(dir, 'ann.csv');
    const { items, errors } = await collectImport(await readCsv({ annotations: file }));
    expect(items.map((i) => i.id)).toEqual(['a.jpg', 'b.jpg']);
    expect(errors).toEqual([
      {
        source: { file, line: 3 },
        code: 'malformed-annotation',
        reason: 'the row is longer than 1,048,576 characters (the limit for one CSV row); it is not read',
      },
    ]);
  });
});

describe('VOC files past the XML limits', () => {
  it('deep nesting is an item error naming the file and line', async () => {
    const dir = await makeTree({
      'ann/a.xml': `<annotation>\n<filename>a.jpg</filename>\n<x>\n${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}</x></annotation>`,
      'ann/a.jpg': IMG,
    });
    const { errors } = await collectImport(await readVoc({ annotations: path.join(dir, 'ann') }));
    expect(errors).toEqual([
      {
        source: { file: path.join(dir, 'ann', 'a.xml'), line: 4 },
        code: 'malformed-annotation',
        reason: 'XML: elements nested more than 100 deep (the limit for one annotation file)',
      },
    ]);
  });
});
