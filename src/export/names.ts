/**
 * File names for exported images. A record's `image/filename` is untrusted
 * text: it may be absolute, climb out with `..`, hold control characters, or
 * repeat another record's name. Every name handed out here is a relative,
 * '/'-separated path that stays inside the images folder and is unique.
 *
 * Uniqueness is by stem (the path without its extension), compared without
 * case: VOC and YOLO name the annotation after the image's stem
 * (`a.jpg` → `a.xml`, `a.txt`), so `a.jpg` and `a.png` would share one
 * annotation file, and on a case-insensitive disk `A.jpg` overwrites `a.jpg`.
 */
import type { ImageFormat } from '../image/probe.js';

/** Extensions written for a format when a name has no image extension of its own. */
export const FORMAT_EXTENSIONS: Record<ImageFormat, string> = {
  jpeg: '.jpg',
  png: '.png',
  gif: '.gif',
  bmp: '.bmp',
  webp: '.webp',
  tiff: '.tiff',
  avif: '.avif',
  heif: '.heic',
};

/**
 * Extensions the importers pick images up by (the YOLO reader lists the
 * images folder by these); a name ending in anything else gets the format's.
 */
const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.gif', '.webp', '.tif', '.tiff', '.avif', '.heic', '.heif']);

/** C0 controls, DEL and C1 controls: never part of a file name we write. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

export type RenameReason = 'unsafe' | 'duplicate' | 'extension' | 'no-name';

export interface AllocatedName {
  /** Relative path under the images folder, '/'-separated. */
  name: string;
  /** Why the name is not the record's `image/filename` as written (absent when it is). */
  reasons: RenameReason[];
}

export interface NameOptions {
  /** Put everything in one folder (VOC: `Annotations/` is not searched recursively): `a/b.jpg` → `a_b.jpg`. */
  flatten: boolean;
  /** Names (compared without case) that other files of the export use in the images folder. */
  reserved?: readonly string[];
}

export function extensionOf(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot) : '';
}

/**
 * `raw` as a safe relative path, or '' when nothing usable is left.
 * Backslashes count as separators (Windows tools write them); a drive
 * letter, leading slashes and '.', '..' and empty segments are dropped;
 * control characters become '_'.
 */
export function sanitizeName(raw: string, flatten: boolean): string {
  const segments = raw
    .replace(CONTROL, '_')
    .replace(/\\/g, '/')
    .replace(/^[a-zA-Z]:/, '')
    .split('/')
    .filter((s) => s !== '' && s !== '.' && s !== '..');
  return segments.join(flatten ? '_' : '/');
}

/** Hands out unique image names, in record order (so the same input always gives the same names). */
export class NameAllocator {
  private readonly taken = new Set<string>();
  private readonly flatten: boolean;

  constructor(options: NameOptions) {
    this.flatten = options.flatten;
    for (const r of options.reserved ?? []) this.taken.add(stemKey(r));
  }

  /**
   * A name for the image of a record: its filename, else its source id,
   * else `record-N`, made safe, given the format's extension when it has no
   * image extension, and suffixed `-1`, `-2`, … when the stem is taken.
   */
  allocate(filename: string, sourceId: string, recordNumber: number, format: ImageFormat): AllocatedName {
    const reasons: RenameReason[] = [];
    let name = sanitizeName(filename, this.flatten);
    if (filename === '') {
      reasons.push('no-name');
      name = sanitizeName(sourceId, this.flatten);
    } else if (name !== filename) {
      reasons.push('unsafe');
    }
    if (name === '') {
      if (!reasons.includes('no-name')) reasons.push('no-name');
      name = `record-${recordNumber}`;
    }
    if (!IMAGE_EXTENSIONS.has(extensionOf(name).toLowerCase())) {
      name += FORMAT_EXTENSIONS[format];
      // Only worth saying of the record's own filename: a source id or
      // record-N standing in for it is expected to lack one.
      if (!reasons.includes('no-name')) reasons.push('extension');
    }
    const ext = extensionOf(name);
    const stem = name.slice(0, name.length - ext.length);
    let candidate = name;
    for (let n = 1; this.taken.has(stemKey(candidate)); n++) candidate = `${stem}-${n}${ext}`;
    if (candidate !== name) reasons.push('duplicate');
    this.taken.add(stemKey(candidate));
    return { name: candidate, reasons };
  }
}

function stemKey(name: string): string {
  return name.slice(0, name.length - extensionOf(name).length).toLowerCase();
}
