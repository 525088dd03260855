import { createReadStream } from 'node:fs';
import path from 'node:path';
import { AnnotationError, describeFsError } from '../../errors.js';
import { plural } from '../../words.js';
import { loadClassList } from '../classes.js';
import { checkClass, finishItem, invertedBoxReason, parseDecimal } from '../common.js';
import { Column as NumberColumn, float64s, groupIndex, int32s } from '../columns.js';
import { isFile, imageFileProblem, MissingImageHints, resolveImagePath, usualImageFolders } from '../paths.js';
import type { ImportEntry, ImportOptions, ImportResult, ItemError, SourceItem, SourceObject, SourceRef } from '../types.js';
import { BOX_COLUMNS, type Column, REQUIRED_COLUMNS } from './format.js';
import { type CsvRecord, parseCsvStream } from './parse.js';

/**
 * Options used: `annotations` (the CSV file), `images` (default: the CSV's
 * directory), `classes` (declared list; other names are `unknown-class`),
 * `empty`. `crowd` and `imageSet` are ignored.
 *
 * Rows are grouped by `filename` in order of first appearance; rows of one
 * image need not be adjacent. A row whose class and four coordinates are all
 * blank marks an image with no objects.
 */
export type CsvReadOptions = Pick<ImportOptions, 'annotations' | 'images' | 'classes' | 'empty' | 'allowSymlinksOutside'>;

interface Group {
  filename: string;
  /** Line of the first row naming this file. */
  line: number;
  width?: number;
  height?: number;
  errors?: ItemError[];
}

/**
 * Every box of the file, in columns (44 bytes a box): rows of one image need
 * not be adjacent, so all of them are read before the first image comes out,
 * and a million boxes as objects would take several hundred megabytes. The
 * objects are built as each image is handed on.
 */
class BoxRows {
  readonly group = new NumberColumn(int32s, 0);
  readonly line = new NumberColumn(int32s, 0);
  readonly classIndex = new NumberColumn(int32s, 0);
  readonly xmin = new NumberColumn(float64s, 0);
  readonly ymin = new NumberColumn(float64s, 0);
  readonly xmax = new NumberColumn(float64s, 0);
  readonly ymax = new NumberColumn(float64s, 0);
  readonly classNames: string[] = [];
  private readonly classIds = new Map<string, number>();

  get length(): number {
    return this.group.length;
  }

  add(group: number, line: number, className: string, xmin: number, ymin: number, xmax: number, ymax: number): void {
    let c = this.classIds.get(className);
    if (c === undefined) {
      c = this.classNames.length;
      this.classNames.push(className);
      this.classIds.set(className, c);
    }
    this.group.push(group);
    this.line.push(line);
    this.classIndex.push(c);
    this.xmin.push(xmin);
    this.ymin.push(ymin);
    this.xmax.push(xmax);
    this.ymax.push(ymax);
  }

  /** Box indices grouped by image, each group in row order: group g is order[start[g]..start[g + 1]). */
  byGroup(groups: number): { start: Int32Array; order: Int32Array } {
    return groupIndex(this.length, groups, (b) => this.group.get(b));
  }

  object(b: number, file: string): SourceObject {
    return {
      className: this.classNames[this.classIndex.get(b)] as string,
      xmin: this.xmin.get(b),
      ymin: this.ymin.get(b),
      xmax: this.xmax.get(b),
      ymax: this.ymax.get(b),
      source: { file, line: this.line.get(b) },
    };
  }
}

