/**
 * `tfrecord-od stats PATH... [--label-map FILE] [--json] [--compression auto|none|gzip|zlib]`
 *
 * Describes a detection dataset: counts, class balance, boxes per image, box
 * sizes, image formats and sizes, shards. A directory stands for the
 * `*.tfrecord*` files in it. Damaged framing is reported on stderr with its
 * location and makes the exit status 1, but the stats of everything that
 * could be read are still printed; usage mistakes exit 2.
 */
import { resolve } from 'node:path';
import { readLabelMapFile } from '../../detection/read-label-map.js';
import { formatProblem } from '../../problem.js';
import { type DatasetStats, datasetStats, type HistogramBucket } from '../../stats/stats.js';
import { plural } from '../../words.js';
import type { STATS } from '../commands.js';
import { type CliIo, displayPath, formatBytes, typedPaths, writeOut, textTable, appendLines } from '../io.js';
import type { ParsedCommand } from '../spec.js';

/** Rows of the image-size table in the human report; JSON has them all. */
const SHOWN_SIZES = 10;
const BAR_WIDTH = 30;

export async function run({ values, positionals }: ParsedCommand<typeof STATS>, io: CliIo): Promise<number> {
  const { compression } = values;
  const labelMap = values['label-map'] !== undefined ? await readLabelMapFile(resolve(io.cwd, values['label-map']), values['label-map']) : undefined;

  const stats = await datasetStats(
    typedPaths(positionals, io.cwd),
    // This process does nothing else while it reads (see ReadOptions.sync).
    {
      compression,
      syncReads: true,
      workers: values.workers ?? 0,
      ...(labelMap ? { labelMap } : {}),
    },
  );
  const shown = (file: string) => displayPath(io.cwd, file);
  const files = stats.files.map((f) => ({ ...f, file: shown(f.file) }));
  const errors = stats.errors.map((e) => ({ ...e, file: shown(e.file) }));
  const view: DatasetStats = { ...stats, files, errors };

  if (values.json) await writeOut(io.stdout, `${JSON.stringify(view)}\n`);
  else await writeOut(io.stdout, renderStats(view, { labelMap: labelMap !== undefined }));

  for (const e of errors) io.stderr.write(`tfrecord-od stats: ${formatProblem(e)}\n`);
  if (stats.errorCount > errors.length) io.stderr.write(`tfrecord-od stats: … and ${plural(stats.errorCount - errors.length, 'more error')}\n`);
  return stats.errorCount > 0 ? 1 : 0;
}

// ---------------------------------------------------------------------------
// Human report

