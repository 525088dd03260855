/**
 * CSV files that are not in the canonical `filename,width,height,class,…`
 * layout: other names (aliases), a class column under a name of its own
 * (BCCD's `cell_type`), a `columns` mapping by name or by index (no header
 * row), no image size, and normalized coordinates.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectImport } from '../../src/formats/common.js';
import { parseColumnMapping, resolveColumns } from '../../src/formats/csv/mapping.js';
import { detectCsv, readCsv } from 'tfrecord-od/formats';
import { IMG, makeTree } from './helpers.js';

describe('parseColumnMapping', () => {
  it('reads names and 0-based indexes', () => {
    expect(parseColumnMapping('filename=image, class=cell_type')).toEqual({ filename: 'image', class: 'cell_type' });
    expect(parseColumnMapping('filename=0,class=5,xmin=1,ymin=2,xmax=3,ymax=4')).toEqual({ filename: 0, class: 5, xmin: 1, ymin: 2, xmax: 3, ymax: 4 });
  });

  it('refuses unknown fields, a field given twice and entries without a column', () => {
    expect(() => parseColumnMapping('klass=x')).toThrow(/unknown field 'klass'/);
    expect(() => parseColumnMapping('class=a,class=b')).toThrow(/class is given twice/);
    expect(() => parseColumnMapping('class=')).toThrow(/not FIELD=COLUMN/);
    expect(() => parseColumnMapping('')).toThrow(/empty --columns/);
    expect(() => parseColumnMapping('class=a')).not.toThrow();
  });
});

describe('resolveColumns', () => {
  it("prefers a field's own name over its aliases, and only then takes the one column left as the class", () => {
    const r = resolveColumns(['Image', 'label', 'class', 'X1', 'y_1', 'xmax', 'Y2'], undefined);
    if (!r.ok) throw new Error(r.reason);
    // 'label' is an alias of class, but 'class' itself is there.
    expect(Object.fromEntries(r.columns.index)).toEqual({ filename: 0, class: 2, xmin: 3, ymin: 4, xmax: 5, ymax: 6 });
    expect(r.columns.canonical).toBe(false);
    const bccd = resolveColumns(['filename', 'cell_type', 'xmin', 'xmax', 'ymin', 'ymax'], undefined);
    expect(bccd.ok && bccd.columns.found.find((f) => f.field === 'class')).toEqual({ field: 'class', index: 1, name: 'cell_type', by: 'only-column' });
    // Two columns left: which one is the class is a guess, so it is not made.
    const two = resolveColumns(['filename', 'cell_type', 'score', 'xmin', 'xmax', 'ymin', 'ymax'], undefined);
    expect(two.ok).toBe(false);
    expect(!two.ok && two.reason).toMatch(/lacks column\(s\) class; looked for class \(class\/label\/category/);
  });

  it('calls the canonical header canonical', () => {
    const r = resolveColumns('filename,width,height,class,xmin,ymin,xmax,ymax'.split(','), undefined);
    expect(r.ok && r.columns.canonical).toBe(true);
  });
});

describe('readCsv with other layouts', () => {
  it("reads BCCD's layout (cell_type, xmax before ymin, no image size) and says how", async () => {
    const dir = await makeTree({
      'ann.csv': 'filename,cell_type,xmin,xmax,ymin,ymax\nb.jpg,RBC,10,50,20,60\nb.jpg,WBC,1,2,3,4\n',
      'b.jpg': IMG,
    });
    const file = path.join(dir, 'ann.csv');
    for (const columns of [undefined, 'class=cell_type']) {
      const r = await readCsv({ annotations: file, ...(columns ? { columns } : {}) });
      const { items, errors } = await collectImport(r);
      expect(errors).toEqual([]);
      expect(items).toEqual([
        {
          id: 'b.jpg',
          source: { file, line: 2 },
          imagePath: path.join(dir, 'b.jpg'),
          coords: 'pixel',
          objects: [
            { className: 'RBC', xmin: 10, ymin: 20, xmax: 50, ymax: 60, source: { file, line: 2 } },
            { className: 'WBC', xmin: 1, ymin: 3, xmax: 2, ymax: 4, source: { file, line: 3 } },
          ],
        },
      ]);
      expect(r.notes).toHaveLength(1);
      expect(r.notes![0]!.code).toBe('csv-columns');
      expect(r.notes![0]!.message).toContain(columns ? 'class="cell_type",' : 'class="cell_type" (the one column left)');
      expect(r.notes![0]!.message).toMatch(/no image width\/height columns/);
    }
  });

  it('recognises common aliases, with the image size when the file states it', async () => {
    const dir = await makeTree({
      'ann.csv': 'image_path,Label,x1,y1,x2,y2,image_width,image_height\nsub/a.png,cat,1,2,3,4,640,480\n',
      'sub/a.png': IMG,
    });
    const r = await readCsv({ annotations: path.join(dir, 'ann.csv') });
    const { items } = await collectImport(r);
    expect(items).toMatchObject([{ id: 'sub/a.png', width: 640, height: 480, objects: [{ className: 'cat', xmin: 1, ymin: 2, xmax: 3, ymax: 4 }] }]);
    expect(r.notes![0]!.message).toBe(
      'CSV columns read as filename="image_path", width="image_width", height="image_height", class="Label", xmin="x1", ymin="y1", xmax="x2", ymax="y2"; coordinates in pixels',
    );
  });

  it('reads a file without a header row by column indexes (line 1 is data)', async () => {
    const dir = await makeTree({
      'ann.csv': 'a.jpg,1,2,3,4,cat\na.jpg,5,6,7,8,dog\nb.jpg,1,2,3\n',
      'a.jpg': IMG,
      'b.jpg': IMG,
    });
    const file = path.join(dir, 'ann.csv');
    const r = await readCsv({ annotations: file, columns: 'filename=0,class=5,xmin=1,ymin=2,xmax=3,ymax=4' });
    const { items, errors } = await collectImport(r);
    expect(items).toMatchObject([
      {
        id: 'a.jpg',
        source: { line: 1 },
        objects: [
          { className: 'cat', xmin: 1 },
          { className: 'dog', xmin: 5 },
        ],
      },
    ]);
    expect(errors).toMatchObject([{ code: 'malformed-annotation', itemId: 'b.jpg', source: { line: 3 }, reason: 'row has 4 columns, line 1 has 6' }]);
    expect(r.notes![0]!.message).toMatch(/^CSV columns read as filename=column 0, class=column 5, .*; no header row; no image width\/height columns/);
  });

  it('takes coordinates as fractions with coords: normalized', async () => {
    const dir = await makeTree({ 'ann.csv': 'filename,class,xmin,ymin,xmax,ymax\na.jpg,cat,0.1,0.2,0.3,0.4\n', 'a.jpg': IMG });
    const r = await readCsv({ annotations: path.join(dir, 'ann.csv'), coords: 'normalized' });
    const { items } = await collectImport(r);
    expect(items).toMatchObject([{ coords: 'normalized', objects: [{ xmin: 0.1, ymax: 0.4 }] }]);
    expect(r.notes![0]!.message).toMatch(/coordinates in fractions of the image size$/);
  });

  it('adds no note for the canonical header', async () => {
    const dir = await makeTree({ 'ann.csv': 'filename,width,height,class,xmin,ymin,xmax,ymax\na.jpg,9,9,cat,1,2,3,4\n', 'a.jpg': IMG });
    const r = await readCsv({ annotations: path.join(dir, 'ann.csv') });
    expect(r.notes).toEqual([]);
  });

  it('refuses mappings that cannot be right, naming the problem', async () => {
    const dir = await makeTree({ 'h.csv': 'image,label,x1,y1,x2,y2\na.jpg,cat,1,2,3,4\n', 'n.csv': 'a.jpg,cat,1,2\n', 'a.jpg': IMG });
    const h = path.join(dir, 'h.csv');
    const n = path.join(dir, 'n.csv');
    await expect(readCsv({ annotations: h, columns: 'class=kind' })).rejects.toMatchObject({
      line: 1,
      message: expect.stringMatching(/class=kind: the header has no column "kind" \(it has image, label, x1, y1, x2, y2\)/),
    });
    await expect(readCsv({ annotations: h, columns: 'class=label,filename=0' })).rejects.toMatchObject({
      code: 'bad-argument',
      message: expect.stringMatching(/not a mix/),
    });
    await expect(readCsv({ annotations: h, columns: 'klass=label' })).rejects.toMatchObject({ code: 'bad-argument' });
    await expect(readCsv({ annotations: n, columns: 'filename=0,class=1' })).rejects.toThrow(/must give xmin, ymin, xmax, ymax too/);
    await expect(readCsv({ annotations: n, columns: 'filename=0,class=1,xmin=2,ymin=3,xmax=4,ymax=5' })).rejects.toThrow(
      /names column 5, but the first row has only 4 columns/,
    );
    await expect(readCsv({ annotations: n, columns: 'filename=0,class=0,xmin=1,ymin=2,xmax=3,ymax=4' })).rejects.toThrow(/column 0 to both filename and class/);
    const twice = await makeTree({ 'd.csv': 'image,label,x1,y1,x2,y2,Label\n' });
    await expect(readCsv({ annotations: path.join(twice, 'd.csv') })).rejects.toThrow(
      /column class appears twice in the header \("label", "Label"\); name the one to use/,
    );
  });

  it('detectCsv accepts headers it can read without a mapping', async () => {
    const dir = await makeTree({
      'bccd.csv': 'filename,cell_type,xmin,xmax,ymin,ymax\n',
      'alias.csv': 'image,category,left,top,right,bottom\n',
      'xywh.csv': 'image,label,x,y,w,h\n',
    });
    expect(await detectCsv(path.join(dir, 'bccd.csv'))).toBe(true);
    expect(await detectCsv(path.join(dir, 'alias.csv'))).toBe(true);
    expect(await detectCsv(path.join(dir, 'xywh.csv'))).toBe(false);
  });
});
