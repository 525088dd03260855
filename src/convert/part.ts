/**
 * Part manifests: what one task of a scaled-out conversion leaves for
 * `finalize` (OUT/.tfrecord-od-parts/task-00003-of-00007.json). A part holds
 * two things:
 *
 *   - `plan`: what every task of the run worked out alike from the
 *     annotations (the options, the label ids, pass 1's errors and notes,
 *     every planned shard). Its SHA-256 is the run's fingerprint, so parts of
 *     another run (other options, other annotations, another task count) are
 *     told apart and refused;
 *   - `result`: what this task converted: its shards with their digests, its
 *     counts, and its items' problems, box changes and warnings, each tagged
 *     with the item's place in the annotations (`at`), so finalize can put
 *     the lists of all tasks back into the order one machine reports them in.
 *
 * One machine goes through the same step: its single part is handed to the
 * finalize step in memory instead of through a file.
 *
 * The surgery commands (reshard, remap, split, merge) run as tasks the same
 * way and leave parts in the same envelope (kind, task, fingerprint, range,
 * and a plan and result with the planned shards and the shards written),
 * told apart by `command`; what else their plan and result hold is theirs
 * (surgery/part.ts). Everything here that finalize acts on (shard names,
 * numbers, ranges) is checked alike for every command.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { LabelMapItem } from '../detection/label-map.js';
import { crc32cToBase64, type Target } from '../dataset/manifest.js';
import { PARTS_DIR } from '../dataset/publish-journal.js';
import type { TaskSpec } from '../dataset/task.js';
import { isTfrecordError, TfrecordError } from '../errors.js';
import type { FileDigest } from '../io/digest.js';
import type { Compression } from '../record/compression.js';
import type { ShardInfo } from '../shard/sharded-writer.js';
import type { Finding } from '../validate/findings.js';
import { writeFileAtomic } from './output.js';
import type { BoxReport, ConvertWarning, ItemProblem, RunNote } from './report.js';

/** The folder in the output folder that holds the parts until finalize (dataset/publish-journal.ts: a job under way). */
export { PARTS_DIR };

const PART_KIND = 'tfrecord-od-part';
const PART_LAYOUT = 1;

/** What every task of one run has alike (see the file comment). */
export interface PartPlan {
  /** The manifest's `options` of this run (publish.ts: manifestOptions). */
  options: Record<string, unknown>;
  target: Target;
  compression: Compression;
  onError: 'fail' | 'skip';
  /** Whether images stored as they are were fully decoded (ConvertOptions.decode); the report says so either way. */
  decoded: boolean;
  /** How the ids were chosen, and the ids pass 1 gave; `fixedIds` are the user's or the folder's and never move. */
  labelOrder: string;
  labelMap: LabelMapItem[];
  fixedIds: number[];
  /** The run's sets, in --split order: their names (null: no splits) and shard prefixes. */
  splits: Array<{ name: string | null; prefix: string }>;
  /** Every planned shard of the run, in order: its split's position in `splits`, file name and planned images. */
  shards: Array<{ split: number; name: string; images: number }>;
  /** Items the annotations list (accepted or refused). */
  total: number;
  notes: RunNote[];
  /** Pass 1's item errors (every task finds the same ones). */
  scanErrors: ItemProblem[];
  /** Why the run fails before any image is read (coordinates that look normalized, say). */
  failure?: string;
  /** How many tasks share the run. */
  tasks: number;
  /** The plan's digest (plan.ts): every item's id, split and shard. */
  digest: string;
}

/** What every command's plan holds: the sets and the planned shards, and how many tasks share them. */
export interface CommonPlan {
  /** The run's sets, in order: their names (null: no splits) and shard prefixes. */
  splits: Array<{ name: string | null; prefix: string }>;
  /** Every planned shard of the run, in order: its set's position in `splits`, file name and planned images (records). */
  shards: Array<{ split: number; name: string; images: number }>;
  tasks: number;
}

/** What every command's result holds: the shards the task published. */
export interface CommonResult {
  failure?: string;
  shards: PartShard[];
}

/** A list entry of one item, with the item's place among the accepted items. */
export type AtItem<T> = T & { at: number };

