/**
 * Per-record checks: pure, synchronous functions over one decoded Example
 * (plus one async image check). They report through an `emit` callback and
 * return the few facts the dataset-wide checks need, so nothing of the record
 * outlives it.
 */
import { isUtf8, showBytes } from '../utf8.js';
import type { Feature, Features } from '../example/features.js';
import * as K from '../detection/keys.js';
import type { LabelMapIndex } from '../detection/label-map.js';
import { displaySize, probeImage, sniffFormat, TF_DECODABLE_FORMATS } from '../image/probe.js';
import { isAre, plural, withArticle } from '../words.js';
import type { FindingCode, Severity } from './findings.js';

export type Emit = (code: FindingCode, message: string, severity?: Severity) => void;

export interface CheckOptions {
  labelIndex?: LabelMapIndex;
  numClasses?: number;
}

type ListKind = 'bytes_list' | 'float_list' | 'int64_list';

/** The list kind the OD API's decoder parses each known key as. */
const EXPECTED_KIND: Readonly<Record<string, ListKind>> = {
  [K.IMAGE_ENCODED]: 'bytes_list',
  [K.IMAGE_FORMAT]: 'bytes_list',
  [K.IMAGE_HEIGHT]: 'int64_list',
  [K.IMAGE_WIDTH]: 'int64_list',
  [K.IMAGE_FILENAME]: 'bytes_list',
  [K.IMAGE_SOURCE_ID]: 'bytes_list',
  [K.IMAGE_SHA256]: 'bytes_list',
  [K.BBOX_XMIN]: 'float_list',
  [K.BBOX_XMAX]: 'float_list',
  [K.BBOX_YMIN]: 'float_list',
  [K.BBOX_YMAX]: 'float_list',
  [K.CLASS_LABEL]: 'int64_list',
  [K.CLASS_TEXT]: 'bytes_list',
  [K.OBJECT_IS_CROWD]: 'int64_list',
  [K.OBJECT_AREA]: 'float_list',
  [K.OBJECT_DIFFICULT]: 'int64_list',
  [K.OBJECT_TRUNCATED]: 'int64_list',
  [K.OBJECT_VIEW]: 'bytes_list',
  [K.OBJECT_GROUP_OF]: 'int64_list',
  // Other per-object keys the OD API decoder reads, so a wrong kind breaks parsing too.
  'image/object/weight': 'float_list',
  'image/object/keypoint/x': 'float_list',
  'image/object/keypoint/y': 'float_list',
  'image/object/keypoint/visibility': 'int64_list',
};

/**
 * The decoder parses these as fixed-length scalars: a present key with zero
 * or several values fails `tf.io.parse_single_example`.
 */
const SCALAR_KEYS: ReadonlySet<string> = new Set([
  K.IMAGE_ENCODED,
  K.IMAGE_FORMAT,
  K.IMAGE_HEIGHT,
  K.IMAGE_WIDTH,
  K.IMAGE_FILENAME,
  K.IMAGE_SOURCE_ID,
  K.IMAGE_SHA256,
]);

const REQUIRED_BOX_KEYS = [...K.BBOX_KEYS, K.CLASS_LABEL] as const;

/**
 * Per-object keys that hold several entries per box rather than one: keypoints
 * (boxes × keypoints), float instance masks (boxes × height × width) and
 * per-class score vectors (boxes × classes). For these only "a multiple of the
 * box count" can be checked. DensePose lists are ragged and not checked at all.
 */
function perBoxMultiplicity(key: string, f: Feature): 'one' | 'multiple' | 'skip' {
  if (key.startsWith('image/object/densepose/')) return 'skip';
  if (key.startsWith('image/object/keypoint/')) return 'multiple';
  if (key === 'image/object/class/multiclass_scores') return 'multiple';
  // PNG masks are one encoded image per box; numerical masks are flattened.
  if (key === 'image/object/mask' && f.kind === 'float_list') return 'multiple';
  return 'one';
}

/**
 * Per-box lists the OD API's decoder treats as optional: an empty one (or a
 * Feature with no kind) is read as absent and each box gets the default.
 */
