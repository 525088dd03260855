/**
 * What `--split` says: split names and their fractions. Apart from split.ts
 * (which hashes with node:crypto) so the CLI's option table can check a
 * --split value without loading crypto for every `--help`.
 */
import { TfrecordError } from '../errors.js';

export interface SplitSpec {
  name: string;
  /** Fraction of the images, normalised so the fractions sum to 1. */
  fraction: number;
}

const SPLIT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.]*$/;

/** How far fractions may add up from 1 (0.7 + 0.2 + 0.1 is 0.9999999999999999 in doubles). */
const FRACTION_SUM_TOLERANCE = 1e-9;

/**
 * Parses `train=0.8,val=0.2`. Fractions (written with a decimal point, none
 * above 1) must add up to 1: `train=0.8,val=0.3` is a slip, not a request
 * for 73% and 27%. Whole numbers are weights and are normalised:
 * `train=8,val=2` is the same as `train=0.8,val=0.2`.
 */
export function parseSplits(text: string): SplitSpec[] {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) throw new TfrecordError('bad-argument', 'empty --split');
  const specs: SplitSpec[] = [];
  const written = { fractions: false };
  for (const part of parts) {
    const m = /^([^=]+)=\s*(\d+(?:\.\d+)?|\.\d+)$/.exec(part);
    if (!m) throw new TfrecordError('bad-argument', `--split entry '${part}' is not NAME=FRACTION`);
    const name = m[1]!.trim();
    if (!SPLIT_NAME.test(name)) throw new TfrecordError('bad-argument', `split name '${name}' may use only letters, digits, '_' and '.'`);
    if (specs.some((s) => s.name === name)) throw new TfrecordError('bad-argument', `split '${name}' is given twice`);
    specs.push({ name, fraction: Number(m[2]) });
    if (m[2]!.includes('.')) written.fractions = true;
  }
  const total = specs.reduce((n, s) => n + s.fraction, 0);
  if (!(total > 0)) throw new TfrecordError('bad-argument', '--split fractions must not all be zero');
  if (written.fractions && specs.every((s) => s.fraction <= 1) && Math.abs(total - 1) > FRACTION_SUM_TOLERANCE) {
    // The same numbers as whole weights, which would be normalised: one way to say what was typed.
    const scale = 10 ** Math.max(...parts.map((p) => (p.split('=')[1]!.split('.')[1] ?? '').length));
    const weights = specs.map((s) => `${s.name}=${Math.round(s.fraction * scale)}`).join(',');
    throw new TfrecordError(
      'bad-argument',
      `the --split fractions add up to ${Number(total.toPrecision(12))}; make them add up to 1, or give weights like ${weights}`,
    );
  }
  return specs.map((s) => ({ name: s.name, fraction: s.fraction / total }));
}
