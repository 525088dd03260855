// Hostile annotated datasets for the importers and for `convert`: images
// beside symlinks that lead out of the images folder (to a "secret" image of
// a size no other image has), `../` and absolute names, a PNG claiming
// 60000x60000 pixels, cut and empty images, a folder named like an image;
// and annotations in COCO, VOC, YOLO or CSV with odd values, odd class
// names, and byte-level damage.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { mutateBytes } from './random.js';

/** The secret image's size: no image inside the images folder has it, so a record of this size was read from outside. */
export const SECRET_SIZE = { width: 41, height: 29 };

/** Real images made once per campaign with sharp (the project's own dependency). */
export async function imageAssets(assets) {
  if (assets.images) return assets.images;
  const { default: sharp } = await import('sharp');
  const make = (width, height, format, seed) =>
    sharp({ create: { width, height, channels: 3, background: { r: (seed * 53) % 256, g: (seed * 97) % 256, b: (seed * 31) % 256 } } })
      .toFormat(format)
      .toBuffer();
  assets.images = {
    jpegs: await Promise.all([make(32, 24, 'jpeg', 1), make(48, 48, 'jpeg', 2), make(64, 16, 'jpeg', 3)]),
    png: await make(20, 30, 'png', 4),
    secret: await make(SECRET_SIZE.width, SECRET_SIZE.height, 'jpeg', 5),
  };
  return assets.images;
}

function pngChunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** A small PNG file whose header claims `width` x `height` pixels (only a few rows of data follow). */
export function bombPng(width = 60000, height = 60000) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const rows = Buffer.alloc(4 * (1 + width * 3)); // four rows of filter byte + black pixels
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(rows)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A JPEG whose frame header (SOF0) claims another size. */
function resizedJpegHeader(jpeg, width, height) {
  const buf = Buffer.from(jpeg);
  for (let i = 2; i + 9 < buf.length; i++) {
    if (buf[i] === 0xff && (buf[i + 1] === 0xc0 || buf[i + 1] === 0xc2)) {
      buf.writeUInt16BE(height, i + 5);
      buf.writeUInt16BE(width, i + 7);
      break;
    }
  }
  return buf;
}

const CLASS_NAMES = ['cat', 'dog', 'bird'];
const ODD_CLASS_NAMES = ['', ' cat ', 'CAT', 'ü-ñ', 'x'.repeat(400), 'a"b', 'a,b', 'a\nb', '1', 'null', '<tag>', '\u0000'];

/**
 * Writes the images folder (and an `outside` folder next to it) into `dir`.
 * With `real`, images are real files (for convert); otherwise empty files
 * (the importers never open images). Returns the names annotations may use.
 */
export async function writeImages(rng, dir, { real, assets }) {
  const images = join(dir, 'images');
  const outside = join(dir, 'outside');
  await mkdir(images, { recursive: true });
  await mkdir(outside, { recursive: true });
  const pics = real ? await imageAssets(assets) : undefined;
  await writeFile(join(outside, 'secret.jpg'), pics ? pics.secret : 'SECRET');
  await writeFile(join(outside, 'secret.txt'), 'SECRET TEXT');
  const good = [];
  const n = rng.range(1, 5);
  for (let i = 0; i < n; i++) {
    const png = rng.bool(0.25);
    const name = `img${i}.${png ? 'png' : 'jpg'}`;
    await writeFile(join(images, name), pics ? (png ? pics.png : rng.pick(pics.jpegs)) : '');
    good.push(name);
  }
  const names = [...good];
  const add = async (name, make) => {
    if (!rng.bool(0.5)) return;
    try {
      await make(join(images, name));
      names.push(name);
    } catch {
      // a name the file system refuses (too long): the annotation may still use it
      names.push(name);
    }
  };
  await add('link-out.jpg', (p) => symlink('../outside/secret.jpg', p));
  await add('link-abs.jpg', (p) => symlink(join(outside, 'secret.jpg'), p));
  await add('link-text.jpg', (p) => symlink('../outside/secret.txt', p));
  await add('link-in.jpg', (p) => symlink(good[0], p));
  await add('loop.jpg', (p) => symlink('loop.jpg', p));
  await add('dangling.jpg', (p) => symlink('nowhere.jpg', p));
  await add('sub', (p) => symlink('../outside', p));
  if (rng.bool(0.5)) names.push('sub/secret.jpg');
  await add('folder.jpg', (p) => mkdir(p));
  await add('zero.jpg', (p) => writeFile(p, ''));
  await add('garbage.jpg', (p) => writeFile(p, rng.bytes(rng.range(1, 300))));
  await add('text.png', (p) => writeFile(p, 'not a png at all'));
  if (pics) {
    await add('bomb.png', (p) => writeFile(p, bombPng(rng.pick([60000, 30000, 65535]), rng.pick([60000, 1, 65535]))));
    await add('bomb.jpg', (p) => writeFile(p, resizedJpegHeader(pics.jpegs[0], 65000, 65000)));
    await add('cut.jpg', (p) => writeFile(p, pics.jpegs[1].subarray(0, rng.range(2, pics.jpegs[1].length - 1))));
    await add('cut.png', (p) => writeFile(p, pics.png.subarray(0, rng.range(8, pics.png.length - 1))));
  }
  await add(`${'n'.repeat(rng.pick([200, 250]))}.jpg`, (p) => writeFile(p, pics ? pics.jpegs[0] : ''));
  // Names that exist nowhere or point out of the folder; never created.
  for (const odd of [
    '../outside/secret.jpg',
    join(outside, 'secret.jpg'),
    `${'m'.repeat(300)}.jpg`,
    'missing.jpg',
    './img0.jpg',
    'img0.jpg/..',
    'IMG0.JPG',
    'a\u0000b.jpg',
    '',
  ]) {
    if (rng.bool(0.3)) names.push(odd);
  }
  return { images, outside, good, names };
}

