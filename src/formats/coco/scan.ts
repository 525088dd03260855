import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { AnnotationError } from '../../errors.js';
import { describeFsError } from '../../io/read.js';
import { JsonScanner, JsonSyntaxError } from '../json-scan.js';
import { CROWD_FLAG } from './format.js';

/**
 * One pass over a COCO instances file that keeps only what the converter
 * uses: per image its id, file_name, width and height; per annotation its
 * image_id, category_id, bbox, iscrowd and area (in flat arrays, ~64 bytes
 * an annotation); the categories as written. Segmentation polygons, RLE
 * masks, licences and the rest are checked as JSON and dropped as they are
 * read, so memory follows the number of boxes, not the size of the file.
 *
 * Files up to WHOLE_PARSE_BYTES are parsed whole with JSON.parse instead:
 * for them native parsing is ten times quicker than a scanner the JIT has
 * not warmed up yet, and the memory it takes is small. Both ways give the
 * same ScannedCoco, and a syntax error is always reported by the scanner.
 */
/** The image fields the reader needs, as written (other keys are not kept). */
export type RawImage = unknown;

/** The annotation fields the reader needs, rebuilt for one annotation. */
export interface RawAnnotation {
  category_id?: unknown;
  bbox?: unknown;
  /** `iscrowd` is 1 (or true). */
  isCrowd: boolean;
  /** `area` when it is a finite number. */
  area?: number;
}

export class AnnotationTable {
  private readonly imageIds: unknown[] = [];
  private readonly categoryIds: unknown[] = [];
  /** x, y, width, height per annotation whose bbox is four finite numbers; NaN otherwise. */
  private readonly boxes: number[] = [];
  /** Any other bbox value, kept as written for the error message (undefined when absent). */
  private readonly oddBoxes = new Map<number, unknown>();
  private readonly crowd: boolean[] = [];
  /** NaN when absent or not a finite number. */
  private readonly areas: number[] = [];

  get length(): number {
    return this.imageIds.length;
  }

  add(raw: unknown): void {
    const a = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const i = this.imageIds.length;
    this.imageIds.push(a.image_id);
    this.categoryIds.push(a.category_id);
    const bbox = a.bbox;
    if (Array.isArray(bbox) && bbox.length === 4 && bbox.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      for (const v of bbox as number[]) this.boxes.push(v);
    } else {
      for (let k = 0; k < 4; k++) this.boxes.push(Number.NaN);
      this.oddBoxes.set(i, bbox);
    }
    this.crowd.push(a.iscrowd === CROWD_FLAG || a.iscrowd === true);
    this.areas.push(typeof a.area === 'number' && Number.isFinite(a.area) ? a.area : Number.NaN);
  }

  imageId(i: number): unknown {
    return this.imageIds[i];
  }

  /** Annotation `i` as buildObject reads it. */
  get(i: number): RawAnnotation {
    const area = this.areas[i] as number;
    const b = 4 * i;
    return {
      category_id: this.categoryIds[i],
      bbox: this.oddBoxes.has(i) ? this.oddBoxes.get(i) : this.boxes.slice(b, b + 4),
      isCrowd: this.crowd[i] as boolean,
      ...(Number.isNaN(area) ? {} : { area }),
    };
  }
}

export interface ScannedCoco {
  /** False when the top-level value is not an object (nothing else is then filled in). */
  isObject: boolean;
  /** Undefined when there is no `images` key or its value is not an array. */
  images?: RawImage[];
  /** 'absent' when there is no `annotations` key, 'not-array' when its value is something else. */
  annotations: AnnotationTable | 'absent' | 'not-array';
  categories: unknown[] | 'absent' | 'not-array';
}

const IMAGE_KEYS: ReadonlySet<string> = new Set(['id', 'file_name', 'width', 'height']);
const ANNOTATION_KEYS: ReadonlySet<string> = new Set(['image_id', 'category_id', 'bbox', 'iscrowd', 'area']);
const CHUNK_BYTES = 1 << 20;
/** Files up to this size are parsed whole (see above). */
export const WHOLE_PARSE_BYTES = 16 << 20;

export interface ScanOptions {
  /** Parse whole with JSON.parse up to this many bytes (default WHOLE_PARSE_BYTES; 0 always streams). */
  wholeParseBytes?: number;
}

/**
 * Reads the file once. A file that is not valid JSON (truncated, say) is an
 * AnnotationError naming the line and byte offset; so is one that cannot be
 * read. A repeated top-level key counts once, the last, as with JSON.parse.
 */
