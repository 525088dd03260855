/**
 * Finalize: the parts of a run (part.ts) made into one dataset, the step
 * one machine's convert ends with too. It checks that every planned shard
 * is there as its task recorded it, applies what only the whole run can
 * decide (the run fails for any task's errors under --on-error fail, or for
 * converting nothing; labels are renumbered when a class lost every box, see
 * renumber.ts), then publishes by a journal (publish.ts): the shards still
 * to be renamed (one machine's staged ones, relabelled ones), label_map.pbtxt,
 * manifest.json (the commit point: it only ever describes a complete set),
 * and the removal of what earlier runs left under the same prefixes, and of
 * the parts.
 *
 * A run that fails leaves nothing of itself: the shards its tasks published
 * are removed with the parts, and any earlier manifest stays as it was.
 *
 * `tfrecord-od finalize OUT` also finishes a publish that was cut short in
 * OUT (by convert, finalize or a surgery command): with the lock held, the
 * journal's publish is carried out first.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { crc32cToBase64, LABEL_MAP_FILE, MANIFEST_FILE, readManifest } from '../dataset/manifest.js';
import { readPendingParts } from '../dataset/publish-journal.js';
import { formatLabelMap, type LabelMap } from '../detection/label-map.js';
import { describeFsError, TfrecordError } from '../errors.js';
import { crc32cFast } from '../io/native-crc.js';
import type { FileDigest } from '../io/write.js';
import { plural } from '../words.js';
import { dropUnusedAdded } from './labels.js';
import { lockOutput } from './lock.js';
import { PARTS_DIR, type AtItem, type PartEnvelope, type PartManifest, type PartShard, readParts } from './part.js';
import { buildManifest, type FinishedPublish, finishInterruptedPublish, interruptedPublishError, type PublishProgress, runPublish } from './publish.js';
import { relabelShards } from './renumber.js';
import { type ClassCount, classTable, type ConvertReport, countItems, emptyReport, reportClasses, type ShardReport } from './report.js';

export interface FinalizeOptions {
  /**
   * 'hash' (the default): read every shard and compare its SHA-256 and
   * CRC32C with what its task recorded; 'size': compare sizes only (quick:
   * a shard cut short or replaced by another run's is still caught).
   */
  check?: 'hash' | 'size';
}

/**
 * `tfrecord-od finalize OUT`: reads the part manifests in OUT and finishes
 * the dataset. Refuses (changing nothing) while a task's part is missing,
 * when parts of different runs are mixed, or when a shard is missing or not
 * what its task wrote.
 */
export async function finalizeDataset(out: string, options: FinalizeOptions = {}): Promise<ConvertReport> {
  const dir = resolve(out);
  const unlock = lockOutput(dir, 'finalize');
  try {
    // A publish cut short is finished first. When it was finalize's own (or
    // one machine's convert, or a surgery command's), nothing else is left.
    const finished = await finishInterruptedPublish(dir);
    if (finished && !(await readPendingParts(dir))) return finishedReport(dir, finished);
    const report = await finalizeParts(dir, await readParts(dir), options);
    if (finished) report.notes.unshift(finished.note);
    return report;
  } finally {
    unlock();
  }
}

/** The report of a finalize that only finished an interrupted publish: the sets that publish wrote. */
function finishedReport(out: string, finished: FinishedPublish): ConvertReport {
  const { journal } = finished;
  const report = emptyReport(out);
  report.ok = true;
  report.finishedPublish = true;
  report.target = journal.manifest.target;
  report.notes = [finished.note];
  report.replaced = finished.replaced;
  const mine = new Set(journal.prefixes);
  report.splits = journal.manifest.splits
    .filter((s) => mine.has(s.prefix))
    .map((s) => ({
      name: s.name,
      prefix: s.prefix,
      records: s.records,
      boxes: s.boxes,
      classes: s.classes,
      shards: s.shards.map((sh) => ({ ...sh, path: join(out, sh.name) })),
    }));
  if (journal.labelMap !== null) report.labelMapPath = join(out, LABEL_MAP_FILE);
  report.manifestPath = join(out, MANIFEST_FILE);
  return report;
}

/** Per set: what its records hold. */
interface SetTally {
  records: number;
  boxes: number;
  classes: Map<number, ClassCount>;
}

