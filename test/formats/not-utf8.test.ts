/**
 * Class names whose bytes are not UTF-8 (issue 17): each reader refuses them
 * with an error naming the file and line (or JSON pointer) instead of reading
 * them with U+FFFD; a name that holds a real U+FFFD (the bytes EF BF BD) is
 * still read. The byte-level helpers are checked against TextDecoder.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readCoco, readCsv, readLabelMe, readOpenImages, readVertex, readVoc, readYolo } from 'tfrecord-od/formats';
import { readLabelMapFile } from '../../src/detection/read-label-map.js';
import { parseLabelMap } from 'tfrecord-od/detection';
import { collectImport } from '../../src/formats/common.js';
import { WHOLE_PARSE_BYTES } from '../../src/formats/coco/scan.js';
import { invalidUtf8Lines, isUtf8, showBytes, Utf8LineCheck } from '../../src/utf8.js';
import { IMG, makeTree } from './helpers.js';

/** "café" in Latin-1: the é is the single byte 0xE9, not UTF-8. */
const LATIN1_CAFE = Buffer.from('caf\xe9', 'latin1');
const b = (...parts: Array<string | Buffer>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
const REASON = /^class name "caf\uFFFD" is not valid UTF-8/;

const strict = new TextDecoder('utf-8', { fatal: true });
function strictOk(bytes: Uint8Array): boolean {
  try {
    strict.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

describe('utf8 helpers', () => {
  const bytesArb = fc
    .array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x0a, 0x0d, 0xe9, 0xc3, 0xa9, 0xef, 0xbf, 0xbd, 0xf0, 0x9f)), { maxLength: 40 })
    .map((a) => Uint8Array.from(a));

  it('isUtf8 agrees with a fatal TextDecoder; invalidUtf8Lines is empty exactly for valid bytes', () => {
    fc.assert(
      fc.property(bytesArb, (bytes) => {
        expect(isUtf8(bytes)).toBe(strictOk(bytes));
        expect(invalidUtf8Lines(bytes).length === 0).toBe(strictOk(bytes));
      }),
      { numRuns: 3000 },
    );
  });

  it('names the lines (LF, CRLF, lone CR) whose bytes are not UTF-8, each line once', () => {
    expect(invalidUtf8Lines(b('ok\n', LATIN1_CAFE, '\r\nfine\r', LATIN1_CAFE, LATIN1_CAFE, '\n', Buffer.from([0xff])))).toEqual([2, 4, 5]);
    // A sequence cut off at the end, an overlong form, a surrogate: all invalid.
    expect(invalidUtf8Lines(Buffer.from([0x61, 0x0a, 0xe2, 0x82]))).toEqual([2]);
    expect(invalidUtf8Lines(Buffer.from([0xc0, 0xaf]))).toEqual([1]);
    expect(invalidUtf8Lines(Buffer.from([0xed, 0xa0, 0x80]))).toEqual([1]);
    expect(invalidUtf8Lines(b('real \uFFFD\n'))).toEqual([]);
  });

  it('Utf8LineCheck finds the same lines however the bytes are chunked (sequences and CRLF split)', () => {
    fc.assert(
      fc.property(bytesArb, fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 10 }), (bytes, sizes) => {
        const check = new Utf8LineCheck();
        for (let at = 0, k = 0; at < bytes.length; k++) {
          const n = sizes[k % sizes.length]!;
          check.push(bytes.subarray(at, at + n));
          at += n;
        }
        check.end();
        expect(check.lines).toEqual(invalidUtf8Lines(bytes));
      }),
      { numRuns: 3000 },
    );
  });

  it('shows bytes that are not UTF-8 escaped, the rest as text', () => {
    expect(showBytes(LATIN1_CAFE)).toBe('"caf\\xe9"');
    expect(showBytes(b('né\\'))).toBe('"né\\x5c"');
  });
});