export async function readCsv(options: CsvReadOptions): Promise<ImportResult> {
  const file = path.resolve(options.annotations);
  if (!(await isFile(file))) throw new AnnotationError('annotation', 'CSV annotation file not found', { file });
  const imagesRoot = path.resolve(options.images ?? path.dirname(file));
  // Left to its default (the CSV's folder), the root may be wrong: the hints also look in the usual places.
  const hints = new MissingImageHints(imagesRoot, options.images === undefined ? usualImageFolders(imagesRoot) : []);
  const declared = options.classes !== undefined ? await loadClassList(options.classes) : undefined;
  const declaredSet = declared ? new Set(declared) : undefined;

  // The header is read now so a file with the wrong columns fails the whole import up front.
  const stream = createReadStream(file, { encoding: 'utf8' });
  const records = parseCsvStream(stream as AsyncIterable<string>)[Symbol.asyncIterator]();
  let header: CsvRecord | undefined;
  try {
    const firstRecord = await records.next();
    header = firstRecord.done ? undefined : firstRecord.value;
  } catch (cause) {
    stream.destroy();
    throw new AnnotationError('annotation', `cannot read CSV: ${describeFsError(cause)}`, { file, cause });
  }
  const fatal = (reason: string, line?: number): never => {
    stream.destroy();
    throw new AnnotationError('annotation', reason, { file, line });
  };
  if (!header) return fatal('CSV file is empty');
  if (header.error) fatal(`header row: ${header.error}`, header.line);
  const col = new Map<Column, number>();
  header.fields.forEach((name, i) => {
    const key = name.trim().toLowerCase() as Column;
    if ((REQUIRED_COLUMNS as readonly string[]).includes(key)) {
      if (col.has(key)) fatal(`column ${key} appears twice in the header`, header.line);
      col.set(key, i);
    }
  });
  const missing = REQUIRED_COLUMNS.filter((c) => !col.has(c));
  if (missing.length > 0) fatal(`header lacks column(s) ${missing.join(', ')}; expected ${REQUIRED_COLUMNS.join(',')}`, header.line);
  const columnCount = header.fields.length;
  const at = (fields: string[], c: Column): string => fields[col.get(c)!]!.trim();

  async function* entries(): AsyncGenerator<ImportEntry> {
    const groupIds = new Map<string, number>();
    const groups: Group[] = [];
    const boxes = new BoxRows();
    // Rows too broken to say which image they belong to.
    const loose: ItemError[] = [];
    try {
      for (let next = await records.next(); !next.done; next = await records.next()) {
        addRow(next.value);
      }
    } catch (cause) {
      throw new AnnotationError('annotation', `cannot read CSV: ${describeFsError(cause)}`, { file, cause });
    } finally {
      // Closes the file even when a row handler throws; a no-op after a full read.
      stream.destroy();
    }
    // Known now, before the first entry (see ImportResult.expectedItems).
    result.expectedItems = groups.length;

    function addRow(rec: CsvRecord): void {
      const source: SourceRef = { file, line: rec.line };
      const filenameIndex = col.get('filename')!;
      const filename = rec.fields[filenameIndex]?.trim() ?? '';
      let groupId = filename !== '' ? groupIds.get(filename) : undefined;
      if (filename !== '' && groupId === undefined) {
        groupId = groups.length;
        groups.push({ filename, line: rec.line });
        groupIds.set(filename, groupId);
      }
      const group = groupId !== undefined ? groups[groupId] : undefined;
      const err = (code: ItemError['code'], reason: string): void => {
        const e: ItemError = { source, code, reason };
        if (group) (group.errors ??= []).push({ ...e, itemId: group.filename });
        else loose.push(e);
      };
      if (rec.error) return err('malformed-annotation', rec.error);
      if (rec.fields.length !== columnCount) return err('malformed-annotation', `row has ${plural(rec.fields.length, 'column')}, the header has ${columnCount}`);
      if (!group || groupId === undefined) return err('malformed-annotation', 'row has an empty filename');

      for (const key of ['width', 'height'] as const) {
        const t = at(rec.fields, key);
        if (t === '') continue;
        const v = parseDecimal(t);
        if (v === undefined || v <= 0) return err('malformed-annotation', `${key} ${JSON.stringify(t)} is not a positive number`);
        if (group[key] !== undefined && group[key] !== v) return err('malformed-annotation', `${key} ${v} disagrees with ${group[key]} given on line ${group.line}`);
        group[key] = v;
      }

      const className = at(rec.fields, 'class');
      const raw = BOX_COLUMNS.map((c) => at(rec.fields, c));
      if (className === '' && raw.every((t) => t === '')) return; // image without objects
      if (className === '') return err('malformed-annotation', 'row has coordinates but no class');
      const notDeclared = checkClass(className, declaredSet);
      if (notDeclared) return err('unknown-class', notDeclared);
      const nums = raw.map((t) => parseDecimal(t));
      const bad = BOX_COLUMNS.filter((_, i) => nums[i] === undefined);
      if (bad.length > 0) {
        return err('box-without-coordinates', `${bad.join(', ')} ${bad.length === 1 ? 'is' : 'are'} blank or not a number (${raw.join(', ')})`);
      }
      const [xmin, ymin, xmax, ymax] = nums as [number, number, number, number];
      const inverted = invertedBoxReason({ xmin, ymin, xmax, ymax });
      if (inverted) return err('invalid-box', inverted);
      boxes.add(groupId, rec.line, className, xmin, ymin, xmax, ymax);
    }

    const { start, order } = boxes.byGroup(groups.length);
    for (let g = 0; g < groups.length; g++) {
      const group = groups[g] as Group;
      const source: SourceRef = { file, line: group.line };
      const resolved = resolveImagePath(imagesRoot, group.filename);
      if (!resolved.ok) {
        yield { ok: false, error: { source, code: resolved.code, reason: resolved.reason } };
        continue;
      }
      const errors = (group.errors ?? []).map((e) => ({ ...e, itemId: resolved.id }));
      const unusable = imageFileProblem(imagesRoot, resolved.imagePath, options.allowSymlinksOutside, hints);
      if (unusable) errors.push({ source, itemId: resolved.id, ...unusable });
      const objects: SourceObject[] = [];
      for (let k = start[g] as number; k < (start[g + 1] as number); k++) objects.push(boxes.object(order[k] as number, file));
      const item: SourceItem = {
        id: resolved.id,
        source,
        imagePath: resolved.imagePath,
        ...(group.width !== undefined ? { width: group.width } : {}),
        ...(group.height !== undefined ? { height: group.height } : {}),
        coords: 'pixel',
        objects,
      };
      yield* finishItem(item, errors, options.empty);
    }
    for (const error of loose) yield { ok: false, error };
  }

  const result: ImportResult = { ...(declared ? { classOrder: declared } : {}), entries: entries() };
  return result;
}
