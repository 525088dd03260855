/**
 * `tfrecord-od convert --from coco|voc|yolo|csv --annotations PATH --out DIR [options]`
 *
 * Its command line is the CONVERT table in ../commands.ts; this module turns
 * the checked values into ConvertOptions and the report into text.
 */
import { resolve } from 'node:path';
import { convertDataset, type ConvertOptions, type ConvertProgress, type ConvertReport } from '../../convert/convert.js';
import { resolveTask } from '../../dataset/task.js';
import { isTfrecordError } from '../../errors.js';
import { formatProblem } from '../../problem.js';
import type { CONVERT } from '../commands.js';
import { type CliIo, displayPath, formatBytes, plural, UsageError, writeOut } from '../io.js';
import type { ParsedCommand } from '../spec.js';

const SHOWN = 5;

export async function run({ values }: ParsedCommand<typeof CONVERT>, io: CliIo): Promise<number> {
  let task: ReturnType<typeof resolveTask>;
  try {
    task = resolveTask({ index: values['task-index'], count: values['task-count'] }, io.env ?? process.env);
  } catch (err) {
    if (isTfrecordError(err)) throw new UsageError(err.reason);
    throw err;
  }
  // Relative paths are taken from the CLI's working directory (io.cwd), as
  // the other commands do, not from whatever process.cwd() happens to be.
  const at = (p: string) => resolve(io.cwd, p);
  const options: ConvertOptions = {
    from: values.from,
    annotations: at(values.annotations),
    out: at(values.out),
    ...(values.images !== undefined ? { images: at(values.images) } : {}),
    ...(values.classes !== undefined ? { classes: at(values.classes) } : {}),
    ...(values['image-set'] !== undefined ? { imageSet: values['image-set'] } : {}),
    ...(values.columns !== undefined ? { columns: values.columns } : {}),
    ...(values.coords !== undefined ? { coords: values.coords } : {}),
    ...(values['path-map'].length > 0 ? { pathMap: parsePathMap(values['path-map'], at) } : {}),
    ...(values['label-map'] !== undefined ? { labelMap: at(values['label-map']) } : {}),
    ...(values.name !== undefined ? { name: values.name } : {}),
    ...(values.split !== undefined ? { split: values.split } : {}),
    // --shards and --shard-size exclude each other (the table says so); the size has a default.
    ...(values.shards !== undefined ? { shards: values.shards } : { shardSize: values['shard-size'] }),
    crowd: values.crowd,
    empty: values.empty,
    compression: values.compression,
    bbox: values.bbox,
    onError: values['on-error'],
    format: values.format,
    seed: values.seed,
    ...(values.workers !== undefined ? { workers: values.workers } : {}),
    target: values.target,
    ...(values['allow-symlinks-outside-images'] ? { allowSymlinksOutside: true } : {}),
    ...(values.quality !== undefined ? { quality: values.quality } : {}),
    ...(values['max-size'] !== undefined ? { maxSize: values['max-size'] } : {}),
    ...(values['max-pixels'] !== undefined ? { maxPixels: values['max-pixels'] } : {}),
    ...(task ? { task } : {}),
    ...(values.decode ? { decode: true } : {}),
  };

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
  return printReport(report, values.json, io);
}

/** The report as JSON on stdout, or as text (on stderr when the run failed); the exit code. */
export async function printReport(report: ConvertReport, json: boolean, io: CliIo): Promise<number> {
  if (json) {
    await writeOut(io.stdout, JSON.stringify(report, null, 2) + '\n');
  } else {
    await writeOut(report.ok ? io.stdout : io.stderr, renderReport(report, io.cwd));
  }
  return report.ok ? 0 : 1;
}

