import { readFile } from 'node:fs/promises';
import { isUtf8 } from '../../utf8.js';
import path from 'node:path';
import { AnnotationError, describeFsError } from '../../errors.js';
import { loadClassList } from '../classes.js';
import { checkClass, extent, finishItem, notUtf8Reason } from '../common.js';
import { imageFileProblem, isDirectory, isFile, resolveImagePath, walkFiles, type ResolvedImage } from '../paths.js';
import type { ImportEntry, ImportNote, ImportOptions, ImportResult, ItemError, SourceItem, SourceObject, SourceRef } from '../types.js';
import { ANNOTATION_EXT, AREA_SHAPES, DEFAULT_SHAPE, IMAGE_DATA_KEY, NO_AREA_SHAPES } from './format.js';

/**
 * Options used:
 * - `annotations`: a folder of LabelMe JSON files (searched recursively,
 *   in name order), or one such file.
 * - `images`: the images root: every image must lie inside it (default: the
 *   annotations folder). `imagePath` is read relative to its JSON file, so
 *   with JSON files in `labels/` and images in `images/`
 *   (`"imagePath": "../images/a.jpg"`), give the folder holding both.
 * - `classes`: declared list; other labels are `unknown-class`.
 * - `allowSymlinksOutside`: an `imagePath` that reaches its image through a
 *   symlink leading out of the images root is refused unless this is set
 *   (the embedded copy is not used instead: the file named is what the
 *   annotation means, and the refusal says how to allow it).
 * - `empty`. `crowd`, `imageSet` are ignored.
 *
 * Rectangles are boxes; polygons, circles and masks become their bounding
 * boxes, and points and lines (no area) are left out, each with a note
 * counting them. When the image file is missing but the JSON embeds it
 * (`imageData`), the embedded bytes are used (`SourceItem.embedded`).
 */
export type LabelMeReadOptions = Pick<ImportOptions, 'annotations' | 'images' | 'classes' | 'empty' | 'allowSymlinksOutside'>;

type ShapeCounts = Map<string, number>;

export async function readLabelMe(options: LabelMeReadOptions): Promise<ImportResult> {
  const given = path.resolve(options.annotations);
  let files: string[];
  let annotationsDir: string;
  if (await isDirectory(given)) {
    annotationsDir = given;
    try {
      files = (await walkFiles(given)).filter((f) => f.toLowerCase().endsWith(ANNOTATION_EXT)).map((f) => path.join(given, ...f.split('/')));
    } catch (cause) {
      throw new AnnotationError('annotation', `cannot list LabelMe annotations: ${describeFsError(cause)}`, { file: given, cause });
    }
  } else if (await isFile(given)) {
    annotationsDir = path.dirname(given);
    files = [given];
  } else {
    throw new AnnotationError('annotation', 'LabelMe annotations not found (a folder of .json files, or one file)', { file: given });
  }
  const imagesRoot = path.resolve(options.images ?? annotationsDir);
  const declared = options.classes !== undefined ? await loadClassList(options.classes) : undefined;
  const declaredSet = declared ? new Set(declared) : undefined;
  const notes: ImportNote[] = [];

  async function* entries(): AsyncGenerator<ImportEntry> {
    const seen = new Map<string, string>();
    const asBox: ShapeCounts = new Map();
    const ignored: ShapeCounts = new Map();
    for (const file of files) {
      let text: string;
      let utf8: boolean;
      try {
        const bytes = await readFile(file);
        utf8 = isUtf8(bytes);
        text = bytes.toString('utf8');
      } catch (cause) {
        yield { ok: false, error: { source: { file }, code: 'malformed-annotation', reason: `cannot read: ${describeFsError(cause)}` } };
        continue;
      }
      const ctx = { file, imagesRoot, annotationsDir, declared: declaredSet, seen, asBox, ignored, allowOutside: options.allowSymlinksOutside ?? false, utf8 };
      for (const entry of await readOne(ctx, text)) {
        if (entry.ok && entry.item.objects.length === 0 && options.empty === 'drop') continue;
        yield entry;
      }
    }
    // Known once every file has been read (see ImportResult.notes).
    if (asBox.size > 0) notes.push({ code: 'shape-as-box', message: `${describeCounts(asBox)} converted to their bounding boxes` });
    if (ignored.size > 0)
      notes.push({ code: 'shapes-ignored', message: `${describeCounts(ignored)} left out: they have no area, so they cannot be a detection box` });
  }

  return { ...(declared ? { classOrder: declared } : {}), expectedItems: files.length, notes, entries: entries() };
}

