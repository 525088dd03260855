/**
 * DetectionExample -> tf.Example features, with the keys and value types the
 * OD API's TfExampleDecoder expects.
 */
import { type Feature, type Features, bytesFeature, createFeatures, int64Feature } from '../example/features.js';
import * as K from './keys.js';
import type { DetectionExample } from './schema.js';

/**
 * Builds the feature map of one example. Does no validation (use
 * `detectionExampleSchema` for that) so converters pay nothing per record.
 *
 * The box, label and text lists are always written, empty for an image with no
 * objects, as the OD API's own dataset tools do. The optional per-object lists
 * (is_crowd, area, difficult, truncated, view) are written only when at least
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
  f[K.BBOX_XMIN] = floats(objs.map((o) => o.xmin));
  f[K.BBOX_XMAX] = floats(objs.map((o) => o.xmax));
  f[K.BBOX_YMIN] = floats(objs.map((o) => o.ymin));
  f[K.BBOX_YMAX] = floats(objs.map((o) => o.ymax));
  f[K.CLASS_LABEL] = ints(objs.map((o) => o.label));
  f[K.CLASS_TEXT] = texts(objs.map((o) => o.text));

  // Each optional list is written when any object has the field. (Spelled out
  // field by field rather than through a key: these run for every record.)
  const flag = (v: boolean | undefined): number => (v ? 1 : 0);
  if (objs.some((o) => o.isCrowd !== undefined)) f[K.OBJECT_IS_CROWD] = ints(objs.map((x) => flag(x.isCrowd)));
  if (objs.some((o) => o.area !== undefined)) f[K.OBJECT_AREA] = floats(objs.map((x) => x.area ?? 0));
  if (objs.some((o) => o.difficult !== undefined)) f[K.OBJECT_DIFFICULT] = ints(objs.map((x) => flag(x.difficult)));
  if (objs.some((o) => o.truncated !== undefined)) f[K.OBJECT_TRUNCATED] = ints(objs.map((x) => flag(x.truncated)));
  if (objs.some((o) => o.view !== undefined)) f[K.OBJECT_VIEW] = texts(objs.map((x) => x.view ?? ''));

  if (d.extra) {
    for (const key of Object.keys(d.extra)) {
      if (!K.KNOWN_KEYS.has(key)) f[key] = d.extra[key] as Feature;
    }
  }
  return f;
}

// Per-object lists are built from arrays rather than spread into the variadic
// helpers, which would hit the engine's argument limit on very crowded images.
const utf8 = new TextEncoder();
function floats(values: number[]): Feature {
  return { kind: 'float_list', values };
}
function ints(values: number[]): Feature {
  return { kind: 'int64_list', values };
}
function texts(values: string[]): Feature {
  return { kind: 'bytes_list', values: values.map((v) => utf8.encode(v)) };
}
