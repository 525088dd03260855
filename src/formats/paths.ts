/**
 * Image-path handling shared by every importer. Annotation files are
 * untrusted input: a `file_name` of `../../etc/passwd` must never make the
 * converter read (and embed into a TFRecord) a file outside the dataset.
 */
import { lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { describeFsError } from '../errors.js';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

export type ResolvedImage = { ok: true; id: string; imagePath: string } | { ok: false; code: 'image-outside-root'; reason: string };

/** Drive-letter (`C:\x`, `C:/x`) and UNC (`\\host\share`) paths, which `path.posix` would call relative. */
const WINDOWS_ABSOLUTE = /^(?:[a-zA-Z]:|[\\/]{2})/;

/**
 * Maps a path written in an annotation to an absolute path under `root`,
 * plus the item id (relative path with '/' separators).
 *
 * Backslashes are read as separators because annotation tools on Windows
 * write `sub\img.jpg`; a literal backslash in a POSIX file name is rare
 * enough that this is the better trade. Absolute paths are refused outright
 * even when they happen to point inside the root: such annotations only work
 * on the machine that wrote them, and accepting them would make the id depend
 * on where the dataset is checked out. Symlinks are not followed here.
 */
export function resolveImagePath(root: string, written: string): ResolvedImage {
  if (written.includes('\0')) {
    return { ok: false, code: 'image-outside-root', reason: `image path contains a NUL byte: ${JSON.stringify(written)}` };
  }
  const slashed = written.replace(/\\/g, '/');
  if (slashed.startsWith('/') || WINDOWS_ABSOLUTE.test(written) || path.isAbsolute(written)) {
    return { ok: false, code: 'image-outside-root', reason: `image path ${JSON.stringify(written)} is absolute; it must be relative to the images root` };
  }
  const absRoot = path.resolve(root);
  const segments = slashed.split('/');
  // The usual case, `dir/name.jpg`: no empty, '.' or '..' segment, so the
  // path is simply appended (path.resolve and path.relative would give the
  // same, at many times the cost, for every image of a big dataset).
  if (segments.every((seg) => seg !== '' && seg !== '.' && seg !== '..')) {
    const id = segments.join('/');
    const rel = path.sep === '/' ? id : segments.join(path.sep);
    return { ok: true, id, imagePath: absRoot.endsWith(path.sep) ? absRoot + rel : absRoot + path.sep + rel };
  }
  const imagePath = path.resolve(absRoot, ...segments);
  const rel = path.relative(absRoot, imagePath);
  if (rel === '' || rel === '..' || rel.startsWith('..' + path.sep) || path.isAbsolute(rel)) {
    return { ok: false, code: 'image-outside-root', reason: `image path ${JSON.stringify(written)} resolves outside the images root ${absRoot}` };
  }
  return { ok: true, id: rel.split(path.sep).join('/'), imagePath };
}

/**
 * Why the image at `imagePath` (already resolved under `root` by
 * resolveImagePath) cannot be used, or undefined when it can: it is missing
 * or not a regular file, its path cannot even be looked up (too long, say),
 * or a symlink on the way leads outside the images root. The last is refused
 * unless `allowOutside`: the README promises that every image lies inside
 * `--images`, and a link in a downloaded dataset must not pull a private
 * file into a TFRecord that is then uploaded.
 */
export function imageFileProblem(
  root: string,
  imagePath: string,
  allowOutside = false,
  hints?: MissingImageHints,
): { code: 'missing-image' | 'image-outside-root'; reason: string } | undefined {
  try {
    // One lstat per image; the folders' real paths are looked up once each.
    const link = lstatSync(imagePath, { throwIfNoEntry: false });
    if (!link) return { code: 'missing-image', reason: hints ? hints.reason(imagePath) : `image file not found: ${imagePath}` };
    let real: string;
    if (link.isSymbolicLink()) {
      const target = statSync(imagePath, { throwIfNoEntry: false });
      if (!target?.isFile()) return { code: 'missing-image', reason: `image file not found: ${imagePath} (a broken symlink)` };
      rememberSize(imagePath, target.size);
      if (allowOutside) return undefined;
      real = realpathSync.native(imagePath);
    } else {
      if (!link.isFile()) return { code: 'missing-image', reason: `image file not found: ${imagePath} (not a regular file)` };
      rememberSize(imagePath, link.size);
      if (allowOutside) return undefined;
      real = path.join(realPathOf(path.dirname(imagePath)), path.basename(imagePath));
    }
    const realRoot = realPathOf(root);
    const rel = path.relative(realRoot, real);
    if (rel === '' || rel === '..' || rel.startsWith('..' + path.sep) || path.isAbsolute(rel)) {
      return {
        code: 'image-outside-root',
        reason: `${imagePath} leads through a symlink to ${real}, outside ${realRoot}; not read (pass --allow-symlinks-outside-images to read such files)`,
      };
    }
    return undefined;
  } catch (err) {
    return { code: 'missing-image', reason: `cannot use the image path: ${describeFsError(err)} (${imagePath.length} characters)` };
  }
}

/**
 * The sizes imageFileProblem found for the images it checked last, so that
 * convert's plan, which needs each image's size right after its importer
 * checked it, does not look the same file up again (a stat per image: 0.4 s
 * of a 118,000-image scan). Bounded: the oldest are forgotten, and a size
 * not known here is simply looked up.
 */
const recentSizes = new Map<string, number>();
const RECENT_SIZES = 256;

function rememberSize(imagePath: string, size: number): void {
  if (recentSizes.size >= RECENT_SIZES) recentSizes.delete(recentSizes.keys().next().value!);
  recentSizes.set(imagePath, size);
}

/** The size of an image file imageFileProblem checked a moment ago, or undefined. Taken once: a later call looks again. */
export function takeCheckedSize(imagePath: string): number | undefined {
  const size = recentSizes.get(imagePath);
  if (size !== undefined) recentSizes.delete(imagePath);
  return size;
}

/** Real paths of folders, each looked up once (bounded by the number of folders, not of images). */
const realPaths = new Map<string, string>();

function realPathOf(dir: string): string {
  let real = realPaths.get(dir);
  if (real === undefined) {
    real = realpathSync.native(dir);
    realPaths.set(dir, real);
  }
  return real;
}

/**
 * True when `p` names an existing regular file. Uses stat only; the bytes are
 * read by a later stage. Synchronous on purpose: importers check one image per
 * item in sequence, and an async stat's thread-pool round trip (~50 µs) costs
 * ten times the stat itself, which dominated annotation scans of large datasets.
 */
export async function isFile(p: string): Promise<boolean> {
  return isFileSync(p);
}

export function isFileSync(p: string): boolean {
  return statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
}

/** False for anything but a folder, a path that cannot be followed (a loop, say) included. */
function isDirectorySync(p: string): boolean {
  try {
    return statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false;
  }
}

export async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** Folders whose listings MissingImageHints keeps at once (oldest dropped first). */
const HINT_LISTINGS = 64;
/** A folder with more entries than this is not kept for hints (COCO's train2017 has 118k). */
const HINT_LISTING_MAX_ENTRIES = 250_000;

/**
 * The reason of a `missing-image` item error, with a hint when the image is
 * there under another spelling or in another folder. Two mistakes account
 * for most missing images: letter case (`Images/` for `images/`,
 * `Raccoon-105.JPG` for `raccoon-105.jpg`: the annotation tool ran on a
 * case-insensitive disk) and an images folder left to its default when the
 * images sit elsewhere. One instance per read: it keeps the listings of the
 * folders it looked in (bounded), so a dataset whose every image is missing
 * lists each folder once, not once per item.
 */
export class MissingImageHints {
  private readonly listings = new Map<string, Map<string, string[]> | null>();

  /**
   * @param root the images root the paths were resolved against
   * @param elsewhere folders to look in when the image is not under `root`
   *   (the usual places, when the root was a default); a hit suggests `--images`
   */
  constructor(
    private readonly root: string,
    private readonly elsewhere: readonly string[] = [],
  ) {}

  /** "image file not found: PATH", plus " (did you mean …?)" when something fits. */
  reason(imagePath: string): string {
    return `image file not found: ${imagePath}${this.hint(imagePath)}`;
  }

  private hint(imagePath: string): string {
    const rel = path.relative(this.root, imagePath);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return '';
    const segments = rel.split(path.sep);
    const cased = this.caseVariant(this.root, segments);
    if (cased !== undefined) return ` (did you mean ${cased}? the letter case differs)`;
    for (const dir of this.elsewhere) {
      if (isFileSync(path.join(dir, rel))) return ` (it is in ${dir}: pass --images ${dir})`;
      const there = this.caseVariant(dir, segments);
      if (there !== undefined) return ` (${there} is in ${dir}: pass --images ${dir}, and mind the letter case)`;
    }
    return '';
  }

  /** The path under `root` that matches `segments` ignoring letter case, '/'-separated, if it is not the same. */
  private caseVariant(root: string, segments: string[]): string | undefined {
    let dir = root;
    const found: string[] = [];
    for (const segment of segments) {
      const names = this.listing(dir)?.get(segment.toLowerCase());
      if (!names) return undefined;
      const name = names.includes(segment) ? segment : names[0]!;
      found.push(name);
      dir = path.join(dir, name);
    }
    const variant = found.join('/');
    return variant === segments.join('/') ? undefined : variant;
  }

  /** The folder's entries by lower-cased name; null when it cannot be listed or is too large. */
  private listing(dir: string): Map<string, string[]> | null {
    const known = this.listings.get(dir);
    if (known !== undefined) return known;
    let byLower: Map<string, string[]> | null = null;
    try {
      const names = readdirSync(dir);
      if (names.length <= HINT_LISTING_MAX_ENTRIES) {
        byLower = new Map();
        for (const name of names.sort(compareCodeUnits)) {
          const key = name.toLowerCase();
          const list = byLower.get(key);
          if (list) list.push(name);
          else byLower.set(key, [name]);
        }
      }
    } catch {
      // Not a folder, or unreadable: no hint from it.
    }
    if (this.listings.size >= HINT_LISTINGS) this.listings.delete(this.listings.keys().next().value!);
    this.listings.set(dir, byLower);
    return byLower;
  }
}

/**
 * Where images often are when they are not in the annotations' own folder
 * (the default images root of VOC without a VOC root, and of CSV): an
 * `images/` or `JPEGImages/` inside it or beside it.
 */
export function usualImageFolders(annotationsDir: string): string[] {
  const parent = path.dirname(annotationsDir);
  const candidates = [annotationsDir, parent].flatMap((d) => ['images', 'JPEGImages'].map((n) => path.join(d, n)));
  return candidates.filter((d) => d !== annotationsDir);
}

/** Sort key that is the same on every machine: plain code-unit order, no locale. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Every regular file under `dir` (and every symlink to one), as
 * '/'-separated paths relative to it, in code-unit order. Symlinked
 * directories are not entered, which also rules out cycles.
 */
export async function walkFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const pending: string[] = [''];
  while (pending.length > 0) {
    const rel = pending.pop()!;
    const entries = await readdir(path.join(dir, ...rel.split('/').filter(Boolean)), { withFileTypes: true });
    for (const e of entries) {
      const child = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) pending.push(child);
      else if (e.isFile()) out.push(child);
      // A link to a file is listed (its target is checked against the root
      // where it is used); ignoring it made a linked YOLO label vanish and
      // its image pass for a negative without a word.
      // A link that leads nowhere (dangling, a loop) is listed too, so the
      // item that uses it says so instead of the file vanishing; a link to
      // a folder is not followed.
      else if (e.isSymbolicLink() && !isDirectorySync(path.join(dir, ...child.split('/')))) out.push(child);
    }
  }
  return out.sort(compareCodeUnits);
}
