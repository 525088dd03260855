import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectImport } from '../../src/formats/common.js';
import { mapUri, sortPathMap, unmappedMessage } from '../../src/formats/vertex/path-map.js';
import { boundedLines, MAX_JSONL_LINE_CHARS } from '../../src/formats/vertex/read.js';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { detectFormat, detectVertex, readVertex } from 'tfrecord-od/formats';
import { IMG, makeTree } from './helpers.js';

const ML_USE = 'aiplatform.googleapis.com/ml_use';
const line = (uri: string, boxes: Array<[string, number, number, number, number]>, mlUse?: string) =>
  JSON.stringify({
    imageGcsUri: uri,
    boundingBoxAnnotations: boxes.map(([displayName, xMin, yMin, xMax, yMax]) => ({ displayName, xMin, yMin, xMax, yMax })),
    ...(mlUse ? { dataItemResourceLabels: { [ML_USE]: mlUse } } : {}),
  });

describe('path map', () => {
  it('takes the longest prefix that covers the URI, by whole path segments', () => {
    const m = sortPathMap({ 'gs://b': '/all', 'gs://b/data/': '/data', 'gs://b/data/val': '/val' });
    expect(mapUri('gs://b/data/val/x.jpg', m)).toEqual({ mapping: { prefix: 'gs://b/data/val', dir: '/val' }, rest: 'x.jpg' });
    expect(mapUri('gs://b/data/train/x.jpg', m)).toEqual({ mapping: { prefix: 'gs://b/data', dir: '/data' }, rest: 'train/x.jpg' });
    expect(mapUri('gs://b/database/x.jpg', m)?.mapping.prefix).toBe('gs://b');
    expect(mapUri('gs://other/x.jpg', m)).toBeUndefined();
  });

  it('names the folders to map, busiest first, and the buckets', () => {
    const msg = unmappedMessage(['gs://b/a/1.jpg', 'gs://b/a/2.jpg', 'gs://b/c/3.jpg'], sortPathMap({ 'gs://z': '/z' }));
    expect(msg).toBe(
      '3 images are on Cloud Storage with no local copy mapped: gs://b/a/ (2 images), gs://b/c/ (1 image). The prefixes mapped now (gs://z) do not cover them. ' +
        'Map each prefix to the folder that holds a copy of it, e.g. --path-map gs://b/a=DIR, or a whole bucket (--path-map gs://b=DIR)',
    );
  });
});

