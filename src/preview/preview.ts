/**
 * `previewDataset`: renders records of a detection dataset as PNGs with their
 * boxes drawn, plus an `index.html` contact sheet, so a person can *see* what
 * a validator finding means (a box off the image, a label on the wrong thing).
 *
 * Two ways to pick records:
 * - no filter: the first `limit` records, in file order. Their finding codes
 *   come from the per-record checks only (cheap; no dataset-wide pass).
 * - `filter: code`: a full `validateDataset` pass first, keeping the first
 *   `limit` records with a finding of that code (and their other codes), then
 *   a second pass that renders exactly those.
 *
 * Memory stays small: only the selected (file, record) pairs and their codes
 * are kept, never images beyond the one being drawn.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import * as K from '../detection/keys.js';
import { indexLabelMap, type LabelMap } from '../detection/label-map.js';
import { describeLocation, isTfrecordError, TfrecordError } from '../errors.js';
import { decodeExample } from '../example/codec.js';
import type { Feature, Features } from '../example/features.js';
import { formatProblem } from '../problem.js';
import type { CompressionOption } from '../record/compression.js';
import { checkFeatures, checkImage, type CheckOptions, type Emit } from '../validate/checks.js';
import { FINDING_CODES, type Finding, type FindingCode } from '../validate/findings.js';
import { validateDataset } from '../validate/validate.js';
import { isFramingProblem, listTfrecordFiles, walkRecords } from '../walk/walk-records.js';
import { DEFAULT_PREVIEW_LIMIT } from './defaults.js';
import { drawDetections, drawPlaceholder, escapeXml, PLACEHOLDER_SIZE, type PreviewBox } from './draw.js';

export { DEFAULT_PREVIEW_LIMIT } from './defaults.js';

export interface PreviewOptions {
  /** Output directory (created if needed). */
  outDir: string;
  /** Most records rendered (default 100). */
  limit?: number;
  /** Render only records with a validator finding of this code. */
  filter?: FindingCode;
  /** Tags show the map's names (else `class/text`); also passed to the validator. */
  labelMap?: LabelMap;
  compression?: CompressionOption;
  /** How file names appear on the contact sheet (default: as given). */
  displayPath?: (file: string) => string;
  /** Called after each tile is written (progress reporting). */
  onTile?: (tile: PreviewTile) => void;
}

export interface PreviewTile {
  file: string;
  record: number;
  /** Header offset of the record, when it was read. */
  offset?: number;
  /** PNG file name inside `outDir`. */
  image: string;
  /** Boxes the record claims (drawn or not). */
  boxes: number;
  /** Finding codes of this record (sorted, distinct). */
  codes: FindingCode[];
  /** Size of the decoded image; absent for placeholders. */
  width?: number;
  height?: number;
  /** Why a placeholder was drawn instead of the image. */
  placeholder?: string;
}

export interface PreviewResult {
  outDir: string;
  /** Path of the contact sheet. */
  index: string;
  tiles: PreviewTile[];
  /** With a filter: records that have a finding of that code (may exceed `tiles.length`). */
  matched?: number;
  /** Framing damage that ended the reading of a file (the rest of that file is not previewed). */
  errors: Finding[];
}

/** Codes of records seen recently, before we know whether they will be selected. */
const RECENT_RECORDS = 64;

/**
 * Renders records of `paths` (files or directories of `*.tfrecord*` files)
 * into `options.outDir`. Undecodable images and unreadable records become
 * placeholder tiles; only I/O failures (missing input, unwritable output) throw.
 */
