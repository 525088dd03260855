import { describe, expect, it } from 'vitest';
import { ClassNameCheck } from '../../src/convert/class-names.js';
import type { SourceItem } from 'tfrecord-od/formats';

const item = (...names: string[]): SourceItem => ({
  id: 'a.jpg',
  source: { file: '/x.csv' },
  imagePath: '/a.jpg',
  coords: 'pixel',
  objects: names.map((className) => ({ className, xmin: 1, ymin: 1, xmax: 2, ymax: 2 })),
});

describe('ClassNameCheck', () => {
  it('trims surrounding spaces in place and reports each spelling once', () => {
    const c = new ClassNameCheck();
    const a = item('raccoon ', ' raccoon', 'raccoon');
    c.clean(a);
    c.clean(item('raccoon '));
    expect(a.objects.map((o) => o.className)).toEqual(['raccoon', 'raccoon', 'raccoon']);
    expect(c.notes().map((n) => [n.code, n.names])).toEqual([
      ['class-name-trimmed', ['raccoon ']],
      ['class-name-trimmed', [' raccoon']],
    ]);
  });

  it('names that differ only in case stay apart and are reported together', () => {
    const c = new ClassNameCheck();
    c.clean(item('Raccoon ', 'raccoon', 'dog'));
    c.clean(item('RACCOON'));
    const cased = c.notes().filter((n) => n.code === 'class-name-case');
    expect(cased).toHaveLength(1);
    expect(cased[0]!.names).toEqual(['Raccoon', 'raccoon', 'RACCOON']);
    expect(cased[0]!.message).toMatch(/differ only in letter case and became 3 classes/);
  });

  it('says nothing about clean, distinct names', () => {
    const c = new ClassNameCheck();
    c.clean(item('cat', 'dog'));
    expect(c.notes()).toEqual([]);
  });
});
