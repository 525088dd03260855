import path from 'node:path';
import { AnnotationError } from '../../errors.js';
import { loadClassList } from '../classes.js';
import { checkClass, compactObject, finishItem, invertedBoxReason, MAX_BOXES_PER_IMAGE, notUtf8Reason, tooManyBoxesReason } from '../common.js';
import { isDirectory, isFile, imageFileProblem, MissingImageHints, resolveImagePath } from '../paths.js';
import type { ImportEntry, ImportOptions, ImportResult, ItemError, SourceObject, SourceRef } from '../types.js';
import { ANNOTATIONS_DIR_NAME, IMAGES_DIR_NAME } from './format.js';
import { type RawAnnotation, type ScanOptions, scanCocoFile } from './scan.js';
import { groupIndex } from '../columns.js';

/**
 * Options used: `annotations` (the JSON file), `images`, `classes`, `crowd`,
 * `empty`, `onFileProgress`, `wholeParseBytes` (see scan.ts). `imageSet` is ignored.
 */
export type CocoReadOptions = Pick<ImportOptions, 'annotations' | 'images' | 'classes' | 'crowd' | 'empty' | 'allowSymlinksOutside'> & ScanOptions;

type CocoId = number | string;

interface CocoImage {
  index: number;
  /** Undefined when the entry's id is missing or invalid (already an error). */
  id?: CocoId;
  fileName: string;
  width?: number;
  height?: number;
  /** Problems with the image entry itself (bad width, say). */
  errors: ItemError[];
}

/**
 * Reads a COCO instances file. The file is scanned once (scan.ts), keeping
 * only the fields used, so a 400 MB file of polygons costs memory for its
 * boxes alone; annotations are grouped by image id with a Map so large files
 * stay linear.
 *
 * Items come out in `images` array order. Annotations naming an image id that
 * is not in `images` are reported after the items as `unknown-image`.
 */