describe('readVertex: JSON Lines', () => {
  it('reads boxes and ml_use, finds gs:// images through the path map, and merges lines of one image', async () => {
    const dir = await makeTree({
      'import.jsonl': [
        line('gs://bucket/imgs/a.jpg', [['cat', 0.1, 0.2, 0.5, 0.6]], 'training'),
        line('gs://bucket/imgs/sub/b.jpg', [], 'test'),
        '',
        line('gs://bucket/imgs/c.jpg', [['dog', 0, 0, 1, 1]]),
        line('gs://bucket/imgs/a.jpg', [['dog', 0.3, 0.3, 0.4, 0.4]], 'training'),
        line('local/d.jpg', [['cat', 0.1, 0.1, 0.2, 0.2]], 'validation'),
      ].join('\n'),
      'copy/a.jpg': IMG,
      'copy/sub/b.jpg': IMG,
      'copy/c.jpg': IMG,
      'local/d.jpg': IMG,
    });
    const file = path.join(dir, 'import.jsonl');
    const r = await readVertex({ annotations: file, pathMap: { 'gs://bucket/imgs': path.join(dir, 'copy') } });
    const { items, errors } = await collectImport(r);
    expect(errors).toEqual([]);
    expect(items).toEqual([
      {
        id: 'gs://bucket/imgs/a.jpg',
        source: { file, line: 1 },
        imagePath: path.join(dir, 'copy', 'a.jpg'),
        coords: 'normalized',
        split: 'train',
        objects: [
          { className: 'cat', xmin: 0.1, ymin: 0.2, xmax: 0.5, ymax: 0.6, source: { file, line: 1 } },
          { className: 'dog', xmin: 0.3, ymin: 0.3, xmax: 0.4, ymax: 0.4, source: { file, line: 5 } },
        ],
      },
      {
        id: 'gs://bucket/imgs/sub/b.jpg',
        source: { file, line: 2 },
        imagePath: path.join(dir, 'copy', 'sub', 'b.jpg'),
        coords: 'normalized',
        split: 'test',
        objects: [],
      },
      {
        id: 'gs://bucket/imgs/c.jpg',
        source: { file, line: 4 },
        imagePath: path.join(dir, 'copy', 'c.jpg'),
        coords: 'normalized',
        objects: [{ className: 'dog', xmin: 0, ymin: 0, xmax: 1, ymax: 1, source: { file, line: 4 } }],
      },
      {
        id: 'local/d.jpg',
        source: { file, line: 6 },
        imagePath: path.join(dir, 'local', 'd.jpg'),
        coords: 'normalized',
        split: 'val',
        objects: [{ className: 'cat', xmin: 0.1, ymin: 0.1, xmax: 0.2, ymax: 0.2, source: { file, line: 6 } }],
      },
    ]);
    expect(r.notes).toEqual([
      {
        code: 'assigned-splits',
        message:
          "the file's ml_use assigns 1 to train, 1 to val, 1 to test; 1 unassigned image is divided 80/10/10 into train/val/test by content, as Vertex AI divides them by default",
      },
    ]);
  });

  it('reports broken lines, boxes and disagreeing ml_use with their line', async () => {
    const dir = await makeTree({
      'import.jsonl': [
        '{"imageGcsUri": "gs://b/a.jpg", ', // 1: not JSON
        line('gs://b/b.jpg', [['', 0, 0, 1, 1]]), // 2: no displayName
        JSON.stringify({ imageGcsUri: 'gs://b/c.jpg', boundingBoxAnnotations: [{ displayName: 'cat', xMin: '0.1', yMin: 0, xMax: 1, yMax: 1 }] }), // 3
        line('gs://b/d.jpg', [['cat', 0.5, 0, 0.1, 1]]), // 4: inverted
        line('gs://b/e.jpg', [], 'training'),
        line('gs://b/e.jpg', [], 'test'), // 6: disagrees with line 5
        line('gs://b/f.jpg', [], 'holdout'), // 7: no such ml_use
        '{"boundingBoxAnnotations": []}', // 8: no URI
        line('gs://b/../../outside.jpg', []), // 9
        line('gs://b/ok.jpg', [['cat', 0, 0, 1, 1]]),
      ].join('\r\n'),
      ...Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f', 'ok'].map((n) => [`copy/${n}.jpg`, IMG])),
    });
    const r = await readVertex({ annotations: path.join(dir, 'import.jsonl'), pathMap: { 'gs://b': path.join(dir, 'copy') } });
    const { items, errors } = await collectImport(r);
    expect(items.map((i) => i.id)).toEqual(['gs://b/ok.jpg']);
    expect(errors.map((e) => [e.source.line, e.code, e.itemId])).toEqual([
      [2, 'malformed-annotation', 'gs://b/b.jpg'],
      [3, 'box-without-coordinates', 'gs://b/c.jpg'],
      [4, 'invalid-box', 'gs://b/d.jpg'],
      [6, 'malformed-annotation', 'gs://b/e.jpg'],
      [7, 'malformed-annotation', 'gs://b/f.jpg'],
      [9, 'image-outside-root', undefined],
      [1, 'malformed-annotation', undefined],
      [8, 'malformed-annotation', undefined],
    ]);
    expect(errors[3]!.reason).toBe(`"test" puts the image in 'test', but line 5 put it in 'train'`);
    expect(errors[4]!.reason).toMatch(/ml_use "holdout" is not one of training, validation, test, unassigned/);
  });

  it('fails once, naming the prefixes to map, when gs:// images have no local copy', async () => {
    const dir = await makeTree({
      'import.jsonl': [line('gs://b/x/1.jpg', []), line('gs://b/x/2.jpg', []), line('gs://c/y/3.jpg', []), line('gs://m/ok.jpg', [])].join('\n'),
      'm/ok.jpg': IMG,
    });
    const r = await readVertex({ annotations: path.join(dir, 'import.jsonl'), pathMap: { 'gs://m': path.join(dir, 'm') } });
    await expect(collectImport(r)).rejects.toMatchObject({
      code: 'bad-argument',
      message: expect.stringMatching(
        /3 images are on Cloud Storage with no local copy mapped: gs:\/\/b\/x\/ \(2 images\), gs:\/\/c\/y\/ \(1 image\)\. The prefixes mapped now \(gs:\/\/m\)/,
      ),
    });
  });
});

describe('JSON Lines line length', () => {
  const collect = async (chunks: string[], max: number) => {
    const out: Array<string | undefined> = [];
    for await (const l of boundedLines(
      (async function* () {
        yield* chunks;
      })(),
      max,
    ))
      out.push(l);
    return out;
  };

  it('splits lines across chunk boundaries, drops \\r before \\n, keeps a last line without an ending', async () => {
    expect(await collect(['ab', 'c\r\nde', 'f\n\ng', 'h'], 10)).toEqual(['abc', 'def', '', 'gh']);
    expect(await collect(['x\n'], 10)).toEqual(['x']);
  });

  it('yields a line over the limit as undefined, without gathering it, and goes on at the next line', async () => {
    expect(await collect(['12345', '\r\n123456', '789\nok\n', '1234567'], 5)).toEqual(['12345', undefined, 'ok', undefined]);
  });

  it('readVertex names the line past the limit and reads the lines after it', async () => {
    const dir = await makeTree({ 'copy/ok.jpg': IMG });
    const file = path.join(dir, 'import.jsonl');
    const out = createWriteStream(file);
    out.write(`${line('gs://b/ok.jpg', [['cat', 0, 0, 1, 1]])}\n{"imageGcsUri": "gs://b/big.jpg", "pad": "`);
    const mib = 'x'.repeat(1 << 20);
    for (let i = 0; i <= MAX_JSONL_LINE_CHARS / (1 << 20); i++) if (!out.write(mib)) await once(out, 'drain');
    out.end(`"}\n${line('gs://b/ok.jpg', [['dog', 0, 0, 0.5, 0.5]])}\n`);
    await once(out, 'finish');
    const { items, errors } = await collectImport(await readVertex({ annotations: file, pathMap: { 'gs://b': path.join(dir, 'copy') } }));
    expect(errors.map((e) => [e.source.line, e.code])).toEqual([[2, 'malformed-annotation']]);
    expect(errors[0]!.reason).toMatch(/longer than 67,108,864 characters/);
    expect(items.map((i) => i.objects.map((o) => o.className))).toEqual([['cat', 'dog']]);
  });
});