/**
 * The dataset of `parts` (every task of one run, in task order; see
 * readParts). `source` 'one-machine': the one part of a convert on one
 * machine, handed over in memory, its shards still staged; 'tasks': the
 * parts of a job, read from the parts folder, which the publish removes.
 */
export async function finalizeParts(
  out: string,
  parts: readonly PartManifest[],
  options: FinalizeOptions = {},
  source: 'tasks' | 'one-machine' = 'tasks',
): Promise<ConvertReport> {
  const plan = parts[0]!.plan;
  const report = emptyReport(out);
  report.target = plan.target;
  report.decoded = plan.decoded;
  report.notes = [...plan.notes];
  report.items.total = plan.total;
  report.errors = [...plan.scanErrors];
  if (plan.failure !== undefined) {
    report.failure = plan.failure;
    return report;
  }
  report.labelOrder = plan.labelOrder;

  // Every list in the order one machine fills it: pass 2 goes through the items in order.
  const results = parts.map((p) => p.result);
  report.errors.push(...inOrder(results.map((r) => r.errors)));
  report.clipped = inOrder(results.map((r) => r.clipped));
  report.dropped = inOrder(results.map((r) => r.dropped));
  report.warnings = inOrder(results.map((r) => r.warnings));
  report.withoutLabelFile = inOrder(results.map((r) => r.withoutLabelFile)).map((w) => w.id);
  report.findings = results.flatMap((r) => r.findings);
  const items = report.items;
  for (const r of results) {
    items.converted += r.items.converted;
    items.reencoded += r.items.reencoded;
    items.withoutBoxes += r.items.withoutBoxes;
    items.withoutLabelFile += r.items.withoutLabelFile;
  }
  items.skipped = countItems(report.errors);
  report.boxes.clipped = report.clipped.length;
  report.boxes.dropped = report.dropped.length;
  if (items.withoutLabelFile > 0) {
    const n = items.withoutLabelFile;
    report.notes.push({
      code: 'images-without-label-file',
      message: `${n} image${n === 1 ? ' has' : 's have'} no label file and became negatives (images without objects); an empty label file marks a deliberate negative`,
    });
  }

  const sets: SetTally[] = plan.splits.map(() => ({ records: 0, boxes: 0, classes: new Map() }));
  const classes = new Map<number, ClassCount>();
  for (const r of results) {
    r.splits.forEach((s, i) => {
      const set = sets[i]!;
      set.records += s.records;
      set.boxes += s.boxes;
      for (const [label, boxes, images] of s.classes) {
        add(set.classes, label, boxes, images);
        add(classes, label, boxes, images);
      }
    });
  }

  let labelMap: LabelMap = { items: plan.labelMap };
  // Where each planned shard's file is now: its final name, or one machine's staging name, or (relabelled) a new file.
  const files = new Map<number, string>();
  for (const p of parts) for (const sh of p.result.shards) files.set(sh.slot, join(out, sh.staged ?? plan.shards[sh.slot]!.name));
  /** Files of this finalize that nobody else knows of: one machine's staged shards, relabelled shards. */
  const temporaries = () => [...files.entries()].filter(([slot, file]) => file !== join(out, plan.shards[slot]!.name)).map(([, file]) => file);
  const fail = async (message: string): Promise<ConvertReport> => {
    reportClasses(report, labelMap, classes);
    await discard(out, parts, temporaries());
    report.failure = message;
    return report;
  };
  if (plan.onError === 'fail' && report.errors.length > 0) {
    return fail(`${plural(items.skipped, 'item')} could not be converted (--on-error fail); nothing was written`);
  }
  if (items.converted === 0) return fail('no image was converted, so the dataset would be empty; nothing was written');
  if (results.some((r) => r.failure !== undefined)) return fail('the converted shards did not pass validation; nothing was published');

  let progress: PublishProgress | undefined;
  let renaming = 0;
  try {
    const shards = await checkShards(out, parts, files, options.check ?? 'hash');

    // Labels: a class this run added that lost every box leaves the map (renumber.ts).
    const renumbered = dropUnusedAdded(
      { ids: new Map(), labelMap, fixed: new Set(plan.fixedIds), order: 'first-appearance' },
      (id) => classes.get(id)?.boxes ?? 0,
    );
    labelMap = renumbered.labelMap;
    const moved = renumbered.moved;
    if (moved.size > 0) {
      const affected = [...shards.entries()].filter(([, sh]) => sh.labels.some((l) => moved.has(l)));
      // Each into a new file beside it, so the shards stay as their tasks wrote them until the publish.
      const jobs = affected.map(([slot]) => {
        const name = plan.shards[slot]!.name;
        return { slot, name, from: files.get(slot)!, to: join(out, `.${name}.tmp-${process.pid}-relabel`) };
      });
      const rewritten = await relabelShards(jobs, moved, plan.compression, { labelMap, trustImageHashes: true, target: plan.target });
      for (const job of jobs) {
        const sh = shards.get(job.slot)!;
        const now = rewritten.shards.get(job.to)!;
        shards.set(job.slot, {
          ...sh,
          bytes: now.digest.bytes,
          uncompressedBytes: now.uncompressedBytes,
          sha256: now.digest.sha256,
          crc32c: crc32cToBase64(now.digest.crc32c),
          labels: sh.labels.map((l) => moved.get(l) ?? l),
        });
        // One machine's staged original is of no more use.
        if (job.from !== join(out, job.name)) await rm(job.from, { force: true });
        files.set(job.slot, job.to);
      }
      // What the read-back said of the rewritten shards replaces what their tasks' read-back said (named by their final paths).
      const finalPath = new Map(jobs.map((j) => [j.to, join(out, j.name)]));
      const redone = new Set(finalPath.values());
      const named = rewritten.report.findings.map((f) => {
        const path = finalPath.get(f.file);
        return path ? { ...f, file: path, message: f.message.split(f.file).join(path) } : f;
      });
      report.findings = [...report.findings.filter((f) => !redone.has(f.file)), ...named];
      rekey(classes, moved);
      for (const set of sets) rekey(set.classes, moved);
      if (!rewritten.report.valid) return fail('the converted shards did not pass validation; nothing was published');
    }
    reportClasses(report, labelMap, classes);

    report.splits = plan.splits.map((s, i) => {
      const shardReports: ShardReport[] = [];
      plan.shards.forEach((planned, slot) => {
        if (planned.split !== i) return;
        const sh = shards.get(slot)!;
        shardReports.push({
          name: planned.name,
          path: join(out, planned.name),
          records: sh.records,
          bytes: sh.bytes,
          uncompressedBytes: sh.uncompressedBytes,
          sha256: sh.sha256,
          crc32c: sh.crc32c,
        });
      });
      const set = sets[i]!;
      return {
        name: s.name ?? s.prefix,
        prefix: s.prefix,
        records: set.records,
        boxes: set.boxes,
        classes: classTable(labelMap, set.classes),
        shards: shardReports,
      };
    });

    report.labelMapPath = join(out, LABEL_MAP_FILE);
    report.manifestPath = join(out, MANIFEST_FILE);
    report.ok = true;
    // The publish, by its journal (publish.ts). The manifest is the commit
    // point: until it is renamed into place the old manifest describes the
    // folder. Only then do the shards an earlier run left under the same
    // prefixes (another shard count, which a `PREFIX-*` glob would pick up
    // too) go, and the parts.
    const manifest = buildManifest(out, plan.options, report, labelMap, await readManifest(out));
    const renames = [...files.entries()]
      .filter(([slot, file]) => file !== join(out, plan.shards[slot]!.name))
      .sort(([a], [b]) => a - b)
      .map(([slot, file]) => ({ from: basename(file), to: plan.shards[slot]!.name, bytes: shards.get(slot)!.bytes }));
    progress = { renamed: 0, changed: false };
    renaming = renames.length;
    report.replaced = await runPublish(
      out,
      {
        command: source === 'tasks' ? 'finalize' : 'convert',
        prefixes: plan.splits.map((s) => s.prefix),
        keep: plan.shards.map((s) => s.name),
        renames,
        labelMap: formatLabelMap(labelMap),
        manifest,
        parts: source === 'tasks',
      },
      progress,
    );
    return report;
  } catch (err) {
    if (progress?.changed) throw interruptedPublishError(out, renaming, progress, err);
    // Nothing under a final name changed: what only this finalize knows of goes
    // (one machine's run then leaves the folder as it was; a job's parts and
    // shards stay, for finalize to be run again).
    for (const file of temporaries()) await rm(file, { force: true });
    throw err;
  }
}