const OPTIONAL_WHEN_EMPTY: ReadonlyMap<string, string> = new Map([
  ['image/object/difficult', 'no box is difficult'],
  ['image/object/is_crowd', 'no box is a crowd'],
  ['image/object/area', "each box's area is computed from its coordinates"],
  ['image/object/truncated', 'no box is truncated'],
  ['image/object/group_of', 'no box is a group'],
  ['image/object/weight', 'every box weighs 1'],
  ['image/object/view', 'no view'],
  ['image/object/class/text', 'the labels alone name the classes'],
]);

/** What the image and dataset-wide checks need from a record. */
export interface RecordFacts {
  /** Number of boxes (entries of the label list, or of a bbox list when labels are unusable). */
  boxes: number;
  /** `image/encoded`, when present with the right type and one value (may be empty). */
  image?: Uint8Array;
  /** Declared `image/format`, lower-cased, when present and non-empty. */
  format?: string;
  height?: number;
  width?: number;
  /** Declared `image/key/sha256`, lower-cased, when present and non-empty. */
  sha256?: string;
  sourceId?: string;
  /** `image/filename`, to name the record in messages about other records. */
  filename?: string;
  /** Labels >= 1 of this record (duplicates included), for dataset-wide label checks. */
  labels: number[];
  /** (label, text) for every box with a non-empty text, for dataset-wide consistency. */
  labelTexts: Array<[number, string]>;
}

const utf8 = new TextDecoder();
const fmtKey = (k: string) => `'${k}'`;

/** int64 value as a number, or undefined when it is outside the safe range (bigint from the decoder). */
function safeInt(v: number | bigint): number | undefined {
  if (typeof v === 'number') return v;
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : undefined;
}

/**
 * Checks one Example against the OD API detection schema: feature presence and
 * types, per-object list lengths, box coordinates and labels (against
 * `numClasses` and the label map). Image content is checked separately.
 */