export async function previewDataset(paths: string[], options: PreviewOptions): Promise<PreviewResult> {
  const limit = options.limit ?? DEFAULT_PREVIEW_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) throw new TfrecordError('bad-argument', `preview limit must be a positive integer, got ${limit}`);
  if (options.filter !== undefined && !(FINDING_CODES as readonly string[]).includes(options.filter)) {
    throw new TfrecordError('bad-argument', `unknown finding code ${JSON.stringify(options.filter)}`);
  }
  const files = await listTfrecordFiles(paths);
  await mkdir(options.outDir, { recursive: true });

  let selection: Selection | undefined;
  if (options.filter !== undefined) selection = await selectByFinding(paths, options.filter, limit, options);

  const names = new TileNamer();
  const tiles: PreviewTile[] = [];
  const errors: Finding[] = [];
  const checkOptions: CheckOptions = options.labelMap ? { labelIndex: indexLabelMap(options.labelMap) } : {};
  const labelNames = options.labelMap ? indexLabelMap(options.labelMap).byId : undefined;

  const addTile = async (tile: PreviewTile, png: Buffer) => {
    await writeAtomic(join(options.outDir, tile.image), png);
    tiles.push(tile);
    options.onTile?.(tile);
  };
  const placeholder = async (file: string, record: number, offset: number | undefined, reason: string, codes: FindingCode[], boxes = 0) => {
    const tile: PreviewTile = { file, record, image: names.name(file, record), boxes, codes, placeholder: reason };
    if (offset !== undefined) tile.offset = offset;
    const where = describeLocation({ record, offset });
    await addTile(tile, await drawPlaceholder([display(options, file), where, reason, ...(codes.length ? [codes.join(', ')] : [])]));
  };

  // The files are listed already (above, before anything was written), so no folder is expanded twice.
  const walk = walkRecords(files, { compression: options.compression ?? 'auto' });
  let file = '';
  /** With a selection: the records chosen in this file, and the last of them. */
  let wanted: Map<number, Set<FindingCode>> | undefined;
  let lastWanted = Infinity;
  /** Codes for a record the reader could not deliver, or undefined when it is not to be shown. */
  const framingCodes = (record: number, code: FindingCode): Set<FindingCode> | undefined => {
    if (selection !== undefined) return wanted?.get(record);
    return tiles.length < limit ? new Set([code]) : undefined;
  };
  for await (const ev of walk) {
    if (ev.kind === 'file') {
      if (selection === undefined && tiles.length >= limit) break;
      file = ev.file;
      wanted = selection?.byFile.get(file);
      // A file with nothing selected is not even opened.
      if (selection !== undefined && wanted === undefined) walk.skipFile();
      // A loop, not Math.max(...keys): a large --limit would overflow the argument list.
      lastWanted = wanted ? -1 : Infinity;
      for (const k of wanted?.keys() ?? []) if (k > lastWanted) lastWanted = k;
      continue;
    }
    if (ev.kind === 'problem') {
      if (!isFramingProblem(ev.problem)) throw ev.error;
      const { record, offset } = ev.problem;
      if (ev.fatal) errors.push(ev.problem);
      // A record dropped for a bad data CRC has no payload to draw; it gets a tile only when selected.
      const codes = record !== undefined ? framingCodes(record, ev.fatal ? ev.problem.code : 'crc-mismatch') : undefined;
      if (codes && record !== undefined) {
        await placeholder(file, record, offset, ev.fatal ? ev.error.reason : `record skipped: ${ev.error.reason}`, sortedCodes(codes));
      }
      continue;
    }
    if (wanted !== undefined && !wanted.has(ev.index)) {
      if (ev.index > lastWanted) walk.skipFile();
      continue;
    }
    if (selection === undefined && tiles.length >= limit) break;
    const codes = new Set<FindingCode>(wanted?.get(ev.index) ?? []);
    let features: Features;
    try {
      features = decodeExample(ev.payload);
    } catch (err) {
      if (!isTfrecordError(err)) throw err;
      if (selection === undefined) codes.add('not-an-example');
      await placeholder(file, ev.index, ev.offset, `not a tf.Example: ${err.reason}`, sortedCodes(codes));
      continue;
    }
    if (selection === undefined) {
      // Per-record checks only: the dataset-wide ones need a full pass (use a filter for those).
      const emit: Emit = (code) => void codes.add(code);
      await checkImage(checkFeatures(features, checkOptions, emit), undefined, emit);
    }
    const boxes = readBoxes(features, labelNames);
    const image = bytesValue(features[K.IMAGE_ENCODED]);
    const base = { file, record: ev.index, offset: ev.offset, image: names.name(file, ev.index), boxes: boxes.length, codes: sortedCodes(codes) };
    if (image === undefined || image.length === 0) {
      await placeholder(file, ev.index, ev.offset, image === undefined ? `no '${K.IMAGE_ENCODED}'` : `'${K.IMAGE_ENCODED}' is empty`, base.codes, boxes.length);
      continue;
    }
    let drawn;
    try {
      drawn = await drawDetections(image, boxes);
    } catch (err) {
      await placeholder(file, ev.index, ev.offset, `image does not decode: ${err instanceof Error ? err.message : String(err)}`, base.codes, boxes.length);
      continue;
    }
    await addTile({ ...base, width: drawn.width, height: drawn.height }, drawn.png);
  }

  const index = join(options.outDir, 'index.html');
  const result: PreviewResult = { outDir: options.outDir, index, tiles, errors };
  if (selection !== undefined) result.matched = selection.matched;
  const earlier = await earlierTiles(index);
  await writeAtomic(index, contactSheet(result, options));
  await removeStaleTiles(options.outDir, earlier, tiles);
  return result;
}