/** "3 polygon shapes and 1 circle shape were" */
function describeCounts(counts: ShapeCounts): string {
  const parts = [...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([type, n]) => `${n} ${type} shape${n === 1 ? '' : 's'}`);
  const list = parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return `${list} ${total === 1 ? 'was' : 'were'}`;
}

interface ReadContext {
  file: string;
  imagesRoot: string;
  annotationsDir: string;
  declared: ReadonlySet<string> | undefined;
  /** Image id → the JSON file that described it first. */
  seen: Map<string, string>;
  asBox: ShapeCounts;
  ignored: ShapeCounts;
  /** ImportOptions.allowSymlinksOutside. */
  allowOutside: boolean;
  /**
   * Whether the file's bytes are UTF-8. When they are not, a label holding
   * U+FFFD is taken to be where the bad bytes were (JSON.parse of the decoded
   * text cannot say which string they were in).
   */
  utf8: boolean;
}

const ABSOLUTE = /^(?:[a-zA-Z]:|[\\/])/;

/** Parses one JSON file into entries (one item, or its errors). */
async function readOne(ctx: ReadContext, text: string): Promise<ImportEntry[]> {
  const { file } = ctx;
  const source: SourceRef = { file };
  const malformed = (reason: string): ImportEntry[] => [{ ok: false, error: { source, code: 'malformed-annotation', reason } }];
  let doc: unknown;
  try {
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    return malformed(`not valid JSON: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return malformed('not a LabelMe file: the top level is not an object');
  const d = doc as Record<string, unknown>;
  if (!Array.isArray(d.shapes)) return malformed('not a LabelMe file: no "shapes" array');
  const written = typeof d.imagePath === 'string' && d.imagePath.trim() !== '' ? d.imagePath.trim() : undefined;
  const embedded = typeof d[IMAGE_DATA_KEY] === 'string' && (d[IMAGE_DATA_KEY] as string).length > 0;
  if (written === undefined && !embedded) return malformed('neither "imagePath" nor "imageData": no image to convert');

  // imagePath is relative to the JSON file; the root bounds where it may lead.
  let resolved: ResolvedImage | undefined;
  if (written !== undefined) {
    if (ABSOLUTE.test(written)) resolved = resolveImagePath(ctx.imagesRoot, written);
    else {
      const fromRoot = path
        .relative(ctx.imagesRoot, path.dirname(file))
        .split(path.sep)
        .filter((s) => s !== '');
      resolved = resolveImagePath(ctx.imagesRoot, [...fromRoot, ...written.split(/[\\/]/)].join('/'));
    }
  }
  // The image file as the other importers judge it: a symlink out of the
  // root is refused outright; a missing file may be stood in for by imageData.
  const unusable = resolved?.ok === true ? imageFileProblem(ctx.imagesRoot, resolved.imagePath, ctx.allowOutside) : undefined;
  if (resolved?.ok === true && unusable?.code === 'image-outside-root') {
    return [{ ok: false, error: { source, itemId: resolved.id, code: unusable.code, reason: unusable.reason } }];
  }
  const exists = resolved?.ok === true && unusable === undefined;
  let item: SourceItem;
  const errors: ItemError[] = [];
  if (exists || !embedded) {
    if (!resolved!.ok) return [{ ok: false, error: { source, code: resolved!.code, reason: resolved!.reason } }];
    item = { id: resolved!.id, source, imagePath: resolved!.imagePath, coords: 'pixel', objects: [] };
    if (!exists)
      errors.push({
        source,
        itemId: item.id,
        code: 'missing-image',
        reason: `image file not found: ${resolved!.imagePath} (and the JSON embeds no imageData)`,
      });
  } else {
    // The embedded copy stands in for the file. Its id is the image's own
    // path when that lies inside the root, else the JSON's path with the
    // image's extension, so it is still unique and says what it is.
    const jsonId = path
      .relative(ctx.annotationsDir, file)
      .split(path.sep)
      .join('/')
      .replace(/\.json$/i, '');
    const id = resolved?.ok ? resolved.id : jsonId + (written !== undefined ? path.extname(written.replace(/\\/g, '/')) : '');
    item = { id, source, imagePath: file, coords: 'pixel', objects: [], embedded: { key: IMAGE_DATA_KEY } };
  }
  const err = (code: ItemError['code'], reason: string, at: SourceRef = source): void => {
    errors.push({ source: at, itemId: item.id, code, reason });
  };
  const first = ctx.seen.get(item.id);
  if (first !== undefined) err('duplicate-item', `${first} already describes ${item.id}`);
  else ctx.seen.set(item.id, file);

  for (const key of ['imageWidth', 'imageHeight'] as const) {
    const v = d[key];
    if (v === undefined || v === null || v === 0) continue;
    if (typeof v !== 'number' || !(v > 0)) err('malformed-annotation', `"${key}" is not a positive number: ${JSON.stringify(v)}`);
    else item[key === 'imageWidth' ? 'width' : 'height'] = v;
  }

  d.shapes.forEach((shape: unknown, i: number) => {
    const at: SourceRef = { file, index: i, pointer: `/shapes/${i}` };
    const built = buildObject(shape, at, ctx);
    if (built === undefined) return;
    if ('error' in built) err(built.error.code, built.error.reason, at);
    else item.objects.push(built.object);
  });
  return finishItem(item, errors, 'keep');
}

type Built = { object: SourceObject } | { error: { code: ItemError['code']; reason: string } } | undefined;

/** One shape as a box; undefined for a shape with no area (counted as left out). */
function buildObject(shape: unknown, at: SourceRef, ctx: ReadContext): Built {
  const fail = (code: ItemError['code'], reason: string): Built => ({ error: { code, reason } });
  if (typeof shape !== 'object' || shape === null) return fail('malformed-annotation', 'shape is not an object');
  const s = shape as Record<string, unknown>;
  const label = typeof s.label === 'string' ? s.label : '';
  if (label.trim() === '') return fail('malformed-annotation', 'shape has no "label"');
  const type = s.shape_type === undefined || s.shape_type === null ? DEFAULT_SHAPE : String(s.shape_type);
  if ((NO_AREA_SHAPES as readonly string[]).includes(type)) {
    ctx.ignored.set(type, (ctx.ignored.get(type) ?? 0) + 1);
    return undefined;
  }
  if (!(AREA_SHAPES as readonly string[]).includes(type))
    return fail('malformed-annotation', `shape ${JSON.stringify(label)} has an unknown shape_type ${JSON.stringify(type)}`);
  if (!ctx.utf8 && label.includes('\uFFFD')) return fail('malformed-annotation', notUtf8Reason(label));
  const notDeclared = checkClass(label, ctx.declared);
  if (notDeclared) return fail('unknown-class', notDeclared);
  const points = Array.isArray(s.points) ? s.points : [];
  const xy: Array<[number, number]> = [];
  for (const p of points) {
    if (!Array.isArray(p) || p.length < 2 || typeof p[0] !== 'number' || typeof p[1] !== 'number' || !Number.isFinite(p[0]) || !Number.isFinite(p[1])) {
      return fail('box-without-coordinates', `shape ${JSON.stringify(label)}: points must be [x, y] number pairs, got ${JSON.stringify(p)}`);
    }
    xy.push([p[0], p[1]]);
  }
  const needed = type === 'polygon' ? 3 : 2;
  if (xy.length < needed)
    return fail('box-without-coordinates', `${type} ${JSON.stringify(label)} has ${xy.length} point${xy.length === 1 ? '' : 's'}; it needs at least ${needed}`);
  let corners: { xmin: number; ymin: number; xmax: number; ymax: number };
  if (type === 'circle') {
    // Centre, then a point on the circle.
    const [[cx, cy], [px, py]] = xy as [[number, number], [number, number]];
    const r = Math.hypot(px - cx, py - cy);
    corners = { xmin: cx - r, ymin: cy - r, xmax: cx + r, ymax: cy + r };
  } else {
    // A rectangle's two points may be any two opposite corners, in any order.
    const xs = xy.map((p) => p[0]);
    const ys = xy.map((p) => p[1]);
    corners = extent(xs, ys);
  }
  if (type !== 'rectangle') ctx.asBox.set(type, (ctx.asBox.get(type) ?? 0) + 1);
  return { object: { className: label, ...corners, source: at } };
}
