/**
 * A fixed-seed slice of the fuzz campaign (fuzz/, `npm run fuzz`): a few
 * hundred cases across every target, a few seconds in all, so a change that
 * breaks an invariant on inputs the campaign already draws shows up in the
 * suite. The long campaigns stay out of CI's time.
 */
import { describe, expect, it } from 'vitest';
import { runCampaign } from '../../fuzz/campaign.js';
import { TARGETS } from '../../fuzz/targets/index.js';

/** Cases per target: about a second each on the 2-core reference machine. */
const SLICE: Record<string, number> = {
  records: 60,
  example: 300,
  coco: 40,
  voc: 15,
  csv: 30,
  yolo: 30,
  'label-map': 150,
  'cli-records': 3,
  convert: 3,
};

describe('fuzz campaign, fixed-seed slice', () => {
  it('covers every target', () => {
    expect(Object.keys(SLICE).sort()).toEqual(TARGETS.map((t) => t.name).sort());
  });

  it('breaks no invariant', async () => {
    const result = await runCampaign({ seed: 20261130, counts: SLICE });
    const failures = result.failures.map((f) => `${f.target} case ${f.index}: ${f.message} (input kept in ${f.input})`);
    expect(failures).toEqual([]);
    for (const s of result.stats) expect(s.cases, s.target).toBe(SLICE[s.target]);
  }, 120_000);
});
