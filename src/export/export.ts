/**
 * TFRecord files of detection examples → a COCO, Pascal VOC, YOLO, CSV or
 * Vertex AI dataset: the images written byte for byte, the annotations in
 * the format's usual layout (one file per target: coco.ts, voc.ts, yolo.ts,
 * csv.ts, vertex.ts), a label_map.pbtxt beside them, and a report of
 * everything the target format could not hold.
 *
 * Two passes over the records, one record in memory at a time:
 *   1. read every record and count its label ids and class texts, so the
 *      class table (names, YOLO indices) is known before the first label
 *      file is written; any record that cannot be exported (damaged framing,
 *      not a detection example, no image) stops the export here, before
 *      anything is written;
 *   2. read them again and write images and annotations into a staging
 *      folder beside the output folder.
 * The staged dataset is then read back through the format's own importer
 * (formats/), which must find every image and box, and only then is the
 * staging folder renamed to the output folder. Inputs are only read.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { readManifest } from '../dataset/manifest.js';
import { describeFsError, isTfrecordError, TfrecordError } from '../errors.js';
import { decodeExample } from '../example/codec.js';
import { fromExample } from '../detection/from-example.js';
import * as K from '../detection/keys.js';
import { formatLabelMap, type LabelMap } from '../detection/label-map.js';
import type { DetectionExample } from '../detection/schema.js';
import { findFormat } from '../formats/registry.js';
import { probeImage, sniffFormat, type ImageFormat } from '../image/probe.js';
import { makeProblem, type Problem } from '../problem.js';
import type { CompressionOption } from '../record/compression.js';
import { walkRecords, type RecordEvent } from '../walk/walk-records.js';
import { buildClassTable, ClassUsage, yoloIndexNote, type Category, type ClassTable } from './classes.js';
import { cocoTarget } from './coco.js';
import { findLabelMap, LABEL_MAP_FILE, type LabelMapSource } from './find-label-map.js';
import { csvTarget } from './csv.js';
import { NameAllocator, type RenameReason } from './names.js';
import type { ExportBox, ExportFormat, ExportTarget, ObjectField, TargetSettings } from './target.js';
import { mlUseOf, vertexTarget } from './vertex.js';
import { vocTarget } from './voc.js';
import { yoloTarget } from './yolo.js';

export { EXPORT_FORMATS, type ExportFormat } from './target.js';
export { LABEL_MAP_FILE } from './find-label-map.js';
export type { Category } from './classes.js';

export const EXPORT_TARGETS: Readonly<Record<ExportFormat, ExportTarget>> = {
  coco: cocoTarget,
  voc: vocTarget,
  yolo: yoloTarget,
  csv: csvTarget,
  vertex: vertexTarget,
};

/** Cloud Storage URIs, which Vertex AI reads images from. */
const GCS_URI = /^gs:\/\/[^/\s]+(?:\/.*)?$/;

const DEFAULT_MAX_PROBLEMS = 100;
const MAX_RENAMED_LISTED = 100;

export interface ExportOptions {
  to: ExportFormat;
  /** The dataset folder to create; it must not exist, or be empty, unless `overwrite`. */
  out: string;
  /** A label_map.pbtxt path or a parsed map; default: label_map.pbtxt beside the first input that has one. */
  labelMap?: string | LabelMap;
  /** Default 'auto'. */
  compression?: CompressionOption;
  /** Replace a non-empty output folder (only once the new dataset is complete). */
  overwrite?: boolean;
  /** Problems kept in the report (default 100); all are counted. */
  maxProblems?: number;
  /**
   * Vertex AI (required there, refused elsewhere): the Cloud Storage folder
   * the export will be uploaded to, `gs://bucket/path`; each image is named
   * `PREFIX/images/NAME` in the import file.
   */
  uriPrefix?: string;
}

export type ExportProblemCode = string;

/** A feature of the records the target has no place for. */
export interface Unrepresentable {
  /** Feature key, e.g. `image/object/difficult`. */
  feature: string;
  /** Boxes (per-object features) or records (the others) that carry it. */
  count: number;
  unit: 'boxes' | 'records';
  /** Of those, how many hold something other than the neutral value (per-object flags and pose). */
  set?: number;
  message: string;
}

export interface RenamedImage {
  file: string;
  record: number;
  /** `image/filename` as written in the record. */
  from: string;
  to: string;
  reasons: RenameReason[];
}

