/**
 * tf.Example features -> DetectionExample, for records that follow the OD API
 * schema. This is the strict-but-short path: the first thing that does not fit
 * throws. `validateDataset` is the place that explains *everything* wrong with
 * a record; this function only needs to refuse to guess.
 */
import { AnnotationError } from '../errors.js';
import { type Feature, type Features, createFeatures } from '../example/features.js';
import { isAre, plural, withArticle } from '../words.js';
import * as K from './keys.js';
import type { DetectionExample, DetectionObject } from './schema.js';

const utf8 = new TextDecoder();

function fail(key: string, what: string): never {
  return failWith(`feature '${key}' ${what}`);
}
function failWith(reason: string): never {
  throw new AnnotationError('annotation', `not an object-detection example: ${reason}`);
}

interface ListValues {
  bytes_list: Uint8Array[];
  float_list: number[];
  int64_list: Array<number | bigint>;
}

/** A list of the expected kind; absent -> undefined. A kind-less feature counts as an empty list. */
function list<T extends keyof ListValues>(features: Features, key: string, kind: T): ListValues[T] | undefined {
  const f = features[key];
  if (f === undefined) return undefined;
  if (f.kind === 'empty') return [];
  if (f.kind !== kind) fail(key, `is ${withArticle(f.kind)}, expected ${withArticle(kind)}`);
  return f.values as ListValues[T];
}

function scalarBytes(features: Features, key: string): Uint8Array | undefined {
  const values = list(features, key, 'bytes_list');
  if (values === undefined) return undefined;
  if (values.length !== 1) fail(key, `has ${plural(values.length, 'value')}, expected 1`);
  return values[0];
}

function scalarText(features: Features, key: string): string {
  const v = scalarBytes(features, key);
  return v === undefined ? '' : utf8.decode(v);
}

function toNumber(key: string, v: number | bigint): number {
  if (typeof v === 'number') return v;
  // bigints only come out of the decoder beyond 2^53, far outside any size or label we accept.
  return fail(key, `holds ${v}, which is too large`);
}

function scalarInt(features: Features, key: string): number | undefined {
  const values = list(features, key, 'int64_list');
  if (values === undefined) return undefined;
  if (values.length !== 1) fail(key, `has ${plural(values.length, 'value')}, expected 1`);
  return toNumber(key, values[0] as number | bigint);
}

/**
 * Reads a detection example.
 *
 * - `image/encoded` is required (one bytes value). The returned `image` is a
 *   view into whatever buffer `features` points at, not a copy.
 * - Missing metadata is defaulted rather than refused, as the OD API's decoder
 *   does: format/filename/source id/sha256 become '', height/width 0.
 * - An example with none of the box/label lists is an image with no objects.
 *   If any of them is present, all four bbox lists and the labels must be,
 *   and every per-object list this function knows must have one entry per box.
 * - Optional per-object lists, when present, set the field on every object.
 * - Unknown keys are returned in `extra` (only when there are some).
 *
 * Throws `AnnotationError` (code 'annotation') naming the offending feature.
 */
export function fromExample(features: Features): DetectionExample {
  const image = scalarBytes(features, K.IMAGE_ENCODED);
  if (image === undefined) fail(K.IMAGE_ENCODED, 'is missing');

  const height = scalarInt(features, K.IMAGE_HEIGHT) ?? 0;
  const width = scalarInt(features, K.IMAGE_WIDTH) ?? 0;

  const xmin = list(features, K.BBOX_XMIN, 'float_list');
  const xmax = list(features, K.BBOX_XMAX, 'float_list');
  const ymin = list(features, K.BBOX_YMIN, 'float_list');
  const ymax = list(features, K.BBOX_YMAX, 'float_list');
  const labels = list(features, K.CLASS_LABEL, 'int64_list');
  const texts = list(features, K.CLASS_TEXT, 'bytes_list');
  const isCrowd = list(features, K.OBJECT_IS_CROWD, 'int64_list');
  const area = list(features, K.OBJECT_AREA, 'float_list');
  const difficult = list(features, K.OBJECT_DIFFICULT, 'int64_list');
  const truncated = list(features, K.OBJECT_TRUNCATED, 'int64_list');
  const view = list(features, K.OBJECT_VIEW, 'bytes_list');
  const groupOf = list(features, K.OBJECT_GROUP_OF, 'int64_list');

  const required = [xmin, xmax, ymin, ymax, labels];
  const objects: DetectionObject[] = [];
  if (required.some((l) => l !== undefined)) {
    const requiredKeys = [...K.BBOX_KEYS, K.CLASS_LABEL];
    required.forEach((l, i) => {
      if (l === undefined) fail(requiredKeys[i] as string, 'is missing while other box lists are present');
    });
    const n = (labels as unknown[]).length;
    const perObject: Array<[string, { length: number } | undefined]> = [
      [K.BBOX_XMIN, xmin],
      [K.BBOX_XMAX, xmax],
      [K.BBOX_YMIN, ymin],
      [K.BBOX_YMAX, ymax],
      [K.CLASS_TEXT, texts],
      [K.OBJECT_IS_CROWD, isCrowd],
      [K.OBJECT_AREA, area],
      [K.OBJECT_DIFFICULT, difficult],
      [K.OBJECT_TRUNCATED, truncated],
      [K.OBJECT_VIEW, view],
      [K.OBJECT_GROUP_OF, groupOf],
    ];
    for (const [key, l] of perObject) {
      if (l !== undefined && l.length !== n) fail(key, `has ${plural(l.length, 'entry', 'entries')} but there ${isAre(n)} ${plural(n, 'label')}`);
    }
    for (let i = 0; i < n; i++) {
      const o: DetectionObject = {
        xmin: xmin![i] as number,
        xmax: xmax![i] as number,
        ymin: ymin![i] as number,
        ymax: ymax![i] as number,
        label: toNumber(K.CLASS_LABEL, labels![i] as number | bigint),
        text: texts ? utf8.decode(texts[i]) : '',
      };
      if (isCrowd) o.isCrowd = Number(isCrowd[i]) !== 0;
      if (area) o.area = area[i] as number;
      if (difficult) o.difficult = Number(difficult[i]) !== 0;
      if (truncated) o.truncated = Number(truncated[i]) !== 0;
      if (view) o.view = utf8.decode(view[i]);
      if (groupOf) o.groupOf = Number(groupOf[i]) !== 0;
      objects.push(o);
    }
  } else {
    // Lists that only make sense next to boxes, without any boxes.
    for (const [key, l] of [
      [K.CLASS_TEXT, texts],
      [K.OBJECT_VIEW, view],
    ] as const) {
      if (l !== undefined && l.length > 0) fail(key, `has ${plural(l.length, 'entry', 'entries')} but there are no boxes`);
    }
  }

  const result: DetectionExample = {
    image,
    format: scalarText(features, K.IMAGE_FORMAT),
    width,
    height,
    filename: scalarText(features, K.IMAGE_FILENAME),
    sourceId: scalarText(features, K.IMAGE_SOURCE_ID),
    sha256: scalarText(features, K.IMAGE_SHA256),
    objects,
  };

  let extra: Features | undefined;
  for (const key of Object.keys(features)) {
    if (K.KNOWN_KEYS.has(key)) continue;
    extra ??= createFeatures();
    extra[key] = features[key] as Feature;
  }
  if (extra) result.extra = extra;
  return result;
}