/** A tile name as TileNamer makes them: no directory part, nothing hidden. */
const TILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*-\d+\.png$/;

/**
 * The tiles an earlier run listed in the `index.html` now in `outDir` (read
 * back from its `<img src>` attributes), so they can be removed if this run
 * does not draw them again. Only names of our own pattern are taken; a page
 * that is not ours yields nothing, so no other file is ever touched.
 */
async function earlierTiles(index: string): Promise<string[]> {
  let html: string;
  try {
    html = await readFile(index, 'utf8');
  } catch {
    return [];
  }
  const names: string[] = [];
  for (const m of html.matchAll(/<img src="([^"]*)"/g)) {
    let name: string;
    try {
      name = decodeURIComponent(unescapeXml(m[1] as string));
    } catch {
      continue;
    }
    if (TILE_NAME.test(name)) names.push(name);
  }
  return names;
}

async function removeStaleTiles(outDir: string, earlier: string[], tiles: PreviewTile[]): Promise<void> {
  const current = new Set(tiles.map((t) => t.image));
  for (const name of earlier) {
    if (!current.has(name)) await rm(join(outDir, name), { force: true });
  }
}

/** The inverse of escapeXml, which writes numeric entities. */
function unescapeXml(text: string): string {
  return text.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
}

// ---------------------------------------------------------------------------
// Selection by finding

interface Selection {
  /** file -> record -> codes of that record */
  byFile: Map<string, Map<number, Set<FindingCode>>>;
  matched: number;
}

async function selectByFinding(paths: string[], code: FindingCode, limit: number, options: PreviewOptions): Promise<Selection> {
  const byFile = new Map<string, Map<number, Set<FindingCode>>>();
  const recent = new Map<string, Set<FindingCode>>();
  let selected = 0;
  let matched = 0;
  let lastMatch = '';
  await validateDataset(paths, {
    // Nothing stored: everything we need is taken from the stream of findings.
    maxFindings: 0,
    compression: options.compression ?? 'auto',
    ...(options.labelMap ? { labelMap: options.labelMap } : {}),
    onFinding: (f) => {
      // Dataset-wide findings (no record) have nothing to draw.
      if (f.record === undefined || f.file === '') return;
      const key = `${f.file}\u0000${f.record}`;
      const chosen = byFile.get(f.file)?.get(f.record);
      if (chosen) {
        chosen.add(f.code);
        return;
      }
      let codes = recent.get(key);
      if (codes === undefined) {
        codes = new Set();
        recent.set(key, codes);
        if (recent.size > RECENT_RECORDS) recent.delete(recent.keys().next().value as string);
      }
      codes.add(f.code);
      if (f.code !== code) return;
      // A record's findings arrive together, so comparing with the last match counts records, not findings.
      if (key !== lastMatch) matched++;
      lastMatch = key;
      if (selected >= limit) return;
      let perFile = byFile.get(f.file);
      if (!perFile) byFile.set(f.file, (perFile = new Map()));
      perFile.set(f.record, codes);
      recent.delete(key);
      selected++;
    },
  });
  return { byFile, matched };
}

// ---------------------------------------------------------------------------
// Records

const utf8 = new TextDecoder();

function bytesValue(f: Feature | undefined): Uint8Array | undefined {
  return f?.kind === 'bytes_list' ? f.values[0] : undefined;
}

/** Boxes read leniently (a preview must show broken records too): missing entries stay undefined. */
function readBoxes(features: Features, names: ReadonlyMap<number, { name: string }> | undefined): PreviewBox[] {
  const floats = (key: string) => (features[key]?.kind === 'float_list' ? (features[key] as { values: number[] }).values : undefined);
  const xmin = floats(K.BBOX_XMIN);
  const xmax = floats(K.BBOX_XMAX);
  const ymin = floats(K.BBOX_YMIN);
  const ymax = floats(K.BBOX_YMAX);
  const lf = features[K.CLASS_LABEL];
  const labels = lf?.kind === 'int64_list' ? lf.values : undefined;
  const tf = features[K.CLASS_TEXT];
  const texts = tf?.kind === 'bytes_list' ? tf.values : undefined;
  const n = Math.max(xmin?.length ?? 0, xmax?.length ?? 0, ymin?.length ?? 0, ymax?.length ?? 0, labels?.length ?? 0);
  const out: PreviewBox[] = [];
  for (let i = 0; i < n; i++) {
    const raw = labels?.[i];
    const label = raw === undefined ? null : Number(raw);
    const text = texts?.[i] !== undefined ? utf8.decode(texts[i]) : '';
    const name = (label !== null ? names?.get(label)?.name : undefined) ?? text;
    out.push({ xmin: xmin?.[i], xmax: xmax?.[i], ymin: ymin?.[i], ymax: ymax?.[i], label, name });
  }
  return out;
}

