/**
 * Everything one image needs on its way into a shard, done off the main
 * thread: read the file, keep or re-encode the image (image/prepare.ts), hash
 * it, place the boxes, encode the tf.Example and frame the record with its
 * CRCs. The main thread then only appends the framed bytes to a shard, in
 * input order. Runs in item-worker.ts, or in the calling thread with
 * `workers: 0` (identical results).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { toExample } from '../detection/to-example.js';
import type { DetectionObject } from '../detection/schema.js';
import { isTfrecordError } from '../errors.js';
import { encodeExampleWithRoom } from '../example/codec.js';
import type { SourceItem } from '../formats/types.js';
import { prepareImage, type PrepareOptions, type PreparedImage } from '../image/prepare.js';
import { probeImage } from '../image/probe.js';
import { FOOTER_BYTES, HEADER_BYTES, frameInPlace } from '../record/frame.js';
import { type BboxPolicy, type BoxChange, placeBoxes } from './boxes.js';

/** Shared by every job of one conversion (sent to each worker once). */
export interface ItemJobConfig {
  prepare: PrepareOptions;
  /** class name → label id */
  ids: Array<[string, number]>;
  policy: BboxPolicy;
}

export interface ItemWarning {
  code: 'annotation-size-mismatch' | 'image-reencoded';
  message: string;
}

export interface ItemJobOk {
  ok: true;
  /** The complete framed TFRecord record. */
  record: Uint8Array;
  labels: number[];
  imageBytes: number;
  reencoded: boolean;
  clipped: BoxChange[];
  dropped: BoxChange[];
  warnings: ItemWarning[];
}

export interface ItemJobFailed {
  ok: false;
  /** 'unreadable-image' (cannot read the file), 'bad-image' (cannot use its contents), 'box-outside-image' (--bbox fail). */
  code: 'unreadable-image' | 'bad-image' | 'box-outside-image';
  reason: string;
}

export type ItemJobResult = ItemJobOk | ItemJobFailed;

export type ItemRunner = (item: SourceItem) => Promise<ItemJobResult>;

/**
 * `sync` reads files with blocking calls: right for a worker thread, whose
 * only job this is (an async read costs four trips through libuv's small
 * thread pool: open, stat, read, close); wrong for the main thread.
 */
export function createItemRunner(config: ItemJobConfig, sync: boolean): ItemRunner {
  const ids = new Map(config.ids);
  return async (item) => {
    let source: Buffer;
    try {
      source = sync ? readFileSync(item.imagePath) : await readFile(item.imagePath);
    } catch (err) {
      const code = (err as { code?: string }).code;
      const reason = code === 'ENOENT' ? 'image file not found' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
      return { ok: false, code: 'unreadable-image', reason };
    }
    const bytes = new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
    let image: PreparedImage;
    try {
      image = await prepareImage(bytes, config.prepare);
    } catch (err) {
      return { ok: false, code: 'bad-image', reason: isTfrecordError(err) ? err.reason : (err as Error).message };
    }
    return buildRecord(item, image, probeImage(bytes)?.orientation ?? 1, ids, config.policy);
  };
}

function buildRecord(
  item: SourceItem,
  image: PreparedImage,
  orientation: number,
  ids: Map<string, number>,
  policy: BboxPolicy,
): ItemJobResult {
  const warnings: ItemWarning[] = [];
  // Boxes are in the coordinates of the image the annotator saw: the upright
  // source. Its size is the annotation's own when it states one (as
  // TensorFlow's tools assume), else the real upright size. One exception: an
  // annotation that states the stored size of a sideways (EXIF 5..8) image
  // merely read the header; its boxes are still on the displayed image, so
  // they are normalized by the displayed size.
  const sideways =
    item.width !== undefined &&
    item.width !== image.sourceWidth &&
    item.width === image.sourceHeight &&
    item.height === image.sourceWidth &&
    orientation >= 5;
  const width = sideways ? image.sourceWidth : (item.width ?? image.sourceWidth);
  const height = sideways ? image.sourceHeight : (item.height ?? image.sourceHeight);
  if (item.width !== undefined && item.height !== undefined && (item.width !== image.sourceWidth || item.height !== image.sourceHeight)) {
    warnings.push({
      code: 'annotation-size-mismatch',
      message: sideways
        ? `annotation says ${item.width}x${item.height}, the size of the image as stored, but its EXIF orientation ${orientation} displays it as ${image.sourceWidth}x${image.sourceHeight}; boxes are taken as drawn on the displayed image`
        : `annotation says ${item.width}x${item.height} but the image is ${image.sourceWidth}x${image.sourceHeight}; boxes are normalized by the annotation's size`,
    });
  }
  const placed = placeBoxes(item.objects, item.coords, width, height, policy);
  if (placed.failure) return { ok: false, code: 'box-outside-image', reason: placed.failure };
  // COCO areas are in source pixels; keep them consistent with the stored image if it was resized.
  const areaScale = (image.width * image.height) / (image.sourceWidth * image.sourceHeight);
  const objects: DetectionObject[] = placed.boxes.map((b) => {
    const o = b.object;
    const d: DetectionObject = { xmin: b.xmin, xmax: b.xmax, ymin: b.ymin, ymax: b.ymax, label: ids.get(o.className)!, text: o.className };
    if (o.isCrowd !== undefined) d.isCrowd = o.isCrowd;
    if (o.area !== undefined) d.area = o.area * areaScale;
    if (o.difficult !== undefined) d.difficult = o.difficult;
    if (o.truncated !== undefined) d.truncated = o.truncated;
    if (o.view !== undefined) d.view = o.view;
    return d;
  });
  if (image.reencoded) warnings.push({ code: 'image-reencoded', message: `re-encoded as ${image.format}: ${image.reasons.join(', ')}` });
  const features = toExample({
    image: image.bytes,
    format: image.format,
    width: image.width,
    height: image.height,
    filename: item.id,
    sourceId: item.id,
    sha256: createHash('sha256').update(image.bytes).digest('hex'),
    objects,
  });
  // Encoded with room for the frame, which is then filled in place: the image
  // bytes are copied exactly once, into the record.
  const record = frameInPlace(encodeExampleWithRoom(features, HEADER_BYTES, FOOTER_BYTES));
  return {
    ok: true,
    record,
    labels: objects.map((o) => o.label),
    imageBytes: image.bytes.length,
    reencoded: image.reencoded,
    clipped: placed.clipped,
    dropped: placed.dropped,
    warnings,
  };
}
