/**
 * Everything one image needs on its way into a shard, done off the main
 * thread: read the file, keep or re-encode the image (image/prepare.ts), hash
 * it, place the boxes, encode the tf.Example and frame the record with its
 * CRCs. The main thread then only appends the framed bytes to a shard, in
 * input order. Runs in item-worker.ts, or in the calling thread with
 * `workers: 0` (identical results).
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync as readFileBytes } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { toExample } from '../detection/to-example.js';
import type { DetectionObject } from '../detection/schema.js';
import { isTfrecordError } from '../errors.js';
import { encodeExampleWithRoom } from '../example/codec.js';
import type { SourceItem } from '../formats/types.js';
import { prepareImage, type PrepareOptions, type PreparedImage } from '../image/prepare.js';
import { probeImage } from '../image/probe.js';
import { FOOTER_BYTES, HEADER_BYTES, frameInPlace } from '../record/frame.js';
import { crc32cFast } from '../io/native-crc.js';
import type { Handled } from '../pool/worker-host.js';
import { checkRecords, type FileHashes, type RecordCheckRequest } from '../validate/range.js';
import { checkRecordContent, type RecordCheckContext, type RecordCheckOptions, recordCheckContext, type RecordContent } from '../validate/record-check.js';
import { type BboxPolicy, type BoxChange, placeBoxes } from './boxes.js';

/** Shared by every job of one conversion (sent to each worker once). */
export interface ItemJobConfig {
  prepare: PrepareOptions;
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
  /** SHA-256 (hex) of the stored image: decides the split, so identical images never straddle two. */
  sha256: string;
  /** What the validator's per-record checks found in the record, when the 'labels' job asked for them. */
  checked?: RecordContent;
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
 * Everything a conversion hands to its workers: images to turn into records,
 * and the read-back of the shards as they are written (see verify.ts), so the
 * main thread stays free and every piece of work runs inside a worker's
 * bounded heap.
 */
export type ConvertJob =
  /**
   * A few images at a time: one message per image cost ~100 µs of messaging
   * each. `spare` hands back memory of records already written, for the
   * records to come (see createJobRunner).
   */
  | { kind: 'items'; items: SourceItem[]; spare?: ArrayBuffer[] }
  /** Read back (both CRCs) and check the records of a shard or of a stretch of one. */
  | { kind: 'check'; request: RecordCheckRequest }
  /**
   * class name → label id, known once the annotations have been read (sent
   * before any item); and, when the read-back is to check framing only, the
   * options of the per-record checks every record then gets as it is built.
   */
  | { kind: 'labels'; ids: Array<[string, number]>; check?: RecordCheckOptions };

/** Runs any ConvertJob; the result type follows the job's kind. */
export function createJobRunner(config: ItemJobConfig, sync: boolean): (job: ConvertJob) => Promise<Handled<unknown>> {
  const ids = new Map<string, number>();
  const checks: ItemChecks = {};
  // Shards hashed across several 'check' jobs (they arrive in file order).
  const hashes: FileHashes = new Map();
  // Records travel to the main thread and, once written, their memory comes
  // back with later jobs: new records are built in it rather than in fresh
  // allocations, which would fault in new pages and leave the main thread
  // with garbage that only a collection returns.
  const spares: ArrayBuffer[] = [];
  const allocate = (size: number): Uint8Array => {
    for (let i = spares.length - 1; i >= 0; i--) {
      const b = spares[i]!;
      // Not a big buffer for a small record: that memory would sit idle.
      if (b.byteLength >= size && b.byteLength <= 2 * size) {
        spares.splice(i, 1);
        return new Uint8Array(b, 0, size);
      }
    }
    return allocateRecord(size);
  };
  const runItem = createItemRunner(config, ids, sync, allocate, checks);
  return async (job) => {
    switch (job.kind) {
      case 'labels':
        ids.clear();
        for (const [name, id] of job.ids) ids.set(name, id);
        if (job.check) checks.context = recordCheckContext(job.check);
        else delete checks.context;
        return { result: undefined };
      case 'items': {
        for (const b of job.spare ?? []) spares.push(b);
        if (spares.length > MAX_SPARES) spares.splice(0, spares.length - MAX_SPARES);
        // One after the other: the runner reuses its read buffer between images.
        const results: ItemJobResult[] = [];
        const transfer: ArrayBuffer[] = [];
        for (const item of job.items) {
          const result = await runItem(item);
          results.push(result);
          // Each record is a fresh buffer of its own: move it, don't copy it.
          if (result.ok) transfer.push(result.record.buffer as ArrayBuffer);
        }
        return { result: results, transfer };
      }
      case 'check':
        return { result: await checkRecords({ ...job.request, sync }, hashes) };
    }
  };
}

/**
 * `sync` reads files with blocking calls: right for a worker thread, whose
 * only job this is (an async read costs four trips through libuv's small
 * thread pool: open, stat, read, close); wrong for the main thread.
 */
/** The per-record checks each record gets as it is built, once the 'labels' job has set them (see ConvertJob). */
export interface ItemChecks {
  context?: RecordCheckContext;
}

export function createItemRunner(
  config: ItemJobConfig,
  ids: ReadonlyMap<string, number>,
  sync: boolean,
  allocate: (size: number) => Uint8Array = allocateRecord,
  checks: ItemChecks = {},
): ItemRunner {
  // Sync mode (a worker thread) reads every image into one buffer that grows
  // as needed and is reused: the image is copied into the record anyway, so a
  // fresh 100 KB allocation per image would only feed the garbage collector.
  // Reuse is safe because the worker runs its jobs one at a time (serveJobs).
  let scratch = Buffer.allocUnsafe(0);
  const readSync = (path: string): Uint8Array => {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      if (scratch.length < size) scratch = Buffer.allocUnsafe(Math.max(size, scratch.length * 2, 256 * 1024));
      let at = 0;
      while (at < size) {
        const n = readFileBytes(fd, scratch, at, size - at, at);
        if (n === 0) break; // the file shrank while we read it; what we have is what there is
        at += n;
      }
      return new Uint8Array(scratch.buffer, scratch.byteOffset, at);
    } finally {
      closeSync(fd);
    }
  };
  return async (item) => {
    let bytes: Uint8Array;
    try {
      if (sync) {
        bytes = readSync(item.imagePath);
      } else {
        const source = await readFile(item.imagePath);
        bytes = new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
      }
    } catch (err) {
      const code = (err as { code?: string }).code;
      const reason =
        code === 'ENOENT' ? 'image file not found' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
      return { ok: false, code: 'unreadable-image', reason };
    }
    if (item.embedded) {
      const decoded = decodeEmbeddedImage(bytes, item.embedded.key);
      if (typeof decoded === 'string') return { ok: false, code: 'bad-image', reason: decoded };
      bytes = decoded;
    }
    let image: PreparedImage;
    try {
      image = await prepareImage(bytes, config.prepare);
    } catch (err) {
      return { ok: false, code: 'bad-image', reason: isTfrecordError(err) ? err.reason : (err as Error).message };
    }
    return buildRecord(item, image, probeImage(bytes)?.orientation ?? 1, ids, config.policy, allocate, checks.context);
  };
}

