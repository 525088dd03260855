// The floor under each throughput target, two ways. The model: the work a
// case cannot skip without dropping something the product promises, timed
// on this machine in the same run and spread over every core as if it split
// perfectly. The skeleton (skeleton.js): a plain Node program doing only
// that work, measured in the same rounds. The model leaves out the kernel's
// own CPU for reading and writing and the cost of sharing work between
// threads, so it flatters; the verdict goes by the skeleton: a target above
// its share cannot be met here by any implementation that keeps those
// promises, and the table says so rather than leaving the gap to be read as
// slack.
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { median } from './common.js';

const SAMPLE = 64 * 1024 * 1024;

/**
 * Seconds per byte of SHA-256 (node:crypto, which uses the CPU's SHA
 * instructions where there are any) and of the CRC32C the product uses
 * (native when the optional package is installed), the median of `reps`
 * passes over 64 MiB.
 */
export async function hashRates(dist, reps = 5) {
  const { crc32cFast, crc32cImplementation } = await import(pathToFileURL(`${dist}/io/native-crc.js`).href);
  const buf = new Uint8Array(SAMPLE).map((_, i) => (i * 2654435761) >>> 24);
  const time = (fn) => {
    const t0 = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - t0) / 1e9 / SAMPLE;
  };
  const sha = [];
  const crc = [];
  for (let i = 0; i < reps; i++) {
    sha.push(time(() => createHash('sha256').update(buf).digest()));
    crc.push(time(() => crc32cFast(buf, 0)));
  }
  return { sha256: median(sha), crc32c: median(crc), crcKind: crc32cImplementation, cores: availableParallelism() };
}

/**
 * One row per target: the case's mandatory per-byte work (as CPU seconds
 * at the measured rates), the limit's own time (the bytes must still be
 * read or written once), process start for CLI cases, and what share of the
 * limit the best possible implementation would reach by that model; then
 * the skeleton's measured share (skeleton.js) and the product's, and the
 * verdict: a target above the skeleton's share cannot be met here.
 */
export function floorRows(specs, rates, timeOf, shareOf) {
  return specs.map((s) => {
    const work = s.work.reduce((a, [what, bytes]) => a + rates[what] * bytes, 0);
    const limit = timeOf(s.limit);
    const start = s.cli ? timeOf('(info) node -e 0') : 0;
    // The copy or read itself can overlap the hashing, so the floor is
    // whichever is slower, plus the start that nothing overlaps.
    const floor = start + Math.max(limit, work / rates.cores);
    const best = limit / floor;
    const product = shareOf(s.name, s.limit);
    const skeleton = shareOf(s.skeleton, s.limit);
    const verdict =
      product * 100 >= s.target
        ? 'met'
        : skeleton * 100 < s.target
          ? 'NOT reachable here: above the skeleton'
          : best * 100 < s.target
            ? 'NOT reachable here: above the model'
            : 'open';
    return [
      s.name,
      s.work.map(([what, bytes]) => `${what} ${(bytes / 1e6).toFixed(0)} MB`).join(' + '),
      work.toFixed(3),
      start ? start.toFixed(3) : '',
      limit.toFixed(3),
      floor.toFixed(3),
      `${(100 * best).toFixed(1)}%`,
      `${timeOf(s.skeleton).toFixed(3)} s, ${(100 * skeleton).toFixed(1)}%`,
      `${(100 * product).toFixed(1)}%`,
      `${s.target}%`,
      verdict,
    ];
  });
}

export const FLOOR_HEAD = [
  'case',
  'mandatory per-byte work',
  'its CPU s',
  'process start s',
  'limit s',
  'model floor s (all cores)',
  'model best share',
  'skeleton: median s, share',
  'product share',
  'target',
  'verdict',
];
