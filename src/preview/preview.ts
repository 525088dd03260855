/**
 * `previewDataset`: renders records of a detection dataset as JPEG thumbnails
 * with their boxes drawn, plus an `index.html` contact sheet, so a person can
 * *see* what a validator finding means (a box off the image, a label on the
 * wrong thing).
 *
 * Ways to pick records:
 * - neither filter nor sample: the first `limit` records, in file order. The
 *   walk goes on to the end without decoding, to count every record
 *   ("20 of 200 shown"). Finding codes come from the per-record checks only
 *   (cheap; no dataset-wide pass).
 * - `sample: n`: a first pass over every file chooses n records uniformly at
 *   random (reservoir sampling, seeded), a second renders exactly those.
 * - `filter: code`: a full `validateDataset` pass first, keeping the first
 *   `limit` (or, with `sample`, n random) records with a finding of that code
 *   and their other codes, then a second pass that renders exactly those.
 * - `filter: 'false-positive' | 'missed'` (with `predictions`): a first pass
 *   decodes every record and compares it with its predictions (match.ts),
 *   keeping the records with at least one such box.
 *
 * With `predictions`, each tile also shows the model's detections at or above
 * `scoreThreshold`, told apart from the ground truth at IoU 0.5 (match.ts).
 * The predictions are read whole up front, keeping only the detections above
 * the threshold: boxes and scores, small beside the images.
 *
 * Memory stays small: only the selected (file, record) pairs, their codes and
 * their captions are kept, never images beyond the one being drawn. The page
 * holds the tile list as JSON and draws it a page at a time (page.ts), so it
 * stays quick with tens of thousands of tiles.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import * as K from '../detection/keys.js';
import { indexLabelMap, type LabelMap } from '../detection/label-map.js';
import { describeLocation, isTfrecordError, TfrecordError } from '../errors.js';
import { decodeExample } from '../example/codec.js';
import type { Feature, Features } from '../example/features.js';
import type { CompressionOption } from '../record/compression.js';
import type { Prediction } from '../evaluate/predictions.js';
import { listPredictionFiles, readPredictions } from '../evaluate/predictions.js';
import { checkFeatures, checkImage, type CheckOptions, type Emit } from '../validate/checks.js';
import { FINDING_CODES, type Finding, type FindingCode } from '../validate/findings.js';
import { validateDataset } from '../validate/validate.js';
import { isFramingProblem, listTfrecordFiles, walkRecords, type RecordEvent } from '../walk/walk-records.js';
import { DEFAULT_PREVIEW_LIMIT, DEFAULT_PREVIEW_SEED, DEFAULT_PREVIEW_SIZE } from './defaults.js';
import { boxNote, drawDetections, drawPlaceholder, type PreviewBox } from './draw.js';
import { detectionsOf, matchImage, PREDICTION_FILTERS, type PredictionFilter } from './match.js';
import { contactSheet, readSheetTiles } from './page.js';
import { Reservoir } from './sample.js';

export { DEFAULT_PREVIEW_LIMIT, DEFAULT_PREVIEW_SEED, DEFAULT_PREVIEW_SIZE } from './defaults.js';
export { PREDICTION_FILTERS, type PredictionFilter } from './match.js';

/** Detections scoring below this are not drawn unless told otherwise. */
export const DEFAULT_SCORE_THRESHOLD = 0.5;

export interface PreviewOptions {
  /** Output directory (created if needed). */
  outDir: string;
  /** Most records rendered (default 100), the first ones in file order (or with the filter's finding). */
  limit?: number;
  /** Render this many records chosen at random across all files instead of the first `limit`. */
  sample?: number;
  /** Seed of the sample's random choice (default 1): the same seed picks the same records. */
  seed?: number;
  /** Longest side of a thumbnail in pixels (default 320); smaller images are not enlarged. */
  size?: number;
  /** Render only records with a validator finding of this code, or (with `predictions`) a false positive / missed box. */
  filter?: FindingCode | PredictionFilter;
  /** A model's prediction files or folders (as `evaluate` reads them): its detections are drawn against the ground truth. */
  predictions?: readonly string[];
  /** How `predictions` are named in errors (default: as given). */
  predictionNames?: readonly string[];
  /** Detections scoring below this are left out (default 0.5). */
  scoreThreshold?: number;
  /** Tags show the map's names (else `class/text`); also passed to the validator. */
  labelMap?: LabelMap;
  compression?: CompressionOption;
  /** How file names appear on the contact sheet (default: as given). */
  displayPath?: (file: string) => string;
  /** Called after each tile is written (progress reporting). */
  onTile?: (tile: PreviewTile) => void;
}

