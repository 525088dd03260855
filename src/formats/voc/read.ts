import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { AnnotationError, describeFsError, isTfrecordError } from '../../errors.js';
import { loadClassList } from '../classes.js';
import { checkClass, compactObject, finishItem, invertedBoxReason, MAX_BOXES_PER_IMAGE, notUtf8Reason, parseDecimal, tooManyBoxesReason } from '../common.js';
import { invalidUtf8Lines } from '../../utf8.js';
import { compareCodeUnits, isDirectory, imageFileProblem, MissingImageHints, resolveImagePath, usualImageFolders } from '../paths.js';
import type { ImportEntry, ImportOptions, ImportResult, ItemError, SourceItem, SourceObject, SourceRef } from '../types.js';
import { childElements, childText, firstChild, parseXml, textContent, type XmlElement } from '../xml.js';
import { ANNOTATION_EXT, ANNOTATIONS_DIR, IMAGE_SET_EXT, IMAGE_SETS_DIR, IMAGES_DIR, ROOT_ELEMENT } from './format.js';

/**
 * Options used:
 * - `annotations`: a VOC root (containing `Annotations/`), the `Annotations/`
 *   directory itself, or any directory of `.xml` files (Roboflow puts them
 *   beside the images).
 * - `images`: where `<filename>` is resolved. Default: `JPEGImages/` of the
 *   VOC root when there is one, otherwise the annotations directory.
 * - `imageSet`: a name, read from `<root>/ImageSets/Main/<name>.txt`, or a
 *   path ending in `.txt`. Only the first token of each line is used, so the
 *   per-class files (`cat_train.txt`: "id  1") work too.
 * - `classes`: declared class list; objects with other names are `unknown-class`.
 * - `empty`. `crowd` is ignored (VOC has no crowd flag).
 */
export type VocReadOptions = Pick<ImportOptions, 'annotations' | 'images' | 'classes' | 'imageSet' | 'empty' | 'allowSymlinksOutside'>;

const BOX_FIELDS = ['xmin', 'ymin', 'xmax', 'ymax'] as const;

export async function readVoc(options: VocReadOptions): Promise<ImportResult> {
  const given = path.resolve(options.annotations);
  if (!(await isDirectory(given))) {
    throw new AnnotationError('annotation', 'VOC annotations must be a directory (a VOC root or a folder of .xml files)', { file: given });
  }
  // Work out the VOC root, if the layout has one.
  let root: string | undefined;
  let annotationsDir = given;
  if (await isDirectory(path.join(given, ANNOTATIONS_DIR))) {
    root = given;
    annotationsDir = path.join(given, ANNOTATIONS_DIR);
  } else if (path.basename(given) === ANNOTATIONS_DIR && (await isDirectory(path.join(given, '..', IMAGES_DIR)))) {
    root = path.dirname(given);
  }
  const imagesRoot = options.images !== undefined ? path.resolve(options.images) : root !== undefined ? path.join(root, IMAGES_DIR) : annotationsDir;
  // Defaulted to the annotations' own folder, the root may be wrong: the hints also look in the usual places.
  const hints = new MissingImageHints(imagesRoot, options.images === undefined && root === undefined ? usualImageFolders(imagesRoot) : []);

  const declared = options.classes !== undefined ? await loadClassList(options.classes) : undefined;
  const declaredSet = declared ? new Set(declared) : undefined;

  const targets = options.imageSet !== undefined ? await readImageSet(options.imageSet, root, annotationsDir) : await listXml(annotationsDir);

  async function* entries(): AsyncGenerator<ImportEntry> {
    const seen = new Set<string>();
    for (const target of targets) {
      if ('error' in target) {
        yield { ok: false, error: target.error };
        continue;
      }
      const file = target.file;
      let text: string;
      let notUtf8: number[];
      try {
        const bytes = await readFile(file);
        // Lines whose bytes are not UTF-8: a class name on one is an error, not U+FFFD.
        notUtf8 = invalidUtf8Lines(bytes);
        text = bytes.toString('utf8');
      } catch (cause) {
        const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
        yield {
          ok: false,
          error: {
            source: target.source ?? { file },
            code: missing ? 'missing-annotation' : 'malformed-annotation',
            reason: missing ? `no annotation file ${file} for image-set id ${JSON.stringify(target.id)}` : `cannot read: ${describeFsError(cause)}`,
          },
        };
        continue;
      }
      for (const entry of await readOne(file, text, notUtf8, imagesRoot, declaredSet, seen, hints, options.allowSymlinksOutside)) {
        if (entry.ok && entry.item.objects.length === 0 && options.empty === 'drop') continue;
        yield entry;
      }
    }
  }

  return { ...(declared ? { classOrder: declared } : {}), expectedItems: targets.length, entries: entries() };
}