export function checkFeatures(features: Features, options: CheckOptions, emit: Emit): RecordFacts {
  // 1. Types. A key with the wrong kind is reported once and then treated as
  //    unusable, so later checks neither crash on it nor report it again.
  const lists = new Map<string, Exclude<Feature, { kind: 'empty' }>['values']>();
  const unusable = new Set<string>();
  for (const key of Object.keys(features)) {
    const f = features[key] as Feature;
    const expected = EXPECTED_KIND[key];
    if (f.kind === 'empty') {
      // A Feature with no kind parses like an empty list of whatever kind is asked for.
      lists.set(key, []);
    } else if (expected !== undefined && f.kind !== expected) {
      emit('wrong-feature-type', `${fmtKey(key)} is ${withArticle(f.kind)}, expected ${withArticle(expected)}`);
      unusable.add(key);
      continue;
    } else {
      lists.set(key, f.values);
    }
    if (SCALAR_KEYS.has(key)) {
      const n = (lists.get(key) as unknown[]).length;
      if (n !== 1) {
        emit('wrong-feature-type', `${fmtKey(key)} must hold exactly one value, it holds ${n}`);
        unusable.add(key);
        lists.delete(key);
      }
    }
  }
  const present = (key: string) => features[key] !== undefined;
  const bytesOf = (key: string) => lists.get(key) as Uint8Array[] | undefined;
  const floatsOf = (key: string) => lists.get(key) as number[] | undefined;
  const intsOf = (key: string) => lists.get(key) as Array<number | bigint> | undefined;
  const scalarText = (key: string) => {
    const v = bytesOf(key);
    return v === undefined ? undefined : utf8.decode(v[0]);
  };

  // 2. Presence.
  if (!present(K.IMAGE_ENCODED)) emit('missing-feature', `${fmtKey(K.IMAGE_ENCODED)} is missing: the record has no image`);
  for (const key of [K.IMAGE_HEIGHT, K.IMAGE_WIDTH, K.IMAGE_FORMAT]) {
    if (!present(key)) emit('missing-feature', `${fmtKey(key)} is missing`, 'warning');
  }
  const format = scalarText(K.IMAGE_FORMAT);
  if (format === '') emit('missing-feature', `${fmtKey(K.IMAGE_FORMAT)} is empty`, 'warning');

  const boxKeysPresent = REQUIRED_BOX_KEYS.filter(present);
  if (boxKeysPresent.length === 0) {
    // TF's decoder reads absent lists as empty, so this trains as an image
    // without objects; still worth saying, since it usually means the writer
    // skipped the keys rather than meant "no objects".
    emit('missing-feature', 'no box or label lists: read as an image without objects (write empty lists to make that explicit)', 'warning');
  } else {
    for (const key of REQUIRED_BOX_KEYS) {
      if (!present(key)) emit('missing-feature', `${fmtKey(key)} is missing while other box lists are present`);
    }
  }

  // 3. One entry per box. The label list defines the box count; without a
  //    usable one, the first usable bbox list does.
  const labels = intsOf(K.CLASS_LABEL);
  const reference = labels !== undefined ? K.CLASS_LABEL : K.BBOX_KEYS.find((k) => lists.has(k));
  const boxes = reference === undefined ? 0 : (lists.get(reference) as unknown[]).length;
  for (const key of lists.keys()) {
    if (!key.startsWith(K.OBJECT_KEY_PREFIX)) continue;
    const len = (lists.get(key) as unknown[]).length;
    const mult = perBoxMultiplicity(key, features[key] as Feature);
    if (mult === 'skip') continue;
    if (mult === 'one' ? len === boxes : boxes === 0 ? len === 0 : len % boxes === 0) continue;
    if (len === 0 && OPTIONAL_WHEN_EMPTY.has(key)) {
      // The OD API's decoder fills an empty optional list with its default
      // for every box, so this trains; but a writer that meant to give it
      // probably dropped the values.
      emit(
        'list-length-mismatch',
        `${fmtKey(key)} is empty on a record with ${boxes} box${boxes === 1 ? '' : 'es'}: TensorFlow and the OD API read it as not given (${OPTIONAL_WHEN_EMPTY.get(key)})`,
        'warning',
      );
      continue;
    }
    const want = mult === 'one' ? `one per box` : `a multiple of the box count`;
    const by = reference === undefined ? 'there are no box lists' : `there ${isAre(boxes)} ${plural(boxes, 'box', 'boxes')} (${fmtKey(reference)})`;
    emit('list-length-mismatch', `${fmtKey(key)} has ${plural(len, 'entry', 'entries')} but ${by}; expected ${want}`);
  }

  // 4. Boxes, for the boxes all four coordinate lists agree on.
  const xmin = floatsOf(K.BBOX_XMIN);
  const xmax = floatsOf(K.BBOX_XMAX);
  const ymin = floatsOf(K.BBOX_YMIN);
  const ymax = floatsOf(K.BBOX_YMAX);
  if (xmin && xmax && ymin && ymax) {
    const n = Math.min(xmin.length, xmax.length, ymin.length, ymax.length);
    for (let i = 0; i < n; i++) checkBox(i, xmin[i]!, xmax[i]!, ymin[i]!, ymax[i]!, emit);
  }

  // 5. Labels (and their texts).
  const facts: RecordFacts = { boxes, labels: [], labelTexts: [] };
  const texts = bytesOf(K.CLASS_TEXT);
  if (texts) checkTextsUtf8(texts, emit);
  const textsAligned = texts !== undefined && labels !== undefined && texts.length === labels.length;
  if (labels) {
    for (let i = 0; i < labels.length; i++) {
      const raw = labels[i] as number | bigint;
      const label = safeInt(raw);
      const text = textsAligned ? utf8.decode(texts[i]) : '';
      if (label === undefined || label < 1) {
        emit(
          'label-out-of-range',
          `box ${i}: label ${raw}${text ? ` (${JSON.stringify(text)})` : ''} is below 1; labels start at 1 because 0 is reserved for the background class`,
        );
        continue;
      }
      if (options.numClasses !== undefined && label > options.numClasses) {
        emit('label-out-of-range', `box ${i}: label ${label} is above the number of classes (${options.numClasses})`);
      } else if (options.labelIndex && !options.labelIndex.byId.has(label)) {
        emit('label-out-of-range', `box ${i}: label ${label} is not an id in the label map`);
      }
      facts.labels.push(label);
      if (text === '') continue;
      facts.labelTexts.push([label, text]);
      const item = options.labelIndex?.byId.get(label);
      if (item && text !== item.name && text !== item.displayName) {
        const other = options.labelIndex?.byName.get(text);
        const hint = other ? ` (the label map gives ${JSON.stringify(text)} id ${other.id})` : '';
        emit(
          'text-label-mismatch',
          `box ${i}: label ${label} has text ${JSON.stringify(text)} but the label map names id ${label} ${JSON.stringify(item.name)}${hint}`,
        );
      }
    }
  }

  // 6. Facts for the image and identity checks.
  const image = bytesOf(K.IMAGE_ENCODED);
  if (image) facts.image = image[0];
  if (format) facts.format = format.toLowerCase();
  const height = intsOf(K.IMAGE_HEIGHT);
  if (height) facts.height = safeInt(height[0] as number | bigint) ?? Number.NaN;
  const width = intsOf(K.IMAGE_WIDTH);
  if (width) facts.width = safeInt(width[0] as number | bigint) ?? Number.NaN;
  const sha = scalarText(K.IMAGE_SHA256);
  // Some exporters write an empty digest to mean "not computed"; only a real one can be wrong.
  if (sha) facts.sha256 = sha.trim().toLowerCase();
  const sourceId = scalarText(K.IMAGE_SOURCE_ID);
  if (sourceId) facts.sourceId = sourceId;
  const filename = scalarText(K.IMAGE_FILENAME);
  if (filename) facts.filename = filename;
  return facts;
}