/** `--path-map gs://bucket/prefix=DIR`, repeatable; DIR is taken from the working directory. */
function parsePathMap(entries: string[], at: (p: string) => string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const prefix = eq < 0 ? '' : entry.slice(0, eq).trim();
    const dir = eq < 0 ? '' : entry.slice(eq + 1).trim();
    if (!/^gs:\/\/[^/]+/.test(prefix) || dir === '') throw new UsageError(`--path-map must be gs://BUCKET[/PREFIX]=DIR; got '${entry}'`);
    if (map[prefix] !== undefined) throw new UsageError(`--path-map ${prefix} is given twice`);
    map[prefix] = at(dir);
  }
  return map;
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
  const listed = <T>(title: string, items: T[], fmt: (x: T) => string, count = true) => {
    if (items.length === 0) return;
    lines.push(count ? `${title} (${items.length}):` : `${title}:`);
    for (const x of items.slice(0, SHOWN)) lines.push(`  ${fmt(x)}`);
    // A failed run writes no manifest, so only --json can list the rest.
    const listedIn = r.ok ? 'manifest.json / --json' : '--json';
    if (items.length > SHOWN) lines.push(`  … and ${items.length - SHOWN} more (all are listed in ${listedIn})`);
  };
  // Items counted as the verdict counts them (items.skipped, by countItems):
  // an item with two problems is one item, so heading and "FAILED: N items" agree.
  const items = r.items.skipped;
  const title = r.ok ? 'Skipped items' : 'Items that could not be converted';
  listed(
    items === r.errors.length ? title : `${title} (${plural(r.errors.length, 'problem')} in ${plural(items, 'item')})`,
    r.errors,
    (e) => `${where(e.source, cwd)}: ${e.code}: ${e.reason}`,
    items === r.errors.length,
  );
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
  listed('Validation errors', problems, (f) =>
    formatProblem({ ...f, file: f.file === '' ? '' : displayPath(cwd, f.file), message: `${f.code}: ${f.message}` }),
  );
  if (r.task) {
    const t = r.task;
    lines.push(r.ok ? `Task ${t.index} of ${t.count}:` : `Task ${t.index} of ${t.count} FAILED: ${r.failure}`);
    lines.push(
      `  converted ${r.items.converted} of its ${plural(r.items.total, 'image')} (${r.items.skipped} skipped, ${r.items.reencoded} re-encoded); ${plural(r.boxes.total, 'box', 'boxes')}`,
    );
    const shards = r.splits.flatMap((s) => s.shards);
    if (shards.length === 0) lines.push(r.ok ? '  no shard of the plan fell to this task' : '  published no shard');
    for (const sh of shards) lines.push(`  ${displayPath(cwd, sh.path)}  (${plural(sh.records, 'record')}, ${formatBytes(sh.bytes)})`);
    lines.push(`Part manifest: ${displayPath(cwd, t.part)}`);
    lines.push(`Once every task has finished: tfrecord-od finalize ${displayPath(cwd, r.outDir)}`);
    return lines.join('\n') + '\n';
  }
  if (!r.ok) {
    lines.push(`FAILED: ${r.failure}`);
    return lines.join('\n') + '\n';
  }
  if (r.finishedPublish) {
    // Nothing converted: only what the finished publish put in place.
    for (const s of r.splits)
      lines.push(`${s.name}: ${plural(s.records, 'record')}, ${plural(s.boxes, 'box', 'boxes')} in ${plural(s.shards.length, 'shard')}`);
    if (r.replaced.length > 0) lines.push(`Removed ${plural(r.replaced.length, 'old shard file')} of a previous run: ${r.replaced.join(', ')}`);
    if (r.labelMapPath) lines.push(`Label map: ${displayPath(cwd, r.labelMapPath)}`);
    lines.push(`Manifest:  ${displayPath(cwd, r.manifestPath!)}`);
    return lines.join('\n') + '\n';
  }
  lines.push('Classes:');
  for (const c of r.classes) {
    const boxes = `${String(c.boxes).padStart(7)} ${c.boxes === 1 ? 'box  ' : 'boxes'}`;
    lines.push(`  ${String(c.label).padStart(3)}  ${c.name.padEnd(20)} ${boxes} in ${plural(c.images, 'image')}`);
  }
  lines.push(
    `Converted ${r.items.converted} of ${plural(r.items.total, 'image')} (${r.items.skipped} skipped, ${r.items.reencoded} re-encoded, ${r.items.withoutBoxes} without boxes); ` +
      `${plural(r.boxes.total, 'box', 'boxes')} (${r.boxes.clipped} clipped, ${r.boxes.dropped} dropped).`,
  );
  // Never silent about what was not checked: a PNG whose data stops after a
  // few rows has a sound header and end, and only a decode finds it.
  const keptAsIs = r.items.converted - r.items.reencoded;
  if (r.decoded) lines.push('Pixel data checked: every image was decoded.');
  else if (keptAsIs > 0) {
    lines.push(
      `Pixel data not checked: ${plural(keptAsIs, 'image')} stored as they are had their header and end checked, not their pixels (--decode decodes them).`,
    );
  }
  for (const s of r.splits) {
    lines.push(`${s.name}: ${plural(s.records, 'record')}, ${plural(s.boxes, 'box', 'boxes')} in ${plural(s.shards.length, 'shard')}`);
    for (const sh of s.shards) lines.push(`  ${displayPath(cwd, sh.path)}  (${plural(sh.records, 'record')}, ${formatBytes(sh.bytes)})`);
  }
  if (r.replaced.length > 0) lines.push(`Removed ${plural(r.replaced.length, 'old shard file')} of a previous run: ${r.replaced.join(', ')}`);
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
        text = `reading annotations… ${plural(p.done, 'item')}`;
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
