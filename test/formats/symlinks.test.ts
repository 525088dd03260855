/**
 * Symlinks inside the images folder that lead outside it are refused as item
 * errors (never read) in every format, unless the user opts in; links that
 * stay inside, and YOLO label files that are links, work. A file name too
 * long for the file system is an item error, not the end of the run.
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCoco, readCsv, readLabelMe, readOpenImages, readVertex, readVoc, readYolo } from 'tfrecord-od/formats';
import { collectImport } from '../../src/formats/common.js';
import { IMG, makeTree } from './helpers.js';

/** A dataset root with images/{a.jpg, inside.jpg → a.jpg, outside.jpg → ../secret.jpg, sub → ../elsewhere}. */
async function linkedTree(): Promise<string> {
  const dir = await makeTree({ 'secret.jpg': 'private bytes', 'elsewhere/b.jpg': IMG, 'images/a.jpg': IMG });
  await symlink(path.join(dir, 'images', 'a.jpg'), path.join(dir, 'images', 'inside.jpg'));
  await symlink(path.join(dir, 'secret.jpg'), path.join(dir, 'images', 'outside.jpg'));
  await symlink(path.join(dir, 'elsewhere'), path.join(dir, 'images', 'sub'));
  return dir;
}

const NAMES = ['a.jpg', 'inside.jpg', 'outside.jpg', 'sub/b.jpg'];

function verdicts(r: Awaited<ReturnType<typeof collectImport>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const i of r.items) out[i.id] = 'ok';
  for (const e of r.errors) out[e.itemId!] = e.code;
  return out;
}

const EXPECTED = { 'a.jpg': 'ok', 'inside.jpg': 'ok', 'outside.jpg': 'image-outside-root', 'sub/b.jpg': 'image-outside-root' };

