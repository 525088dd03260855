import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { isUtf8 } from '../../utf8.js';
import { AnnotationError, describeFsError } from '../../errors.js';
import { JsonScanner, JsonSyntaxError } from '../json-scan.js';
import { Column, float64s, uint8s } from '../columns.js';
import { CROWD_FLAG } from './format.js';

/*
 * One pass over a COCO instances file that keeps only what the converter
 * uses: per image its id, file_name, width and height; per annotation its
 * image_id, category_id, bbox, iscrowd and area (in typed-array columns, 57
 * bytes an annotation); the categories as written. Segmentation polygons,
 * RLE masks, licences and the rest are checked as JSON and dropped as they
 * are read, so memory follows the number of boxes, not the size of the file.
 *
 * Files up to WHOLE_PARSE_BYTES are parsed whole with JSON.parse instead:
 * for them native parsing is about seven times quicker than a scanner the
 * JIT has not warmed up yet, and the memory it takes is small. Both ways
 * give the same ScannedCoco, and a syntax error is always reported by the
 * scanner.
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

/**
 * The annotations' fields in typed-array columns: 57 bytes an annotation,
 * allocated a chunk at a time (no copies as it grows). Numeric ids (the
 * usual case) sit in the id columns; any other id value is kept as written
 * in a side map, with NaN in the column.
 */
export class AnnotationTable {
  private readonly imageIds = new Column(float64s, Number.NaN);
  private readonly otherImageIds = new Map<number, unknown>();
  private readonly categoryIds = new Column(float64s, Number.NaN);
  private readonly otherCategoryIds = new Map<number, unknown>();
  /** x, y, width, height of a bbox that is four finite numbers; NaN in `x` otherwise. */
  private readonly x = new Column(float64s, Number.NaN);
  private readonly y = new Column(float64s, Number.NaN);
  private readonly w = new Column(float64s, Number.NaN);
  private readonly h = new Column(float64s, Number.NaN);
  /** Any other bbox value, kept as written for the error message (no entry when absent). */
  private readonly oddBoxes = new Map<number, unknown>();
  /** 1 when `iscrowd` is 1 or true. */
  private readonly crowd = new Column(uint8s, 0);
  /** NaN when absent or not a finite number. */
  private readonly areas = new Column(float64s, Number.NaN);
  /** The numbers of the bbox being read. */
  private readonly box = new Float64Array(4);

  get length(): number {
    return this.imageIds.length;
  }

  /** Adds an annotation parsed whole (any JSON value; a non-object has none of the fields). */
  add(raw: unknown): void {
    const i = this.newRow();
    if (typeof raw !== 'object' || raw === null) return;
    const a = raw as Record<string, unknown>;
    this.setId(this.imageIds, this.otherImageIds, i, a.image_id);
    this.setId(this.categoryIds, this.otherCategoryIds, i, a.category_id);
    const bbox = a.bbox;
    if (Array.isArray(bbox) && bbox.length === 4 && bbox.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      this.setBox(i, bbox[0] as number, bbox[1] as number, bbox[2] as number, bbox[3] as number);
    } else if (bbox !== undefined) {
      this.oddBoxes.set(i, bbox);
    }
    this.setCrowd(i, a.iscrowd);
    this.setArea(i, a.area);
  }

  /**
   * Reads the next annotation from the scanner straight into the columns:
   * no object, array or closure per annotation. (That matters beyond the
   * allocations themselves: V8 sees the image objects kept nearby, decides
   * that objects made at a shared site live long, and would put every
   * annotation's garbage straight into the old generation.)
   */
  read(scanner: JsonScanner): void {
    if (scanner.peek() !== 0x7b /* { */) {
      this.add(scanner.readValue());
      return;
    }
    const i = this.newRow();
    if (!scanner.openObject()) return;
    do {
      const key = scanner.memberKey();
      if (key === 'image_id') this.setId(this.imageIds, this.otherImageIds, i, scanner.readValue());
      else if (key === 'category_id') this.setId(this.categoryIds, this.otherCategoryIds, i, scanner.readValue());
      else if (key === 'bbox') this.readBox(scanner, i);
      else if (key === 'iscrowd') this.setCrowd(i, scanner.readValue());
      else if (key === 'area') this.setArea(i, scanner.readValue());
      else scanner.skipValue();
    } while (scanner.nextMember());
  }