describe('class names that are not UTF-8, per reader', () => {
  it('CSV: an item error at the row; a real U+FFFD and other rows are fine', async () => {
    const dir = await makeTree({ 'a.jpg': IMG, 'b.jpg': IMG, 'c.jpg': IMG });
    const file = path.join(dir, 'ann.csv');
    await writeFile(file, b('filename,class,xmin,ymin,xmax,ymax\r\na.jpg,', LATIN1_CAFE, ',1,1,9,9\r\nb.jpg,ok\uFFFD,1,1,9,9\r\nc.jpg,cat,1,1,9,9\r\n'));
    const { items, errors } = await collectImport(await readCsv({ annotations: file }));
    expect(items.map((i) => [i.id, i.objects[0]!.className])).toEqual([
      ['b.jpg', 'ok\uFFFD'],
      ['c.jpg', 'cat'],
    ]);
    expect(errors).toEqual([{ source: { file, line: 2 }, itemId: 'a.jpg', code: 'malformed-annotation', reason: expect.stringMatching(REASON) }]);
  });

  it('VOC: an item error at the <name> line', async () => {
    const dir = await makeTree({ 'ann/a.jpg': IMG });
    const file = path.join(dir, 'ann', 'a.xml');
    await writeFile(
      file,
      b(
        '<annotation>\n<filename>a.jpg</filename>\n<object>\n<name>',
        LATIN1_CAFE,
        '</name>\n<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>9</xmax><ymax>9</ymax></bndbox>\n</object>\n</annotation>\n',
      ),
    );
    const { items, errors } = await collectImport(await readVoc({ annotations: path.join(dir, 'ann') }));
    expect(items).toEqual([]);
    expect(errors).toEqual([{ source: { file, line: 4 }, itemId: 'a.jpg', code: 'malformed-annotation', reason: expect.stringMatching(REASON) }]);
  });

  it('YOLO: the class list fails at the line of the name; other lines of data.yaml may be anything', async () => {
    const dir = await makeTree({ 'images/a.jpg': IMG, 'labels/a.txt': '0 0.5 0.5 0.1 0.1\n' });
    const yaml = path.join(dir, 'data.yaml');
    await writeFile(yaml, b('train: ../donn', Buffer.from([0xe9]), 'es\nnames:\n  - dog\n  - ', LATIN1_CAFE, '\n'));
    await expect(readYolo({ annotations: path.join(dir, 'labels'), classes: yaml })).rejects.toMatchObject({
      file: yaml,
      line: 4,
      reason: expect.stringMatching(REASON),
    });
    await writeFile(yaml, b('train: ../donn', Buffer.from([0xe9]), 'es\nnames:\n  - dog\n  - cat\n'));
    expect((await readYolo({ annotations: path.join(dir, 'labels'), classes: yaml })).classOrder).toEqual(['dog', 'cat']);
    const txt = path.join(dir, 'classes.txt');
    await writeFile(txt, b('dog\n', LATIN1_CAFE, '\n'));
    await expect(readYolo({ annotations: path.join(dir, 'labels'), classes: txt })).rejects.toMatchObject({ file: txt, line: 2 });
  });

  for (const [how, wholeParseBytes] of [
    ['parsed whole', WHOLE_PARSE_BYTES],
    ['streamed', 0],
  ] as const) {
    it(`COCO (${how}): a category name is fatal, naming its pointer; a real U+FFFD is fine`, async () => {
      const dir = await makeTree({ 'a.jpg': IMG });
      const file = path.join(dir, 'coco.json');
      const doc = (name: Buffer | string) =>
        b(
          '{"images":[{"id":1,"file_name":"a.jpg","width":10,"height":10}],"annotations":[],"categories":[{"id":1,"name":"dog"},{"id":2,"name":"',
          name,
          '"}]}',
        );
      await writeFile(file, doc(LATIN1_CAFE));
      await expect(readCoco({ annotations: file, wholeParseBytes })).rejects.toMatchObject({
        file,
        reason: expect.stringMatching(/^\/categories\/1\/name: category class name "caf\uFFFD" is not valid UTF-8/),
      });
      await writeFile(file, doc('caf\uFFFD'));
      expect((await readCoco({ annotations: file, wholeParseBytes })).classOrder).toEqual(['dog', 'caf\uFFFD']);
    });
  }

  it('LabelMe: an item error on the shape', async () => {
    const dir = await makeTree({ 'ds/a.jpg': IMG });
    const file = path.join(dir, 'ds', 'a.json');
    await writeFile(
      file,
      b(
        '{"version":"5.2.1","flags":{},"imagePath":"a.jpg","imageData":null,"imageHeight":10,"imageWidth":10,"shapes":[{"label":"',
        LATIN1_CAFE,
        '","points":[[1,1],[5,5]],"shape_type":"rectangle"}]}',
      ),
    );
    const { items, errors } = await collectImport(await readLabelMe({ annotations: path.join(dir, 'ds') }));
    expect(items).toEqual([]);
    expect(errors).toEqual([
      expect.objectContaining({ source: expect.objectContaining({ file, pointer: '/shapes/0' }), reason: expect.stringMatching(REASON) }),
    ]);
  });

  it('Open Images: a display name fails the class descriptions at its line', async () => {
    const dir = await makeTree({ 'boxes.csv': 'ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax\na,x,/m/1,1,0,1,0,1\n', 'a.jpg': IMG });
    const names = path.join(dir, 'names.csv');
    await writeFile(names, b('/m/0,Dog\n/m/1,', LATIN1_CAFE, '\n'));
    await expect(readOpenImages({ annotations: path.join(dir, 'boxes.csv'), classes: names })).rejects.toMatchObject({
      file: names,
      line: 2,
      reason: expect.stringMatching(/class name "caf\uFFFD" is not valid UTF-8/),
    });
  });

  it('Vertex AI JSON Lines: an item error at the line', async () => {
    const dir = await makeTree({ 'copy/a.jpg': IMG, 'copy/b.jpg': IMG });
    const file = path.join(dir, 'import.jsonl');
    const line = (uri: string, name: Buffer | string) =>
      b('{"imageGcsUri":"', uri, '","boundingBoxAnnotations":[{"displayName":"', name, '","xMin":0,"yMin":0,"xMax":1,"yMax":1}]}\n');
    await writeFile(file, Buffer.concat([line('gs://b/a.jpg', 'cat'), line('gs://b/b.jpg', LATIN1_CAFE)]));
    const { items, errors } = await collectImport(await readVertex({ annotations: file, pathMap: { 'gs://b': path.join(dir, 'copy') } }));
    expect(items.map((i) => i.id)).toEqual(['gs://b/a.jpg']);
    expect(errors).toEqual([{ source: { file, line: 2 }, itemId: 'gs://b/b.jpg', code: 'malformed-annotation', reason: expect.stringMatching(REASON) }]);
  });

  it('label maps: a name on a line that is not UTF-8, or made so by escapes, names the line', async () => {
    const dir = await makeTree({});
    const file = path.join(dir, 'map.pbtxt');
    await writeFile(file, b("item { id: 1 name: 'dog' }\nitem {\n  id: 2\n  name: '", LATIN1_CAFE, "'\n}\n"));
    await expect(readLabelMapFile(file, 'map.pbtxt')).rejects.toMatchObject({
      code: 'label-map',
      file: 'map.pbtxt',
      line: 4,
      reason: expect.stringMatching(/"caf\uFFFD" is not valid UTF-8/),
    });
    expect(() => parseLabelMap("item { id: 1 name: 'caf\\351' }")).toThrow(
      expect.objectContaining({ line: 1, reason: expect.stringMatching(/its escapes make bytes that are not UTF-8/) }),
    );
    // Escapes of valid UTF-8, and a real U+FFFD, are fine.
    expect(parseLabelMap("item { id: 1 name: 'caf\\303\\251' } item { id: 2 name: '\\357\\277\\275' }").items.map((i) => i.name)).toEqual(['café', '\uFFFD']);
  });
});