export interface PreviewTile {
  file: string;
  record: number;
  /** Header offset of the record, when it was read. */
  offset?: number;
  /** JPEG file name inside `outDir`. */
  image: string;
  /** image/filename, else image/source_id, '' when neither is set. */
  name: string;
  /** Boxes the record claims (drawn or not). */
  boxes: number;
  /** Class names of the boxes (label map name, else class/text, else "label N"), distinct, in first-seen order. */
  classes: string[];
  /** Boxes that could not be drawn as stored (NaN, missing or inverted coordinates), one sentence each. */
  notes: string[];
  /** Boxes marked crowd / difficult. */
  crowd: number;
  difficult: number;
  /** Finding codes of this record (sorted, distinct). */
  codes: FindingCode[];
  /** Size of the decoded image; absent for placeholders. */
  width?: number;
  height?: number;
  /** Size of the thumbnail; absent for placeholders. */
  thumbWidth?: number;
  thumbHeight?: number;
  /** Why a placeholder was drawn instead of the image. */
  placeholder?: string;
  /** With predictions (and a drawable image): detections matched, detections unmatched, ground-truth boxes missed. */
  tp?: number;
  fp?: number;
  missed?: number;
}

export interface PreviewResult {
  outDir: string;
  /** Path of the contact sheet. */
  index: string;
  tiles: PreviewTile[];
  /** Records in the inputs, every one counted (records skipped for a bad data CRC are not). */
  total: number;
  /** With a filter: records that have a finding of that code (may exceed `tiles.length`). */
  matched?: number;
  /** The sample's seed, when records were sampled. */
  seed?: number;
  /** Framing damage that ended the reading of a file (the rest of that file is not previewed). */
  errors: Finding[];
}

/** Codes of records seen recently, before we know whether they will be selected. */
const RECENT_RECORDS = 64;

/**
 * Renders records of `paths` (files or directories of `*.tfrecord*` files)
 * into `options.outDir`. Undecodable images and unreadable records become
 * placeholder tiles; only I/O failures (missing input, unwritable output) throw.
 */
