import { createReadStream } from 'node:fs';
import { decodeChecked, Utf8LineCheck } from '../../utf8.js';
import path from 'node:path';
import { AnnotationError, describeFsError } from '../../errors.js';
import { loadClassList } from '../classes.js';
import { checkClass, extent, invertedBoxReason, notUtf8Reason, parseDecimal } from '../common.js';
import { type CsvRecord, parseCsvStream } from '../csv/parse.js';
import { readHead } from '../head.js';
import { imageFileProblem, isFile, resolveImagePath, type ResolvedImage } from '../paths.js';
import { GroupedRows, type RowImage } from '../rows.js';
import type { ImportEntry, ImportNote, ImportOptions, ImportResult, ItemError } from '../types.js';
import { CSV_COORDINATE_FIELDS, GCS_SCHEME, ML_USE_KEY, ML_USE_SPLITS, VERTEX_SPLITS } from './format.js';
import { mapUri, sortPathMap, unmappedMessage } from './path-map.js';

/**
 * Options used:
 * - `annotations`: the import file, JSON Lines or CSV (told apart by its
 *   first character, not its name).
 * - `pathMap`: `gs://` prefix → local folder. Every `gs://` image must be
 *   covered, or the import fails with one error naming the folders to map.
 * - `images`: the root for image paths that are not `gs://` URIs (default:
 *   the file's directory), so a file written for local images works too.
 * - `classes`: declared list; other names are `unknown-class`.
 * - `allowSymlinksOutside`: an image reached through a symlink that leads
 *   out of its folder (the `--path-map` folder of a `gs://` image, else the
 *   images root) is refused unless this is set, as in the other importers.
 * - `empty`. `crowd`, `imageSet` are ignored.
 *
 * An item's id is its URI as written. Its `split` is the file's ml_use as
 * an output split name (training → train, validation → val, test → test);
 * unassigned images have none, and convert divides them like Vertex AI
 * does (VERTEX_SPLITS). A `gs://` URI listed on several lines is one image
 * with all their boxes, as Vertex AI merges them.
 */
export type VertexReadOptions = Pick<ImportOptions, 'annotations' | 'images' | 'classes' | 'empty' | 'pathMap' | 'allowSymlinksOutside'>;

type ErrorCode = ItemError['code'];