/** The entries of every task's list, in the items' order, without their places. */
function inOrder<T>(lists: ReadonlyArray<ReadonlyArray<AtItem<T>>>): T[] {
  // Each list is in order already and each item belongs to one task: a stable sort merges them.
  const all = lists.flat().sort((a, b) => a.at - b.at);
  return all.map(({ at: _at, ...rest }) => rest as T);
}

function add(counts: Map<number, ClassCount>, label: number, boxes: number, images: number): void {
  const c = counts.get(label) ?? { boxes: 0, images: 0 };
  c.boxes += boxes;
  c.images += images;
  counts.set(label, c);
}

function rekey(counts: Map<number, ClassCount>, moved: ReadonlyMap<number, number>): void {
  const entries = [...counts].map(([id, c]) => [moved.get(id) ?? id, c] as const);
  counts.clear();
  for (const [id, c] of entries) counts.set(id, c);
}

/**
 * Every planned shard, as its task recorded it, after checking the file is
 * there and unchanged; refuses, naming the shards and their tasks, when any
 * is not (run those tasks again).
 */
export async function checkShards(
  out: string,
  parts: readonly PartEnvelope[],
  files: ReadonlyMap<number, string>,
  check: 'hash' | 'size',
): Promise<Map<number, PartShard>> {
  const plan = parts[0]!.plan;
  const shards = new Map<number, PartShard>();
  const taskOf = new Map<number, number>();
  for (const p of parts) {
    for (let slot = p.range.start; slot < p.range.end; slot++) taskOf.set(slot, p.task.index);
    for (const sh of p.result.shards) if (sh.slot >= p.range.start && sh.slot < p.range.end) shards.set(sh.slot, sh);
  }
  const problems: string[] = [];
  const tasks = new Set<number>();
  for (let slot = 0; slot < plan.shards.length; slot++) {
    const name = plan.shards[slot]!.name;
    const sh = shards.get(slot);
    const problem = sh === undefined ? "not in its task's part manifest" : await shardProblem(files.get(slot) ?? join(out, name), sh, check);
    if (problem !== undefined) {
      problems.push(`${name}: ${problem}`);
      tasks.add(taskOf.get(slot) ?? -1);
    }
  }
  if (problems.length > 0) {
    const shown = problems.length > 10 ? [...problems.slice(0, 10), `… (${problems.length} in all)`] : problems;
    throw new TfrecordError(
      'io',
      `${plural(problems.length, 'shard')} ${problems.length === 1 ? 'is' : 'are'} not as ${problems.length === 1 ? 'its task' : 'their tasks'} wrote ${problems.length === 1 ? 'it' : 'them'}: ${shown.join('; ')}. ` +
        `Run task${tasks.size === 1 ? '' : 's'} ${[...tasks].sort((a, b) => a - b).join(', ')} again, then finalize`,
      { file: out },
    );
  }
  return shards;
}