describe('symlinks out of the images folder', () => {
  it('CSV', async () => {
    const dir = await linkedTree();
    const csv = path.join(dir, 'a.csv');
    await writeFile(csv, ['filename,width,height,class,xmin,ymin,xmax,ymax', ...NAMES.map((n) => `${n},10,10,cat,1,1,5,5`)].join('\n') + '\n');
    const r = await collectImport(await readCsv({ annotations: csv, images: path.join(dir, 'images') }));
    expect(verdicts(r)).toEqual(EXPECTED);
    const outside = r.errors.find((e) => e.itemId === 'outside.jpg')!;
    expect(outside.reason).toMatch(/outside\.jpg leads through a symlink to .*secret\.jpg, outside .*images; not read \(pass --allow-symlinks-outside-images/);
    const allowed = await collectImport(await readCsv({ annotations: csv, images: path.join(dir, 'images'), allowSymlinksOutside: true }));
    expect(allowed.errors).toEqual([]);
  });

  it('COCO', async () => {
    const dir = await linkedTree();
    const json = path.join(dir, 'instances.json');
    await writeFile(
      json,
      JSON.stringify({
        images: NAMES.map((n, i) => ({ id: i + 1, file_name: n, width: 10, height: 10 })),
        annotations: NAMES.map((_, i) => ({ id: i + 1, image_id: i + 1, category_id: 1, bbox: [1, 1, 4, 4] })),
        categories: [{ id: 1, name: 'cat' }],
      }),
    );
    expect(verdicts(await collectImport(await readCoco({ annotations: json, images: path.join(dir, 'images') })))).toEqual(EXPECTED);
  });

  it('VOC', async () => {
    const dir = await linkedTree();
    await mkdir(path.join(dir, 'ann'));
    for (const n of NAMES) {
      const xml = `<annotation><filename>${n}</filename><size><width>10</width><height>10</height></size><object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object></annotation>`;
      await writeFile(path.join(dir, 'ann', `${n.replace('/', '_')}.xml`), xml);
    }
    expect(verdicts(await collectImport(await readVoc({ annotations: path.join(dir, 'ann'), images: path.join(dir, 'images') })))).toEqual(EXPECTED);
  });

  it('YOLO: a linked image out of the folder is refused; a linked label file inside is read', async () => {
    const dir = await makeTree({ 'secret.jpg': 'x', 'classes.txt': 'cat\n', 'images/a.jpg': IMG, 'labels/real.txt': '0 0.5 0.5 0.2 0.2\n' });
    await symlink(path.join(dir, 'secret.jpg'), path.join(dir, 'images', 'outside.jpg'));
    await symlink(path.join(dir, 'labels', 'real.txt'), path.join(dir, 'labels', 'a.txt'));
    const r = await collectImport(await readYolo({ annotations: path.join(dir, 'labels'), images: path.join(dir, 'images') }));
    const a = r.items.find((i) => i.id === 'a.jpg')!;
    expect(a.objects).toHaveLength(1);
    expect(r.errors.filter((e) => e.itemId === 'outside.jpg').map((e) => e.code)).toEqual(['image-outside-root']);
  });
});

describe('symlinks out of the folders of the newer importers', () => {
  it('Vertex AI: a --path-map folder bounds its gs:// images as the images root bounds local paths', async () => {
    const dir = await linkedTree();
    const jsonl = path.join(dir, 'import.jsonl');
    const box = { displayName: 'cat', xMin: 0.1, yMin: 0.1, xMax: 0.5, yMax: 0.5 };
    const lines = NAMES.map((n) => JSON.stringify({ imageGcsUri: `gs://bucket/data/${n}`, boundingBoxAnnotations: [box] }));
    // A local path (no gs://) is bounded by the images root: the same link is refused there too.
    lines.push(JSON.stringify({ imageGcsUri: 'outside.jpg', boundingBoxAnnotations: [box] }));
    await writeFile(jsonl, lines.join('\n') + '\n');
    const options = { annotations: jsonl, images: path.join(dir, 'images'), pathMap: { 'gs://bucket/data': path.join(dir, 'images') } };
    const r = await collectImport(await readVertex(options));
    expect(verdicts(r)).toEqual({
      'gs://bucket/data/a.jpg': 'ok',
      'gs://bucket/data/inside.jpg': 'ok',
      'gs://bucket/data/outside.jpg': 'image-outside-root',
      'gs://bucket/data/sub/b.jpg': 'image-outside-root',
      'outside.jpg': 'image-outside-root',
    });
    expect(r.errors.find((e) => e.itemId === 'gs://bucket/data/outside.jpg')!.reason).toMatch(
      /leads through a symlink to .*secret\.jpg, outside .*images; not read \(pass --allow-symlinks-outside-images/,
    );
    expect((await collectImport(await readVertex({ ...options, allowSymlinksOutside: true }))).errors).toEqual([]);
  });

  it('LabelMe: an imagePath through a symlink out of the images root is refused, not swapped for the embedded copy', async () => {
    const dir = await linkedTree();
    const images = path.join(dir, 'images');
    const rect = {
      label: 'cat',
      shape_type: 'rectangle',
      points: [
        [1, 1],
        [5, 5],
      ],
    };
    // The JSON files beside the images, one per image; imagePath is relative to the JSON.
    for (const n of NAMES) await writeFile(path.join(images, `${n.replace('/', '_')}.json`), JSON.stringify({ imagePath: n, imageData: null, shapes: [rect] }));
    // An embedded copy beside a link out of the root: the link is still refused.
    await writeFile(path.join(images, 'emb.json'), JSON.stringify({ imagePath: 'outside.jpg', imageData: Buffer.from(IMG).toString('base64'), shapes: [] }));
    const options = { annotations: images, images };
    const r = await collectImport(await readLabelMe(options));
    expect(verdicts(r)).toEqual(EXPECTED);
    expect(
      r.errors
        .filter((e) => e.code === 'image-outside-root')
        .map((e) => path.basename(e.source.file))
        .sort(),
    ).toEqual(['emb.json', 'outside.jpg.json', 'sub_b.jpg.json']);
    expect(r.errors[0]!.reason).toMatch(/leads through a symlink to .*, outside .*images; not read \(pass --allow-symlinks-outside-images/);
    const allowed = await collectImport(await readLabelMe({ ...options, allowSymlinksOutside: true }));
    expect(allowed.errors.filter((e) => e.code === 'image-outside-root')).toEqual([]);
    // Allowed, both emb.json and (later, in name order) outside.jpg.json describe outside.jpg.
    expect(allowed.items.map((i) => i.id).sort()).toEqual([...NAMES].sort());
    expect(allowed.errors.map((e) => [path.basename(e.source.file), e.code])).toEqual([['outside.jpg.json', 'duplicate-item']]);
  });

  it('Open Images: <ImageID>.jpg through a symlink out of the images folder is refused', async () => {
    const dir = await linkedTree();
    const csv = path.join(dir, 'boxes.csv');
    const header = 'ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,IsTruncated,IsGroupOf,IsDepiction,IsInside';
    await writeFile(csv, [header, ...['a', 'inside', 'outside'].map((id) => `${id},x,/m/cat,1,0.1,0.5,0.1,0.5,0,0,0,0,0`)].join('\n') + '\n');
    const r = await collectImport(await readOpenImages({ annotations: csv, images: path.join(dir, 'images') }));
    expect(verdicts(r)).toEqual({ 'a.jpg': 'ok', 'inside.jpg': 'ok', 'outside.jpg': 'image-outside-root' });
  });
});

describe('file names the file system refuses', () => {
  it('a 300-character name is an item error of its own, with its line', async () => {
    const dir = await makeTree({ 'images/a.jpg': IMG });
    const csv = path.join(dir, 'a.csv');
    const long = `${'x'.repeat(300)}.jpg`;
    await writeFile(csv, `filename,width,height,class,xmin,ymin,xmax,ymax\na.jpg,10,10,cat,1,1,5,5\n${long},10,10,cat,1,1,5,5\n`);
    const r = await collectImport(await readCsv({ annotations: csv, images: path.join(dir, 'images') }));
    expect(r.items.map((i) => i.id)).toEqual(['a.jpg']);
    expect(r.errors).toMatchObject([{ code: 'missing-image', source: { line: 3 }, reason: expect.stringMatching(/name too long|image file not found/) }]);
    // In words, not as Node's "ENAMETOOLONG: name too long, lstat '…'" (found by the fuzz campaign).
    expect(r.errors[0]!.reason).not.toMatch(/ENAMETOOLONG|lstat/);
  });

  it('a symlink loop or a dangling link is an item error in words, in YOLO (which lists the folder) too', async () => {
    const dir = await makeTree({ 'classes.txt': 'cat\n', 'images/a.jpg': IMG, 'labels/a.txt': '0 0.5 0.5 0.2 0.2\n' });
    await symlink('loop.jpg', path.join(dir, 'images', 'loop.jpg'));
    await symlink('nowhere.jpg', path.join(dir, 'images', 'dangling.jpg'));
    const yolo = await collectImport(await readYolo({ annotations: path.join(dir, 'labels'), images: path.join(dir, 'images') }));
    expect(yolo.items.map((i) => i.id)).toEqual(['a.jpg']);
    expect(verdicts(yolo)).toEqual({ 'a.jpg': 'ok', 'loop.jpg': 'missing-image', 'dangling.jpg': 'missing-image' });
    const csv = path.join(dir, 'a.csv');
    await writeFile(csv, 'filename,width,height,class,xmin,ymin,xmax,ymax\nloop.jpg,10,10,cat,1,1,5,5\n');
    const r = await collectImport(await readCsv({ annotations: csv, images: path.join(dir, 'images') }));
    expect(r.errors).toMatchObject([{ code: 'missing-image', reason: expect.stringContaining('a loop of symbolic links') }]);
    for (const e of [...yolo.errors, ...r.errors]) expect(e.reason).not.toMatch(/ELOOP|\bstat '/);
  });
});