function sortedCodes(codes: Iterable<FindingCode>): FindingCode[] {
  const set = new Set(codes);
  return FINDING_CODES.filter((c) => set.has(c));
}

// ---------------------------------------------------------------------------
// Output

/**
 * `<fileStem>-<index>.png` names: the stem drops `.tfrecord` and compression
 * suffixes but keeps shard numbers, and two inputs with the same stem (same
 * name in different directories) get `_2`, `_3`… so tiles never overwrite each other.
 */
class TileNamer {
  private readonly stems = new Map<string, string>();
  private readonly used = new Set<string>();

  name(file: string, record: number): string {
    return `${this.stem(file)}-${record}.png`;
  }

  private stem(file: string): string {
    const known = this.stems.get(file);
    if (known !== undefined) return known;
    const base =
      basename(file)
        .replace(/\.(gz|gzip|zz|zlib|z)$/i, '')
        .replace(/\.tfrecords?/i, '')
        .replace(/[^A-Za-z0-9._-]+/g, '_')
        .replace(/^[.]+/, '') || 'records';
    let stem = base;
    for (let i = 2; this.used.has(stem); i++) stem = `${base}_${i}`;
    this.used.add(stem);
    this.stems.set(file, stem);
    return stem;
  }
}

/** Written under a temporary name and renamed, so a reader never sees half a file. */
async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = join(path, '..', `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw new TfrecordError('io', `cannot write preview: ${err instanceof Error ? err.message : String(err)}`, { file: path, cause: err });
  }
}

function display(options: PreviewOptions, file: string): string {
  return options.displayPath ? options.displayPath(file) : file;
}

const THUMB = 240;

function contactSheet(result: PreviewResult, options: PreviewOptions): string {
  const h = escapeXml;
  const title = options.filter ? `Records with ${options.filter}` : 'Dataset preview';
  const summary = options.filter
    ? `${result.tiles.length} shown of ${result.matched ?? 0} record${result.matched === 1 ? '' : 's'} with finding <code>${h(options.filter)}</code>`
    : `${result.tiles.length} record${result.tiles.length === 1 ? '' : 's'} shown`;
  const figures = result.tiles.map((t) => {
    const src = h(encodeURIComponent(t.image));
    const size = t.width !== undefined ? ` · ${t.width}×${t.height}` : '';
    const codes = t.codes.map((c) => `<code>${h(c)}</code>`).join(' ');
    const note = t.placeholder !== undefined ? `<div class="why">${h(t.placeholder)}</div>` : '';
    return (
      `<figure${t.placeholder !== undefined ? ' class="bad"' : ''}><a href="${src}"><img src="${src}" loading="lazy" alt="${h(t.image)}"></a>` +
      `<figcaption><div class="file">${h(display(options, t.file))}</div>` +
      `<div>record ${t.record} · ${t.boxes} box${t.boxes === 1 ? '' : 'es'}${size}</div>${codes ? `<div>${codes}</div>` : ''}${note}</figcaption></figure>`
    );
  });
  const errors = result.errors.map((e) => `<li>${h(formatProblem({ ...e, file: display(options, e.file) }))}</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${h(title)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:16px;background:#fafafa;color:#222}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(${THUMB}px,1fr));gap:12px}
figure{margin:0;background:#fff;border:1px solid #ddd;border-radius:4px;padding:6px}
figure.bad{border-color:#d04040}
img{display:block;width:100%;height:${THUMB}px;object-fit:contain;image-rendering:pixelated}
figcaption{font-size:12px;margin-top:4px;overflow-wrap:anywhere}
.file{font-weight:600} .why{color:#a02020} code{background:#eee;padding:0 3px;border-radius:3px}
</style></head><body>
<h1>${h(title)}</h1>
<p>${summary}. Dashed boxes lie outside the image or are inverted; they are drawn clamped to it. Placeholder tiles (${PLACEHOLDER_SIZE.width}×${PLACEHOLDER_SIZE.height}) stand for records whose image could not be drawn.</p>
${errors ? `<ul class="why">${errors}</ul>\n` : ''}<div class="grid">
${figures.join('\n')}
</div></body></html>
`;
}