export interface ExportReport {
  ok: boolean;
  to: ExportFormat;
  /** Absolute. */
  out: string;
  files: string[];
  records: number;
  boxes: number;
  imagesWithoutBoxes: number;
  /** Where the class names came from. */
  labelMapSource: LabelMapSource;
  categories: Category[];
  unrepresentable: Unrepresentable[];
  renamed: { count: number; listed: RenamedImage[] };
  notes: string[];
  problems: Problem<ExportProblemCode>[];
  problemCount: number;
  /** Set when `ok` is false: why nothing was published. */
  failure?: string;
  /** Paths of the published dataset (absolute), when `ok`. */
  annotations?: string;
  images?: string;
  labelMapPath?: string;
}

export async function exportDataset(paths: readonly string[], options: ExportOptions): Promise<ExportReport> {
  const target = EXPORT_TARGETS[options.to];
  if (!target) throw new TfrecordError('bad-argument', `unknown export format '${options.to}'`);
  const settings = targetSettings(target, options);
  const out = resolve(options.out);
  await checkOutput(out, paths, options.overwrite ?? false);
  const { labelMap, source } = await findLabelMap(paths, options.labelMap);
  const report: ExportReport = {
    ok: false,
    to: target.format,
    out,
    files: [],
    records: 0,
    boxes: 0,
    imagesWithoutBoxes: 0,
    labelMapSource: source,
    categories: [],
    unrepresentable: [],
    renamed: { count: 0, listed: [] },
    notes: [],
    problems: [],
    problemCount: 0,
  };
  const walkOptions = { compression: options.compression ?? 'auto', borrow: true } as const;
  const maxProblems = options.maxProblems ?? DEFAULT_MAX_PROBLEMS;
  const problem = (p: Problem<ExportProblemCode>) => {
    report.problemCount++;
    if (report.problems.length < maxProblems) report.problems.push(p);
  };

  // Pass 1: the class table, and every reason the export cannot be made.
  const usage = new ClassUsage();
  for await (const ev of walkRecords(paths, walkOptions)) {
    if (ev.kind === 'file') report.files.push(ev.file);
    else if (ev.kind === 'problem') problem(ev.problem);
    else {
      const read = readRecord(ev);
      if ('problem' in read) problem(read.problem);
      else for (const o of read.example.objects) usage.add(o.label, o.text);
    }
  }
  if (report.problemCount > 0) {
    const n = report.problemCount;
    report.failure = `the input has ${n} problem${n === 1 ? '' : 's'} (records that are damaged or are not detection examples with an image); nothing was written`;
    return report;
  }
  const classes = buildClassTable(usage, labelMap);
  report.categories = classes.categories;
  report.notes.push(...classes.notes);
  if (target.format === 'yolo') {
    const note = yoloIndexNote(classes);
    if (note) report.notes.push(note);
  }

  const staging = join(dirname(out), `.${basename(out)}.export-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(staging, { recursive: true });
  try {
    const tally = await writeStaged(paths, walkOptions, target, settings, classes, staging, report);
    report.unrepresentable = tally.describe(target);
    if (target.format === 'vertex' && tally.withoutMlUse > 0) {
      const n = tally.withoutMlUse;
      report.notes.push(
        `${n} image${n === 1 ? '' : 's'} came from shard sets not named train, val or test (or training, validation) and got no ml_use: Vertex AI divides such images into training, validation and test itself`,
      );
    }
    if (tally.sizeMismatches > 0) {
      report.notes.push(
        `${tally.sizeMismatches} record${tally.sizeMismatches === 1 ? '' : 's'}: image/width and image/height disagree with the image itself; boxes were scaled by the stored size`,
      );
    }
    if (target.roundsToPixels) {
      report.notes.push(
        `${target.format.toUpperCase()} holds whole pixels: box corners were rounded to the nearest pixel (at most 0.5 / width or height off, normalized)`,
      );
    }
    const written = labelMapOf(classes, labelMap);
    if (written.skipped.length > 0) {
      report.notes.push(`label ids ${written.skipped.join(', ')} are below 1, which a label map cannot hold; ${LABEL_MAP_FILE} leaves them out`);
    }
    await writeFile(join(staging, LABEL_MAP_FILE), formatLabelMap(written.map), { flag: 'wx' });
    const mismatch = await checkStaged(target, settings, staging, report);
    if (mismatch) {
      report.failure = `the exported dataset did not read back as written (${mismatch}); nothing was published`;
      return report;
    }
    await publish(staging, out, options.overwrite ?? false);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  report.ok = true;
  const annotations = target.importOptions(out, settings).annotations;
  report.annotations = annotations;
  report.images = join(out, target.imagesDir);
  report.labelMapPath = join(out, LABEL_MAP_FILE);
  return report;
}

/** The target's settings from the options, refusing a URI prefix that is missing, malformed or not wanted. */
function targetSettings(target: ExportTarget, options: ExportOptions): TargetSettings {
  const given = options.uriPrefix;
  if (target.format !== 'vertex') {
    if (given !== undefined) throw new TfrecordError('bad-argument', `a URI prefix is only for the Vertex AI export (--to vertex), not for ${target.format}`);
    return {};
  }
  if (given === undefined || given.trim() === '') {
    throw new TfrecordError(
      'bad-argument',
      'the Vertex AI export needs --uri-prefix gs://BUCKET/PATH, the Cloud Storage folder the export will be uploaded to: Vertex AI reads images only from there',
    );
  }
  const prefix = given.trim().replace(/\/+$/, '');
  if (!GCS_URI.test(prefix)) {
    throw new TfrecordError('bad-argument', `--uri-prefix must be a Cloud Storage folder such as gs://my-bucket/datasets/cats, got ${JSON.stringify(given)}`);
  }
  return { uriPrefix: prefix };
}

