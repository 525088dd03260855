import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { AnnotationError, describeFsError } from '../../errors.js';
import { isAre, plural } from '../../words.js';
import { loadClassList } from '../classes.js';
import { finishItem, invertedBoxReason, MAX_BOXES_PER_IMAGE, parseDecimal, tooManyBoxesReason } from '../common.js';
import { imageFileProblem, isDirectory, isFile, walkFiles } from '../paths.js';
import type { ImportEntry, ImportOptions, ImportResult, ItemError, SourceItem, SourceRef } from '../types.js';
import { CLASS_FILE_NAMES, FIELDS_PER_LINE, IMAGE_EXTENSIONS, IMAGES_SEGMENT, LABEL_EXT, LABELS_SEGMENT } from './format.js';

/**
 * Options used:
 * - `annotations`: the labels directory (searched recursively; a label's path
 *   relative to it must match its image's path relative to `images`).
 * - `images`: the images directory. Default: the labels path with its last
 *   `labels` segment replaced by `images` when that exists (Ultralytics and
 *   Roboflow: `train/labels` + `train/images`), else the labels directory
 *   itself (darknet keeps `.jpg` and `.txt` side by side).
 * - `classes`: `data.yaml`/`.yml` (`names`), a one-per-line file, or a list.
 *   Default: the first of data.yaml, data.yml, classes.txt, obj.names found in
 *   the labels directory, its parent or its grandparent.
 * - `empty`. `crowd` and `imageSet` are ignored.
 *
 * The images directory is the source of items: an image without a label file
 * is a negative. Boxes stay normalized (`coords: 'normalized'`) because label
 * files do not say how big the image is.
 */
export type YoloReadOptions = Pick<ImportOptions, 'annotations' | 'images' | 'classes' | 'empty' | 'allowSymlinksOutside'>;

export async function readYolo(options: YoloReadOptions): Promise<ImportResult> {
  const labelsDir = path.resolve(options.annotations);
  if (!(await isDirectory(labelsDir))) {
    throw new AnnotationError('annotation', 'YOLO annotations must be the labels directory', { file: labelsDir });
  }
  const imagesDir = options.images !== undefined ? path.resolve(options.images) : await defaultImagesDir(labelsDir);
  if (!(await isDirectory(imagesDir))) {
    throw new AnnotationError('annotation', 'YOLO images directory not found', { file: imagesDir });
  }

  const classesSource = options.classes ?? (await findClassFile(labelsDir));
  if (classesSource === undefined) {
    throw new AnnotationError(
      'annotation',
      `YOLO labels hold class indices only; pass classes (data.yaml, classes.txt or obj.names) — none of ${CLASS_FILE_NAMES.join(', ')} was found near the labels`,
      { file: labelsDir },
    );
  }
  const classOrder = await loadClassList(classesSource);
  const classFile = typeof classesSource === 'string' ? path.resolve(classesSource) : undefined;

  const [imageFiles, labelFiles] = await Promise.all([walkFiles(imagesDir), walkFiles(labelsDir)]);

  // Image stem (relative path without extension) -> image paths with that stem.
  const imagesByStem = new Map<string, string[]>();
  for (const rel of imageFiles) {
    const ext = path.posix.extname(rel).toLowerCase();
    if (!IMAGE_EXTENSIONS.includes(ext)) continue;
    const stem = rel.slice(0, rel.length - ext.length);
    const list = imagesByStem.get(stem);
    if (list) list.push(rel);
    else imagesByStem.set(stem, [rel]);
  }
  const labelStems = new Set<string>();
  for (const rel of labelFiles) {
    if (!rel.toLowerCase().endsWith(LABEL_EXT)) continue;
    labelStems.add(rel.slice(0, rel.length - LABEL_EXT.length));
  }

  async function* entries(): AsyncGenerator<ImportEntry> {
    // Items in image path order (walkFiles sorts), so output is reproducible.
    for (const rel of imageFiles) {
      const ext = path.posix.extname(rel).toLowerCase();
      if (!IMAGE_EXTENSIONS.includes(ext)) continue;
      const stem = rel.slice(0, rel.length - ext.length);
      const labelPath = path.join(labelsDir, ...(stem + LABEL_EXT).split('/'));
      const hasLabel = labelStems.has(stem);
      const source: SourceRef = { file: hasLabel ? labelPath : path.join(imagesDir, ...rel.split('/')) };
      const item: SourceItem = { id: rel, source, imagePath: path.join(imagesDir, ...rel.split('/')), coords: 'normalized', objects: [] };
      const errors: ItemError[] = [];
      const twins = imagesByStem.get(stem)!;
      if (twins.length > 1) {
        // a.jpg and a.png would both claim a.txt; picking one silently could label the wrong picture.
        errors.push({ source, itemId: rel, code: 'duplicate-item', reason: `images ${twins.join(', ')} share the label file ${stem}${LABEL_EXT}` });
      }
      const outside = imageFileProblem(imagesDir, item.imagePath, options.allowSymlinksOutside);
      if (outside) errors.push({ source, itemId: rel, ...outside });
      const labelOutside = hasLabel ? imageFileProblem(labelsDir, labelPath, options.allowSymlinksOutside) : undefined;
      if (labelOutside) errors.push({ source, itemId: rel, code: labelOutside.code, reason: `label file: ${labelOutside.reason}` });
      if (hasLabel && !labelOutside) {
        let text: string;
        try {
          text = await readFile(labelPath, 'utf8');
        } catch (cause) {
          errors.push({ source, itemId: rel, code: 'malformed-annotation', reason: `cannot read label file: ${describeFsError(cause)}` });
          text = '';
        }
        parseLabelLines(text, labelPath, rel, classOrder, item, errors);
        if (item.objects.length === 0 && errors.length === 0) item.labelFile = 'empty';
      } else {
        item.labelFile = 'missing';
      }
      yield* finishItem(item, errors, options.empty);
    }

    // Label files with no image: reported after the items, in path order.
    for (const stem of [...labelStems].sort()) {
      if (imagesByStem.has(stem)) continue;
      const file = path.join(labelsDir, ...(stem + LABEL_EXT).split('/'));
      if (file === classFile || CLASS_FILE_NAMES.includes(path.posix.basename(stem + LABEL_EXT))) continue;
      yield {
        ok: false,
        error: {
          source: { file },
          itemId: stem,
          code: 'missing-image',
          reason: `no image ${stem}{${IMAGE_EXTENSIONS.join(',')}} in ${imagesDir} for this label file`,
        },
      };
    }
  }

  let expectedItems = 0;
  for (const list of imagesByStem.values()) expectedItems += list.length;
  return { classOrder, expectedItems, entries: entries() };
}