export async function readCoco(options: CocoReadOptions): Promise<ImportResult> {
  const file = path.resolve(options.annotations);
  const doc = await scanCocoFile(file, options);
  const fatal = (reason: string, pointer?: string): never => {
    throw new AnnotationError('annotation', pointer ? `${pointer}: ${reason}` : reason, { file });
  };

  if (!doc.isObject) fatal('COCO file must be a JSON object');
  const rawImages = doc.images ?? fatal('missing "images" array', '/images');
  if (doc.annotations === 'not-array') fatal('"annotations" must be an array', '/annotations');
  if (doc.categories === 'not-array') fatal('"categories" must be an array', '/categories');
  // An image-info file (COCO test-dev) has no annotations: every image is a negative.
  const annotations = doc.annotations === 'absent' || doc.annotations === 'not-array' ? undefined : doc.annotations;
  const categories = doc.categories === 'absent' || doc.categories === 'not-array' ? [] : doc.categories;

  // Category table. A broken one makes every label ambiguous, so it is fatal.
  const categoryName = new Map<CocoId, string>();
  const categoryOrder: string[] = [];
  // A set beside the list: includes() on the list made 100,000 categories take seconds.
  const categoryNames = new Set<string>();
  categories.forEach((c, i) => {
    const cat = c as { id?: unknown; name?: unknown } | null;
    if (typeof cat !== 'object' || cat === null || !isId(cat.id) || typeof cat.name !== 'string' || cat.name === '') {
      fatal('category needs an "id" and a non-empty "name"', `/categories/${i}`);
    }
    const { id, name } = cat as { id: CocoId; name: string };
    if (categoryName.has(id)) fatal(`category id ${JSON.stringify(id)} is defined twice`, `/categories/${i}`);
    if (categoryNames.has(name)) fatal(`category name ${JSON.stringify(name)} is used by two ids`, `/categories/${i}`);
    if (doc.notUtf8?.has(name)) fatal(`category ${notUtf8Reason(name)}`, `/categories/${i}/name`);
    categoryName.set(id, name);
    categoryOrder.push(name);
    categoryNames.add(name);
  });

  const declared = options.classes !== undefined ? await loadClassList(options.classes) : undefined;
  const declaredSet = declared ? new Set(declared) : undefined;
  const classOrder = declared ?? categoryOrder;

  const images = indexImages(file, rawImages);
  const imagesRoot = options.images !== undefined ? path.resolve(options.images) : await defaultImagesRoot(file, images);
  const hints = new MissingImageHints(imagesRoot);

  // Annotations grouped by image id, built once: each distinct id has a slot,
  // and the annotations of slot s are order[start[s]..start[s + 1]), in file
  // order. (Typed arrays rather than a Map of arrays: 8 bytes an annotation
  // instead of ~30.)
  const slotOf = new Map<CocoId, number>();
  for (const im of images) if (im.id !== undefined && !slotOf.has(im.id)) slotOf.set(im.id, slotOf.size);
  const slots = slotOf.size;
  const annotationCount = annotations?.length ?? 0;
  const owner = new Int32Array(annotationCount);
  const orphanErrors: ItemError[] = [];
  for (let i = 0; i < annotationCount; i++) {
    const imageId = annotations!.imageId(i);
    const slot = isId(imageId) ? slotOf.get(imageId) : undefined;
    owner[i] = slot ?? -1;
    if (slot !== undefined) continue;
    orphanErrors.push({
      source: { file, index: i, pointer: `/annotations/${i}` },
      code: isId(imageId) ? 'unknown-image' : 'malformed-annotation',
      reason: isId(imageId)
        ? `annotation refers to image_id ${JSON.stringify(imageId)}, which is not in "images"`
        : idProblem('annotation "image_id"', imageId),
    });
  }
  const { start, order } = groupIndex(annotationCount, slots, (i) => owner[i]!);

  const seenIds = new Set<string>();
  const seenImageIds = new Set<CocoId>();
  /**
   * Everything about one image, synchronously: the generator below only
   * hands the results on (a plain function is much cheaper for the engine
   * to optimize than an async generator's body).
   */
  const imageEntries = (image: CocoImage): ImportEntry[] => {
    const source: SourceRef = { file, index: image.index, pointer: `/images/${image.index}` };
    const errors = [...image.errors];
    if (image.fileName === '') return errors.map((e) => ({ ok: false, error: e }));
    const resolved = resolveImagePath(imagesRoot, image.fileName);
    if (!resolved.ok) {
      // Reported before anything else and the path is never touched.
      return [{ ok: false, error: { source, code: resolved.code, reason: resolved.reason } }];
    }
    const itemId = resolved.id;
    for (const e of errors) e.itemId = itemId;
    if (image.id !== undefined && seenImageIds.has(image.id)) {
      errors.push({ source, itemId, code: 'duplicate-item', reason: `image id ${JSON.stringify(image.id)} appears twice in "images"` });
    } else if (seenIds.has(itemId)) {
      errors.push({ source, itemId, code: 'duplicate-item', reason: `file_name ${JSON.stringify(image.fileName)} appears twice in "images"` });
    }
    const firstOfId = image.id !== undefined && !seenImageIds.has(image.id);
    if (image.id !== undefined) seenImageIds.add(image.id);
    seenIds.add(itemId);

    const objects: SourceObject[] = [];
    // Annotations of a repeated id are attached to its first entry only.
    const slot = firstOfId ? (slotOf.get(image.id!) as number) : -1;
    const from = slot >= 0 ? start[slot]! : 0;
    const end = slot >= 0 ? start[slot + 1]! : 0;
    // Past MAX_BOXES_PER_IMAGE annotations are not built: the image is an error naming the first one over.
    const to = Math.min(end, from + MAX_BOXES_PER_IMAGE);
    if (end > to) {
      const over = order[to]!;
      errors.push({ source: { file, index: over, pointer: `/annotations/${over}` }, itemId, code: 'malformed-annotation', reason: tooManyBoxesReason() });
    }
    for (let k = from; k < to; k++) {
      const ai = order[k]!;
      const built = buildObject(file, ai, annotations!.get(ai), categoryName, declaredSet);
      if ('error' in built) errors.push({ ...built.error, itemId });
      else if (!(built.object.isCrowd && options.crowd === 'drop')) objects.push(built.object);
    }
    const unusable = imageFileProblem(imagesRoot, resolved.imagePath, options.allowSymlinksOutside, hints);
    if (unusable) errors.push({ source, itemId, ...unusable });
    const item = {
      id: itemId,
      source,
      imagePath: resolved.imagePath,
      ...(image.width !== undefined ? { width: image.width } : {}),
      ...(image.height !== undefined ? { height: image.height } : {}),
      coords: 'pixel' as const,
      objects,
    };
    return finishItem(item, errors, options.empty);
  };

  async function* entries(): AsyncGenerator<ImportEntry> {
    for (const image of images) yield* imageEntries(image);
    for (const error of orphanErrors) yield { ok: false, error };
  }

  return { classOrder, expectedItems: images.length, entries: entries() };
}

/**
 * A usable id: a string, or a number JSON can carry exactly. Integers beyond
 * 2^53 − 1 are not: 9007199254740993 parses as 9007199254740992, and two
 * images would silently become one (the second's boxes in the first's record).
 */
function isId(v: unknown): v is CocoId {
  return (typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER) || (typeof v === 'string' && v !== '');
}

const UNSAFE_ID = 'is beyond 2^53 − 1, where JSON numbers lose digits and distinct ids collide; write such ids as strings';

function idProblem(what: string, v: unknown): string {
  return typeof v === 'number' && Number.isFinite(v) && !isId(v) ? `${what} ${v} ${UNSAFE_ID}` : `${what} is missing or not valid`;
}

function isPositive(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0;
}

