/**
 * `tfrecord-od convert --from coco|voc|yolo|csv --annotations PATH --out DIR [options]`
 */
import { resolve } from 'node:path';
import { convertDataset, type ConvertOptions, type ConvertProgress, type ConvertReport } from '../../convert/convert.js';
import { CONVERT_DEFAULTS } from '../../convert/options.js';
import { parseSplits } from '../../convert/split.js';
import { isTfrecordError } from '../../errors.js';
import { TARGETS } from '../../dataset/manifest.js';
import { FORMATS, type FormatName } from '../../formats/registry.js';
import { formatProblem } from '../../problem.js';
import { parseChoice, parseCommandArgs, parseIntOption, parseSize } from '../args.js';
import { type CliIo, displayPath, formatBytes, plural, UsageError, writeOut } from '../io.js';

const SHOWN = 5;

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    from: { type: 'string' },
    annotations: { type: 'string' },
    images: { type: 'string' },
    classes: { type: 'string' },
    'image-set': { type: 'string' },
    'label-map': { type: 'string' },
    crowd: { type: 'string' },
    empty: { type: 'string' },
    out: { type: 'string' },
    name: { type: 'string' },
    shards: { type: 'string' },
    'shard-size': { type: 'string' },
    compression: { type: 'string' },
    split: { type: 'string' },
    seed: { type: 'string' },
    bbox: { type: 'string' },
    'on-error': { type: 'string' },
    format: { type: 'string' },
    quality: { type: 'string' },
    'max-size': { type: 'string' },
    'max-pixels': { type: 'string' },
    workers: { type: 'string' },
    target: { type: 'string' },
    quiet: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const from = parseChoice(values.from, 'from', FORMATS.map((f) => f.name) as FormatName[]);
  if (!from) throw new UsageError('--from is required');
  if (!values.annotations) throw new UsageError('--annotations is required');
  if (!values.out) throw new UsageError('--out is required');
  if (values.shards !== undefined && values['shard-size'] !== undefined) throw new UsageError('give --shards or --shard-size, not both');
  if (values.name !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(values.name)) {
    throw new UsageError('--name may use only letters, digits, ".", "_" and "-"');
  }
  let split;
  try {
    split = values.split !== undefined ? parseSplits(values.split) : undefined;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const quality = parseIntOption(values.quality, 'quality', 1);
  if (quality !== undefined && quality > 100) throw new UsageError('--quality must be between 1 and 100');
  // Relative paths are taken from the CLI's working directory (io.cwd), as
  // the other commands do, not from whatever process.cwd() happens to be.
  const at = (p: string) => resolve(io.cwd, p);
  const options: ConvertOptions = {
    from,
    annotations: at(values.annotations),
    out: at(values.out),
    ...(values.images !== undefined ? { images: at(values.images) } : {}),
    ...(values.classes !== undefined ? { classes: at(values.classes) } : {}),
    ...(values['image-set'] !== undefined ? { imageSet: values['image-set'] } : {}),
    ...(values['label-map'] !== undefined ? { labelMap: at(values['label-map']) } : {}),
    ...(values.name !== undefined ? { name: values.name } : {}),
    ...(split ? { split } : {}),
    crowd: parseChoice(values.crowd, 'crowd', ['keep', 'drop'] as const) ?? CONVERT_DEFAULTS.crowd,
    empty: parseChoice(values.empty, 'empty', ['keep', 'drop'] as const) ?? CONVERT_DEFAULTS.empty,
    compression: parseChoice(values.compression, 'compression', ['none', 'gzip', 'zlib'] as const) ?? CONVERT_DEFAULTS.compression,
    bbox: parseChoice(values.bbox, 'bbox', ['clip', 'drop', 'fail'] as const) ?? CONVERT_DEFAULTS.bbox,
    onError: parseChoice(values['on-error'], 'on-error', ['fail', 'skip'] as const) ?? CONVERT_DEFAULTS.onError,
    format: parseChoice(values.format, 'format', ['jpeg', 'png'] as const) ?? CONVERT_DEFAULTS.format,
    seed: parseIntOption(values.seed, 'seed') ?? CONVERT_DEFAULTS.seed,
    target: parseChoice(values.target, 'target', TARGETS) ?? CONVERT_DEFAULTS.target,
  };
  // Unset, the library decides from the dataset's size (CONVERT_DEFAULTS.workers).
  const workers = parseIntOption(values.workers, 'workers');
  if (workers !== undefined) options.workers = workers;
  const shards = parseIntOption(values.shards, 'shards', 1);
  if (shards !== undefined) options.shards = shards;
  const shardSize = parseSize(values['shard-size'], 'shard-size');
  if (shardSize !== undefined) options.shardSize = shardSize;
  if (quality !== undefined) options.quality = quality;
  const maxSize = parseIntOption(values['max-size'], 'max-size', 1);
  if (maxSize !== undefined) options.maxSize = maxSize;
  const maxPixels = parseIntOption(values['max-pixels'], 'max-pixels');
  if (maxPixels !== undefined) options.maxPixels = maxPixels;

  const bar = !values.quiet && !values.json && io.stderr.isTTY ? progressBar(io) : undefined;
  if (bar) options.onProgress = bar.update;
  let report: ConvertReport;
  try {
    report = await convertDataset(options);
  } catch (err) {
    bar?.clear();
    if (isTfrecordError(err) && err.code === 'bad-argument') throw new UsageError(err.reason);
    throw err;
  }
  bar?.clear();
  if (values.json) {
    await writeOut(io.stdout, JSON.stringify(report, null, 2) + '\n');
  } else {
    await writeOut(report.ok ? io.stdout : io.stderr, renderReport(report, io.cwd));
  }
  return report.ok ? 0 : 1;
}