  imageId(i: number): unknown {
    const v = this.imageIds.get(i);
    return Number.isNaN(v) ? this.otherImageIds.get(i) : v;
  }

  /** Annotation `i` as buildObject reads it. */
  get(i: number): RawAnnotation {
    const category = this.categoryIds.get(i);
    const x = this.x.get(i);
    const area = this.areas.get(i);
    const out: RawAnnotation = {
      category_id: Number.isNaN(category) ? this.otherCategoryIds.get(i) : category,
      bbox: Number.isNaN(x) ? this.oddBoxes.get(i) : [x, this.y.get(i), this.w.get(i), this.h.get(i)],
      isCrowd: this.crowd.get(i) === 1,
    };
    if (!Number.isNaN(area)) out.area = area;
    return out;
  }

  private newRow(): number {
    this.imageIds.grow();
    this.categoryIds.grow();
    this.x.grow();
    this.y.grow();
    this.w.grow();
    this.h.grow();
    this.crowd.grow();
    return this.areas.grow();
  }

  /** The last value of a repeated key wins, as with JSON.parse. */
  private setId(column: Column<Float64Array>, others: Map<number, unknown>, i: number, v: unknown): void {
    if (typeof v === 'number') {
      column.set(i, v);
      others.delete(i);
    } else {
      column.set(i, Number.NaN);
      if (v === undefined) others.delete(i);
      else others.set(i, v);
    }
  }

  private setBox(i: number, x: number, y: number, w: number, h: number): void {
    this.x.set(i, x);
    this.y.set(i, y);
    this.w.set(i, w);
    this.h.set(i, h);
    this.oddBoxes.delete(i);
  }

  /** A bbox array of four finite numbers goes in the columns; anything else is kept as written. */
  private readBox(scanner: JsonScanner, i: number): void {
    this.x.set(i, Number.NaN);
    if (scanner.peek() !== 0x5b /* [ */) {
      this.oddBoxes.set(i, scanner.readValue());
      return;
    }
    const box = this.box;
    let n = 0;
    let odd: unknown[] | undefined;
    if (scanner.openArray()) {
      do {
        const v = scanner.readValue();
        if (odd === undefined && n < 4 && typeof v === 'number' && Number.isFinite(v)) {
          box[n] = v;
        } else {
          odd ??= Array.from(box.subarray(0, n));
          odd.push(v);
        }
        n++;
      } while (scanner.nextElement());
    }
    if (odd === undefined && n === 4) this.setBox(i, box[0] as number, box[1] as number, box[2] as number, box[3] as number);
    else this.oddBoxes.set(i, odd ?? Array.from(box.subarray(0, n)));
  }

  private setCrowd(i: number, v: unknown): void {
    this.crowd.set(i, v === CROWD_FLAG || v === true ? 1 : 0);
  }