function indexImages(file: string, rawImages: unknown[]): CocoImage[] {
  return rawImages.map((raw, index) => {
    const source: SourceRef = { file, index, pointer: `/images/${index}` };
    const im = raw as { id?: unknown; file_name?: unknown; width?: unknown; height?: unknown } | null;
    const errors: ItemError[] = [];
    if (typeof im !== 'object' || im === null) {
      return { index, fileName: '', errors: [{ source, code: 'malformed-annotation', reason: 'image entry is not an object' }] };
    }
    if (!isId(im.id)) errors.push({ source, code: 'malformed-annotation', reason: idProblem('image "id"', im.id) });
    const fileName = typeof im.file_name === 'string' ? im.file_name : '';
    if (fileName === '') errors.push({ source, code: 'malformed-annotation', reason: 'image has no "file_name"' });
    const image: CocoImage = { index, fileName, errors };
    if (isId(im.id)) image.id = im.id;
    for (const key of ['width', 'height'] as const) {
      const v = im[key];
      if (v === undefined || v === null) continue;
      if (isPositive(v)) image[key] = v;
      else errors.push({ source, code: 'malformed-annotation', reason: `image ${key} ${JSON.stringify(v)} is not a positive number` });
    }
    return image;
  });
}

type Built = { object: SourceObject } | { error: ItemError };

function buildObject(file: string, index: number, a: RawAnnotation, categoryName: Map<CocoId, string>, declared: ReadonlySet<string> | undefined): Built {
  const source: SourceRef = { file, index, pointer: `/annotations/${index}` };
  const name = isId(a.category_id) ? categoryName.get(a.category_id) : undefined;
  if (name === undefined) {
    return { error: { source, code: 'unknown-class', reason: `category_id ${JSON.stringify(a.category_id)} is not in "categories"` } };
  }
  const notDeclared = checkClass(name, declared);
  if (notDeclared) return { error: { source, code: 'unknown-class', reason: notDeclared } };

  const bbox = a.bbox;
  if (bbox === undefined || bbox === null || (Array.isArray(bbox) && bbox.length === 0)) {
    return { error: { source, code: 'box-without-coordinates', reason: 'annotation has no "bbox"' } };
  }
  if (!Array.isArray(bbox) || bbox.length !== 4) {
    return { error: { source, code: 'invalid-box', reason: `bbox must be [x, y, width, height], got ${JSON.stringify(bbox)}` } };
  }
  if (!bbox.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    return { error: { source, code: 'box-without-coordinates', reason: `bbox has a non-numeric value: ${JSON.stringify(bbox)}` } };
  }
  const [x, y, w, h] = bbox as [number, number, number, number];
  if (w < 0 || h < 0) {
    return { error: { source, code: 'invalid-box', reason: `bbox has a negative size: ${JSON.stringify(bbox)}` } };
  }
  const corners = { xmin: x, ymin: y, xmax: x + w, ymax: y + h };
  const inverted = invertedBoxReason(corners);
  if (inverted) return { error: { source, code: 'invalid-box', reason: inverted } };
  return {
    object: compactObject({
      className: name,
      ...corners,
      isCrowd: a.isCrowd,
      area: a.area,
      source,
    }),
  };
}

/**
 * Where images are looked for when `images` is not given. Layouts seen in the
 * wild, tried in this order:
 *   1. the JSON's own directory (Roboflow: `train/_annotations.coco.json` beside the images);
 *   2. `<root>/images/<split>` when the JSON is `<root>/annotations/<task>_<split>.json`
 *      (Datumaro/CVAT: `annotations/instances_train.json` + `images/train/`);
 *   3. `<root>/<split>` (official COCO: `annotations/instances_val2017.json` + `val2017/`);
 *   4. `<root>/images`, then `<jsondir>/images`.
 * The first candidate in which the first image's file_name exists wins. When
 * none has it, the JSON's directory is used, so the items then report
 * `missing-image` with paths the user can recognise.
 */
async function defaultImagesRoot(file: string, images: CocoImage[]): Promise<string> {
  const dir = path.dirname(file);
  const stem = path.basename(file, path.extname(file));
  const split = stem.includes('_') ? stem.slice(stem.lastIndexOf('_') + 1) : stem;
  const candidates = [dir];
  if (path.basename(dir) === ANNOTATIONS_DIR_NAME) {
    const root = path.dirname(dir);
    candidates.push(path.join(root, IMAGES_DIR_NAME, split), path.join(root, split), path.join(root, IMAGES_DIR_NAME));
  }
  candidates.push(path.join(dir, IMAGES_DIR_NAME));
  const probe = images.find((im) => im.fileName !== '');
  if (!probe) return dir;
  for (const candidate of candidates) {
    if (!(await isDirectory(candidate))) continue;
    const r = resolveImagePath(candidate, probe.fileName);
    if (r.ok && (await isFile(r.imagePath))) return candidate;
  }
  return dir;
}