/** A number as it might appear in an annotation: mostly plausible, sometimes hostile. */
function value(rng, plausible) {
  return rng.weighted([
    [12, () => plausible],
    [1, () => -plausible - 1],
    [1, () => rng.pick([0, -0, 1e308, 1e-320, 2 ** 53 + 1, 4294967296, 0.5])],
    [1, () => rng.pick(['NaN', 'Infinity', '-Infinity', '1e999', '12px', '', ' 7 ', '0x10', '1,5'])],
  ])();
}

/** Objects of an image: boxes in pixels of a `w` x `h` image, class names mostly known. */
function objectsFor(rng, w, h) {
  return Array.from(
    {
      length: rng.weighted([
        [1, 0],
        [6, rng.range(1, 3)],
        [0.2, rng.range(50, 300)],
      ]),
    },
    () => {
      const x0 = rng.int(Math.max(1, w - 2));
      const y0 = rng.int(Math.max(1, h - 2));
      return {
        name: rng.bool(0.85) ? rng.pick(CLASS_NAMES) : rng.pick(ODD_CLASS_NAMES),
        xmin: value(rng, x0),
        ymin: value(rng, y0),
        xmax: value(rng, Math.min(w, x0 + rng.range(1, w))),
        ymax: value(rng, Math.min(h, y0 + rng.range(1, h))),
      };
    },
  );
}

/** Items: an image name from `names` with a claimed size and its objects. */
function itemsFor(rng, names) {
  return Array.from({ length: rng.range(1, Math.max(2, names.length + 1)) }, () => {
    const w = rng.pick([32, 48, 64, 20, 41]);
    const h = rng.pick([24, 48, 16, 30, 29]);
    return { name: rng.pick(names), width: value(rng, w), height: value(rng, h), objects: objectsFor(rng, w, h) };
  });
}

/** JSON text for a value; numbers given as strings that look numeric are written bare (so 1e999 and 2^53+1 reach the scanner as written). */
function json(v) {
  if (typeof v === 'string' && /^-?(?:\d+(?:\.\d+)?(?:e-?\d+)?|1e999)$/.test(v)) return v;
  if (typeof v === 'number' && !Number.isFinite(v)) return JSON.stringify(String(v));
  if (typeof v === 'number' && Object.is(v, -0)) return '-0';
  return JSON.stringify(v);
}