type Target = { file: string; id?: string; source?: SourceRef } | { error: ItemError };

/** Every `.xml` in the directory (not recursive), sorted by name so runs are reproducible. */
async function listXml(dir: string): Promise<Target[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (cause) {
    throw new AnnotationError('annotation', `cannot list VOC annotations: ${describeFsError(cause)}`, { file: dir, cause });
  }
  return names
    .filter((n) => n.toLowerCase().endsWith(ANNOTATION_EXT))
    .sort(compareCodeUnits)
    .map((n) => ({ file: path.join(dir, n) }));
}

async function readImageSet(imageSet: string, root: string | undefined, annotationsDir: string): Promise<Target[]> {
  let listFile: string;
  if (imageSet.toLowerCase().endsWith(IMAGE_SET_EXT)) {
    listFile = path.resolve(imageSet);
  } else if (root !== undefined) {
    listFile = path.join(root, ...IMAGE_SETS_DIR.split('/'), imageSet + IMAGE_SET_EXT);
  } else {
    throw new AnnotationError(
      'annotation',
      `image set ${JSON.stringify(imageSet)} needs a VOC root with ${IMAGE_SETS_DIR}/ (or pass a path to the .txt file)`,
      { file: annotationsDir },
    );
  }
  let text: string;
  try {
    text = await readFile(listFile, 'utf8');
  } catch (cause) {
    throw new AnnotationError('annotation', `cannot read image set: ${describeFsError(cause)}`, { file: listFile, cause });
  }
  const targets: Target[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const id = raw.trim().split(/\s+/)[0];
    if (!id) return;
    const source: SourceRef = { file: listFile, line: i + 1 };
    // The id names a file we are about to open, so it gets the same containment check as image paths.
    const resolved = resolveImagePath(annotationsDir, id + ANNOTATION_EXT);
    if (!resolved.ok) {
      targets.push({
        error: { source, itemId: id, code: 'malformed-annotation', reason: `image-set id ${JSON.stringify(id)} points outside the annotations directory` },
      });
    } else {
      targets.push({ file: resolved.imagePath, id, source });
    }
  });
  return targets;
}

/** Parses one annotation file into entries (one item, or its errors). */
async function readOne(
  file: string,
  text: string,
  notUtf8: readonly number[],
  imagesRoot: string,
  declared: ReadonlySet<string> | undefined,
  seen: Set<string>,
  hints: MissingImageHints,
  allowSymlinksOutside = false,
): Promise<ImportEntry[]> {
  const source: SourceRef = { file };
  let doc: XmlElement;
  try {
    doc = parseXml(text);
  } catch (err) {
    if (!isTfrecordError(err)) throw err;
    return [
      { ok: false, error: { source: { file, ...(err.line !== undefined ? { line: err.line } : {}) }, code: 'malformed-annotation', reason: err.reason } },
    ];
  }
  const malformed = (reason: string, line = doc.line): ImportEntry[] => [
    { ok: false, error: { source: { file, line }, code: 'malformed-annotation', reason } },
  ];
  if (doc.name !== ROOT_ELEMENT) return malformed(`root element is <${doc.name}>, expected <${ROOT_ELEMENT}>`);

  const filename = childText(doc, 'filename');
  if (!filename) return malformed('no <filename>');
  // `<path>` is ignored on purpose: it is an absolute path on the annotator's machine.
  const resolved = resolveImagePath(imagesRoot, filename);
  if (!resolved.ok) return [{ ok: false, error: { source: { file, line: firstChild(doc, 'filename')!.line }, code: resolved.code, reason: resolved.reason } }];
  const itemId = resolved.id;
  const errors: ItemError[] = [];
  const err = (code: ItemError['code'], reason: string, line: number): void => {
    errors.push({ source: { file, line }, itemId, code, reason });
  };

  if (seen.has(itemId)) err('duplicate-item', `another annotation file already describes ${itemId}`, doc.line);
  seen.add(itemId);

  const item: SourceItem = { id: itemId, source, imagePath: resolved.imagePath, coords: 'pixel', objects: [] };
  const size = firstChild(doc, 'size');
  if (size) {
    for (const key of ['width', 'height'] as const) {
      const t = childText(size, key);
      if (t === undefined || t === '') continue;
      const v = parseDecimal(t);
      if (v === undefined || v < 0) err('malformed-annotation', `<size><${key}> is not a number: ${JSON.stringify(t)}`, firstChild(size, key)!.line);
      // labelImg writes 0 when it could not read the image: that states no size at all.
      else if (v > 0) item[key] = v;
    }
  }

  let objects = 0;
  for (const obj of childElements(doc, 'object')) {
    if (++objects > MAX_BOXES_PER_IMAGE) {
      err('malformed-annotation', tooManyBoxesReason(), obj.line);
      break;
    }
    const built = buildObject(file, obj, declared, notUtf8);
    if ('error' in built) err(built.error.code, built.error.reason, built.error.line);
    else item.objects.push(built.object);
  }

  const unusable = imageFileProblem(imagesRoot, resolved.imagePath, allowSymlinksOutside, hints);
  if (unusable) err(unusable.code, unusable.reason, firstChild(doc, 'filename')!.line);
  return finishItem(item, errors, 'keep');
}

