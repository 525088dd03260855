import { readFile } from 'node:fs/promises';
import { invalidUtf8Lines } from '../../utf8.js';
import path from 'node:path';
import { AnnotationError, describeFsError, TfrecordError } from '../../errors.js';
import { invertedBoxReason, notUtf8Reason, parseDecimal } from '../common.js';
import { openCsv } from '../csv/open.js';
import { type CsvRecord, parseCsvText } from '../csv/parse.js';
import { imageFileProblem, isFile, resolveImagePath } from '../paths.js';
import { type BoxFlags, GroupedRows } from '../rows.js';
import type { ImportEntry, ImportNote, ImportOptions, ImportResult, ItemError } from '../types.js';
import { COLUMN, DESCRIPTION_FILES, DESCRIPTION_HEADER, FLAG_UNKNOWN, IMAGE_EXT, REQUIRED_COLUMNS } from './format.js';

/**
 * Options used:
 * - `annotations`: the boxes CSV (`…-annotations-bbox.csv`).
 * - `images`: where `<ImageID>.jpg` are (default: the CSV's directory).
 * - `classes`: the class-descriptions CSV (`LabelName,DisplayName`). By
 *   default one of the usual names is looked for beside the boxes CSV;
 *   without any, the classes keep their ids (`/m/0k4j`) and a note says so.
 *   Its order is the declared class order, so labels follow it. A LabelName
 *   it does not list is an `unknown-class` error.
 * - `crowd`: 'drop' leaves out `IsGroupOf` boxes (a box around a group of
 *   objects, as a COCO crowd region is), with a note counting them.
 * - `empty`. `imageSet` is ignored.
 *
 * `IsGroupOf` is kept as the box's `groupOf` and `IsTruncated` as
 * `truncated` (-1, unknown, leaves them unset). `Source`, `Confidence`,
 * `IsOccluded`, `IsDepiction` and `IsInside` have no tf.Example key in the OD
 * API's schema and are not kept.
 */
export type OpenImagesReadOptions = Pick<ImportOptions, 'annotations' | 'images' | 'classes' | 'crowd' | 'empty' | 'allowSymlinksOutside'>;

export async function readOpenImages(options: OpenImagesReadOptions): Promise<ImportResult> {
  const file = path.resolve(options.annotations);
  if (!(await isFile(file))) throw new AnnotationError('annotation', 'Open Images boxes CSV not found', { file });
  const imagesRoot = path.resolve(options.images ?? path.dirname(file));
  if (options.classes !== undefined && typeof options.classes !== 'string') {
    throw new TfrecordError('bad-argument', 'Open Images classes must be the path of a class-descriptions CSV (LabelName,DisplayName)');
  }
  const notes: ImportNote[] = [];
  const descriptionsFile = options.classes !== undefined ? path.resolve(options.classes) : await findDescriptions(path.dirname(file));
  const names = descriptionsFile !== undefined ? await readDescriptions(descriptionsFile, notes) : undefined;
  if (!names) {
    notes.push({
      code: 'class-names',
      message: `no class-descriptions CSV was given or found beside ${path.basename(file)} (looked for ${DESCRIPTION_FILES.join(', ')}), so the classes are named by their Open Images ids (/m/…); give --classes to name them`,
    });
  }

  const { records, first: header, fatal, close } = await openCsv(file);
  if (!header) return fatal('Open Images boxes CSV is empty');
  if (header.error) fatal(`header row: ${header.error}`, header.line);
  const lower = header.fields.map((f) => f.trim().toLowerCase());
  const missing = REQUIRED_COLUMNS.filter((c) => !lower.includes(c));
  if (missing.length > 0) fatal(`header lacks Open Images column(s) ${missing.join(', ')}`, header.line);
  const col = (name: string): number => lower.indexOf(name);
  const [imageIdAt, labelAt, xminAt, xmaxAt, yminAt, ymaxAt] = REQUIRED_COLUMNS.map(col) as [number, number, number, number, number, number];
  const truncatedAt = col(COLUMN.isTruncated);
  const groupOfAt = col(COLUMN.isGroupOf);
  const columnCount = header.fields.length;

  async function* entries(): AsyncGenerator<ImportEntry> {
    const rows = new GroupedRows(file);
    let groupsDropped = 0;
    try {
      for (let next = await records.next(); !next.done; next = await records.next()) addRow(next.value);
    } catch (cause) {
      throw new AnnotationError('annotation', `cannot read CSV: ${describeFsError(cause)}`, { file, cause });
    } finally {
      close();
    }
    result.expectedItems = rows.images.length;

    function addRow(rec: CsvRecord): void {
      const imageId = rec.fields[imageIdAt]?.trim() ?? '';
      const g = imageId !== '' ? rows.image(imageId, rec.line) : undefined;
      const err = (code: ItemError['code'], reason: string): void => rows.error(g, rec.line, code, reason);
      if (rec.error) return err('malformed-annotation', rec.error);
      if (rec.fields.length !== columnCount) return err('malformed-annotation', `row has ${rec.fields.length} columns, the header has ${columnCount}`);
      if (g === undefined) return err('malformed-annotation', 'row has an empty ImageID');
      const label = rec.fields[labelAt]!.trim();
      if (label === '') return err('malformed-annotation', 'row has no LabelName');
      const className = names ? names.get(label) : label;
      if (className === undefined) return err('unknown-class', `LabelName ${JSON.stringify(label)} is not in the class descriptions ${descriptionsFile}`);
      const raw = [xminAt, yminAt, xmaxAt, ymaxAt].map((i) => rec.fields[i]!.trim());
      const nums = raw.map(parseDecimal);
      if (nums.some((v) => v === undefined)) return err('box-without-coordinates', `XMin, YMin, XMax, YMax must be numbers, got ${raw.join(', ')}`);
      const [xmin, ymin, xmax, ymax] = nums as [number, number, number, number];
      const inverted = invertedBoxReason({ xmin, ymin, xmax, ymax });
      if (inverted) return err('invalid-box', inverted);
      const flags: BoxFlags = {};
      for (const [key, at, name] of [
        ['truncated', truncatedAt, 'IsTruncated'],
        ['groupOf', groupOfAt, 'IsGroupOf'],
      ] as const) {
        if (at < 0) continue;
        const t = rec.fields[at]!.trim();
        if (t === '' || t === FLAG_UNKNOWN) continue;
        if (t !== '0' && t !== '1') return err('malformed-annotation', `${name} must be 0, 1 or -1, got ${JSON.stringify(t)}`);
        flags[key] = t === '1';
      }
      if (flags.groupOf && options.crowd === 'drop') {
        groupsDropped++;
        return;
      }
      rows.box(g, rec.line, className, xmin, ymin, xmax, ymax, flags);
    }

    if (groupsDropped > 0) {
      notes.push({
        code: 'crowd-dropped',
        message: `${groupsDropped} IsGroupOf box${groupsDropped === 1 ? ' was' : 'es were'} left out (--crowd drop): each covers a group of objects, as a COCO crowd region does`,
      });
    }
    yield* rows.entries(
      (image) => resolveImagePath(imagesRoot, image.key + IMAGE_EXT),
      'normalized',
      options.empty,
      (p) => imageFileProblem(imagesRoot, p, options.allowSymlinksOutside),
    );
  }

  const classOrder = names ? [...new Set(names.values())] : undefined;
  const result: ImportResult = { ...(classOrder ? { classOrder } : {}), notes, entries: entries() };
  return result;
}