export function scanCocoFile(file: string, options: ScanOptions = {}): ScannedCoco {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (cause) {
    throw new AnnotationError('annotation', `cannot read COCO annotations: ${describeFsError(cause)}`, { file, cause });
  }
  const readAt = (target: Buffer, offset: number, length: number, position: number | null): number => {
    try {
      return readSync(fd, target, offset, length, position);
    } catch (cause) {
      throw new AnnotationError('annotation', `cannot read COCO annotations: ${describeFsError(cause)}`, { file, cause });
    }
  };
  try {
    const size = fstatSync(fd).size;
    if (size <= (options.wholeParseBytes ?? WHOLE_PARSE_BYTES)) {
      const whole = Buffer.allocUnsafe(size);
      let filled = 0;
      while (filled < size) {
        const n = readAt(whole, filled, size - filled, filled);
        if (n === 0) break;
        filled += n;
      }
      const parsed = parseWhole(whole.subarray(0, filled));
      if (parsed !== undefined) return fromParsed(parsed.value);
      // Not valid JSON: the scan below says where.
    }
    // Positioned reads from byte 0, whatever the whole-file attempt above read.
    let position = 0;
    const scanner = new JsonScanner((target, offset, length) => {
      const n = readAt(target, offset, length, position);
      position += n;
      return n;
    }, CHUNK_BYTES);
    return scanDocument(scanner);
  } catch (cause) {
    if (cause instanceof JsonSyntaxError) {
      throw new AnnotationError('annotation', `COCO annotations are not valid JSON: ${cause.reason}`, {
        file,
        line: cause.line,
        offset: cause.offset,
        cause,
      });
    }
    throw cause;
  } finally {
    closeSync(fd);
  }
}

/** JSON.parse of the bytes (a BOM skipped), or undefined when they are not valid JSON. */
function parseWhole(bytes: Buffer): { value: unknown } | undefined {
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

/** The same ScannedCoco from a document already parsed whole. */
export function fromParsed(doc: unknown): ScannedCoco {
  const out: ScannedCoco = { isObject: false, annotations: 'absent', categories: 'absent' };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return out;
  out.isObject = true;
  const top = doc as Record<string, unknown>;
  if (Array.isArray(top.images)) out.images = top.images;
  if (top.annotations !== undefined) {
    if (Array.isArray(top.annotations)) {
      const table = new AnnotationTable();
      for (const a of top.annotations) table.add(a);
      out.annotations = table;
    } else {
      out.annotations = 'not-array';
    }
  }
  if (top.categories !== undefined) out.categories = Array.isArray(top.categories) ? top.categories : 'not-array';
  return out;
}

/** The streaming way, over any scanner (the tests feed it small pieces). */
export function scanDocument(scanner: JsonScanner): ScannedCoco {
  scanner.skipBom();
  const doc: ScannedCoco = { isObject: false, annotations: 'absent', categories: 'absent' };
  if (scanner.peek() !== 0x7b /* { */) {
    // Still checked whole, so broken JSON is reported as such rather than as "not an object".
    scanner.skipValue();
    scanner.expectEnd();
    return doc;
  }
  doc.isObject = true;
  scanner.forEachMember((key) => {
    const isArray = scanner.peek() === 0x5b; /* [ */
    if (key === 'images') {
      if (isArray) {
        const images: RawImage[] = [];
        scanner.forEachElement(() => images.push(readPicked(scanner, IMAGE_KEYS)));
        doc.images = images;
      } else {
        scanner.skipValue();
        delete doc.images;
      }
    } else if (key === 'annotations') {
      if (isArray) {
        const table = new AnnotationTable();
        scanner.forEachElement(() => table.add(readPicked(scanner, ANNOTATION_KEYS)));
        doc.annotations = table;
      } else {
        scanner.skipValue();
        doc.annotations = 'not-array';
      }
    } else if (key === 'categories') {
      const value = scanner.readValue();
      doc.categories = Array.isArray(value) ? value : 'not-array';
    } else {
      scanner.skipValue();
    }
  });
  scanner.expectEnd();
  return doc;
}

/** An object with only the `keys` asked for (the rest skipped), or any other value as it is. */
function readPicked(scanner: JsonScanner, keys: ReadonlySet<string>): unknown {
  if (scanner.peek() !== 0x7b /* { */) return scanner.readValue();
  const out: Record<string, unknown> = {};
  scanner.forEachMember((key) => {
    if (keys.has(key)) out[key] = scanner.readValue();
    else scanner.skipValue();
  });
  return out;
}