/**
 * The image an annotation file embeds (LabelMe `imageData`): the file read
 * is the JSON, and the image is the base64 text under `key`. Decoded here,
 * on the worker, so only the reference travels with the item. Returns the
 * reason when there is no image to decode.
 */
export function decodeEmbeddedImage(json: Uint8Array, key: string): Uint8Array | string {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString('utf8'));
  } catch (err) {
    return `the annotation file holding the embedded image is not valid JSON: ${(err as Error).message}`;
  }
  const text = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>)[key] : undefined;
  if (typeof text !== 'string' || text === '') return `the annotation file has no embedded image under "${key}"`;
  // Some tools write a data URL rather than bare base64.
  const base64 = text.startsWith('data:') ? text.slice(text.indexOf(',') + 1) : text;
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length === 0) return `"${key}" is not base64 image data`;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Records are written over in full (the encoder fills the Example, the frame
 * fills the gaps), so they need no zeroing: uninitialised memory from the
 * allocator's free lists is reused instead of fresh pages that fault in one by
 * one. Each record gets a buffer of its own (never the shared slab), so it can
 * be transferred to the main thread. The buffer is rounded up to a multiple
 * of 16 KiB so that, recycled, it also fits records a little larger.
 */
function allocateRecord(size: number): Uint8Array {
  const own = Buffer.allocUnsafeSlow(Math.ceil(size / SPARE_STEP) * SPARE_STEP);
  return new Uint8Array(own.buffer, 0, size);
}

