import { describe, expect, it } from 'vitest';
import { NameAllocator, sanitizeName } from '../../src/export/names.js';

describe('sanitizeName', () => {
  it.each([
    ['a.jpg', false, 'a.jpg'],
    ['sub/dir/a.jpg', false, 'sub/dir/a.jpg'],
    ['sub/dir/a.jpg', true, 'sub_dir_a.jpg'],
    ['/etc/passwd', false, 'etc/passwd'],
    ['../../evil.jpg', false, 'evil.jpg'],
    ['a/../../b.jpg', false, 'a/b.jpg'],
    ['C:\\Users\\me\\x.jpg', false, 'Users/me/x.jpg'],
    ['\\\\host\\share\\y.png', false, 'host/share/y.png'],
    ['./a//b.jpg', false, 'a/b.jpg'],
    ['bad\u0000name\n.jpg', false, 'bad_name_.jpg'],
    ['\u009b.jpg', false, '_.jpg'],
    ['..', false, ''],
    ['', false, ''],
  ])('%j (flatten %s) → %j', (raw, flatten, want) => {
    expect(sanitizeName(raw, flatten)).toBe(want);
  });
});

describe('NameAllocator', () => {
  it('keeps safe unique names as they are', () => {
    const names = new NameAllocator({ flatten: false });
    expect(names.allocate('a.jpg', 'a.jpg', 0, 'jpeg')).toEqual({ name: 'a.jpg', reasons: [] });
    expect(names.allocate('sub/a.jpg', '', 1, 'jpeg')).toEqual({ name: 'sub/a.jpg', reasons: [] });
  });

  it('suffixes repeated stems, ignoring case and extension (a.jpg, A.JPG, a.png share a.txt / a.xml)', () => {
    const names = new NameAllocator({ flatten: false });
    expect(names.allocate('a.jpg', '', 0, 'jpeg').name).toBe('a.jpg');
    expect(names.allocate('A.JPG', '', 1, 'jpeg')).toEqual({ name: 'A-1.JPG', reasons: ['duplicate'] });
    expect(names.allocate('a.png', '', 2, 'png')).toEqual({ name: 'a-2.png', reasons: ['duplicate'] });
    // A name that looks like a suffixed one is not handed out twice either.
    expect(names.allocate('a-1.jpg', '', 3, 'jpeg')).toEqual({ name: 'a-1-1.jpg', reasons: ['duplicate'] });
  });

  it('makes unsafe names safe and says so', () => {
    const names = new NameAllocator({ flatten: false });
    expect(names.allocate('../../x.jpg', '', 0, 'jpeg')).toEqual({ name: 'x.jpg', reasons: ['unsafe'] });
    expect(names.allocate('/abs/x.jpg', '', 1, 'jpeg')).toEqual({ name: 'abs/x.jpg', reasons: ['unsafe'] });
  });

  it('falls back to the source id, then record-N, and adds the image format extension', () => {
    const names = new NameAllocator({ flatten: false });
    expect(names.allocate('', '17', 0, 'png')).toEqual({ name: '17.png', reasons: ['no-name'] });
    expect(names.allocate('', '', 5, 'jpeg')).toEqual({ name: 'record-5.jpg', reasons: ['no-name'] });
    expect(names.allocate('..', '', 6, 'jpeg')).toEqual({ name: 'record-6.jpg', reasons: ['unsafe', 'no-name'] });
    expect(names.allocate('scan.dat', '', 7, 'png')).toEqual({ name: 'scan.dat.png', reasons: ['extension'] });
  });

  it('flattens folders when asked, and keeps clear of reserved names', () => {
    const names = new NameAllocator({ flatten: true, reserved: ['annotations.csv'] });
    expect(names.allocate('train/a.jpg', '', 0, 'jpeg')).toEqual({ name: 'train_a.jpg', reasons: ['unsafe'] });
    expect(names.allocate('annotations.jpg', '', 1, 'jpeg')).toEqual({ name: 'annotations-1.jpg', reasons: ['duplicate'] });
  });
});