export interface PartShard {
  /** Index into `plan.shards`. */
  slot: number;
  records: number;
  /** Size on disk, and framed bytes before compression. */
  bytes: number;
  uncompressedBytes: number;
  sha256: string;
  /** Cloud Storage's form: base64 of the big-endian CRC32C. */
  crc32c: string;
  /** The label ids its records use: finalize rewrites only shards that hold a renumbered one. */
  labels: number[];
  /**
   * One machine only (its part never leaves memory): the file name the
   * shard is still staged under, for finalize's journalled publish to
   * rename. A task of a job renames its shards itself, before its part is
   * written.
   */
  staged?: string;
}

/**
 * A task's written shards as its part lists them, in plan order: each one's
 * place in the plan (`slotOf`, by file name), its counts, the digests its
 * read-back or writer took (by staged path), the labels its records use,
 * and with `staged` (one machine) the name it is still staged under.
 */
export function partShards(
  shards: readonly ShardInfo[],
  slotOf: ReadonlyMap<string, number>,
  digests: ReadonlyMap<string, FileDigest>,
  shardLabels: ReadonlyMap<number, ReadonlySet<number>>,
  staged: boolean,
): PartShard[] {
  const out = shards.map((sh): PartShard => {
    const slot = slotOf.get(sh.name)!;
    const digest = digests.get(sh.stagedPath)!;
    return {
      slot,
      records: sh.records,
      bytes: digest.bytes,
      uncompressedBytes: sh.bytes,
      sha256: digest.sha256,
      crc32c: crc32cToBase64(digest.crc32c),
      labels: [...(shardLabels.get(slot) ?? [])].sort((a, b) => a - b),
      ...(staged ? { staged: basename(sh.stagedPath) } : {}),
    };
  });
  return out.sort((a, b) => a.slot - b.slot);
}

/** Per class: [label, boxes, images]. */
export type ClassCounts = Array<[number, number, number]>;

export interface PartResult {
  /** Why this task failed; it then published nothing. */
  failure?: string;
  /** Its shards, published under their final names (one machine's: staged; none when it failed). */
  shards: PartShard[];
  /** Per set of `plan.splits`: the records this task converted. */
  splits: Array<{ records: number; boxes: number; classes: ClassCounts }>;
  items: { converted: number; reencoded: number; withoutBoxes: number; withoutLabelFile: number };
  errors: Array<AtItem<ItemProblem>>;
  clipped: Array<AtItem<BoxReport>>;
  dropped: Array<AtItem<BoxReport>>;
  warnings: Array<AtItem<ConvertWarning>>;
  withoutLabelFile: Array<AtItem<{ id: string }>>;
  /** The read-back's findings about this task's shards. */
  findings: Finding[];
}

/** A part of any command. */
export interface PartEnvelope<P extends CommonPlan = CommonPlan, R extends CommonResult = CommonResult> {
  kind: typeof PART_KIND;
  layout: number;
  /** The command whose task wrote it (parts of older versions lack it: they were convert's). */
  command: string;
  task: TaskSpec;
  /** SHA-256 of `plan` as JSON: the same for every task of a run. */
  fingerprint: string;
  /** The planned shards this task took: plan.shards[start..end). */
  range: { start: number; end: number };
  plan: P;
  result: R;
}

/** A part of convert. */
export type PartManifest = PartEnvelope<PartPlan, PartResult>;

export function planFingerprint(plan: object): string {
  return createHash('sha256').update(JSON.stringify(plan)).digest('hex');
}

/** The envelope of a new part of `command`, around its plan and an empty result. */
export function newEnvelope<P extends CommonPlan, R extends CommonResult>(
  command: string,
  task: TaskSpec,
  range: { start: number; end: number },
  plan: P,
  result: R,
): PartEnvelope<P, R> {
  return { kind: PART_KIND, layout: PART_LAYOUT, command, task, fingerprint: planFingerprint(plan), range, plan, result };
}

export function newPart(task: TaskSpec, range: { start: number; end: number }, plan: PartPlan): PartManifest {
  return {
    kind: PART_KIND,
    layout: PART_LAYOUT,
    command: 'convert',
    task,
    fingerprint: planFingerprint(plan),
    range,
    plan,
    result: {
      shards: [],
      splits: plan.splits.map(() => ({ records: 0, boxes: 0, classes: [] })),
      items: { converted: 0, reencoded: 0, withoutBoxes: 0, withoutLabelFile: 0 },
      errors: [],
      clipped: [],
      dropped: [],
      warnings: [],
      withoutLabelFile: [],
      findings: [],
    },
  };
}