  private setArea(i: number, v: unknown): void {
    this.areas.set(i, typeof v === 'number' && Number.isFinite(v) ? v : Number.NaN);
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
  /** String values read from bytes that are not UTF-8 (see JsonScanner.notUtf8). */
  notUtf8?: ReadonlySet<string>;
}

const IMAGE_KEYS: ReadonlySet<string> = new Set(['id', 'file_name', 'width', 'height']);
const CHUNK_BYTES = 1 << 20;
/** Files up to this size are parsed whole (see above). */
export const WHOLE_PARSE_BYTES = 16 << 20;

/** While streaming, control goes back to the event loop after each this many bytes (progress, timers). */
const YIELD_BYTES = 8 << 20;

export interface ScanOptions {
  /** Parse whole with JSON.parse up to this many bytes (default WHOLE_PARSE_BYTES; 0 always streams). */
  wholeParseBytes?: number;
  /** Called now and then while a large file is streamed (see ImportOptions.onFileProgress). */
  onFileProgress?: (bytesRead: number, totalBytes: number) => void;
}

/**
 * Reads the file once. A file that is not valid JSON (truncated, say) is an
 * AnnotationError naming the line and byte offset; so is one that cannot be
 * read. A repeated top-level key counts once, the last, as with JSON.parse.
 */
export async function scanCocoFile(file: string, options: ScanOptions = {}): Promise<ScannedCoco> {
  const cannotRead = (cause: unknown) => new AnnotationError('annotation', `cannot read COCO annotations: ${describeFsError(cause)}`, { file, cause });
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (cause) {
    throw cannotRead(cause);
  }
  const readAt = (target: Buffer, offset: number, length: number, position: number): number => {
    try {
      return readSync(fd, target, offset, length, position);
    } catch (cause) {
      throw cannotRead(cause);
    }
  };
  try {
    const size = fstatSync(fd).size;
    if (size <= (options.wholeParseBytes ?? WHOLE_PARSE_BYTES)) {
      let whole: Buffer;
      try {
        whole = readFileSync(fd);
      } catch (cause) {
        throw cannotRead(cause);
      }
      // A file that is not UTF-8 is scanned instead, which tells which strings its bad bytes are in.
      const parsed = isUtf8(whole) ? parseWhole(whole) : undefined;
      if (parsed !== undefined) return fromParsed(parsed.value);
      // Not valid JSON (or not UTF-8): the scan below says where.
    }
    // Positioned reads from byte 0, whatever the whole-file attempt above read.
    let position = 0;
    const scanner = new JsonScanner((target, offset, length) => {
      const n = readAt(target, offset, length, position);
      position += n;
      return n;
    }, CHUNK_BYTES);
    const report = options.onFileProgress;
    return await scanDocument(scanner, report ? (read) => report(read, size) : undefined);
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

/**
 * The streaming way, over any scanner (the tests feed it small pieces).
 * Between array elements it returns to the event loop after every
 * YIELD_BYTES of input, calling `onProgress` with the bytes read so far: a
 * large file takes seconds, and a progress bar or a timer should not stall.
 */
export async function scanDocument(scanner: JsonScanner, onProgress?: (bytesRead: number) => void, yieldBytes = YIELD_BYTES): Promise<ScannedCoco> {
  let nextYield = yieldBytes;
  // Called as `if (scanner.offset >= nextYield) await pause()`: an await per
  // element, even of a resolved promise, would cost a microtask each.
  const pause = async (): Promise<void> => {
    nextYield = scanner.offset + yieldBytes;
    onProgress?.(scanner.offset);
    await new Promise<void>((resolve) => setImmediate(resolve));
  };
  scanner.skipBom();
  const doc: ScannedCoco = { isObject: false, annotations: 'absent', categories: 'absent' };
  if (scanner.peek() !== 0x7b /* { */) {
    // Still checked whole, so broken JSON is reported as such rather than as "not an object".
    scanner.skipValue();
    scanner.expectEnd();
    return doc;
  }
  doc.isObject = true;
  if (scanner.openObject()) {
    do {
      const key = scanner.memberKey();
      const isArray = scanner.peek() === 0x5b; /* [ */
      if (key === 'images' && isArray) {
        const images: RawImage[] = [];
        if (scanner.openArray()) {
          do {
            images.push(readImage(scanner));
            if (scanner.offset >= nextYield) await pause();
          } while (scanner.nextElement());
        }
        doc.images = images;
      } else if (key === 'annotations' && isArray) {
        const table = new AnnotationTable();
        if (scanner.openArray()) {
          do {
            table.read(scanner);
            if (scanner.offset >= nextYield) await pause();
          } while (scanner.nextElement());
        }
        doc.annotations = table;
      } else if (key === 'images') {
        scanner.skipValue();
        delete doc.images;
      } else if (key === 'annotations') {
        scanner.skipValue();
        doc.annotations = 'not-array';
      } else if (key === 'categories') {
        const value = scanner.readValue();
        doc.categories = Array.isArray(value) ? value : 'not-array';
      } else {
        scanner.skipValue();
      }
    } while (scanner.nextMember());
  }
  scanner.expectEnd();
  if (scanner.notUtf8.size > 0) doc.notUtf8 = scanner.notUtf8;
  return doc;
}

/** An image entry with only the keys the reader uses (the rest skipped), or any other value as it is. */
function readImage(scanner: JsonScanner): unknown {
  if (scanner.peek() !== 0x7b /* { */) return scanner.readValue();
  const out: Record<string, unknown> = {};
  scanner.forEachMember((key) => {
    if (IMAGE_KEYS.has(key)) out[key] = scanner.readValue();
    else scanner.skipValue();
  });
  return out;
}