/**
 * The split name of each input file's shard set: the name its folder's
 * manifest gives the set that lists it, else the shard prefix of its name
 * (`train-00000-of-00004.tfrecord` → train, `ds-val-…` → val when the last
 * part of the prefix is a split name).
 */
class SplitNames {
  private readonly listed = new Map<string, string>();
  private readonly read = new Set<string>();

  async of(file: string): Promise<string | undefined> {
    const dir = dirname(resolve(file));
    if (!this.read.has(dir)) {
      this.read.add(dir);
      const manifest = await readManifest(dir).catch(() => undefined);
      for (const s of manifest?.splits ?? []) for (const sh of s.shards) this.listed.set(join(dir, sh.name), s.name);
    }
    const named = this.listed.get(resolve(file));
    if (named !== undefined) return named;
    const prefix = /^(.*)-\d{5}-of-\d{5}\.tfrecord(?:\.gz|\.zz)?$/.exec(basename(file))?.[1];
    if (prefix === undefined) return undefined;
    const last = prefix.slice(prefix.lastIndexOf('-') + 1);
    return mlUseOf(last) !== undefined ? last : prefix;
  }
}

type ReadResult =
  | { example: DetectionExample; format: ImageFormat; width: number; height: number; sizeMismatch: boolean }
  | { problem: Problem<ExportProblemCode> };

/** A record as an exportable example, or why it is not one. Pure apart from the payload it reads. */
function readRecord(ev: RecordEvent): ReadResult {
  const where = { file: ev.file, record: ev.index, offset: ev.offset };
  let example: DetectionExample;
  try {
    example = fromExample(decodeExample(ev.payload));
  } catch (err) {
    if (!isTfrecordError(err)) throw err;
    return { problem: makeProblem(err.code, err.reason, where) };
  }
  if (example.image.length === 0) return { problem: makeProblem('no-image', 'image/encoded is empty: there is no image to export', where) };
  const format = sniffFormat(example.image);
  if (!format) return { problem: makeProblem('no-image', 'image/encoded is not an image format this tool recognises', where) };
  const probed = probeImage(example.image);
  let { width, height } = example;
  const sizeMismatch = probed !== undefined && width > 0 && height > 0 && (probed.width !== width || probed.height !== height);
  if (width <= 0 || height <= 0) {
    // No stored size: the image's own, as the OD API's decoder would see it.
    if (!probed) return { problem: makeProblem('no-size', 'image/width and image/height are missing and the image header does not give a size', where) };
    ({ width, height } = probed);
  }
  return { example, format, width, height, sizeMismatch };
}