export async function previewDataset(paths: string[], options: PreviewOptions): Promise<PreviewResult> {
  const limit = options.limit ?? DEFAULT_PREVIEW_LIMIT;
  const size = options.size ?? DEFAULT_PREVIEW_SIZE;
  const seed = options.seed ?? DEFAULT_PREVIEW_SEED;
  const positive = (what: string, n: number) => {
    if (!Number.isInteger(n) || n < 1) throw new TfrecordError('bad-argument', `preview ${what} must be a positive integer, got ${n}`);
  };
  positive('limit', limit);
  positive('size', size);
  if (options.sample !== undefined) positive('sample', options.sample);
  if (!Number.isInteger(seed)) throw new TfrecordError('bad-argument', `preview seed must be an integer, got ${seed}`);
  const byPrediction = (PREDICTION_FILTERS as readonly string[]).includes(options.filter ?? '');
  if (options.filter !== undefined && !byPrediction && !(FINDING_CODES as readonly string[]).includes(options.filter)) {
    throw new TfrecordError('bad-argument', `unknown finding code ${JSON.stringify(options.filter)}`);
  }
  if (byPrediction && options.predictions === undefined) {
    throw new TfrecordError('bad-argument', `preview filter ${options.filter} needs predictions to compare with`);
  }
  const threshold = options.scoreThreshold ?? DEFAULT_SCORE_THRESHOLD;
  if (!(threshold >= 0 && threshold <= 1)) throw new TfrecordError('bad-argument', `preview score threshold must be in [0, 1], got ${threshold}`);
  const files = await listTfrecordFiles(paths);
  const predictions = options.predictions !== undefined ? await loadPredictions(options.predictions, options.predictionNames, threshold) : undefined;
  await mkdir(options.outDir, { recursive: true });

  const errors: Finding[] = [];
  let selection: Selection | undefined;
  if (byPrediction && predictions) selection = await selectByMatch(files, options.filter as PredictionFilter, limit, predictions, options, errors);
  else if (options.filter !== undefined) selection = await selectByFinding(paths, options.filter as FindingCode, limit, options);
  else if (options.sample !== undefined) selection = await selectAtRandom(files, options.sample, seed, options, errors);

  const names = new TileNamer();
  const tiles: PreviewTile[] = [];
  const checkOptions: CheckOptions = options.labelMap ? { labelIndex: indexLabelMap(options.labelMap) } : {};
  const labelNames = options.labelMap ? indexLabelMap(options.labelMap).byId : undefined;
  /** Records seen by this pass (the total when there was no selecting pass). */
  let counted = 0;

  const addTile = async (tile: PreviewTile, image: Buffer) => {
    await writeAtomic(join(options.outDir, tile.image), image);
    tiles.push(tile);
    options.onTile?.(tile);
  };
  const placeholder = async (file: string, record: number, offset: number | undefined, reason: string, codes: FindingCode[], about?: RecordAbout) => {
    const tile: PreviewTile = { file, record, image: names.name(file, record), ...(about ?? emptyAbout()), codes, placeholder: reason };
    if (offset !== undefined) tile.offset = offset;
    const where = describeLocation({ record, offset });
    const lines = [display(options, file), where, ...(tile.name ? [tile.name] : []), reason, ...(codes.length ? [codes.join(', ')] : [])];
    await addTile(tile, await drawPlaceholder(lines));
  };
  const full = () => selection === undefined && tiles.length >= limit;

  // The files are listed already (above, before anything was written), so no folder is expanded twice.
  const walk = walkRecords(files, { compression: options.compression ?? 'auto' });
  let file = '';
  /** With a selection: the records chosen in this file, and the last of them. */
  let wanted: Map<number, Set<FindingCode>> | undefined;
  let lastWanted = Infinity;
  /** Codes for a record the reader could not deliver, or undefined when it is not to be shown. */
  const framingCodes = (record: number, code: FindingCode): Set<FindingCode> | undefined => {
    if (selection !== undefined) return wanted?.get(record);
    return full() ? undefined : new Set([code]);
  };
  /** A random sample found the framing damage in its own pass already. */
  const reportsErrors = selection === undefined || selection.reportsErrors;
  for await (const ev of walk) {
    if (ev.kind === 'file') {
      file = ev.file;
      wanted = selection?.byFile.get(file);
      // A file with nothing selected is not even opened.
      if (selection !== undefined && wanted === undefined) walk.skipFile();
      // A loop, not Math.max(...keys): a large --limit would overflow the argument list.
      lastWanted = wanted ? -1 : Infinity;
      for (const k of wanted?.keys() ?? []) if (k > lastWanted) lastWanted = k;
      continue;
    }
    if (ev.kind === 'problem') {
      if (!isFramingProblem(ev.problem)) throw ev.error;
      const { record, offset } = ev.problem;
      if (ev.fatal && reportsErrors) errors.push(ev.problem);
      // A record dropped for a bad data CRC has no payload to draw; it gets a tile only when selected.
      const codes = record !== undefined ? framingCodes(record, ev.fatal ? ev.problem.code : 'crc-mismatch') : undefined;
      if (codes && record !== undefined) {
        await placeholder(file, record, offset, ev.fatal ? ev.error.reason : `record skipped: ${ev.error.reason}`, sortedCodes(codes));
      }
      continue;
    }
    counted++;
    if (wanted !== undefined && !wanted.has(ev.index)) {
      if (ev.index > lastWanted) walk.skipFile();
      continue;
    }
    // Past the limit the walk goes on only to count the records.
    if (full()) continue;
    const codes = new Set<FindingCode>(wanted?.get(ev.index) ?? []);
    const ownChecks = selection === undefined || !selection.fromValidator;
    let features: Features;
    try {
      features = decodeExample(ev.payload);
    } catch (err) {
      if (!isTfrecordError(err)) throw err;
      const tooLarge = err.code === 'example-too-large';
      if (ownChecks) codes.add(tooLarge ? 'example-too-large' : 'not-an-example');
      await placeholder(file, ev.index, ev.offset, tooLarge ? `not decoded: ${err.reason}` : `not a tf.Example: ${err.reason}`, sortedCodes(codes));
      continue;
    }
    if (ownChecks) {
      // Per-record checks only: the dataset-wide ones need a full pass (use a filter for those).
      const emit: Emit = (code) => void codes.add(code);
      await checkImage(checkFeatures(features, checkOptions, emit), undefined, emit);
    }
    const gt = readBoxes(features, labelNames);
    const about = describeRecord(features, gt);
    const compared = predictions ? compareRecord(features, gt, predictions, labelNames) : undefined;
    const boxes = compared?.boxes ?? gt;
    const image = bytesValue(features[K.IMAGE_ENCODED]);
    const base = { file, record: ev.index, offset: ev.offset, image: names.name(file, ev.index), ...about, codes: sortedCodes(codes) };
    if (image === undefined || image.length === 0) {
      await placeholder(file, ev.index, ev.offset, image === undefined ? `no '${K.IMAGE_ENCODED}'` : `'${K.IMAGE_ENCODED}' is empty`, base.codes, about);
      continue;
    }
    let drawn: Awaited<ReturnType<typeof drawDetections>>;
    try {
      drawn = await drawDetections(image, boxes, size);
    } catch (err) {
      await placeholder(file, ev.index, ev.offset, `image does not decode: ${err instanceof Error ? err.message : String(err)}`, base.codes, about);
      continue;
    }
    const counts = compared ? { tp: compared.tp, fp: compared.fp, missed: compared.missed } : {};
    await addTile({ ...base, ...counts, width: drawn.width, height: drawn.height, thumbWidth: drawn.thumbWidth, thumbHeight: drawn.thumbHeight }, drawn.jpeg);
  }

  const index = join(options.outDir, 'index.html');
  const result: PreviewResult = { outDir: options.outDir, index, tiles, total: selection?.total ?? counted, errors };
  if (selection?.matched !== undefined) result.matched = selection.matched;
  if (options.sample !== undefined) result.seed = seed;
  const earlier = await earlierTiles(index);
  await writeAtomic(index, contactSheet(result, { ...options, limit, display: (f) => display(options, f) }));
  await removeStaleTiles(options.outDir, earlier, tiles);
  return result;
}