const inUnit = (v: number) => v >= 0 && v <= 1;

function checkBox(i: number, xmin: number, xmax: number, ymin: number, ymax: number, emit: Emit): void {
  // Runs for every box of every record: nothing is allocated unless a finding is made.
  const fine = inUnit(xmin) && inUnit(xmax) && inUnit(ymin) && inUnit(ymax) && xmin < xmax && ymin < ymax;
  if (fine) return;
  const show = () => `[xmin ${xmin}, ymin ${ymin}, xmax ${xmax}, ymax ${ymax}]`;
  const bad = Object.entries({ xmin, xmax, ymin, ymax }).filter(([, v]) => !inUnit(v));
  if (bad.length > 0) {
    const which = bad.map(([k, v]) => `${k} ${v}`).join(', ');
    emit('bbox-out-of-range', `box ${i} ${show()}: ${which} outside [0, 1]; coordinates must be normalized by the image size`);
    return;
  }
  if (xmin > xmax || ymin > ymax) {
    const axis = [xmin > xmax ? 'xmin > xmax' : '', ymin > ymax ? 'ymin > ymax' : ''].filter(Boolean).join(' and ');
    emit('bbox-inverted', `box ${i} ${show()}: ${axis}`);
    return;
  }
  if (xmin === xmax || ymin === ymax) emit('bbox-degenerate', `box ${i} ${show()}: zero ${xmin === xmax ? 'width' : 'height'}`, 'warning');
}

// ---------------------------------------------------------------------------
// Images

/** Format names people write in `image/format`, mapped to the probe's names. */
const FORMAT_ALIASES: Readonly<Record<string, string>> = { jpg: 'jpeg', jpe: 'jpeg', tif: 'tiff' };

export function normalizeFormatName(name: string): string {
  const lower = name.trim().toLowerCase();
  return FORMAT_ALIASES[lower] ?? lower;
}

/** A full decoder: resolves to the real format and size or throws with a reason. */
export type ImageDecoder = (bytes: Uint8Array) => Promise<{ format: string; width: number; height: number }>;

/**
 * Checks `image/encoded` against its declared format and size. Without a
 * decoder only the header is read (fast, catches most wrong/garbled files);
 * with one, the whole image is decoded, which also catches truncated or
 * corrupt pixel data.
 */