/** Pass 2: images and annotations into `staging`. */
async function writeStaged(
  paths: readonly string[],
  walkOptions: { compression: CompressionOption; borrow: true },
  target: ExportTarget,
  settings: TargetSettings,
  classes: ClassTable,
  staging: string,
  report: ExportReport,
): Promise<Tally> {
  const imagesRoot = join(staging, target.imagesDir);
  await mkdir(imagesRoot, { recursive: true });
  const madeDirs = new Set<string>([imagesRoot]);
  const names = new NameAllocator({ flatten: target.flatten, reserved: target.reserved });
  const tally = new Tally();
  const splits = new SplitNames();
  let split: string | undefined;
  const writer = await target.open(staging, classes, settings);
  try {
    for await (const ev of walkRecords(paths, walkOptions)) {
      if (ev.kind === 'file') {
        split = await splits.of(ev.file);
        continue;
      }
      if (ev.kind === 'problem') throw ev.error; // pass 1 read these files whole: they changed since
      const read = readRecord(ev);
      if ('problem' in read)
        throw new TfrecordError('io', `${read.problem.message} (the file changed during the export)`, { file: ev.file, record: ev.index, offset: ev.offset });
      const { example } = read;
      const allocated = names.allocate(example.filename, example.sourceId, report.records, read.format);
      if (allocated.reasons.length > 0) {
        report.renamed.count++;
        if (report.renamed.listed.length < MAX_RENAMED_LISTED) {
          report.renamed.listed.push({ file: ev.file, record: ev.index, from: example.filename, to: allocated.name, reasons: allocated.reasons });
        }
      }
      const imagePath = join(imagesRoot, ...allocated.name.split('/'));
      const dir = dirname(imagePath);
      if (!madeDirs.has(dir)) {
        await mkdir(dir, { recursive: true });
        madeDirs.add(dir);
      }
      await writeFile(imagePath, example.image, { flag: 'wx' });
      const boxes: ExportBox[] = example.objects.map((object) => ({ object, category: classes.byId.get(object.label)! }));
      await writer.add({ example, imageName: allocated.name, width: read.width, height: read.height, boxes, ...(split !== undefined ? { split } : {}) });
      tally.add(example, allocated.name, read.sizeMismatch);
      if (mlUseOf(split) === undefined) tally.withoutMlUse++;
      report.records++;
      report.boxes += boxes.length;
      if (boxes.length === 0) report.imagesWithoutBoxes++;
    }
    await writer.finish();
  } catch (err) {
    await writer.abort();
    throw err;
  }
  return tally;
}

const OBJECT_FIELDS: ReadonlyArray<{ field: ObjectField; key: string; set: (o: DetectionExample['objects'][number]) => boolean | undefined }> = [
  { field: 'isCrowd', key: K.OBJECT_IS_CROWD, set: (o) => (o.isCrowd === undefined ? undefined : o.isCrowd) },
  { field: 'area', key: K.OBJECT_AREA, set: (o) => (o.area === undefined ? undefined : true) },
  { field: 'difficult', key: K.OBJECT_DIFFICULT, set: (o) => (o.difficult === undefined ? undefined : o.difficult) },
  { field: 'truncated', key: K.OBJECT_TRUNCATED, set: (o) => (o.truncated === undefined ? undefined : o.truncated) },
  { field: 'view', key: K.OBJECT_VIEW, set: (o) => (o.view === undefined ? undefined : o.view !== '' && o.view !== 'Unspecified') },
  { field: 'groupOf', key: K.OBJECT_GROUP_OF, set: (o) => (o.groupOf === undefined ? undefined : o.groupOf) },
];

/** Counts of the features a target may have no place for, over pass 2. */
class Tally {
  private readonly fields = new Map<ObjectField, { count: number; set: number }>();
  private readonly extra = new Map<string, number>();
  private sourceIds = 0;
  sizeMismatches = 0;
  /** Records whose shard set has no ml_use name (Vertex AI). */
  withoutMlUse = 0;

  add(example: DetectionExample, exportedName: string, sizeMismatch: boolean): void {
    if (sizeMismatch) this.sizeMismatches++;
    for (const o of example.objects) {
      for (const f of OBJECT_FIELDS) {
        const set = f.set(o);
        if (set === undefined) continue;
        let t = this.fields.get(f.field);
        if (!t) this.fields.set(f.field, (t = { count: 0, set: 0 }));
        t.count++;
        if (set) t.set++;
      }
    }
    for (const key of Object.keys(example.extra ?? {})) this.extra.set(key, (this.extra.get(key) ?? 0) + 1);
    // Importers make the source id the image's name, so only another id is lost.
    if (example.sourceId !== '' && example.sourceId !== exportedName) this.sourceIds++;
  }