const SPARE_STEP = 16 * 1024;

/** Recycled record buffers a worker keeps at most (the oldest go first). */
const MAX_SPARES = 64;

function buildRecord(
  item: SourceItem,
  image: PreparedImage,
  orientation: number,
  ids: ReadonlyMap<string, number>,
  policy: BboxPolicy,
  allocate: (size: number) => Uint8Array,
  check: RecordCheckContext | undefined,
): ItemJobResult {
  const warnings: ItemWarning[] = [];
  // Boxes are in the coordinates of the image the annotator saw: the upright
  // source. Its size is the annotation's own when it states one (as
  // TensorFlow's tools assume), else the real upright size. One exception: an
  // annotation that states the stored size of a sideways (EXIF 5..8) image
  // merely read the header; its boxes are still on the displayed image, so
  // they are normalized by the displayed size.
  const sideways =
    item.width !== undefined && item.width !== image.sourceWidth && item.width === image.sourceHeight && item.height === image.sourceWidth && orientation >= 5;
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
  // COCO areas are in the pixels the annotation was made on (the size the
  // boxes were normalized by); rescale them to the stored image.
  const areaScale = (image.width * image.height) / (width * height);
  // Loops into `[]` rather than map(): see the note in detection/to-example.ts.
  const objects: DetectionObject[] = [];
  const labels: number[] = [];
  for (const b of placed.boxes) {
    const o = b.object;
    const d: DetectionObject = { xmin: b.xmin, xmax: b.xmax, ymin: b.ymin, ymax: b.ymax, label: ids.get(o.className)!, text: o.className };
    if (o.isCrowd !== undefined) d.isCrowd = o.isCrowd;
    if (o.area !== undefined) d.area = o.area * areaScale;
    if (o.difficult !== undefined) d.difficult = o.difficult;
    if (o.truncated !== undefined) d.truncated = o.truncated;
    if (o.view !== undefined) d.view = o.view;
    if (o.groupOf !== undefined) d.groupOf = o.groupOf;
    objects.push(d);
    labels.push(d.label);
  }
  if (image.reencoded) warnings.push({ code: 'image-reencoded', message: `re-encoded as ${image.format}: ${image.reasons.join(', ')}` });
  const sha256 = createHash('sha256').update(image.bytes).digest('hex');
  const features = toExample({
    image: image.bytes,
    format: image.format,
    width: image.width,
    height: image.height,
    filename: item.id,
    sourceId: item.id,
    sha256,
    objects,
  });
  // Encoded with room for the frame, which is then filled in place: the image
  // bytes are copied exactly once, into the record.
  const record = frameInPlace(encodeExampleWithRoom(features, HEADER_BYTES, FOOTER_BYTES, allocate), crc32cFast);
  const result: ItemJobOk = {
    ok: true,
    record,
    labels,
    imageBytes: image.bytes.length,
    reencoded: image.reencoded,
    sha256,
    clipped: placed.clipped,
    dropped: placed.dropped,
    warnings,
  };
  // The validator's checks, on the payload exactly as framed: the read-back
  // then only has to prove the file holds these bytes (see verify.ts).
  if (check) result.checked = checkRecordContent(record.subarray(HEADER_BYTES, record.length - FOOTER_BYTES), check);
  return result;
}