describe('readVertex: CSV', () => {
  it('reads the 2-vertex and 4-vertex forms, images without objects, with and without ML_USE', async () => {
    const dir = await makeTree({
      'import.csv': [
        'TRAIN,gs://b/1.png,car,0.1,0.1,,,0.3,0.3,,',
        'training,gs://b/1.png,bike,.7,.6,,,.8,.9,,',
        'UNASSIGNED,gs://b/2.png,car,0.1,0.1,0.2,0.1,0.2,0.3,0.1,0.3',
        'TEST,gs://b/3.png,,,,,,,,,',
        'gs://b/4.png,car,0.2,0.2,,,0.4,0.4,,',
        'VALIDATION,gs://b/5.png',
      ].join('\n'),
      ...Object.fromEntries(['1', '2', '3', '4', '5'].map((n) => [`copy/${n}.png`, IMG])),
    });
    const file = path.join(dir, 'import.csv');
    const { items, errors } = await collectImport(await readVertex({ annotations: file, pathMap: { 'gs://b': path.join(dir, 'copy') } }));
    expect(errors).toEqual([]);
    expect(items.map((i) => [i.id, i.split, i.objects.map((o) => [o.className, o.xmin, o.ymin, o.xmax, o.ymax])])).toEqual([
      [
        'gs://b/1.png',
        'train',
        [
          ['car', 0.1, 0.1, 0.3, 0.3],
          ['bike', 0.7, 0.6, 0.8, 0.9],
        ],
      ],
      // Four vertices: their bounding box.
      ['gs://b/2.png', undefined, [['car', 0.1, 0.1, 0.2, 0.3]]],
      ['gs://b/3.png', 'test', []],
      ['gs://b/4.png', undefined, [['car', 0.2, 0.2, 0.4, 0.4]]],
      ['gs://b/5.png', 'val', []],
    ]);
  });

  it('reports a misspelt ML_USE, coordinates without a label and bad coordinates', async () => {
    const dir = await makeTree({
      'import.csv': [
        'TRIAN,gs://b/1.png,car,0.1,0.1,,,0.3,0.3,,',
        'gs://b/2.png,,0.1,0.1,,,0.3,0.3,,',
        'gs://b/3.png,car,0.1,x,,,0.3,0.3,,',
        'gs://b/4.png,car,0.1,0.1,,,,,,',
        'gs://b/5.png,car,1,2,3,4,5,6,7,8,9',
      ].join('\n'),
      ...Object.fromEntries(['1', '2', '3', '4', '5'].map((n) => [`copy/${n}.png`, IMG])),
    });
    const { errors } = await collectImport(await readVertex({ annotations: path.join(dir, 'import.csv'), pathMap: { 'gs://b': path.join(dir, 'copy') } }));
    expect(errors.map((e) => [e.source.line, e.code, e.itemId])).toEqual([
      [1, 'malformed-annotation', 'gs://b/1.png'],
      [2, 'malformed-annotation', 'gs://b/2.png'],
      [3, 'box-without-coordinates', 'gs://b/3.png'],
      // One vertex is no box.
      [4, 'box-without-coordinates', 'gs://b/4.png'],
      [5, 'malformed-annotation', 'gs://b/5.png'],
    ]);
    expect(errors[0]!.reason).toMatch(/ml_use "TRIAN" is not one of/);
  });

  it('detectVertex knows both forms by content; other CSVs and JSONL are not it', async () => {
    const dir = await makeTree({
      'a.jsonl': line('gs://b/a.jpg', []) + '\n',
      'b.csv': 'TEST,gs://b/3.png,,,,,,,,,\n',
      'c.csv': 'gs://b/4.png,car,0.2,0.2,,,0.4,0.4,,\n',
      'd.csv': 'filename,class,xmin,ymin,xmax,ymax\n',
      'e.jsonl': '{"text": "hello"}\n',
    });
    expect(await detectVertex(path.join(dir, 'a.jsonl'))).toBe(true);
    expect(await detectVertex(path.join(dir, 'b.csv'))).toBe(true);
    expect(await detectVertex(path.join(dir, 'c.csv'))).toBe(true);
    expect(await detectFormat(path.join(dir, 'c.csv'))).toBe('vertex');
    expect(await detectVertex(path.join(dir, 'd.csv'))).toBe(false);
    expect(await detectVertex(path.join(dir, 'e.jsonl'))).toBe(false);
  });
});