/**
 * Parses `class cx cy w h` lines into corner boxes, appending objects or
 * errors. Lines are taken one at a time rather than split all at once, and
 * parsing stops at the first box line past MAX_BOXES_PER_IMAGE (a box or an
 * error each), so a label file of millions of lines costs its text and at
 * most that many boxes or errors.
 */
export function parseLabelLines(text: string, file: string, itemId: string, classOrder: readonly string[], item: SourceItem, errors: ItemError[]): void {
  let boxLines = 0;
  let line = 0;
  for (let from = 0; from <= text.length; ) {
    line++;
    let to = text.indexOf('\n', from);
    if (to < 0) to = text.length;
    // Fields are found in place (no copy of the line, no regex split): at
    // millions of lines the garbage of those copies was most of the time.
    const fields: string[] = [];
    for (let k = from; k < to; ) {
      while (k < to && isSpace(text.charCodeAt(k))) k++;
      if (k === to) break;
      const start = k;
      while (k < to && !isSpace(text.charCodeAt(k))) k++;
      fields.push(text.slice(start, k));
    }
    from = to + 1;
    if (fields.length === 0) continue;
    const err = (code: ItemError['code'], reason: string): void => {
      errors.push({ source: { file, line }, itemId, code, reason });
    };
    if (++boxLines > MAX_BOXES_PER_IMAGE) {
      err('malformed-annotation', tooManyBoxesReason());
      return;
    }
    parseLabelLine(fields, file, line, classOrder, item, err);
  }
}

/** JavaScript's whitespace (what `trim()` and `\s` take), so fields split as `line.trim().split(/\s+/)` would. */
function isSpace(c: number): boolean {
  if (c < 0x80) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  return (
    c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

function parseLabelLine(
  fields: string[],
  file: string,
  line: number,
  classOrder: readonly string[],
  item: SourceItem,
  err: (code: ItemError['code'], reason: string) => void,
): void {
  if (fields.length !== FIELDS_PER_LINE) {
    err('malformed-annotation', `expected ${FIELDS_PER_LINE} fields "class cx cy w h", got ${fields.length}`);
    return;
  }
  const [cls, ...rest] = fields as [string, string, string, string, string];
  if (!/^\d+$/.test(cls)) {
    err('malformed-annotation', `class index ${JSON.stringify(cls)} is not a non-negative integer`);
    return;
  }
  const index = Number(cls);
  if (index >= classOrder.length) {
    err(
      'unknown-class',
      `class index ${index} is out of range: ${plural(classOrder.length, 'class', 'classes')} ${isAre(classOrder.length)} declared (0..${classOrder.length - 1})`,
    );
    return;
  }
  const nums = rest.map((t) => parseDecimal(t));
  if (nums.some((v) => v === undefined)) {
    err('box-without-coordinates', `box values must be numbers, got ${rest.join(' ')}`);
    return;
  }
  const [cx, cy, w, h] = nums as [number, number, number, number];
  if (w < 0 || h < 0) {
    err('invalid-box', `box has a negative size: w=${w} h=${h}`);
    return;
  }
  const corners = { xmin: cx - w / 2, ymin: cy - h / 2, xmax: cx + w / 2, ymax: cy + h / 2 };
  const inverted = invertedBoxReason(corners);
  if (inverted) {
    err('invalid-box', inverted);
    return;
  }
  // Index 0 is the first name; shifting to the 1-based label ids of the TF schema happens downstream.
  item.objects.push({ className: classOrder[index]!, ...corners, source: { file, line } });
}

async function defaultImagesDir(labelsDir: string): Promise<string> {
  const parts = labelsDir.split(path.sep);
  const at = parts.lastIndexOf(LABELS_SEGMENT);
  if (at >= 0) {
    const swapped = [...parts.slice(0, at), IMAGES_SEGMENT, ...parts.slice(at + 1)].join(path.sep);
    if (await isDirectory(swapped)) return swapped;
  }
  return labelsDir;
}

async function findClassFile(labelsDir: string): Promise<string | undefined> {
  const dirs = [labelsDir, path.dirname(labelsDir), path.dirname(path.dirname(labelsDir))];
  for (const dir of dirs) {
    for (const name of CLASS_FILE_NAMES) {
      const candidate = path.join(dir, name);
      if (await isFile(candidate)) return candidate;
    }
  }
  return undefined;
}
