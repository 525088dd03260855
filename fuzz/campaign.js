// The fuzz campaign: targets run case after case, each case from its own
// seeded generator, until the time budget (or a fixed number of cases per
// target) is spent. A case that breaks an invariant keeps its input under
// the campaign's folder and is reported with the line that replays it.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FuzzFailure } from './check.js';
import { caseSeed, Rng } from './random.js';
import { TARGETS } from './targets/index.js';

/** Distinct failures kept per target; later ones with the same wording only count. */
const MAX_FAILURES_KEPT = 5;

/**
 * Runs a campaign. `seconds`: the time budget, shared out by the targets'
 * weights; or `counts`: exactly this many cases per target name (the test
 * suite's fixed slice). `only`: `{ target, index }` replays one case.
 * Returns per-target figures and the failures.
 */
export async function runCampaign({ seed, seconds = 60, counts, targets = TARGETS.map((t) => t.name), only, log = () => {}, root }) {
  const dir = root ?? mkdtempSync(join(tmpdir(), 'tfrecord-od-fuzz-'));
  const chosen = TARGETS.filter((t) => targets.includes(t.name) && (!only || t.name === only.target));
  if (chosen.length === 0) throw new Error(`no such target: ${only?.target ?? targets.join(', ')} (targets: ${TARGETS.map((t) => t.name).join(', ')})`);
  const stats = new Map(
    chosen.map((t) => [t.name, { target: t.name, kind: t.kind, cases: 0, failures: 0, maxSeconds: 0, maxRss: 0, usedSeconds: 0, outcomes: {} }]),
  );
  const failures = [];
  const seen = new Set();
  const assets = {};
  const deadline = performance.now() + seconds * 1000;

  const runOne = async (target, index) => {
    const s = stats.get(target.name);
    const caseDir = join(dir, 'cases', `${target.name}-${index}`);
    await mkdir(caseDir, { recursive: true });
    const meta = { seed, target: target.name, index };
    const ctx = {
      dir: caseDir,
      scratch: dir,
      assets,
      /** Writes an input file of the case (kept if the case fails); returns its path. */
      async saveInput(name, bytes, info) {
        const path = join(caseDir, name);
        await writeFile(path, bytes);
        if (info) Object.assign(meta, info);
        return path;
      },
      note(info) {
        Object.assign(meta, info);
      },
      /** A child's figures, for the campaign's maxima and its exit statuses. */
      measured({ rss, code }) {
        if (rss !== undefined) s.maxRss = Math.max(s.maxRss, rss);
        const key = `exit ${code}`;
        s.outcomes[key] = (s.outcomes[key] ?? 0) + 1;
      },
    };
    const t0 = performance.now();
    let failure;
    try {
      await target.run(new Rng(caseSeed(seed, target.name, index)), ctx);
    } catch (err) {
      failure =
        err instanceof FuzzFailure
          ? err
          : new FuzzFailure(`the harness caught ${err?.name ?? 'a throw'}: ${err?.message ?? String(err)}`, { stack: err?.stack });
    }
    const took = (performance.now() - t0) / 1000;
    s.cases++;
    s.usedSeconds += took;
    s.maxSeconds = Math.max(s.maxSeconds, took);
    if (target.kind === 'library') s.maxRss = Math.max(s.maxRss, process.resourceUsage().maxRSS * 1024);
    if (!failure) {
      await rm(caseDir, { recursive: true, force: true });
      return;
    }
    s.failures++;
    if (failure.message.length > 400) failure.message = `${failure.message.slice(0, 400)}… (${failure.message.length} characters)`;
    const signature = `${target.name}: ${failure.message.replace(/\d+/g, 'N')}`;
    if (seen.has(signature) && !only) {
      await rm(caseDir, { recursive: true, force: true });
      return;
    }
    seen.add(signature);
    if (failures.filter((f) => f.target === target.name).length >= MAX_FAILURES_KEPT && !only) {
      await rm(caseDir, { recursive: true, force: true });
      return;
    }
    const kept = join(dir, 'failures', `${target.name}-${index}`);
    await mkdir(join(dir, 'failures'), { recursive: true });
    await rename(caseDir, kept);
    await writeFile(join(kept, 'case.json'), JSON.stringify({ ...meta, failure: failure.message, details: failure.details }, null, 2) + '\n');
    const replay = `FUZZ_SEED=${seed} FUZZ_TARGET=${target.name} FUZZ_CASE=${index} npm run fuzz`;
    failures.push({ target: target.name, index, message: failure.message, input: kept, replay });
    log(`FAIL ${target.name} case ${index}: ${failure.message}\n  input: ${kept}\n  replay: ${replay}`);
  };

  if (only) {
    await runOne(chosen[0], only.index);
  } else if (counts) {
    // Interleaved, so a slow target does not starve the others of variety.
    const max = Math.max(...chosen.map((t) => counts[t.name] ?? 0));
    for (let i = 0; i < max; i++) for (const t of chosen) if (i < (counts[t.name] ?? 0)) await runOne(t, i);
  } else {
    // Each target gets a share of the time by its weight: the next case goes
    // to the target that has used the least of its share.
    while (performance.now() < deadline) {
      let next = chosen[0];
      let best = Infinity;
      for (const t of chosen) {
        const used = stats.get(t.name).usedSeconds / t.weight;
        if (used < best) {
          best = used;
          next = t;
        }
      }
      await runOne(next, stats.get(next.name).cases);
    }
  }
  await rm(join(dir, 'cases'), { recursive: true, force: true });
  if (failures.length === 0 && !root) await rm(dir, { recursive: true, force: true });
  return { seed, dir, stats: [...stats.values()], failures };
}