function where(source: { file: string; line?: number; index?: number; pointer?: string }, cwd: string): string {
  const file = displayPath(cwd, source.file);
  if (source.line !== undefined) return `${file}:${source.line}`;
  if (source.pointer !== undefined) return `${file} ${source.pointer}`;
  if (source.index !== undefined) return `${file} #${source.index}`;
  return file;
}

function renderReport(r: ConvertReport, cwd: string): string {
  const lines: string[] = [];
  const listed = <T>(title: string, items: T[], fmt: (x: T) => string) => {
    if (items.length === 0) return;
    lines.push(`${title} (${items.length}):`);
    for (const x of items.slice(0, SHOWN)) lines.push(`  ${fmt(x)}`);
    // A failed run writes no manifest, so only --json can list the rest.
    const listedIn = r.ok ? 'manifest.json / --json' : '--json';
    if (items.length > SHOWN) lines.push(`  … and ${items.length - SHOWN} more (all are listed in ${listedIn})`);
  };
  listed(r.ok ? 'Skipped items' : 'Items that could not be converted', r.errors, (e) => `${where(e.source, cwd)}: ${e.code}: ${e.reason}`);
  listed('Clipped boxes', r.clipped, (c) => `${c.itemId} box ${c.index} (${c.className}): [${c.before.join(', ')}] → [${c.after!.join(', ')}]`);
  listed('Dropped boxes', r.dropped, (c) => `${c.itemId} box ${c.index} (${c.className}): ${c.reason}`);
  listed(
    'Warnings',
    r.warnings.filter((w) => w.code !== 'image-reencoded'),
    (w) => `${w.itemId}: ${w.message}`,
  );
  // Duplicates are warnings of the read-back; named here because a copy in
  // two splits, or twice in one, is worth a look before training.
  listed(
    'Duplicate images',
    r.findings.filter((f) => f.code === 'duplicate-image' || f.code === 'duplicate-source-id'),
    (f) => f.message,
  );
  listed('Images without a label file (converted as negatives)', r.withoutLabelFile, (id) => id);
  listed('Notes', r.notes, (n) => n.message);
  const problems = r.findings.filter((f) => f.severity === 'error');
  listed('Validation errors', problems, (f) => formatProblem({ ...f, file: f.file === '' ? '' : displayPath(cwd, f.file), message: `${f.code}: ${f.message}` }));
  if (!r.ok) {
    lines.push(`FAILED: ${r.failure}`);
    return lines.join('\n') + '\n';
  }
  lines.push('Classes:');
  for (const c of r.classes) lines.push(`  ${String(c.label).padStart(3)}  ${c.name.padEnd(20)} ${String(c.boxes).padStart(7)} boxes in ${c.images} images`);
  lines.push(
    `Converted ${r.items.converted} of ${r.items.total} images (${r.items.skipped} skipped, ${r.items.reencoded} re-encoded, ${r.items.withoutBoxes} without boxes); ` +
      `${r.boxes.total} boxes (${r.boxes.clipped} clipped, ${r.boxes.dropped} dropped).`,
  );
  for (const s of r.splits) {
    lines.push(`${s.name}: ${s.records} records, ${s.boxes} boxes in ${s.shards.length} shard${s.shards.length === 1 ? '' : 's'}`);
    for (const sh of s.shards) lines.push(`  ${displayPath(cwd, sh.path)}  (${plural(sh.records, 'record')}, ${formatBytes(sh.bytes)})`);
  }
  if (r.replaced.length > 0) lines.push(`Removed ${r.replaced.length} old shard file(s) of a previous run: ${r.replaced.join(', ')}`);
  lines.push(`Label map: ${displayPath(cwd, r.labelMapPath!)}`);
  lines.push(`Manifest:  ${displayPath(cwd, r.manifestPath!)}`);
  return lines.join('\n') + '\n';
}

/** A one-line progress bar on a TTY: images/s and ETA. */
function progressBar(io: CliIo) {
  let last = 0;
  // The rate is measured from the first converted image, so start-up (reading
  // annotations, starting workers) does not make the first estimates absurd.
  let first: { at: number; done: number } | undefined;
  const stream = io.stderr;
  return {
    update(p: ConvertProgress) {
      const now = Date.now();
      if (now - last < 100 && p.done !== p.total) return;
      last = now;
      let text: string;
      if (p.phase === 'convert' && p.total > 0) {
        first ??= { at: now, done: p.done };
        const width = 24;
        const filled = Math.round((width * p.done) / p.total);
        text = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} images`;
        const secs = (now - first.at) / 1000;
        if (secs >= 0.25) {
          const rate = (p.done - first.done) / secs;
          const eta = rate > 0 ? Math.round((p.total - p.done) / rate) : 0;
          text += `  ${rate.toFixed(0)} img/s  ETA ${eta}s`;
        }
      } else if (p.phase === 'scan' && p.file) {
        text = `reading annotations… ${Math.floor((100 * p.file.read) / Math.max(1, p.file.size))}% of ${formatBytes(p.file.size)}`;
      } else if (p.phase === 'scan') {
        text = `reading annotations… ${p.done} items`;
      } else {
        text = 'verifying shards…';
      }
      stream.write(`\r${text}\u001b[K`);
    },
    clear() {
      stream.write('\r\u001b[K');
    },
  };
}
