/**
 * Ground truth for evaluation, read from TFRecords of OD API detection
 * examples: per image its key, size and boxes in pixels. Only the boxes stay
 * in memory; each record's image bytes are dropped as soon as the record is
 * read (the walker lends its payload, and nothing here keeps a view of it).
 *
 * Unlike `stats`, which describes whatever it can read, evaluation stops at
 * the first damaged or undecodable record: scores computed against part of
 * the ground truth would look like real numbers and be wrong.
 */
import type { DetectionExample } from '../detection/schema.js';
import { fromExample } from '../detection/from-example.js';
import { isTfrecordError, TfrecordError } from '../errors.js';
import { decodeExample } from '../example/codec.js';
import { probeImage } from '../image/probe.js';
import type { CompressionOption } from '../record/compression.js';
import { walkRecords } from '../walk/walk-records.js';
import type { GroundTruthBox } from './coco-eval.js';

export interface GroundTruthImage {
  /** What predictions are matched by: image/source_id (image/filename when that is empty). */
  key: string;
  /** Where the record is, for messages and for the key → source maps. */
  file: string;
  record: number;
  width: number;
  height: number;
  /** Boxes in pixels, in the record's object order (COCOeval's tie rules depend on it). */
  boxes: GroundTruthBox[];
}

export interface GroundTruth {
  /** In record order: file by file as given (folders expanded), records in file order. */
  images: GroundTruthImage[];
  /** key → index into `images`. */
  byKey: Map<string, number>;
  /** Labels that occur, ascending. */
  labels: number[];
  /** label → the first class text seen for it (for tables when there is no label map). */
  classText: Map<number, string>;
}

export interface GroundTruthOptions {
  compression?: CompressionOption;
}

/**
 * A normalized [ymin, xmin, ymax, xmax] box as pixel [x, y, w, h]. The
 * corners are scaled first and the size taken as their difference, as the
 * OD API's COCO tools do (coco_tools._ConvertBoxToCOCOFormat on absolute
 * boxes), so that x + w lands on the scaled xmax.
 */
export function pixelBox(ymin: number, xmin: number, ymax: number, xmax: number, width: number, height: number): [number, number, number, number] {
  const x = xmin * width;
  const y = ymin * height;
  return [x, y, xmax * width - x, ymax * height - y];
}

/**
 * The key an image is known by to a model's predictions (the `key` passed
 * through the SavedModel) and to `predict-input`: image/source_id, or
 * image/filename for records without one. Undefined when both are empty.
 */
export function imageKey(d: Pick<DetectionExample, 'sourceId' | 'filename'>): string | undefined {
  if (d.sourceId !== '') return d.sourceId;
  if (d.filename !== '') return d.filename;
  return undefined;
}

/** Reads every record of `paths` (files or folders of *.tfrecord* files). */
export async function readGroundTruth(paths: readonly string[], options: GroundTruthOptions = {}): Promise<GroundTruth> {
  const images: GroundTruthImage[] = [];
  const byKey = new Map<string, number>();
  const classText = new Map<number, string>();
  const labels = new Set<number>();

  const walk = walkRecords(paths, { borrow: true, compression: options.compression ?? 'auto' });
  for await (const ev of walk) {
    if (ev.kind === 'file') continue;
    if (ev.kind === 'problem') throw ev.error;
    const where = { file: ev.file, record: ev.index, offset: ev.offset };
    let d: DetectionExample;
    try {
      d = fromExample(decodeExample(ev.payload));
    } catch (err) {
      if (isTfrecordError(err)) throw err.withLocation(where);
      throw err;
    }
    const key = imageKey(d);
    if (key === undefined)
      throw new TfrecordError('annotation', 'record has neither image/source_id nor image/filename, so no prediction can be matched to it', where);
    const seen = byKey.get(key);
    if (seen !== undefined) {
      const first = images[seen]!;
      throw new TfrecordError(
        'annotation',
        `image key '${key}' (image/source_id) is also used by ${first.file} record ${first.record}; predictions could not be told apart`,
        where,
      );
    }
    let { width, height } = d;
    if (width <= 0 || height <= 0) {
      // Sizes are needed to put normalized boxes into pixels; the image header has them.
      const info = probeImage(d.image);
      if (!info) throw new TfrecordError('annotation', 'image/width or image/height is missing and the image header cannot be read', where);
      width = info.width;
      height = info.height;
    }
    const boxes: GroundTruthBox[] = [];
    for (const o of d.objects) {
      const bbox = pixelBox(o.ymin, o.xmin, o.ymax, o.xmax, width, height);
      // COCO's area is often the mask's; without one, the box's own.
      const area = o.area ?? bbox[2] * bbox[3];
      boxes.push({ category: o.label, bbox, area, iscrowd: o.isCrowd === true });
      labels.add(o.label);
      if (!classText.has(o.label) && o.text !== '') classText.set(o.label, o.text);
    }
    byKey.set(key, images.length);
    images.push({ key, file: ev.file, record: ev.index, width, height, boxes });
  }
  return { images, byKey, labels: [...labels].sort((a, b) => a - b), classText };
}