/** A tile name as TileNamer makes them (PNG: what earlier versions wrote): no directory part, nothing hidden. */
const TILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*-\d+\.(?:jpg|png)$/;

/**
 * The tiles an earlier run listed in the `index.html` now in `outDir`, so
 * they can be removed if this run does not draw them again. Only names of our
 * own pattern are taken; a page that is not ours yields nothing, so no other
 * file is ever touched.
 */
async function earlierTiles(index: string): Promise<string[]> {
  let html: string;
  try {
    html = await readFile(index, 'utf8');
  } catch {
    return [];
  }
  return readSheetTiles(html).filter((name) => TILE_NAME.test(name));
}

async function removeStaleTiles(outDir: string, earlier: string[], tiles: PreviewTile[]): Promise<void> {
  const current = new Set(tiles.map((t) => t.image));
  for (const name of earlier) {
    if (!current.has(name)) await rm(join(outDir, name), { force: true });
  }
}

// ---------------------------------------------------------------------------
// Selection by finding

interface Selection {
  /** file -> record -> codes of that record */
  byFile: Map<string, Map<number, Set<FindingCode>>>;
  /** Records in the inputs. */
  total: number;
  /** With a filter: records with a finding of its code. */
  matched?: number;
  /** The codes came from a full validation (else the rendering pass runs the per-record checks). */
  fromValidator: boolean;
  /** The rendering pass reports framing damage (false when the selecting pass did already). */
  reportsErrors: boolean;
}

interface Chosen {
  file: string;
  record: number;
  codes: Set<FindingCode>;
}

/**
 * Picks records: the first `limit` offered, or with `options.sample` a seeded
 * uniform sample of that many. Keeps only the chosen ones.
 */
class Chooser {
  private readonly chosen = new Map<string, Chosen>();
  private readonly reservoir: Reservoir<string> | undefined;

  constructor(
    private readonly limit: number,
    options: PreviewOptions,
  ) {
    if (options.sample !== undefined) this.reservoir = new Reservoir(options.sample, options.seed ?? DEFAULT_PREVIEW_SEED);
  }

  get(key: string): Chosen | undefined {
    return this.chosen.get(key);
  }