function cocoText(rng, items) {
  const bigIds = rng.bool(0.2);
  const id = (i) => (bigIds ? rng.pick([`${2n ** 53n + BigInt(i)}`, `${i}`, '-1', '1.5', '"7"', 'null']) : `${i + 1}`);
  const catIds = CLASS_NAMES.map((_, i) => (rng.bool(0.95) ? String(i + 1) : rng.pick(['0', '-3', '"x"', '1e400'])));
  const images = items.map((it, i) => `{"id":${id(i)},"file_name":${JSON.stringify(it.name)},"width":${json(it.width)},"height":${json(it.height)}}`);
  const anns = [];
  items.forEach((it, i) => {
    for (const o of it.objects) {
      const cat = CLASS_NAMES.indexOf(o.name);
      const catId = cat >= 0 ? catIds[cat] : rng.pick(['99', '"cat"', 'null']);
      const bbox = [
        o.xmin,
        o.ymin,
        typeof o.xmax === 'number' && typeof o.xmin === 'number' ? o.xmax - o.xmin : o.xmax,
        typeof o.ymax === 'number' && typeof o.ymin === 'number' ? o.ymax - o.ymin : o.ymax,
      ];
      const box = rng.weighted([
        [10, () => `[${bbox.map(json).join(',')}]`],
        [1, () => `[${bbox.slice(0, rng.range(0, 3)).map(json).join(',')}]`],
        [1, () => rng.pick(['null', '"1,2,3,4"', '{}', '[[1,2,3,4]]', `[1,2,3,4,5]`])],
      ])();
      anns.push(
        `{"id":${anns.length + 1},"image_id":${id(i)},"category_id":${catId},"bbox":${box},"iscrowd":${rng.pick(['0', '0', '1', '2', '"no"'])},"area":${json(value(rng, 10))}}`,
      );
    }
  });
  const cats = CLASS_NAMES.map((n, i) => `{"id":${catIds[i]},"name":${JSON.stringify(n)}}`);
  let extra = '';
  if (rng.bool(0.1)) {
    const depth = rng.pick([100, 10_000, 200_000]);
    extra = `"deep":${'['.repeat(depth)}${rng.bool(0.5) ? ']'.repeat(depth) : ''},`;
  } else if (rng.bool(0.05)) extra = `"long":"${'z'.repeat(rng.pick([1e5, 3e6]))}",`;
  return `${rng.bool(0.05) ? '\ufeff' : ''}{${extra}"images":[${images.join(',')}],"annotations":[${anns.join(',')}],"categories":[${cats.join(',')}]}`;
}