export async function checkImage(facts: RecordFacts, decode: ImageDecoder | undefined, emit: Emit): Promise<void> {
  const bytes = facts.image;
  if (!decode || bytes === undefined || bytes.length === 0) {
    checkImageHeader(facts, emit);
    return;
  }
  let decoded: { format: string; width: number; height: number };
  try {
    decoded = await decode(bytes);
  } catch (err) {
    const reason = err instanceof Error ? ((err as { reason?: string }).reason ?? err.message) : String(err);
    emit('image-undecodable', `image does not decode: ${reason}`);
    return;
  }
  checkImageHeader(facts, emit, decoded);
}

/**
 * checkImage without a decoder: synchronous, from the header alone. With
 * `decoded` (what a full decode found) the header still wins where it can be
 * read: its size is the stored size, which is what TF decodes to.
 */
export function checkImageHeader(facts: RecordFacts, emit: Emit, decoded?: { format: string; width: number; height: number }): void {
  const bytes = facts.image;
  if (bytes === undefined) return;
  if (bytes.length === 0) {
    emit('image-empty', `${fmtKey(K.IMAGE_ENCODED)} is empty: the record carries no image`);
    return;
  }
  const actual: { format: string; width: number; height: number; orientation?: number } | undefined = probeImage(bytes) ?? decoded;
  if (actual === undefined) {
    const sniffed = sniffFormat(bytes);
    emit(
      'image-undecodable',
      sniffed
        ? `image starts like a ${sniffed} file but its header is truncated or corrupt`
        : `image is not in a recognised format (first bytes ${hexHead(bytes)})`,
    );
    return;
  }

  if (!(TF_DECODABLE_FORMATS as readonly string[]).includes(actual.format)) {
    emit(
      'image-format-unsupported',
      `image is ${actual.format}, which TensorFlow cannot decode (it reads JPEG, PNG, GIF and BMP); re-encode it as JPEG or PNG`,
      'warning',
    );
  }
  if (facts.format !== undefined) {
    const declared = normalizeFormatName(facts.format);
    if (declared !== actual.format) {
      emit('image-format-mismatch', `${fmtKey(K.IMAGE_FORMAT)} says ${JSON.stringify(facts.format)} but the image is ${actual.format}`);
    }
  }
  const h = facts.height;
  const w = facts.width;
  if ((h !== undefined && h !== actual.height) || (w !== undefined && w !== actual.width)) {
    const declared = `${w ?? '?'}x${h ?? '?'}`;
    const upright = displaySize(actual);
    // TF ignores EXIF orientation, so the stored size is what counts; a match
    // with the rotated size means the annotations were made on the rotated view.
    const rotated =
      upright.width !== actual.width && (w === undefined || w === upright.width) && (h === undefined || h === upright.height)
        ? ` (that is the EXIF-rotated size; TensorFlow ignores EXIF orientation, so boxes drawn on the rotated view will be wrong)`
        : '';
    emit('image-size-mismatch', `declared size ${declared} (width x height) but the image is ${actual.width}x${actual.height}${rotated}`);
  }
}

function hexHead(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/**
 * Class texts that are not UTF-8. Decoded for the other checks they read as
 * U+FFFD, which hid them. The OD API's decoder, given a label map (as its
 * input configs are), maps each box's class by this text through a table of
 * the map's names, so such a box matches no class; one finding per record,
 * naming the first box and how many there are.
 */
function checkTextsUtf8(texts: Uint8Array[], emit: Emit): void {
  let first = -1;
  let count = 0;
  for (let i = 0; i < texts.length; i++) {
    if (isUtf8(texts[i]!)) continue;
    if (first < 0) first = i;
    count++;
  }
  if (count === 0) return;
  emit(
    'text-not-utf8',
    `box ${first}: ${K.CLASS_TEXT} ${showBytes(texts[first]!)} is not valid UTF-8${count > 1 ? ` (${count} boxes in this record)` : ''}; ` +
      "the OD API's decoder looks the class up in the label map by this text, and no name can match it",
  );
}