type Built = { object: SourceObject } | { error: { code: ItemError['code']; reason: string; line: number } };

function buildObject(file: string, obj: XmlElement, declared: ReadonlySet<string> | undefined, notUtf8: readonly number[]): Built {
  const fail = (code: ItemError['code'], reason: string, line = obj.line): Built => ({ error: { code, reason, line } });
  const name = childText(obj, 'name');
  if (!name) return fail('malformed-annotation', '<object> has no <name>');
  if (name.includes('\uFFFD') && notUtf8.length > 0) {
    const at = firstChild(obj, 'name')!;
    const last = at.line + (textContent(at).match(/\n/g)?.length ?? 0);
    if (notUtf8.some((l) => l >= at.line && l <= last)) return fail('malformed-annotation', notUtf8Reason(name), at.line);
  }
  const notDeclared = checkClass(name, declared);
  if (notDeclared) return fail('unknown-class', notDeclared);

  // firstChild looks at direct children only, so a <part>'s <bndbox> is never taken for the object's.
  const box = firstChild(obj, 'bndbox');
  if (!box) return fail('box-without-coordinates', `object ${JSON.stringify(name)} has no <bndbox>`);
  const corners = { xmin: 0, ymin: 0, xmax: 0, ymax: 0 };
  for (const key of BOX_FIELDS) {
    const t = childText(box, key);
    const v = parseDecimal(t);
    if (v === undefined) {
      return fail(
        'box-without-coordinates',
        t === undefined
          ? `object ${JSON.stringify(name)}: <bndbox> has no <${key}>`
          : `object ${JSON.stringify(name)}: <${key}> is not a number: ${JSON.stringify(t)}`,
        box.line,
      );
    }
    // Used as written: TensorFlow's create_pascal_tf_record divides by width/height with no -1 shift.
    corners[key] = v;
  }
  const inverted = invertedBoxReason(corners);
  if (inverted) return fail('invalid-box', `object ${JSON.stringify(name)}: ${inverted}`, box.line);

  const flags: { difficult?: boolean; truncated?: boolean } = {};
  for (const key of ['difficult', 'truncated'] as const) {
    const t = childText(obj, key);
    if (t === undefined || t === '') continue;
    const v = parseFlag(t);
    if (v === undefined) return fail('malformed-annotation', `<${key}> must be 0 or 1, got ${JSON.stringify(t)}`, firstChild(obj, key)!.line);
    flags[key] = v;
  }
  const pose = childText(obj, 'pose');
  return {
    object: compactObject({
      className: name,
      ...corners,
      ...flags,
      view: pose ? pose : undefined,
      source: { file, line: obj.line },
    }),
  };
}

function parseFlag(t: string): boolean | undefined {
  const lower = t.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  const v = parseDecimal(t);
  return v === undefined ? undefined : v !== 0;
}