function xmlEscape(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

function vocText(rng, it) {
  const objs = it.objects
    .map(
      (o) =>
        `<object><name>${xmlEscape(o.name)}</name><difficult>${rng.pick(['0', '1', 'yes', ''])}</difficult><bndbox><xmin>${xmlEscape(o.xmin)}</xmin><ymin>${xmlEscape(o.ymin)}</ymin><xmax>${xmlEscape(o.xmax)}</xmax><ymax>${xmlEscape(o.ymax)}</ymax></bndbox></object>`,
    )
    .join('\n');
  let extra = '';
  const shape = rng.next();
  if (shape < 0.1) {
    const depth = rng.pick([100, 5000, 100_000]);
    extra = `${'<a>'.repeat(depth)}${rng.bool(0.5) ? '</a>'.repeat(depth) : ''}`;
  } else if (shape < 0.2) {
    extra = rng.pick([
      '<!DOCTYPE a [<!ENTITY x "xxxxxxxxxx"><!ENTITY y "&x;&x;&x;&x;">]>',
      '&#0;',
      '&#x110000;',
      '&unknown;',
      '<![CDATA[ x ]]>',
      '<?pi x?>',
      '<!-- c -->',
      '<b a="1" a="2"/>',
    ]);
  }
  return `<?xml version="1.0"?>\n<annotation>${extra}<filename>${xmlEscape(it.name)}</filename><size><width>${xmlEscape(it.width)}</width><height>${xmlEscape(it.height)}</height><depth>3</depth></size>\n${objs}\n</annotation>\n`;
}

function csvField(v) {
  const s = String(v);
  return /[",\n\r]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvText(rng, items) {
  const lines = ['filename,width,height,class,xmin,ymin,xmax,ymax'];
  for (const it of items) {
    const rows = it.objects.length > 0 ? it.objects : [{ name: '', xmin: '', ymin: '', xmax: '', ymax: '' }];
    for (const o of rows) lines.push([it.name, it.width, it.height, o.name, o.xmin, o.ymin, o.xmax, o.ymax].map(csvField).join(','));
  }
  if (rng.bool(0.05)) lines.push(`${'q'.repeat(rng.pick([1e5, 2e6]))},1,1,cat,0,0,1,1`);
  if (rng.bool(0.05)) lines.push('"unterminated,1,2,cat,0,0,1,1');
  return (rng.bool(0.05) ? '\ufeff' : '') + lines.join(rng.bool(0.2) ? '\r\n' : '\n') + (rng.bool(0.5) ? '\n' : '');
}

function yoloLine(rng, o, w, h) {
  const cls = CLASS_NAMES.indexOf(o.name);
  const c = cls >= 0 ? cls : rng.pick([3, -1, 1.5, 'x', 99999999999]);
  const n = (v, d) => (typeof v === 'number' ? v / d : v);
  const cx = typeof o.xmin === 'number' && typeof o.xmax === 'number' ? (o.xmin + o.xmax) / 2 / w : n(o.xmin, w);
  const cy = typeof o.ymin === 'number' && typeof o.ymax === 'number' ? (o.ymin + o.ymax) / 2 / h : n(o.ymin, h);
  const bw = typeof o.xmin === 'number' && typeof o.xmax === 'number' ? (o.xmax - o.xmin) / w : o.xmax;
  const bh = typeof o.ymin === 'number' && typeof o.ymax === 'number' ? (o.ymax - o.ymin) / h : o.ymax;
  const fields = [c, cx, cy, bw, bh];
  if (rng.bool(0.05)) fields.push(rng.pick([0.9, 'extra']));
  if (rng.bool(0.05)) fields.pop();
  return fields.join(rng.pick([' ', ' ', '\t', '  ']));
}

/** Byte-level damage to an annotation file, sometimes. */
function damage(rng, text) {
  const bytes = Buffer.from(text, 'utf8');
  if (!rng.bool(0.2)) return bytes;
  return rng.bool(0.2) ? Buffer.concat([bytes, Buffer.from([0xff, 0xfe, 0xc3])]) : Buffer.from(mutateBytes(rng, bytes).bytes);
}

/**
 * Writes a hostile dataset of `format` into `dir`. Returns what `convert`
 * (and the importer) needs: the annotation path, the images root, the
 * classes file for YOLO, and the folder outside the images root.
 */
export async function writeDataset(rng, dir, format, { real = false, assets = {} } = {}) {
  const pics = await writeImages(rng, dir, { real, assets });
  const items = itemsFor(rng, pics.names);
  if (format === 'coco') {
    const annotations = join(dir, 'instances.json');
    await writeFile(annotations, damage(rng, cocoText(rng, items)));
    return { ...pics, annotations };
  }
  if (format === 'csv') {
    const annotations = join(dir, 'annotations.csv');
    await writeFile(annotations, damage(rng, csvText(rng, items)));
    return { ...pics, annotations };
  }
  if (format === 'voc') {
    const annotations = join(dir, 'Annotations');
    await mkdir(annotations, { recursive: true });
    for (let i = 0; i < items.length; i++) await writeFile(join(annotations, `a${i}.xml`), damage(rng, vocText(rng, items[i])));
    return { ...pics, annotations };
  }
  // YOLO: one label file per image stem in labels/, a class list beside it.
  const annotations = join(dir, 'labels');
  await mkdir(annotations, { recursive: true });
  const classes = join(dir, 'classes.txt');
  await writeFile(classes, rng.bool(0.9) ? CLASS_NAMES.join('\n') + '\n' : damage(rng, ODD_CLASS_NAMES.slice(0, rng.range(1, 6)).join('\n')));
  for (const it of items) {
    const stem = it.name.replace(/\.[^.]*$/, '');
    if (stem === '' || stem.includes('/') || stem.includes('\u0000') || stem.length > 240) continue;
    const file = join(annotations, `${stem}.txt`);
    if (rng.bool(0.05)) {
      await symlink('../outside/secret.txt', file).catch(() => undefined);
      continue;
    }
    const w = typeof it.width === 'number' && it.width > 0 ? it.width : 32;
    const h = typeof it.height === 'number' && it.height > 0 ? it.height : 24;
    await writeFile(file, damage(rng, it.objects.map((o) => yoloLine(rng, o, w, h)).join('\n'))).catch(() => undefined);
  }
  if (rng.bool(0.05)) await writeFile(join(annotations, 'huge.txt'), '0 0.5 0.5 0.1 0.1\n'.repeat(rng.pick([1e4, 2e5])));
  return { ...pics, annotations, classes };
}
