import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveImagePath } from '../../src/formats/paths.js';
import { FORMATS, findFormat } from 'tfrecord-od/formats';

describe('resolveImagePath', () => {
  const root = path.resolve('/data/images');

  it('maps relative paths inside the root to an absolute path and a /-separated id', () => {
    expect(resolveImagePath(root, 'a/b.jpg')).toEqual({ ok: true, id: 'a/b.jpg', imagePath: path.join(root, 'a', 'b.jpg') });
    expect(resolveImagePath(root, 'a\\b.jpg')).toMatchObject({ ok: true, id: 'a/b.jpg' });
    expect(resolveImagePath(root, './a/../c.jpg')).toMatchObject({ ok: true, id: 'c.jpg' });
  });

  it('property: plain relative paths give what path.resolve and path.relative give, also from the file-system root', () => {
    const segment = fc.stringMatching(/^[a-zA-Z0-9 _.-]{1,8}$/).filter((s) => s !== '.' && s !== '..');
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.constantFrom(root, path.resolve('/')), (segments, base) => {
        const written = segments.join('/');
        const expected = path.resolve(base, ...segments);
        expect(resolveImagePath(base, written)).toEqual({ ok: true, id: path.relative(base, expected).split(path.sep).join('/'), imagePath: expected });
      }),
    );
  });

  it.each(['../x.jpg', 'a/../../x.jpg', '..\\x.jpg', '/etc/passwd', 'C:\\x.jpg', 'c:/x.jpg', '\\\\host\\share\\x.jpg', '.', '', 'a\0.jpg'])(
    'refuses %j',
    (written) => {
      expect(resolveImagePath(root, written)).toMatchObject({ ok: false, code: 'image-outside-root' });
    },
  );
});

describe('registry', () => {
  it('lists the formats as data, in detection order', () => {
    expect(FORMATS.map((f) => [f.name, f.extensions])).toEqual([
      ['coco', ['.json']],
      ['openimages', ['.csv']],
      ['csv', ['.csv']],
      ['vertex', ['.jsonl', '.csv']],
      ['voc', ['.xml']],
      ['labelme', ['.json']],
      ['yolo', ['.txt']],
    ]);
    expect(findFormat('voc')?.name).toBe('voc');
    expect(findFormat('kitti')).toBeUndefined();
  });
});