const pad = (n: number) => String(n).padStart(5, '0');

export function partFileName(task: TaskSpec): string {
  return `task-${pad(task.index)}-of-${pad(task.count)}.json`;
}

const PART_FILE = /^task-(\d{5,})-of-(\d{5,})\.json$/;

/** Writes the task's part manifest (atomically: a retried task replaces it whole); returns its path. */
export async function writePart(out: string, part: PartEnvelope): Promise<string> {
  const dir = join(out, PARTS_DIR);
  await mkdir(dir, { recursive: true });
  const file = join(dir, partFileName(part.task));
  await writeFileAtomic(file, JSON.stringify(part) + '\n');
  return file;
}

/** The part files in the output folder, sorted by name ([] when there are none). */
async function partFiles(out: string): Promise<string[]> {
  const dir = join(out, PARTS_DIR);
  try {
    return (await readdir(dir)).filter((n) => PART_FILE.test(n)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new TfrecordError('io', `cannot read the parts: ${(err as Error).message}`, { file: dir });
    return [];
  }
}

/**
 * The command whose tasks left the parts in the output folder (read from
 * the first part), or undefined when there are none or it cannot be read:
 * finalize then lets the convert path say what is wrong.
 */
export async function partsCommand(out: string): Promise<string | undefined> {
  const names = await partFiles(out);
  if (names.length === 0) return undefined;
  try {
    const p = JSON.parse(await readFile(join(out, PARTS_DIR, names[0]!), 'utf8')) as { kind?: unknown; command?: unknown } | null;
    if (p?.kind !== PART_KIND) return undefined;
    return typeof p.command === 'string' ? p.command : 'convert';
  } catch {
    return undefined;
  }
}

/**
 * Every part of `command` in the output folder, checked to make one run:
 * all present (0..count-1), of one task count and one fingerprint; `lists`
 * says what is wrong with the command's own lists, if anything. Refuses,
 * naming the missing task indexes or the parts of another run.
 */
export async function readParts<P extends PartEnvelope = PartManifest>(
  out: string,
  command = 'convert',
  lists: (p: P) => string | undefined = convertListsProblem as unknown as (p: P) => string | undefined,
): Promise<P[]> {
  const names = await partFiles(out);
  if (names.length === 0) {
    throw new TfrecordError(
      'io',
      `no part manifests in ${PARTS_DIR}: run the tasks of \`${command === 'convert' ? 'convert (or reshard, remap, split, merge)' : command} --task-index I --task-count N\` into this folder first`,
      {
        file: out,
      },
    );
  }
  const parts: P[] = [];
  for (const name of names) parts.push(await readPart(join(out, PARTS_DIR, name), command, lists));
  try {
    return checkParts(parts, names);
  } catch (err) {
    // Named by the parts folder, as every other refusal of finalize names a file.
    throw isTfrecordError(err) ? err.withLocation({ file: join(out, PARTS_DIR) }) : err;
  }
}

async function readPart<P extends PartEnvelope>(file: string, command: string, lists: (p: P) => string | undefined): Promise<P> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new TfrecordError('io', `not a readable part manifest (${(err as Error).message}); run this task again`, { file });
  }
  const p = raw as Partial<PartEnvelope> | null;
  const task = p?.task;
  const wellFormed =
    p !== null &&
    typeof p === 'object' &&
    p.kind === PART_KIND &&
    (p.command === undefined || typeof p.command === 'string') &&
    typeof p.fingerprint === 'string' &&
    typeof task?.index === 'number' &&
    typeof task.count === 'number' &&
    typeof p.plan === 'object' &&
    p.plan !== null &&
    Array.isArray(p.plan.shards) &&
    typeof p.result === 'object' &&
    p.result !== null &&
    Array.isArray(p.result.shards);
  if (!wellFormed) throw new TfrecordError('io', `not a part manifest of tfrecord-od ${command}; remove it, or run this task again`, { file });
  p.command ??= 'convert';
  if (p.command !== command) {
    throw new TfrecordError('io', `a part manifest of tfrecord-od ${p.command}, not of ${command}: the folder holds the tasks of another command`, { file });
  }
  if (p.layout !== PART_LAYOUT)
    throw new TfrecordError('io', `part manifest layout ${String(p.layout)} is not one this tool writes; run the tasks again with this version`, { file });
  const wrong = shapeProblem(p as PartEnvelope) ?? lists(p as P);
  if (wrong) throw new TfrecordError('io', `not a part manifest of tfrecord-od ${command} (${wrong}); remove it, or run this task again`, { file });
  // The plan must be what its fingerprint says: a part edited by hand, or cut short, is not trusted.
  if (planFingerprint(p.plan!) !== p.fingerprint)
    throw new TfrecordError('io', 'the part manifest does not match its own fingerprint; run this task again', { file });
  return p as P;
}

