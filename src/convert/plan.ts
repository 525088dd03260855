/**
 * The plan: where every record goes, decided from the annotations alone,
 * before a single image is read. Each item the scan accepts gets a split
 * and a shard (a "slot": one shard file of one split), and every shard's
 * final name, `-of-NNNNN` total included, is known up front.
 *
 * That is what lets a conversion run as the tasks of a batch job (see
 * dataset/task.ts): every task reads the annotations, makes the same plan,
 * converts only the images of its own shards, and the shards of all tasks
 * together are byte for byte the shards one machine writes. Nothing about a
 * record's place may depend on an earlier record, so:
 *
 *   - the split is a hash of the item's identity (its id: the image path
 *     relative to the images root, stored as `image/filename`) and the seed,
 *     not of the image's bytes, which only a reader of the image knows (see
 *     split.ts for what this costs);
 *   - with --shards N, the i-th item of a split goes to shard i mod N;
 *   - with --shard-size S, the items of a split are cut into shards in
 *     order by an estimate of each record's size, the image file's size on
 *     disk plus an allowance for its annotations (estimateRecordBytes), so
 *     shards come out near S rather than exactly within it. An image that is
 *     re-encoded (WebP, BMP, --max-size) has another size in the record than
 *     on disk; the plan still uses the file's;
 *   - an item that fails later (an unreadable image under --on-error skip)
 *     leaves its place empty: no later record moves.
 */
import { createHash, type Hash } from 'node:crypto';
import { statSync } from 'node:fs';
import { takeCheckedSize } from '../formats/paths.js';
import type { SourceItem } from '../formats/types.js';
import { assignShards } from '../shard/assign.js';
import { shardExtension, shardName } from '../shard/naming.js';
import { shardPrefix, type ResolvedConvertOptions } from './options.js';
import { assignSplit } from './split.js';

/** One shard file of the plan. */
export interface PlannedShard {
  /** The split's name; undefined without splits. */
  split: string | undefined;
  prefix: string;
  /** Its number within the split's set, and the set's size. */
  index: number;
  total: number;
  /** The final file name. */
  name: string;
  /** Items planned for it (some may fail and leave it with fewer records). */
  images: number;
  /** The sum of its items' estimated record sizes. */
  estimatedBytes: number;
}

export interface ConversionPlan {
  /** Every shard of the run: split by split (in --split order), each split's shards in order. */
  shards: PlannedShard[];
  /** The shard (index into `shards`) of each scanned item, by its position among the accepted items; NO_SHARD for items left out. */
  shardOf: Int32Array;
  /** SHA-256 over every item's id, split and shard: two runs that plan alike have the same digest. */
  digest: string;
}

export const NO_SHARD = -1;

/**
 * What a record adds to its image's bytes, as an estimate: the framing and
 * the fixed features with their keys (~440 bytes with a 64-digit SHA-256),
 * the id twice (image/filename and image/source_id), the keys of the box
 * lists once there is a box (~60), and per box four floats, a label, the
 * class text and the optional per-box values (~30 and the text). Measured on
 * the sample fixture's COCO records: within 3% of the real overhead, which
 * is small beside any real image anyway.
 */
export function estimateRecordBytes(item: SourceItem, imageBytes: number): number {
  let bytes = RECORD_BASE_BYTES + 2 * item.id.length + imageBytes;
  if (item.objects.length > 0) bytes += BOX_LIST_BYTES;
  for (const o of item.objects) bytes += BOX_BYTES + o.className.length;
  return bytes;
}

const RECORD_BASE_BYTES = 440;
const BOX_LIST_BYTES = 60;
const BOX_BYTES = 30;

/** Collects pass 1's items into a plan; `add` them in scan order, then `finish`. */
export class PlanBuilder {
  /** Per accepted item: its split's position in opts.splitNames, or NO_SHARD when left out. */
  private splits = new Int32Array(1024);
  /** Per accepted item: its estimated record size (only with --shard-size). */
  private sizes: Float64Array | undefined;
  private count = 0;
  private readonly hash: Hash = createHash('sha256');
  private readonly bySize: boolean;

  constructor(private readonly opts: ResolvedConvertOptions) {
    this.bySize = 'shardSize' in opts.layout;
    if (this.bySize) this.sizes = new Float64Array(1024);
  }

  /**
   * The next accepted item; `excluded` ones (a class outside the user's
   * label map) get no place. The image's size is the one the importer's
   * check found (imageFileProblem's lstat) when it is still known, else a
   * blocking stat: the file was just looked up, so the kernel has it cached,
   * and a blocking call costs a tenth of an asynchronous one's round trip
   * through the thread pool.
   */
  add(item: SourceItem, excluded: boolean): void {
    if (this.count === this.splits.length) this.grow();
    const split = excluded ? NO_SHARD : this.splitOf(item);
    this.splits[this.count] = split;
    if (this.sizes) this.sizes[this.count] = excluded ? 0 : estimateRecordBytes(item, fileSize(item.imagePath));
    this.hash.update(`${item.id}\u0000${split}\u0000`);
    this.count++;
  }

  private grow(): void {
    const splits = new Int32Array(this.splits.length * 2);
    splits.set(this.splits);
    this.splits = splits;
    if (this.sizes) {
      const sizes = new Float64Array(this.sizes.length * 2);
      sizes.set(this.sizes);
      this.sizes = sizes;
    }
  }

  /**
   * The item's split. A format that assigns splits itself (Vertex AI's
   * ml_use) keeps its assignment unless --split replaced it; otherwise a
   * hash of the item's id and the seed decides.
   */
  private splitOf(item: SourceItem): number {
    const opts = this.opts;
    if (!opts.splits) return 0;
    if (opts.itemSplits && item.split !== undefined) {
      const own = opts.splitNames.indexOf(item.split);
      if (own >= 0) return own;
    }
    return opts.splitNames.indexOf(assignSplit(item.id, opts.seed, opts.splits));
  }

  finish(): ConversionPlan {
    const opts = this.opts;
    const shardOf = new Int32Array(this.count).fill(NO_SHARD);
    const shards: PlannedShard[] = [];
    const ext = shardExtension(opts.compression);
    opts.splitNames.forEach((split, s) => {
      const prefix = shardPrefix(opts, split);
      const items: number[] = [];
      for (let i = 0; i < this.count; i++) if (this.splits[i] === s) items.push(i);
      // Each item's shard within the split, and how many shards the split has.
      const { within, total } = assignShards(items.length, opts.layout, (k) => this.sizes![items[k]!]!);
      const first = shards.length;
      for (let index = 0; index < total; index++) {
        shards.push({ split, prefix, index, total, name: shardName(prefix, index, total, ext), images: 0, estimatedBytes: 0 });
      }
      items.forEach((item, k) => {
        const slot = first + within[k]!;
        shardOf[item] = slot;
        shards[slot]!.images++;
        shards[slot]!.estimatedBytes += this.sizes?.[item] ?? 0;
      });
    });
    this.hash.update(new Uint8Array(shardOf.buffer, shardOf.byteOffset, shardOf.byteLength));
    return { shards, shardOf, digest: this.hash.digest('hex') };
  }
}

/**
 * The file's size, as the importer's check of it found a moment ago, else
 * looked up; 0 when it cannot be (the item then fails in pass 2, leaving
 * its place empty).
 */
function fileSize(path: string): number {
  const checked = takeCheckedSize(path);
  if (checked !== undefined) return checked;
  try {
    return statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  } catch {
    return 0;
  }
}
