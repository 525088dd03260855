import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { CONVERT_DEFAULTS, IMAGES_PER_WORKER } from '../../src/convert/options.js';

describe('the default worker count follows the dataset size', () => {
  const cpus = availableParallelism();
  it('starts no worker for a small dataset', () => {
    for (const n of [0, 1, IMAGES_PER_WORKER - 1]) expect(CONVERT_DEFAULTS.workers(n)).toBe(0);
  });
  it('one per IMAGES_PER_WORKER images, up to one per CPU but one (this thread works too)', () => {
    expect(CONVERT_DEFAULTS.workers(IMAGES_PER_WORKER)).toBe(Math.min(1, cpus - 1));
    expect(CONVERT_DEFAULTS.workers(2 * IMAGES_PER_WORKER)).toBe(Math.min(2, cpus - 1));
    expect(CONVERT_DEFAULTS.workers(1e9)).toBe(Math.max(0, cpus - 1));
  });
});
