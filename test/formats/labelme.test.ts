import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectImport } from '../../src/formats/common.js';
import { decodeEmbeddedImage } from '../../src/convert/item-job.js';
import { detectFormat, detectLabelMe, readLabelMe } from 'tfrecord-od/formats';
import { IMG, makeTree } from './helpers.js';

type Shape = { label: string; points: number[][]; shape_type?: string | null };
const labelme = (imagePath: string | null, shapes: Shape[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    version: '5.2.1',
    flags: {},
    shapes: shapes.map((s) => ({ group_id: null, flags: {}, ...s })),
    imagePath,
    imageData: null,
    imageHeight: 480,
    imageWidth: 640,
    ...extra,
  });

describe('readLabelMe', () => {
  it('takes the bounding box of a polygon of 300,000 points (spreading them into Math.min overflowed the stack)', async () => {
    const points: number[][] = [];
    for (let i = 0; i < 300_000; i++) points.push([10 + (i % 500), 20 + (i % 300)]);
    const dir = await makeTree({
      'ds/labels/a.json': labelme('../images/a.jpg', [{ label: 'cat', points, shape_type: 'polygon' }]),
      'ds/images/a.jpg': IMG,
    });
    const root = path.join(dir, 'ds');
    const { items, errors } = await collectImport(await readLabelMe({ annotations: path.join(root, 'labels'), images: root }));
    expect(errors).toEqual([]);
    expect(items[0]!.objects[0]).toMatchObject({ className: 'cat', xmin: 10, ymin: 20, xmax: 509, ymax: 319 });
  });

  it('reads rectangles as boxes and polygons/circles as their bounding boxes, with notes; imagePath is relative to the JSON', async () => {
    const dir = await makeTree({
      'ds/labels/a.json': labelme('../images/a.jpg', [
        {
          label: 'cat',
          points: [
            [50, 60],
            [10, 20],
          ],
          shape_type: 'rectangle',
        },
        {
          label: 'dog',
          points: [
            [5, 5],
            [25, 8],
            [15, 30],
          ],
          shape_type: 'polygon',
        },
        {
          label: 'ball',
          points: [
            [100, 100],
            [103, 104],
          ],
          shape_type: 'circle',
        },
        { label: 'nose', points: [[1, 1]], shape_type: 'point' },
      ]),
      // Old LabelMe: no shape_type, which meant polygon.
      'ds/labels/sub/b.json': labelme(
        '..\\..\\images\\b.jpg',
        [
          {
            label: 'dog',
            points: [
              [0, 0],
              [4, 0],
              [4, 3],
            ],
            shape_type: null,
          },
        ],
        { imageWidth: 0 },
      ),
      'ds/images/a.jpg': IMG,
      'ds/images/b.jpg': IMG,
    });
    const root = path.join(dir, 'ds');
    const r = await readLabelMe({ annotations: path.join(root, 'labels'), images: root });
    expect(r.expectedItems).toBe(2);
    const { items, errors } = await collectImport(r);
    expect(errors).toEqual([]);
    const a = path.join(root, 'labels', 'a.json');
    const b = path.join(root, 'labels', 'sub', 'b.json');
    expect(items).toEqual([
      {
        id: 'images/a.jpg',
        source: { file: a },
        imagePath: path.join(root, 'images', 'a.jpg'),
        width: 640,
        height: 480,
        coords: 'pixel',
        objects: [
          { className: 'cat', xmin: 10, ymin: 20, xmax: 50, ymax: 60, source: { file: a, index: 0, pointer: '/shapes/0' } },
          { className: 'dog', xmin: 5, ymin: 5, xmax: 25, ymax: 30, source: { file: a, index: 1, pointer: '/shapes/1' } },
          // Centre (100, 100), radius 5.
          { className: 'ball', xmin: 95, ymin: 95, xmax: 105, ymax: 105, source: { file: a, index: 2, pointer: '/shapes/2' } },
        ],
      },
      // imageWidth 0 states no size; backslashes are separators.
      {
        id: 'images/b.jpg',
        source: { file: b },
        imagePath: path.join(root, 'images', 'b.jpg'),
        height: 480,
        coords: 'pixel',
        objects: [{ className: 'dog', xmin: 0, ymin: 0, xmax: 4, ymax: 3, source: { file: b, index: 0, pointer: '/shapes/0' } }],
      },
    ]);
    expect(r.notes).toEqual([
      { code: 'shape-as-box', message: '1 circle shape and 2 polygon shapes were converted to their bounding boxes' },
      { code: 'shapes-ignored', message: '1 point shape was left out: they have no area, so they cannot be a detection box' },
    ]);
  });

  it('uses the embedded imageData when the image file is missing, and reports a missing image without it', async () => {
    const dir = await makeTree({
      'a.json': labelme(
        'a.jpg',
        [
          {
            label: 'cat',
            points: [
              [1, 2],
              [3, 4],
            ],
            shape_type: 'rectangle',
          },
        ],
        { imageData: Buffer.from('jpeg bytes').toString('base64') },
      ),
      'b.json': labelme('C:\\Users\\me\\b.png', [], { imageData: 'iVBORw0KGgo=' }),
      'c.json': labelme('c.jpg', []),
      'd.json': labelme('d.jpg', [], { imageData: 'aGVsbG8=' }),
      'd.jpg': IMG,
    });
    const { items, errors } = await collectImport(await readLabelMe({ annotations: dir }));
    expect(items.map((i) => [i.id, path.basename(i.imagePath), i.embedded])).toEqual([
      ['a.jpg', 'a.json', { key: 'imageData' }],
      // An absolute imagePath names no image here; the JSON's name with the image's extension does.
      ['b.png', 'b.json', { key: 'imageData' }],
      // The file exists: it wins over the embedded copy.
      ['d.jpg', 'd.jpg', undefined],
    ]);
    expect(errors).toMatchObject([{ code: 'missing-image', itemId: 'c.jpg', reason: expect.stringMatching(/embeds no imageData/) }]);
  });

  it('reports bad files and shapes with their JSON pointer, and a second file for one image', async () => {
    const dir = await makeTree({
      'a.json': '{"shapes": [',
      'b.json': JSON.stringify({ imagePath: 'b.jpg' }),
      'c.json': labelme('c.jpg', [
        {
          label: '',
          points: [
            [0, 0],
            [1, 1],
          ],
          shape_type: 'rectangle',
        },
        {
          label: 'cat',
          points: [
            [0, 0],
            [1, 'x' as unknown as number],
          ],
          shape_type: 'rectangle',
        },
        {
          label: 'cat',
          points: [
            [0, 0],
            [1, 1],
          ],
          shape_type: 'polygon',
        },
        {
          label: 'cat',
          points: [
            [0, 0],
            [1, 1],
          ],
          shape_type: 'cuboid',
        },
      ]),
      'd.json': labelme('../outside.jpg', []),
      'e.json': labelme('e.jpg', []),
      'f.json': labelme('e.jpg', []),
      'c.jpg': IMG,
      'e.jpg': IMG,
    });
    const { items, errors } = await collectImport(await readLabelMe({ annotations: dir, classes: ['cat'] }));
    expect(items.map((i) => i.id)).toEqual(['e.jpg']);
    expect(errors.map((e) => [path.basename(e.source.file), e.source.pointer, e.code])).toEqual([
      ['a.json', undefined, 'malformed-annotation'],
      ['b.json', undefined, 'malformed-annotation'],
      ['c.json', '/shapes/0', 'malformed-annotation'],
      ['c.json', '/shapes/1', 'box-without-coordinates'],
      ['c.json', '/shapes/2', 'box-without-coordinates'],
      ['c.json', '/shapes/3', 'malformed-annotation'],
      ['d.json', undefined, 'image-outside-root'],
      ['f.json', undefined, 'duplicate-item'],
    ]);
    expect(errors[1]!.reason).toMatch(/no "shapes" array/);
    expect(errors[4]!.reason).toMatch(/polygon "cat" has 2 points; it needs at least 3/);
    expect(errors[7]!.reason).toMatch(/e\.json already describes e\.jpg/);
  });

  it('detectLabelMe looks at the first JSON file of a folder', async () => {
    const dir = await makeTree({
      'lm/a.json': labelme('a.jpg', [
        {
          label: 'x',
          points: [
            [0, 0],
            [1, 1],
          ],
          shape_type: 'rectangle',
        },
      ]),
      'coco/instances.json': '{"images": [], "annotations": [], "categories": []}',
    });
    expect(await detectLabelMe(path.join(dir, 'lm'))).toBe(true);
    expect(await detectFormat(path.join(dir, 'lm'))).toBe('labelme');
    expect(await detectLabelMe(path.join(dir, 'coco'))).toBe(false);
    expect(await detectLabelMe(path.join(dir, 'lm', 'a.json'))).toBe(false);
  });
});

describe('decodeEmbeddedImage', () => {
  it('decodes the base64 (or data URL) under the key, or says why not', () => {
    const json = (v: unknown) => new TextEncoder().encode(JSON.stringify({ imageData: v }));
    expect(Buffer.from(decodeEmbeddedImage(json('aGVsbG8='), 'imageData') as Uint8Array).toString()).toBe('hello');
    expect(Buffer.from(decodeEmbeddedImage(json('data:image/png;base64,aGVsbG8='), 'imageData') as Uint8Array).toString()).toBe('hello');
    expect(decodeEmbeddedImage(json(null), 'imageData')).toMatch(/no embedded image under "imageData"/);
    expect(decodeEmbeddedImage(new TextEncoder().encode('{'), 'imageData')).toMatch(/not valid JSON/);
  });
});
