import path from 'node:path';
import { AnnotationError, describeFsError } from '../../errors.js';
import { loadClassList } from '../classes.js';
import { checkClass, invertedBoxReason, notUtf8Reason, parseDecimal } from '../common.js';
import { imageFileProblem, isFile, MissingImageHints, resolveImagePath, usualImageFolders } from '../paths.js';
import { GroupedRows } from '../rows.js';
import type { ImportEntry, ImportNote, ImportOptions, ImportResult, ItemError } from '../types.js';
import { BOX_COLUMNS, type CsvField } from './format.js';
import { describeColumns, mappingIsByIndex, parseColumnMapping, resolveColumns, type ResolvedColumns } from './mapping.js';
import { openCsv } from './open.js';
import type { CsvRecord } from './parse.js';

/**
 * Options used: `annotations` (the CSV file), `images` (default: the CSV's
 * directory), `classes` (declared list; other names are `unknown-class`),
 * `columns` (which column holds which field; see csv/mapping.ts), `coords`
 * (default 'pixel'), `empty`. `crowd` and `imageSet` are ignored.
 *
 * Rows are grouped by file name in order of first appearance; rows of one
 * image need not be adjacent. A row whose class and four coordinates are all
 * blank marks an image with no objects. Without width/height columns the
 * items state no size, and convert places the boxes by the image files'
 * own (upright) sizes.
 */
export type CsvReadOptions = Pick<ImportOptions, 'annotations' | 'images' | 'classes' | 'empty' | 'columns' | 'coords' | 'allowSymlinksOutside'>;

export async function readCsv(options: CsvReadOptions): Promise<ImportResult> {
  const file = path.resolve(options.annotations);
  if (!(await isFile(file))) throw new AnnotationError('annotation', 'CSV annotation file not found', { file });
  const imagesRoot = path.resolve(options.images ?? path.dirname(file));
  // Left to its default (the CSV's folder), the root may be wrong: the hints also look in the usual places.
  const hints = new MissingImageHints(imagesRoot, options.images === undefined ? usualImageFolders(imagesRoot) : []);
  const declared = options.classes !== undefined ? await loadClassList(options.classes) : undefined;
  const declaredSet = declared ? new Set(declared) : undefined;
  const coords = options.coords ?? 'pixel';
  // A mapping that cannot be right throws 'bad-argument' (a usage error in the CLI).
  const mapping = typeof options.columns === 'string' ? parseColumnMapping(options.columns) : options.columns;
  const byIndex = mappingIsByIndex(mapping);

  // The header is read now so a file with the wrong columns fails the whole import up front.
  const { records, first, fatal, close, utf8 } = await openCsv(file);
  if (!first) return fatal('CSV file is empty');
  if (first.error) fatal(`${byIndex ? 'first row' : 'header row'}: ${first.error}`, first.line);
  const resolution = resolveColumns(byIndex ? undefined : first.fields, mapping);
  if (!resolution.ok) return fatal(resolution.reason, first.line);
  const columns: ResolvedColumns = resolution.columns;
  const widest = Math.max(...columns.index.values());
  if (!columns.hasHeader && first.fields.length <= widest) {
    fatal(`--columns names column ${widest}, but the first row has only ${first.fields.length} columns (0..${first.fields.length - 1})`, first.line);
  }
  const columnCount = first.fields.length;
  const countOf = columns.hasHeader ? 'the header has' : `line ${first.line} has`;
  const col = (c: CsvField): number | undefined => columns.index.get(c);
  // Both or neither: one dimension from the file and the other from the image would be a guess.
  const sized = col('width') !== undefined && col('height') !== undefined;
  const at = (fields: string[], c: CsvField): string => fields[col(c)!]!.trim();
  const notes: ImportNote[] = columns.canonical ? [] : [{ code: 'csv-columns', message: describeColumns(columns, coords) }];

  async function* entries(): AsyncGenerator<ImportEntry> {
    const rows = new GroupedRows(file);
    try {
      if (!columns.hasHeader) addRow(first!);
      for (let next = await records.next(); !next.done; next = await records.next()) {
        addRow(next.value);
      }
    } catch (cause) {
      throw new AnnotationError('annotation', `cannot read CSV: ${describeFsError(cause)}`, { file, cause });
    } finally {
      // Closes the file even when a row handler throws; a no-op after a full read.
      close();
    }
    // Known now, before the first entry (see ImportResult.expectedItems).
    result.expectedItems = rows.images.length;

    function addRow(rec: CsvRecord): void {
      const filename = rec.fields[col('filename')!]?.trim() ?? '';
      const g = filename !== '' ? rows.image(filename, rec.line) : undefined;
      const err = (code: ItemError['code'], reason: string): void => rows.error(g, rec.line, code, reason);
      if (rec.error) return err('malformed-annotation', rec.error);
      if (rec.fields.length !== columnCount) return err('malformed-annotation', `row has ${rec.fields.length} columns, ${countOf} ${columnCount}`);
      if (g === undefined) return err('malformed-annotation', 'row has an empty filename');

      if (sized) {
        for (const key of ['width', 'height'] as const) {
          const t = at(rec.fields, key);
          if (t === '') continue;
          const v = parseDecimal(t);
          if (v === undefined || v <= 0) return err('malformed-annotation', `${key} ${JSON.stringify(t)} is not a positive number`);
          if (!rows.size(g, key, v, rec.line)) return;
        }
      }

      const className = at(rec.fields, 'class');
      const raw = BOX_COLUMNS.map((c) => at(rec.fields, c));
      if (className === '' && raw.every((t) => t === '')) return; // image without objects
      if (className === '') return err('malformed-annotation', 'row has coordinates but no class');
      if (className.includes('\uFFFD') && utf8.has(rec.line, lastLine(rec))) return err('malformed-annotation', notUtf8Reason(className));
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
      rows.box(g, rec.line, className, xmin, ymin, xmax, ymax);
    }

    yield* rows.entries(
      (image) => resolveImagePath(imagesRoot, image.key),
      coords,
      options.empty,
      (p) => imageFileProblem(imagesRoot, p, options.allowSymlinksOutside, hints),
    );
  }

  const result: ImportResult = { ...(declared ? { classOrder: declared } : {}), notes, entries: entries() };
  return result;
}

/** The line a record ends on: quoted fields may hold line breaks (CRLF, LF or CR, one each). */
function lastLine(rec: CsvRecord): number {
  let breaks = 0;
  for (const f of rec.fields) breaks += f.match(/\r\n|\r|\n/g)?.length ?? 0;
  return rec.line + breaks;
}