export function renderStats(s: DatasetStats, options: { labelMap?: boolean } = {}): string {
  const out: string[] = [];
  const head =
    `${plural(s.files.length, 'file')}, ${plural(s.records, 'record')}, ${plural(s.boxes, 'box', 'boxes')}, ` +
    `${plural(s.imagesWithoutBoxes, 'image')} without boxes`;
  out.push(head);
  if (s.notExamples > 0) out.push(`${plural(s.notExamples, 'record')} could not be decoded as tf.Example`);

  out.push('', 'Shards');
  const totalBytes = s.files.reduce((a, f) => a + f.bytes, 0);
  const totalRecordBytes = s.files.reduce((a, f) => a + f.recordBytes, 0);
  const shardRows = s.files.map((f) => [f.file, formatBytes(f.bytes), String(f.records), f.records > 0 ? formatBytes(f.recordBytes / f.records) : '-']);
  if (s.files.length > 1)
    shardRows.push(['total', formatBytes(totalBytes), String(s.records), s.records > 0 ? formatBytes(totalRecordBytes / s.records) : '-']);
  appendLines(out, textTable(['file', 'size', 'records', 'avg record'], shardRows, 'lrrr'));

  out.push('', 'Classes');
  if (s.classes.length === 0) out.push('  (no boxes)');
  else {
    const rows = s.classes.map((c) => [
      c.label === null ? '-' : String(c.label),
      classNameCell(c, options.labelMap ?? false),
      String(c.boxes),
      percent(c.boxes, s.boxes),
      String(c.images),
    ]);
    if (s.otherClassBoxes > 0) rows.push(['…', '(more classes)', String(s.otherClassBoxes), percent(s.otherClassBoxes, s.boxes), '']);
    appendLines(out, textTable(['label', 'name', 'boxes', '%', 'images'], rows, 'llrrr'));
  }

  const b = s.boxesPerImage;
  out.push(
    '',
    b.min === null ? 'Boxes per image: (no images)' : `Boxes per image: min ${b.min}, mean ${round(b.mean!)}, median ${round(b.median!)}, max ${b.max}`,
  );
  if (b.min !== null) out.push(...histogram(trimEmptyTail(b.histogram), s.examples));

  out.push('', 'Box sizes (relative area)');
  if (s.boxes === 0) out.push('  (no boxes)');
  else {
    out.push(...histogram(s.boxSizes.buckets, s.boxes));
    if (s.boxSizes.invalid > 0) out.push(`  ${plural(s.boxSizes.invalid, 'box', 'boxes')} with missing, NaN or inverted coordinates`);
  }

  out.push('', 'Image formats');
  if (s.imageFormats.length === 0) out.push('  (no images)');
  else
    out.push(
      ...textTable(
        ['format', 'images', '%'],
        s.imageFormats.map((f) => [f.format === '' ? '(none)' : f.format, String(f.count), percent(f.count, s.examples)]),
        'lrr',
      ),
    );

  const w = s.imageSizes.width;
  const h = s.imageSizes.height;
  const range = (r: { min: number; max: number } | null) => (r === null ? '?' : r.min === r.max ? `${r.min}` : `${r.min}-${r.max}`);
  out.push('', `Image sizes (width x height; width ${range(w)}, height ${range(h)})`);
  if (s.imageSizes.sizes.length === 0) out.push('  (no images)');
  else {
    const rows = s.imageSizes.sizes.slice(0, SHOWN_SIZES).map((z) => [`${z.width ?? '?'}x${z.height ?? '?'}`, String(z.count), percent(z.count, s.examples)]);
    const hidden = s.imageSizes.sizes.slice(SHOWN_SIZES).reduce((a, z) => a + z.count, 0) + s.imageSizes.other;
    if (hidden > 0) rows.push(['(other sizes)', String(hidden), percent(hidden, s.examples)]);
    appendLines(out, textTable(['size', 'images', '%'], rows, 'lrr'));
  }
  return out.join('\n') + '\n';
}

function classNameCell(c: DatasetStats['classes'][number], haveMap: boolean): string {
  let name = c.name === '' ? '(no text)' : c.name;
  if (haveMap && !c.inLabelMap) name += ' (not in label map)';
  // Texts that disagree with the label map's name (or with each other) are worth seeing.
  const others = c.texts.filter((t) => t !== c.name);
  if (others.length > 0) name += ` [text: ${others.join(', ')}]`;
  return name;
}

function histogram(buckets: HistogramBucket[], total: number): string[] {
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const rows = buckets.map((b) => [b.label, String(b.count), percent(b.count, total), '#'.repeat(Math.round((b.count / max) * BAR_WIDTH))]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `  ${r[0]!.padEnd(widths[0]!)}  ${r[1]!.padStart(widths[1]!)}  ${r[2]!.padStart(widths[2]!)}  ${r[3]}`.trimEnd());
}

/** Boxes-per-image buckets past the largest count are noise in a terminal. */
function trimEmptyTail(buckets: HistogramBucket[]): HistogramBucket[] {
  let end = buckets.length;
  while (end > 1 && buckets[end - 1]!.count === 0) end--;
  return buckets.slice(0, end);
}

function percent(n: number, total: number): string {
  return total === 0 ? '-' : `${((100 * n) / total).toFixed(1)}%`;
}

function round(v: number): string {
  return String(Math.round(v * 100) / 100);
}