export async function readVertex(options: VertexReadOptions): Promise<ImportResult> {
  const file = path.resolve(options.annotations);
  if (!(await isFile(file))) throw new AnnotationError('annotation', 'Vertex AI import file not found', { file });
  const imagesRoot = path.resolve(options.images ?? path.dirname(file));
  const declared = options.classes !== undefined ? await loadClassList(options.classes) : undefined;
  const declaredSet = declared ? new Set(declared) : undefined;
  const mappings = sortPathMap(options.pathMap);
  const head = (await readHead(file, 1024)) ?? '';
  const jsonLines = head
    .replace(/^\uFEFF/, '')
    .trimStart()
    .startsWith('{');
  const notes: ImportNote[] = [];

  // Lines of the file whose bytes are not UTF-8 (both readers below fill it as they read).
  const utf8 = new Utf8LineCheck();

  /** Adds one box, checked; `g` is the image's group. */
  const addBox = (rows: GroupedRows, g: number, line: number, className: string, corners: Array<number | undefined>, written: string): void => {
    if (className.includes('\uFFFD') && utf8.has(line)) return rows.error(g, line, 'malformed-annotation', notUtf8Reason(className));
    const notDeclared = checkClass(className, declaredSet);
    if (notDeclared) return rows.error(g, line, 'unknown-class', notDeclared);
    if (corners.some((v) => v === undefined))
      return rows.error(g, line, 'box-without-coordinates', `box ${JSON.stringify(className)} has missing or non-numeric coordinates (${written})`);
    const [xmin, ymin, xmax, ymax] = corners as [number, number, number, number];
    const inverted = invertedBoxReason({ xmin, ymin, xmax, ymax });
    if (inverted) return rows.error(g, line, 'invalid-box', `box ${JSON.stringify(className)}: ${inverted}`);
    rows.box(g, line, className, xmin, ymin, xmax, ymax);
  };

  /** Sets the image's split from an ml_use value; false (with the error recorded) when the value is not one. */
  const setMlUse = (rows: GroupedRows, g: number, line: number, written: string): boolean => {
    const key = written.trim().toLowerCase();
    if (!Object.hasOwn(ML_USE_SPLITS, key)) {
      rows.error(g, line, 'malformed-annotation', `ml_use ${JSON.stringify(written)} is not one of training, validation, test, unassigned`);
      return false;
    }
    const split = ML_USE_SPLITS[key];
    return split === null || rows.split(g, split!, written, line);
  };

  async function readJsonLines(rows: GroupedRows): Promise<void> {
    const stream = createReadStream(file);
    let line = 0;
    try {
      for await (const raw of boundedLines(decodeChecked(stream as AsyncIterable<Buffer>, utf8))) {
        line++;
        if (raw === undefined) {
          rows.error(
            undefined,
            line,
            'malformed-annotation',
            `the line is longer than ${MAX_JSONL_LINE_CHARS.toLocaleString('en-US')} characters (the limit per line); it was skipped unread`,
          );
          continue;
        }
        const text = line === 1 ? raw.replace(/^\uFEFF/, '') : raw;
        if (text.trim() === '') continue;
        addJsonLine(rows, text, line);
      }
    } catch (cause) {
      throw new AnnotationError('annotation', `cannot read the import file: ${describeFsError(cause)}`, { file, line, cause });
    } finally {
      stream.destroy();
    }
  }

  function addJsonLine(rows: GroupedRows, text: string, line: number): void {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      return rows.error(undefined, line, 'malformed-annotation', `not valid JSON: ${(err as Error).message}`);
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
      return rows.error(undefined, line, 'malformed-annotation', 'a line must be a JSON object');
    const d = doc as Record<string, unknown>;
    const uri = typeof d.imageGcsUri === 'string' ? d.imageGcsUri.trim() : '';
    if (uri === '') return rows.error(undefined, line, 'malformed-annotation', 'no "imageGcsUri"');
    const g = rows.image(uri, line);
    const labels = d.dataItemResourceLabels;
    if (labels !== undefined && (typeof labels !== 'object' || labels === null))
      return rows.error(g, line, 'malformed-annotation', '"dataItemResourceLabels" must be an object');
    const mlUse = (labels as Record<string, unknown> | undefined)?.[ML_USE_KEY];
    if (mlUse !== undefined) {
      if (typeof mlUse !== 'string') return rows.error(g, line, 'malformed-annotation', `"${ML_USE_KEY}" must be a string`);
      if (!setMlUse(rows, g, line, mlUse)) return;
    }
    const boxes = d.boundingBoxAnnotations ?? [];
    if (!Array.isArray(boxes)) return rows.error(g, line, 'malformed-annotation', '"boundingBoxAnnotations" must be an array');
    for (const [i, b] of boxes.entries()) {
      if (typeof b !== 'object' || b === null) {
        rows.error(g, line, 'malformed-annotation', `boundingBoxAnnotations[${i}] is not an object`);
        continue;
      }
      const box = b as Record<string, unknown>;
      const name = typeof box.displayName === 'string' ? box.displayName : '';
      if (name.trim() === '') {
        rows.error(g, line, 'malformed-annotation', `boundingBoxAnnotations[${i}] has no "displayName"`);
        continue;
      }
      const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
      const corners = [num(box.xMin), num(box.yMin), num(box.xMax), num(box.yMax)];
      addBox(rows, g, line, name, corners, ['xMin', 'yMin', 'xMax', 'yMax'].map((k) => `${k}=${JSON.stringify(box[k])}`).join(', '));
    }
  }

  async function readCsvRows(rows: GroupedRows): Promise<void> {
    const stream = createReadStream(file);
    try {
      for await (const rec of parseCsvStream(decodeChecked(stream as AsyncIterable<Buffer>, utf8))) addCsvRow(rows, rec);
    } catch (cause) {
      throw new AnnotationError('annotation', `cannot read the import file: ${describeFsError(cause)}`, { file, cause });
    } finally {
      stream.destroy();
    }
  }

  function addCsvRow(rows: GroupedRows, rec: CsvRecord): void {
    const fields = rec.fields.map((f) => f.trim());
    // A first field that is no path, before a gs:// one, is a misspelt ML_USE: reported as such, not read as a path.
    const hasMlUse = Object.hasOwn(ML_USE_SPLITS, fields[0]!.toLowerCase()) || (!fields[0]!.startsWith(GCS_SCHEME) && (fields[1] ?? '').startsWith(GCS_SCHEME));
    const uri = (hasMlUse ? fields[1] : fields[0]) ?? '';
    if (uri === '') return rows.error(undefined, rec.line, 'malformed-annotation', 'row names no image');
    const g = rows.image(uri, rec.line);
    const err = (code: ErrorCode, reason: string) => rows.error(g, rec.line, code, reason);
    if (rec.error) return err('malformed-annotation', rec.error);
    if (hasMlUse && !setMlUse(rows, g, rec.line, fields[0]!)) return;
    const rest = fields.slice(hasMlUse ? 2 : 1);
    if (rest.length > 1 + CSV_COORDINATE_FIELDS)
      return err(
        'malformed-annotation',
        `row has ${fields.length} columns; at most ${(hasMlUse ? 2 : 1) + 1 + CSV_COORDINATE_FIELDS} are expected ([ML_USE,]GCS_FILE_PATH,LABEL and 8 coordinates)`,
      );
    const label = rest[0] ?? '';
    const coords = rest.slice(1);
    if (label === '' && coords.every((c) => c === '')) return; // an image without objects
    if (label === '') return err('malformed-annotation', 'row has coordinates but no label');
    // The vertices given, as (x, y) pairs; the 2-vertex form leaves the 2nd and 4th blank.
    const xs: number[] = [];
    const ys: number[] = [];
    let bad = false;
    for (let k = 0; k < CSV_COORDINATE_FIELDS; k += 2) {
      const [x, y] = [coords[k] ?? '', coords[k + 1] ?? ''];
      if (x === '' && y === '') continue;
      const [vx, vy] = [parseDecimal(x), parseDecimal(y)];
      if (vx === undefined || vy === undefined) bad = true;
      else {
        xs.push(vx);
        ys.push(vy);
      }
    }
    const written = coords.join(',');
    if (bad || xs.length < 2) return addBox(rows, g, rec.line, label, [undefined], written);
    const e = extent(xs, ys);
    addBox(rows, g, rec.line, label, [e.xmin, e.ymin, e.xmax, e.ymax], written);
  }

  /** A gs:// URI through the path map, anything else inside the images root; the id is the URI as written. */
  const resolve = (image: RowImage): ResolvedImage => {
    if (!image.key.startsWith(GCS_SCHEME)) return resolveImagePath(imagesRoot, image.key);
    const mapped = mapUri(image.key, mappings)!;
    const r = resolveImagePath(mapped.mapping.dir, mapped.rest);
    return r.ok ? { ...r, id: image.key } : r;
  };

  async function* entries(): AsyncGenerator<ImportEntry> {
    const rows = new GroupedRows(file);
    await (jsonLines ? readJsonLines(rows) : readCsvRows(rows));
    // Unmapped gs:// images are one problem with one fix, so they are one error, before any item.
    const unmapped = rows.images.filter((i) => i.key.startsWith(GCS_SCHEME) && mapUri(i.key, mappings) === undefined).map((i) => i.key);
    if (unmapped.length > 0) throw new AnnotationError('bad-argument', unmappedMessage(unmapped, mappings), { file });
    result.expectedItems = rows.images.length;
    notes.push(splitNote(rows.images));
    // A mapped folder bounds its images as the images root bounds the others.
    const rootOf = (image: RowImage) => (image.key.startsWith(GCS_SCHEME) ? mapUri(image.key, mappings)!.mapping.dir : imagesRoot);
    yield* rows.entries(resolve, 'normalized', options.empty, (p, image) => imageFileProblem(path.resolve(rootOf(image)), p, options.allowSymlinksOutside));
  }

  const result: ImportResult = { ...(declared ? { classOrder: declared } : {}), notes, entries: entries() };
  return result;
}

