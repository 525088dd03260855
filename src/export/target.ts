/**
 * What every export target (coco.ts, voc.ts, yolo.ts, csv.ts, vertex.ts) provides, and
 * the small helpers they share: boxes in pixels, and a text file written in
 * pieces with backpressure.
 */
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { DetectionExample, DetectionObject } from '../detection/schema.js';
import type { ImportOptions } from '../formats/types.js';
import type { Category, ClassTable } from './classes.js';

export type ExportFormat = 'coco' | 'voc' | 'yolo' | 'csv' | 'vertex';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['coco', 'voc', 'yolo', 'csv', 'vertex'];

/** Per-object fields of DetectionObject beyond box and class, by their feature key. */
export type ObjectField = 'isCrowd' | 'area' | 'difficult' | 'truncated' | 'view' | 'groupOf';

/** What a target is told beyond the classes: options only some targets take. */
export interface TargetSettings {
  /** Vertex AI: the Cloud Storage folder the export will be uploaded to (`gs://bucket/path`, no trailing '/'). */
  uriPrefix?: string;
}

export interface ExportBox {
  object: DetectionObject;
  category: Category;
}

/** One record, ready to be written. */
export interface ExportItem {
  example: DetectionExample;
  /** Relative to the target's images folder, '/'-separated. */
  imageName: string;
  /** The pixel size the normalized boxes are scaled by. */
  width: number;
  height: number;
  boxes: ExportBox[];
  /** The split name of the shard set the record came from (`train`, from the input's manifest or its shard prefix), if any. */
  split?: string;
}

export interface TargetWriter {
  /** Writes an item's annotations (the image itself is written by the caller). */
  add(item: ExportItem): Promise<void>;
  /** Writes whatever can only be written once every item is known. */
  finish(): Promise<void>;
  /** Closes open files after a failure (the staging folder is removed anyway). */
  abort(): Promise<void>;
}

export interface ExportTarget {
  format: ExportFormat;
  /** The images folder, relative to the output folder ('' for the output folder itself). */
  imagesDir: string;
  /** Whether image names must not contain folders. */
  flatten: boolean;
  /** File names in the images folder that the target writes itself. */
  reserved: readonly string[];
  /** Per-object fields the format has a place for. */
  keeps: ReadonlySet<ObjectField>;
  /** Whether `image/source_id` can be stored when it differs from the file name. */
  keepsSourceId: boolean;
  /** Whether coordinates are rounded to whole pixels. */
  roundsToPixels: boolean;
  open(root: string, classes: ClassTable, settings: TargetSettings): Promise<TargetWriter>;
  /** How the format's importer is pointed at an export in `root` (used to check it before publishing). */
  importOptions(root: string, settings: TargetSettings): ImportOptions;
}

export interface PixelBox {
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
}

/** Normalized corners × the image size. */
export function pixelBox(o: DetectionObject, width: number, height: number): PixelBox {
  return { xmin: o.xmin * width, ymin: o.ymin * height, xmax: o.xmax * width, ymax: o.ymax * height };
}

/**
 * Whole pixels, for formats that store integers (VOC, CSV): each corner is
 * rounded on its own, so each is off by at most half a pixel, which is
 * 0.5 / width (or height) once normalized again.
 */
export function roundedPixelBox(o: DetectionObject, width: number, height: number): PixelBox {
  const b = pixelBox(o, width, height);
  return { xmin: Math.round(b.xmin), ymin: Math.round(b.ymin), xmax: Math.round(b.xmax), ymax: Math.round(b.ymax) };
}

/** A text file written in pieces, waiting for the disk when the stream's buffer is full. */
export class TextSink {
  private readonly stream: WriteStream;
  private failure: Error | undefined;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path, { flags: 'wx' });
    this.stream.on('error', (err) => {
      this.failure ??= err;
    });
  }

  async write(text: string): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.stream.write(text)) await Promise.race([once(this.stream, 'drain'), once(this.stream, 'error')]);
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    if (this.failure) throw this.failure;
    this.stream.end();
    await once(this.stream, 'close');
    if (this.failure) throw this.failure;
  }

  async abort(): Promise<void> {
    this.stream.destroy();
    if (!this.stream.closed) await once(this.stream, 'close').catch(() => undefined);
  }
}