async function findDescriptions(dir: string): Promise<string | undefined> {
  for (const name of DESCRIPTION_FILES) {
    const p = path.join(dir, name);
    if (await isFile(p)) return p;
  }
  return undefined;
}

/**
 * LabelName → DisplayName, in file order. A display name shared by several
 * ids (the full, non-boxable lists have a few) gets its id appended, so two
 * classes are never merged into one by accident.
 */
export async function readDescriptions(file: string, notes: ImportNote[]): Promise<Map<string, string>> {
  let text: string;
  let notUtf8: number[];
  try {
    const bytes = await readFile(file);
    // Lines whose bytes are not UTF-8: a display name on one is refused rather than read with U+FFFD in it.
    notUtf8 = invalidUtf8Lines(bytes);
    text = bytes.toString('utf8');
  } catch (cause) {
    throw new AnnotationError('annotation', `cannot read class descriptions: ${describeFsError(cause)}`, { file, cause });
  }
  const rows = parseCsvText(text);
  const byId = new Map<string, string>();
  for (const [i, rec] of rows.entries()) {
    const fields = rec.fields.map((f) => f.trim());
    if (i === 0 && fields.length === 2 && fields.every((f, k) => f.toLowerCase() === DESCRIPTION_HEADER[k])) continue;
    const fail = (reason: string): never => {
      throw new AnnotationError('annotation', `class descriptions: ${reason}`, { file, line: rec.line });
    };
    if (rec.error) fail(rec.error);
    if (fields.length !== 2 || fields[0] === '' || fields[1] === '') fail('each row must be LabelName,DisplayName');
    if (byId.has(fields[0]!)) fail(`${fields[0]} is listed twice`);
    if (fields[1]!.includes('\uFFFD') && notUtf8.includes(rec.line)) fail(notUtf8Reason(fields[1]!));
    byId.set(fields[0]!, fields[1]!);
  }
  if (byId.size === 0) throw new AnnotationError('annotation', 'class descriptions list no class', { file });
  const count = new Map<string, number>();
  for (const name of byId.values()) count.set(name, (count.get(name) ?? 0) + 1);
  const shared = [...count].filter(([, n]) => n > 1).map(([name]) => name);
  if (shared.length === 0) return byId;
  notes.push({
    code: 'class-names',
    message: `${shared.length} display name${shared.length === 1 ? ' is' : 's are'} used by several class ids (${shared
      .slice(0, 5)
      .map((s) => JSON.stringify(s))
      .join(', ')}${shared.length > 5 ? ', …' : ''}); those classes are named "DisplayName (/m/…)" to keep them apart`,
  });
  const out = new Map<string, string>();
  for (const [id, name] of byId) out.set(id, count.get(name)! > 1 ? `${name} (${id})` : name);
  return out;
}
