import { describe, expect, it } from 'vitest';
import { Column, float64s, groupIndex, int32s, uint8s } from '../../src/formats/columns.js';

describe('Column', () => {
  it('keeps every value across chunk boundaries, starting new rows at the initial value', () => {
    const c = new Column(float64s, Number.NaN);
    const n = 40_000; // more than two chunks
    for (let i = 0; i < n; i++) c.push(i + 0.5);
    expect(c.length).toBe(n);
    for (let i = 0; i < n; i += 997) expect(c.get(i)).toBe(i + 0.5);
    const row = c.grow();
    expect(row).toBe(n);
    expect(c.get(row)).toBeNaN();
    c.set(row, -1);
    expect(c.get(row)).toBe(-1);
    expect(c.get(n - 1)).toBe(n - 1 + 0.5);
  });

  it('stores into the typed array it was given', () => {
    const ints = new Column(int32s, 0);
    ints.push(2 ** 31 - 1);
    ints.push(-5);
    expect([ints.get(0), ints.get(1)]).toEqual([2 ** 31 - 1, -5]);
    const flags = new Column(uint8s, 0);
    flags.grow();
    flags.push(1);
    expect([flags.get(0), flags.get(1)]).toEqual([0, 1]);
  });
});

describe('groupIndex', () => {
  it('groups items by number, keeping their order, and leaves out items of no group', () => {
    const groupOf = [2, 0, -1, 2, 0, 2, -1];
    const { start, order } = groupIndex(groupOf.length, 4, (i) => groupOf[i]!);
    expect([...start]).toEqual([0, 2, 2, 5, 5]);
    expect([...order]).toEqual([1, 4, 0, 3, 5]);
  });
});