/** How many images the file puts in each split, and what happens to the rest. */
function splitNote(images: readonly RowImage[]): ImportNote {
  const counts = new Map<string, number>();
  let unassigned = 0;
  for (const i of images) {
    if (i.split === undefined) unassigned++;
    else counts.set(i.split, (counts.get(i.split) ?? 0) + 1);
  }
  const assigned = VERTEX_SPLITS.filter((s) => counts.has(s.name)).map((s) => `${counts.get(s.name)} to ${s.name}`);
  const fractions = VERTEX_SPLITS.map((s) => Math.round(s.fraction * 100)).join('/');
  const parts = [
    assigned.length > 0 ? `the file's ml_use assigns ${assigned.join(', ')}` : 'the file assigns no image to a split (no ml_use)',
    ...(unassigned > 0
      ? [
          `${unassigned} unassigned image${unassigned === 1 ? ' is' : 's are'} divided ${fractions} into ${VERTEX_SPLITS.map((s) => s.name).join('/')} by content, as Vertex AI divides them by default`,
        ]
      : []),
  ];
  return { code: 'assigned-splits', message: `${parts.join('; ')}` };
}

/**
 * The longest JSON Lines line read (characters): room for the 100,000 boxes
 * an image may hold (~120 characters each) and more. readline would gather
 * a line of any length in memory first, so a crafted file of one endless
 * line could take gigabytes; past this a line is skipped unread.
 */
export const MAX_JSONL_LINE_CHARS = 64 * 1024 * 1024;

/**
 * The lines of a text stream (\n or \r\n endings), each at most `max`
 * characters; a longer line is not gathered but skipped to its end and
 * yielded as undefined, so the caller can name its line number.
 */
export async function* boundedLines(chunks: AsyncIterable<string>, max = MAX_JSONL_LINE_CHARS): AsyncGenerator<string | undefined> {
  let parts: string[] = [];
  let length = 0;
  let skipping = false;
  const finish = (): string | undefined => {
    const text = skipping ? undefined : parts.join('').replace(/\r$/, '');
    parts = [];
    length = 0;
    skipping = false;
    return text;
  };
  for await (const chunk of chunks) {
    let from = 0;
    for (let nl = chunk.indexOf('\n'); ; nl = chunk.indexOf('\n', from)) {
      const piece = chunk.slice(from, nl === -1 ? chunk.length : nl);
      if (!skipping) {
        length += piece.length;
        // A \r before the \n is not part of the line.
        if (length - (nl !== -1 && piece.endsWith('\r') ? 1 : 0) > max) {
          skipping = true;
          parts = [];
        } else parts.push(piece);
      }
      if (nl === -1) break;
      yield finish();
      from = nl + 1;
    }
  }
  if (length > 0 || skipping) yield finish();
}
