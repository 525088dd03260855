import { describe, expect, it } from 'vitest';
import { orderedPipeline } from '../../src/shard/workers.js';

async function* numbers(n: number) {
  for (let i = 0; i < n; i++) yield i;
}

describe('orderedPipeline', () => {
  it('consumes results in input order whatever order they finish in, never exceeding the window', async () => {
    let running = 0;
    let maxRunning = 0;
    const seen: number[] = [];
    await orderedPipeline(
      numbers(50),
      4,
      async (i) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        // Later inputs often finish first.
        await new Promise((r) => setTimeout(r, (50 - i) % 7));
        running--;
        return i * 10;
      },
      async (i, r) => {
        expect(r).toBe(i * 10);
        seen.push(i);
      },
    );
    expect(seen).toEqual([...Array(50).keys()]);
    expect(maxRunning).toBeLessThanOrEqual(4);
    expect(maxRunning).toBeGreaterThan(1);
  });

  it('asks a window function again after every result', async () => {
    let inFlight = 0;
    const peaks: number[] = [];
    let window = 8;
    await orderedPipeline(
      numbers(30),
      () => window,
      async (i) => {
        inFlight++;
        peaks.push(inFlight);
        await new Promise((r) => setTimeout(r, 1));
        return i;
      },
      async (i) => {
        inFlight--;
        // After the tenth result, records turn out to be big: shrink the window.
        if (i === 9) window = 2;
      },
    );
    expect(Math.max(...peaks.slice(0, 10))).toBe(8);
    expect(Math.max(...peaks.slice(20))).toBeLessThanOrEqual(2);
  });
});