/** A shard file name and nothing else: finalize removes and rewrites files by these names, so none may lead out of the folder. */
const SHARD_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*-\d{5}-of-\d{5}\.tfrecord(?:\.gz|\.zz)?$/;

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0;

/** What is wrong with what finalize acts on in any part (file names, shard numbers), if anything. */
function shapeProblem(p: PartEnvelope): string | undefined {
  const { plan, result, range } = p;
  if (!Array.isArray(plan.splits) || plan.splits.some((s) => typeof s?.prefix !== 'string' || /[/\\]/.test(s.prefix))) return 'bad set prefixes';
  for (const sh of plan.shards) {
    if (typeof sh?.name !== 'string' || !SHARD_NAME.test(sh.name) || !isCount(sh.split) || sh.split >= plan.splits.length || !isCount(sh.images)) {
      return `bad planned shard ${JSON.stringify(sh?.name)}`;
    }
  }
  if (!isCount(range?.start) || !isCount(range.end) || range.end < range.start || range.end > plan.shards.length) return 'bad shard range';
  for (const sh of result.shards) {
    if (!isCount(sh?.slot) || sh.slot < range.start || sh.slot >= range.end || !isCount(sh.bytes) || !Array.isArray(sh.labels)) return 'bad shard entry';
  }
  return undefined;
}

/** What is wrong with the lists of convert's result, if anything. */
function convertListsProblem(p: PartManifest): string | undefined {
  const { plan, result } = p;
  const lists = [result.errors, result.clipped, result.dropped, result.warnings, result.withoutLabelFile, result.findings, result.splits];
  if (lists.some((l) => !Array.isArray(l)) || result.splits.length !== plan.splits.length) return 'bad result lists';
  return undefined;
}

/** The parts in task order, or a refusal naming what is missing or foreign. */
export function checkParts<P extends PartEnvelope>(parts: readonly P[], names: readonly string[] = parts.map((p) => partFileName(p.task))): P[] {
  const count = parts[0]!.task.count;
  const fingerprint = parts[0]!.fingerprint;
  const foreign = parts
    .map((p, i) => [p, names[i]!] as const)
    .filter(([p]) => p.task.count !== count || p.fingerprint !== fingerprint || p.plan.tasks !== p.task.count || p.task.index >= count);
  if (foreign.length > 0) {
    throw new TfrecordError(
      'io',
      `the parts in ${PARTS_DIR} come from different runs (other options, annotations or task counts): ${names[0]} and ${foreign.map(([, n]) => n).join(', ')} ` +
        'do not agree. Remove the parts of the old run (or the whole folder) and run the tasks again',
    );
  }
  const byIndex = new Map<number, P>();
  for (const p of parts) byIndex.set(p.task.index, p);
  const missing: number[] = [];
  for (let i = 0; i < count; i++) if (!byIndex.has(i)) missing.push(i);
  if (missing.length > 0) {
    const shown = missing.length > 20 ? `${missing.slice(0, 20).join(', ')}, … (${missing.length} in all)` : missing.join(', ');
    throw new TfrecordError(
      'io',
      `${missing.length} of ${count} tasks have not finished: no part manifest from task${missing.length === 1 ? '' : 's'} ${shown}. Run ${missing.length === 1 ? 'it' : 'them'} (again), then finalize`,
    );
  }
  return [...byIndex.values()].sort((a, b) => a.task.index - b.task.index);
}
