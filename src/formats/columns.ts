/**
 * Growable columns of numbers for readers that must hold every box of a
 * large dataset before they can group them by image (COCO, CSV): typed
 * arrays, a fixed-size chunk at a time, so they take the bytes of their
 * numbers and nothing else, and never copy as they grow.
 */

const CHUNK_BITS = 14;
const CHUNK = 1 << CHUNK_BITS;

type TypedColumn = Float64Array | Int32Array | Uint8Array;

export class Column<T extends TypedColumn> {
  private readonly chunks: T[] = [];
  private size = 0;

  /** `make` allocates a chunk; new rows start at `initial`. */
  constructor(
    private readonly make: (length: number) => T,
    private readonly initial: number,
  ) {}

  get length(): number {
    return this.size;
  }

  /** Appends a row holding the initial value; returns its index. */
  grow(): number {
    const k = this.size & (CHUNK - 1);
    if (k === 0) {
      const chunk = this.make(CHUNK);
      if (this.initial !== 0) chunk.fill(this.initial);
      this.chunks.push(chunk);
    }
    return this.size++;
  }

  /** Appends a row holding `v`. */
  push(v: number): void {
    this.set(this.grow(), v);
  }

  get(i: number): number {
    return (this.chunks[i >>> CHUNK_BITS] as T)[i & (CHUNK - 1)] as number;
  }

  set(i: number, v: number): void {
    (this.chunks[i >>> CHUNK_BITS] as T)[i & (CHUNK - 1)] = v;
  }
}

export const float64s = (n: number): Float64Array => new Float64Array(n);
export const int32s = (n: number): Int32Array => new Int32Array(n);
export const uint8s = (n: number): Uint8Array => new Uint8Array(n);

/**
 * Items 0..count-1 grouped by `groupOf` (a group number below `groups`, or
 * -1 for none), keeping their order within each group: the items of group
 * g are order[start[g]..start[g + 1]). A counting sort, 4 bytes an item.
 */
export function groupIndex(count: number, groups: number, groupOf: (item: number) => number): { start: Int32Array; order: Int32Array } {
  const start = new Int32Array(groups + 1);
  for (let i = 0; i < count; i++) {
    const g = groupOf(i);
    if (g >= 0) start[g + 1]!++;
  }
  for (let g = 0; g < groups; g++) start[g + 1]! += start[g]!;
  const order = new Int32Array(start[groups]!);
  const fill = start.slice(0, groups);
  for (let i = 0; i < count; i++) {
    const g = groupOf(i);
    if (g >= 0) order[fill[g]!++] = i;
  }
  return { start, order };
}