  /** Offers a record; true when it is (for now) chosen. */
  offer(key: string, item: Chosen): boolean {
    if (this.reservoir === undefined) {
      if (this.chosen.size >= this.limit) return false;
      this.chosen.set(key, item);
      return true;
    }
    const dropped = this.reservoir.offer(key);
    if (dropped === key) return false;
    if (dropped !== undefined) this.chosen.delete(dropped);
    this.chosen.set(key, item);
    return true;
  }

  byFile(): Map<string, Map<number, Set<FindingCode>>> {
    const byFile = new Map<string, Map<number, Set<FindingCode>>>();
    for (const { file, record, codes } of this.chosen.values()) {
      let perFile = byFile.get(file);
      if (!perFile) byFile.set(file, (perFile = new Map()));
      perFile.set(record, codes);
    }
    return byFile;
  }
}

const recordKey = (file: string, record: number) => `${file}\u0000${record}`;

async function selectByFinding(paths: string[], code: FindingCode, limit: number, options: PreviewOptions): Promise<Selection> {
  const chooser = new Chooser(limit, options);
  const recent = new Map<string, Set<FindingCode>>();
  let matched = 0;
  let lastMatch = '';
  const report = await validateDataset(paths, {
    // Nothing stored: everything we need is taken from the stream of findings.
    maxFindings: 0,
    compression: options.compression ?? 'auto',
    ...(options.labelMap ? { labelMap: options.labelMap } : {}),
    onFinding: (f) => {
      // Dataset-wide findings (no record) have nothing to draw.
      if (f.record === undefined || f.file === '') return;
      const key = recordKey(f.file, f.record);
      const chosen = chooser.get(key);
      if (chosen) {
        chosen.codes.add(f.code);
        return;
      }
      let codes = recent.get(key);
      if (codes === undefined) {
        codes = new Set();
        recent.set(key, codes);
        if (recent.size > RECENT_RECORDS) recent.delete(recent.keys().next().value as string);
      }
      codes.add(f.code);
      if (f.code !== code) return;
      // A record's findings arrive together, so comparing with the last match counts records, not findings.
      if (key === lastMatch) return;
      matched++;
      lastMatch = key;
      if (chooser.offer(key, { file: f.file, record: f.record, codes })) recent.delete(key);
    },
  });
  return { byFile: chooser.byFile(), total: report.records, matched, fromValidator: true, reportsErrors: true };
}

/**
 * The records of a first pass over the files; fatal framing damage goes to
 * `errors` (reported once, with the tiles), anything else stops the preview.
 */
async function* firstPass(files: string[], options: PreviewOptions, errors: Finding[]): AsyncGenerator<RecordEvent> {
  for await (const ev of walkRecords(files, { compression: options.compression ?? 'auto' })) {
    if (ev.kind === 'file') continue;
    if (ev.kind === 'problem') {
      if (!isFramingProblem(ev.problem)) throw ev.error;
      if (ev.fatal) errors.push(ev.problem);
      continue;
    }
    yield ev;
  }
}

/** A first pass over every record (payloads are not decoded) choosing `n` at random; it also counts them and notes framing damage. */
async function selectAtRandom(files: string[], n: number, seed: number, options: PreviewOptions, errors: Finding[]): Promise<Selection> {
  const chooser = new Chooser(n, { ...options, sample: n, seed });
  let total = 0;
  for await (const ev of firstPass(files, options, errors)) {
    total++;
    chooser.offer(recordKey(ev.file, ev.index), { file: ev.file, record: ev.index, codes: new Set() });
  }
  return { byFile: chooser.byFile(), total, fromValidator: false, reportsErrors: false };
}

/**
 * A first pass that decodes every record and compares it with its
 * predictions, choosing records with at least one box of the filter's kind.
 * Records that do not decode have nothing to compare and are passed over.
 */
async function selectByMatch(
  files: string[],
  filter: PredictionFilter,
  limit: number,
  predictions: PredictionsByKey,
  options: PreviewOptions,
  errors: Finding[],
): Promise<Selection> {
  const chooser = new Chooser(limit, options);
  let total = 0;
  let matched = 0;
  for await (const ev of firstPass(files, options, errors)) {
    total++;
    let features: Features;
    try {
      features = decodeExample(ev.payload);
    } catch (err) {
      if (!isTfrecordError(err)) throw err;
      continue;
    }
    const c = compareRecord(features, readBoxes(features, undefined), predictions, undefined);
    if ((filter === 'missed' ? c.missed : c.fp) === 0) continue;
    matched++;
    chooser.offer(recordKey(ev.file, ev.index), { file: ev.file, record: ev.index, codes: new Set() });
  }
  return { byFile: chooser.byFile(), total, matched, fromValidator: false, reportsErrors: false };
}