  describe(target: ExportTarget): Unrepresentable[] {
    const name = target.format.toUpperCase();
    const out: Unrepresentable[] = [];
    for (const f of OBJECT_FIELDS) {
      const t = this.fields.get(f.field);
      if (!t || target.keeps.has(f.field)) continue;
      const set = f.field === 'area' ? '' : ` (${t.set === 0 ? 'none' : t.set} set)`;
      out.push({
        feature: f.key,
        count: t.count,
        unit: 'boxes',
        ...(f.field === 'area' ? {} : { set: t.set }),
        message: `${f.key}: not representable in ${name}, ${t.count} box${t.count === 1 ? '' : 'es'}${set}`,
      });
    }
    if (this.sourceIds > 0 && !target.keepsSourceId) {
      out.push({
        feature: K.IMAGE_SOURCE_ID,
        count: this.sourceIds,
        unit: 'records',
        message: `${K.IMAGE_SOURCE_ID}: not representable in ${name} where it differs from the image's file name, ${this.sourceIds} record${this.sourceIds === 1 ? '' : 's'}`,
      });
    }
    for (const [key, n] of [...this.extra.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      out.push({ feature: key, count: n, unit: 'records', message: `${key}: not representable in ${name}, ${n} record${n === 1 ? '' : 's'}` });
    }
    return out;
  }
}

/** The label map written beside the export: the classes with their ids (display names kept from a given map). */
function labelMapOf(classes: ClassTable, given: LabelMap | undefined): { map: LabelMap; skipped: number[] } {
  const skipped: number[] = [];
  const items = [];
  // Indexed once: a find() per class was quadratic in a large label map.
  const displayNames = new Map<number, string | undefined>();
  for (const it of given?.items ?? []) if (!displayNames.has(it.id)) displayNames.set(it.id, it.displayName);
  for (const c of classes.categories) {
    if (c.id < 1) {
      skipped.push(c.id);
      continue;
    }
    const displayName = displayNames.get(c.id);
    items.push({ id: c.id, name: c.name, ...(displayName !== undefined ? { displayName } : {}) });
  }
  return { map: { items }, skipped };
}

/**
 * Reads the staged dataset with the format's importer (annotations, and a
 * stat of every image): every record must come back as an item, every box
 * as an object, with no errors. A failure means a bug here, not bad input.
 */
async function checkStaged(target: ExportTarget, settings: TargetSettings, staging: string, report: ExportReport): Promise<string | undefined> {
  const spec = findFormat(target.format)!;
  const result = await spec.read(target.importOptions(staging, settings));
  let items = 0;
  let boxes = 0;
  for await (const entry of result.entries) {
    if (!entry.ok) return `${entry.error.code}: ${entry.error.reason}`;
    items++;
    boxes += entry.item.objects.length;
  }
  if (items !== report.records || boxes !== report.boxes) {
    return `read back ${items} images and ${boxes} boxes, wrote ${report.records} and ${report.boxes}`;
  }
  return undefined;
}

/**
 * Refuses an output folder that holds anything (unless `overwrite`) and, in
 * any case, one that holds an input: replacing it would delete what is read.
 */
async function checkOutput(out: string, paths: readonly string[], overwrite: boolean): Promise<void> {
  let entries: string[];
  try {
    const st = await stat(out);
    if (!st.isDirectory()) throw new TfrecordError('bad-argument', 'the output path exists and is not a folder', { file: out });
    entries = await readdir(out);
  } catch (err) {
    if (isTfrecordError(err)) throw err;
    if ((err as { code?: string }).code === 'ENOENT') return;
    throw new TfrecordError('io', describeFsError(err), { file: out, cause: err });
  }
  if (entries.length === 0) return;
  if (!overwrite) {
    throw new TfrecordError(
      'bad-argument',
      'the output folder is not empty; export writes a whole dataset into a new or empty folder (or give overwrite to replace it)',
      { file: out },
    );
  }
  const real = await realpath(out);
  for (const p of paths) {
    const input = await realpath(p).catch(() => resolve(p));
    if (input === real || input.startsWith(real + sep)) {
      throw new TfrecordError('bad-argument', `the output folder holds the input ${p}; overwriting it would delete what is being exported`, { file: out });
    }
  }
}

/** Moves the staged dataset into place: by one rename, after the old folder (if any) is moved aside. */
async function publish(staging: string, out: string, overwrite: boolean): Promise<void> {
  let aside: string | undefined;
  try {
    if (existsSync(out)) {
      if ((await readdir(out)).length === 0) await rm(out, { recursive: true });
      else if (overwrite) {
        aside = join(dirname(out), `.${basename(out)}.replaced-${process.pid}-${randomBytes(4).toString('hex')}`);
        await rename(out, aside);
      } else {
        throw new TfrecordError('bad-argument', 'the output folder was filled while the export ran; nothing was published', { file: out });
      }
    }
    await rename(staging, out);
  } catch (err) {
    if (aside && !existsSync(out)) await rename(aside, out).catch(() => undefined);
    if (isTfrecordError(err)) throw err;
    throw new TfrecordError('io', `cannot publish the export: ${describeFsError(err)}`, { file: out, cause: err });
  }
  if (aside) await rm(aside, { recursive: true, force: true });
}
