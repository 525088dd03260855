/**
 * Finalize: the parts of a run (part.ts) made into one dataset, the step
 * one machine's convert ends with too. It checks that every planned shard
 * is there as its task recorded it, applies what only the whole run can
 * decide (the run fails for any task's errors under --on-error fail, or for
 * converting nothing; labels are renumbered when a class lost every box, see
 * renumber.ts), then writes label_map.pbtxt and manifest.json (the commit
 * point: it only ever describes a complete set) and removes what earlier
 * runs left under the same prefixes, and the parts.
 *
 * A run that fails leaves nothing of itself: the shards its tasks published
 * are removed with the parts, and any earlier manifest stays as it was.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { crc32cToBase64, LABEL_MAP_FILE, MANIFEST_FILE, readManifest } from '../dataset/manifest.js';
import { formatLabelMap, type LabelMap } from '../detection/label-map.js';
import { describeFsError, TfrecordError } from '../errors.js';
import { crc32cFast } from '../io/native-crc.js';
import type { FileDigest } from '../io/write.js';
import { plural } from '../words.js';
import { dropUnusedAdded } from './labels.js';
import { lockOutput } from './lock.js';
import { removeLeftovers, writeFileAtomic } from './output.js';
import { PARTS_DIR, type AtItem, type PartEnvelope, type PartManifest, type PartShard, readParts } from './part.js';
import { buildManifest } from './publish.js';
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
  const unlock = lockOutput(dir);
  try {
    return await finalizeParts(dir, await readParts(dir), options);
  } finally {
    unlock();
  }
}

/** Per set: what its records hold. */
interface SetTally {
  records: number;
  boxes: number;
  classes: Map<number, ClassCount>;
}

/** The dataset of `parts` (every task of one run, in task order; see readParts). */
export async function finalizeParts(out: string, parts: readonly PartManifest[], options: FinalizeOptions = {}): Promise<ConvertReport> {
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
  const fail = async (message: string): Promise<ConvertReport> => {
    reportClasses(report, labelMap, classes);
    await discard(out, parts);
    report.failure = message;
    return report;
  };
  if (plan.onError === 'fail' && report.errors.length > 0) {
    return fail(`${plural(items.skipped, 'item')} could not be converted (--on-error fail); nothing was written`);
  }
  if (items.converted === 0) return fail('no image was converted, so the dataset would be empty; nothing was written');
  if (results.some((r) => r.failure !== undefined)) return fail('the converted shards did not pass validation; nothing was published');

  const shards = await checkShards(out, parts, options.check ?? 'hash');

  // Labels: a class this run added that lost every box leaves the map (renumber.ts).
  const renumbered = dropUnusedAdded(
    { ids: new Map(), labelMap, fixed: new Set(plan.fixedIds), order: 'first-appearance' },
    (id) => classes.get(id)?.boxes ?? 0,
  );
  labelMap = renumbered.labelMap;
  const moved = renumbered.moved;
  if (moved.size > 0) {
    const affected = [...shards.entries()].filter(([, sh]) => sh.labels.some((l) => moved.has(l)));
    const paths = affected.map(([slot]) => join(out, plan.shards[slot]!.name));
    const rewritten = await relabelShards(paths, moved, plan.compression, { labelMap, trustImageHashes: true, target: plan.target });
    for (const [slot, sh] of affected) {
      const now = rewritten.shards.get(join(out, plan.shards[slot]!.name))!;
      shards.set(slot, {
        ...sh,
        bytes: now.digest.bytes,
        uncompressedBytes: now.uncompressedBytes,
        sha256: now.digest.sha256,
        crc32c: crc32cToBase64(now.digest.crc32c),
        labels: sh.labels.map((l) => moved.get(l) ?? l),
      });
    }
    // What the read-back said of the rewritten shards replaces what their tasks' read-back said.
    const redone = new Set(paths);
    report.findings = [...report.findings.filter((f) => !redone.has(f.file)), ...rewritten.report.findings];
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
  await writeFileAtomic(report.labelMapPath, formatLabelMap(labelMap));
  report.manifestPath = join(out, MANIFEST_FILE);
  report.ok = true;
  // The manifest is the commit point: until it is renamed into place the old
  // manifest describes the folder, and `validate OUT` names the new shards as
  // unlisted. Only then do the shards an earlier run left under the same
  // prefixes (another shard count, which a `PREFIX-*` glob would pick up
  // too) go; a run killed before that leaves them to the next run, which
  // removes them the same way.
  const manifest = buildManifest(out, plan.options, report, labelMap, await readManifest(out));
  await writeFileAtomic(report.manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  const prefixes = new Set(plan.splits.map((s) => s.prefix));
  report.replaced = await removeLeftovers(out, prefixes, new Set(plan.shards.map((s) => s.name)));
  await rm(join(out, PARTS_DIR), { recursive: true, force: true });
  return report;
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
export async function checkShards(out: string, parts: readonly PartEnvelope[], check: 'hash' | 'size'): Promise<Map<number, PartShard>> {
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
    const problem = sh === undefined ? "not in its task's part manifest" : await shardProblem(join(out, name), sh, check);
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

/** A failed run removes what its tasks published, and the parts: nothing of it stays. */
export async function discard(out: string, parts: readonly PartEnvelope[]): Promise<void> {
  const plan = parts[0]!.plan;
  for (const p of parts) for (const sh of p.result.shards) await rm(join(out, plan.shards[sh.slot]!.name), { force: true });
  await rm(join(out, PARTS_DIR), { recursive: true, force: true });
}