// ---------------------------------------------------------------------------
// Predictions

/** Detections by image key; only those at or above the score threshold are kept. */
type PredictionsByKey = Map<string, Prediction[]>;

async function loadPredictions(paths: readonly string[], names: readonly string[] | undefined, threshold: number): Promise<PredictionsByKey> {
  const files = await listPredictionFiles(paths);
  // Folders expand to several files; only paths given as files keep a caller's name.
  const shownNames = names && files.length === paths.length ? names : files;
  const byKey: PredictionsByKey = new Map();
  for await (const p of readPredictions(files, shownNames)) {
    const keep: number[] = [];
    for (let i = 0; i < p.scores.length; i++) if (p.scores[i]! >= threshold) keep.push(i);
    const slim: Prediction = {
      ...p,
      boxes: Float64Array.from(keep.flatMap((i) => [...p.boxes.subarray(4 * i, 4 * i + 4)])),
      scores: Float64Array.from(keep.map((i) => p.scores[i]!)),
      classes: Int32Array.from(keep.map((i) => p.classes[i]!)),
    };
    // The same key twice (a retried batch, say): both sets of detections count, as evaluate sees them.
    const list = byKey.get(p.key);
    if (list) list.push(slim);
    else byKey.set(p.key, [slim]);
  }
  return byKey;
}

interface Compared {
  /** Ground truth (missed boxes marked) followed by the detections. */
  boxes: PreviewBox[];
  tp: number;
  fp: number;
  missed: number;
}

/** A record's ground truth against the detections for its key (image/source_id, else image/filename, as evaluate matches). */
function compareRecord(
  features: Features,
  gt: readonly PreviewBox[],
  predictions: PredictionsByKey,
  names: ReadonlyMap<number, { name: string }> | undefined,
): Compared {
  const text = (key: string) => {
    const v = bytesValue(features[key]);
    return v !== undefined ? utf8.decode(v) : '';
  };
  const key = text(K.IMAGE_SOURCE_ID) || text(K.IMAGE_FILENAME);
  const detections = detectionsOf(predictions.get(key) ?? [], 0);
  const m = matchImage(gt, detections);
  const boxes: PreviewBox[] = gt.map((b, i) => (m.found[i] === false ? { ...b, verdict: 'missed' } : b));
  // Without a label map a detection is named as the record's own boxes of that label are (class/text).
  const gtNames = new Map<number, string>();
  for (const b of gt) if (b.label !== null && b.name !== '' && !gtNames.has(b.label)) gtNames.set(b.label, b.name);
  for (const d of m.detections) {
    boxes.push({
      xmin: d.xmin,
      xmax: d.xmax,
      ymin: d.ymin,
      ymax: d.ymax,
      label: d.label,
      name: names?.get(d.label)?.name ?? gtNames.get(d.label) ?? '',
      verdict: d.matched !== undefined ? 'tp' : 'fp',
      score: d.score,
    });
  }
  return { boxes, tp: m.tp, fp: m.fp, missed: m.missed };
}

// ---------------------------------------------------------------------------
// Records

const utf8 = new TextDecoder();

function bytesValue(f: Feature | undefined): Uint8Array | undefined {
  return f?.kind === 'bytes_list' ? f.values[0] : undefined;
}

