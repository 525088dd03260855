/**
 * DetectionExample -> tf.Example features, with the keys and value types the
 * OD API's TfExampleDecoder expects.
 */
import { type Feature, type Features, bytesFeature, createFeatures, int64Feature } from '../example/features.js';
import * as K from './keys.js';
import type { DetectionExample, DetectionObject } from './schema.js';

/**
 * Builds the feature map of one example. Does no validation (use
 * `detectionExampleSchema` for that) so converters pay nothing per record.
 *
 * The box, label and text lists are always written, empty for an image with no
 * objects, as the OD API's own dataset tools do. The optional per-object lists
 * (is_crowd, area, difficult, truncated, view, group_of) are written only when at least
 * one object carries the field; then every object gets an entry, with a neutral
 * default (0 / false / '') for those that don't, because every per-object list
 * must have one entry per box.
 *
 * Keys in `extra` are copied too, except ones this function writes itself: the
 * typed fields are the source of truth.
 */
export function toExample(d: DetectionExample): Features {
  const f = createFeatures();
  f[K.IMAGE_ENCODED] = bytesFeature(d.image);
  f[K.IMAGE_FORMAT] = bytesFeature(d.format);
  f[K.IMAGE_HEIGHT] = int64Feature(d.height);
  f[K.IMAGE_WIDTH] = int64Feature(d.width);
  f[K.IMAGE_FILENAME] = bytesFeature(d.filename);
  f[K.IMAGE_SOURCE_ID] = bytesFeature(d.sourceId);
  // An empty digest means "not recorded"; writing empty bytes would only look like a wrong hash.
  if (d.sha256 !== '') f[K.IMAGE_SHA256] = bytesFeature(d.sha256);

  const objs = d.objects;
  f[K.BBOX_XMIN] = floats(objs, (o) => o.xmin);
  f[K.BBOX_XMAX] = floats(objs, (o) => o.xmax);
  f[K.BBOX_YMIN] = floats(objs, (o) => o.ymin);
  f[K.BBOX_YMAX] = floats(objs, (o) => o.ymax);
  f[K.CLASS_LABEL] = ints(objs, (o) => o.label);
  f[K.CLASS_TEXT] = texts(objs, (o) => o.text);

  // Each optional list is written when any object has the field. (Spelled out
  // field by field rather than through a key: these run for every record.)
  const flag = (v: boolean | undefined): number => (v ? 1 : 0);
  if (objs.some((o) => o.isCrowd !== undefined)) f[K.OBJECT_IS_CROWD] = ints(objs, (x) => flag(x.isCrowd));
  if (objs.some((o) => o.area !== undefined)) f[K.OBJECT_AREA] = floats(objs, (x) => x.area ?? 0);
  if (objs.some((o) => o.difficult !== undefined)) f[K.OBJECT_DIFFICULT] = ints(objs, (x) => flag(x.difficult));
  if (objs.some((o) => o.truncated !== undefined)) f[K.OBJECT_TRUNCATED] = ints(objs, (x) => flag(x.truncated));
  if (objs.some((o) => o.view !== undefined)) f[K.OBJECT_VIEW] = texts(objs, (x) => x.view ?? '');
  if (objs.some((o) => o.groupOf !== undefined)) f[K.OBJECT_GROUP_OF] = ints(objs, (x) => flag(x.groupOf));

  if (d.extra) {
    for (const key of Object.keys(d.extra)) {
      if (!K.KNOWN_KEYS.has(key)) f[key] = d.extra[key] as Feature;
    }
  }
  return f;
}

// Per-object lists are built from arrays rather than spread into the variadic
// helpers, which would hit the engine's argument limit on very crowded images.
// They are filled by a loop into a fresh `[]`, not by Array#map: the engine's
// optimized code lays out map()'s result differently from its plain version,
// so arrays from the same call changed shape once toExample got optimized,
// and the encoder, optimized on the old shape, was thrown away and rebuilt
// (measured: twice per worker in a 1,500-image conversion).
const utf8 = new TextEncoder();
function floats(objs: readonly DetectionObject[], get: (o: DetectionObject) => number): Feature {
  const values: number[] = [];
  for (let i = 0; i < objs.length; i++) values.push(get(objs[i]!));
  return { kind: 'float_list', values };
}
function ints(objs: readonly DetectionObject[], get: (o: DetectionObject) => number): Feature {
  const values: number[] = [];
  for (let i = 0; i < objs.length; i++) values.push(get(objs[i]!));
  return { kind: 'int64_list', values };
}
function texts(objs: readonly DetectionObject[], get: (o: DetectionObject) => string): Feature {
  const values: Uint8Array[] = [];
  for (let i = 0; i < objs.length; i++) values.push(utf8.encode(get(objs[i]!)));
  return { kind: 'bytes_list', values };
}