async function shardProblem(path: string, sh: PartShard, check: 'hash' | 'size'): Promise<string | undefined> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : describeFsError(err);
  }
  if (size !== sh.bytes) return `${size} bytes, but its task wrote ${sh.bytes}`;
  if (check === 'size') return undefined;
  const digest = await hashFile(path);
  if (digest.sha256 !== sh.sha256 || crc32cToBase64(digest.crc32c) !== sh.crc32c) return 'its bytes differ from what its task wrote (SHA-256 mismatch)';
  return undefined;
}

async function hashFile(path: string): Promise<FileDigest> {
  const sha256 = createHash('sha256');
  let crc32c = 0;
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    const b = chunk as Buffer;
    sha256.update(b);
    crc32c = crc32cFast(b, crc32c);
    bytes += b.length;
  }
  return { sha256: sha256.digest('hex'), crc32c, bytes };
}

/** A failed run removes what its tasks published, its own temporaries, and the parts: nothing of it stays. */
export async function discard(out: string, parts: readonly PartEnvelope[], temporaries: readonly string[]): Promise<void> {
  const plan = parts[0]!.plan;
  for (const p of parts) for (const sh of p.result.shards) await rm(join(out, sh.staged ?? plan.shards[sh.slot]!.name), { force: true });
  for (const file of temporaries) await rm(file, { force: true });
  await rm(join(out, PARTS_DIR), { recursive: true, force: true });
}