/** Boxes read leniently (a preview must show broken records too): missing entries stay undefined. */
function readBoxes(features: Features, names: ReadonlyMap<number, { name: string }> | undefined): PreviewBox[] {
  const floats = (key: string) => (features[key]?.kind === 'float_list' ? (features[key] as { values: number[] }).values : undefined);
  const xmin = floats(K.BBOX_XMIN);
  const xmax = floats(K.BBOX_XMAX);
  const ymin = floats(K.BBOX_YMIN);
  const ymax = floats(K.BBOX_YMAX);
  const lf = features[K.CLASS_LABEL];
  const labels = lf?.kind === 'int64_list' ? lf.values : undefined;
  const tf = features[K.CLASS_TEXT];
  const texts = tf?.kind === 'bytes_list' ? tf.values : undefined;
  const flag = (key: string) => {
    const f = features[key];
    return f?.kind === 'int64_list' ? f.values : undefined;
  };
  const crowd = flag(K.OBJECT_IS_CROWD);
  const difficult = flag(K.OBJECT_DIFFICULT);
  const n = Math.max(xmin?.length ?? 0, xmax?.length ?? 0, ymin?.length ?? 0, ymax?.length ?? 0, labels?.length ?? 0);
  const out: PreviewBox[] = [];
  for (let i = 0; i < n; i++) {
    const raw = labels?.[i];
    const label = raw === undefined ? null : Number(raw);
    const text = texts?.[i] !== undefined ? utf8.decode(texts[i]) : '';
    const name = (label !== null ? names?.get(label)?.name : undefined) ?? text;
    const box: PreviewBox = { xmin: xmin?.[i], xmax: xmax?.[i], ymin: ymin?.[i], ymax: ymax?.[i], label, name };
    if (crowd?.[i] !== undefined && Number(crowd[i]) !== 0) box.crowd = true;
    if (difficult?.[i] !== undefined && Number(difficult[i]) !== 0) box.difficult = true;
    out.push(box);
  }
  return out;
}

type RecordAbout = Pick<PreviewTile, 'name' | 'boxes' | 'classes' | 'notes' | 'crowd' | 'difficult'>;

function emptyAbout(): RecordAbout {
  return { name: '', boxes: 0, classes: [], notes: [], crowd: 0, difficult: 0 };
}

/** What a caption says about a record besides its place: its name, classes and the boxes not drawn as stored. */
function describeRecord(features: Features, boxes: readonly PreviewBox[]): RecordAbout {
  const text = (key: string) => {
    const v = bytesValue(features[key]);
    return v !== undefined ? utf8.decode(v) : '';
  };
  const classes = new Set<string>();
  const notes: string[] = [];
  boxes.forEach((b, i) => {
    classes.add(classOf(b));
    const note = boxNote(b, i);
    if (note !== undefined) notes.push(note);
  });
  return {
    name: text(K.IMAGE_FILENAME) || text(K.IMAGE_SOURCE_ID),
    boxes: boxes.length,
    classes: [...classes],
    notes,
    crowd: boxes.filter((b) => b.crowd).length,
    difficult: boxes.filter((b) => b.difficult).length,
  };
}

/** A box's class as the page's class filter lists it. */
function classOf(b: PreviewBox): string {
  if (b.name !== '') return b.name;
  return b.label === null ? '(no label)' : `label ${b.label}`;
}

function sortedCodes(codes: Iterable<FindingCode>): FindingCode[] {
  const set = new Set(codes);
  return FINDING_CODES.filter((c) => set.has(c));
}

// ---------------------------------------------------------------------------
// Output

/**
 * `<fileStem>-<index>.jpg` names: the stem drops `.tfrecord` and compression
 * suffixes but keeps shard numbers, and two inputs with the same stem (same
 * name in different directories) get `_2`, `_3`… so tiles never overwrite each other.
 */
class TileNamer {
  private readonly stems = new Map<string, string>();
  private readonly used = new Set<string>();

  name(file: string, record: number): string {
    return `${this.stem(file)}-${record}.jpg`;
  }

  private stem(file: string): string {
    const known = this.stems.get(file);
    if (known !== undefined) return known;
    const base =
      basename(file)
        .replace(/\.(gz|gzip|zz|zlib|z)$/i, '')
        .replace(/\.tfrecords?/i, '')
        .replace(/[^A-Za-z0-9._-]+/g, '_')
        .replace(/^[.]+/, '') || 'records';
    let stem = base;
    for (let i = 2; this.used.has(stem); i++) stem = `${base}_${i}`;
    this.used.add(stem);
    this.stems.set(file, stem);
    return stem;
  }
}

/** Written under a temporary name and renamed, so a reader never sees half a file. */
async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = join(path, '..', `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw new TfrecordError('io', `cannot write preview: ${err instanceof Error ? err.message : String(err)}`, { file: path, cause: err });
  }
}

function display(options: PreviewOptions, file: string): string {
  return options.displayPath ? options.displayPath(file) : file;
}
