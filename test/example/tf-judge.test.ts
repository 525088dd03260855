/**
 * TensorFlow as the judge of tfParseVerdict: every hand-built case, 200
 * generated mutations, 1000 single-byte changes and every interop record go through
 * tf.io.parse_single_example in one Python process (test/judge/tf_parse.py),
 * and our verdict must agree with it: TensorFlow fails exactly when we say so,
 * and otherwise reads, for every key, the values we predict (protobuf's, or
 * the divergence's).
 *
 * Python is TFRECORD_OD_JUDGE_PYTHON or /tmp/judge/bin/python; without one
 * that imports tensorflow the tests skip and say why.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeExample, tfParseVerdict, type Feature, type Features, type TfParseVerdict } from 'tfrecord-od/example';
import { readRecordEntries } from 'tfrecord-od';
import { HAVE_INTEROP, interopPath, loadExpected } from '../helpers/interop.js';
import { HAND_CASES, generatedCases } from './tf-cases.js';
import { hex } from './wire-builder.js';

const PYTHON = process.env.TFRECORD_OD_JUDGE_PYTHON ?? '/tmp/judge/bin/python';
const SCRIPT = fileURLToPath(new URL('../judge/tf_parse.py', import.meta.url));
// More or other generated cases for a deeper run:
// TFRECORD_OD_JUDGE_GENERATED=5000 TFRECORD_OD_JUDGE_FLIPS=70000 TFRECORD_OD_JUDGE_SEED=2.
const GENERATED = Number(process.env.TFRECORD_OD_JUDGE_GENERATED ?? 200);
const SEED = Number(process.env.TFRECORD_OD_JUDGE_SEED ?? 16);
const FLIPS = Number(process.env.TFRECORD_OD_JUDGE_FLIPS ?? 1000);

/**
 * Single-byte changes of the small hand-built cases that protobuf still
 * accepts: tags, lengths and wire types off by one field, which the
 * structured mutations do not reach. A seeded sample of `count`.
 */
function byteFlips(count: number, seed: number): Array<{ name: string; payload: Uint8Array }> {
  const all: Array<{ name: string; payload: Uint8Array }> = [];
  for (const h of HAND_CASES) {
    if (h.payload.length > 48) continue;
    for (let i = 0; i < h.payload.length; i++) {
      for (let b = 0; b < 256; b++) {
        if (b === h.payload[i]) continue;
        const p = h.payload.slice();
        p[i] = b;
        try {
          decodeExample(p);
        } catch {
          continue;
        }
        all.push({ name: `${h.name}, byte ${i} = 0x${b.toString(16)}`, payload: p });
      }
    }
  }
  // A small linear congruential generator: the same sample on every run.
  let x = seed >>> 0;
  const out: Array<{ name: string; payload: Uint8Array }> = [];
  for (let k = 0; k < count && all.length > 0; k++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out.push(all.splice(x % all.length, 1)[0]!);
  }
  return out;
}

type Dtype = 'int64' | 'float' | 'string';
const DTYPE: Record<Exclude<Feature['kind'], 'empty'>, Dtype> = { int64_list: 'int64', float_list: 'float', bytes_list: 'string' };

interface JudgeCase {
  group: 'hand' | 'generated' | 'flips' | 'interop';
  name: string;
  payload: Uint8Array;
  verdict: TfParseVerdict;
  spec: Record<string, Dtype>;
  /** What we say TensorFlow reads per key (when verdict.ok), encoded as the judge encodes. */
  predicted: Record<string, string[]>;
}

interface JudgeAnswer {
  id: number;
  ok: boolean;
  error?: string;
  values?: Record<string, string[]>;
}

function encodeValues(f: Feature): string[] {
  if (f.kind === 'empty') return [];
  if (f.kind === 'bytes_list') return f.values.map((v) => hex(v));
  if (f.kind === 'int64_list') return f.values.map((v) => BigInt(v).toString());
  return f.values.map((v) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    return hex(b);
  });
}

function makeCase(group: JudgeCase['group'], name: string, payload: Uint8Array): JudgeCase {
  let pb: Features | undefined;
  try {
    pb = decodeExample(payload);
  } catch {
    pb = undefined; // protobuf rejects it too: TensorFlow is only asked whether it parses
  }
  const verdict = tfParseVerdict(payload, pb);
  const spec: Record<string, Dtype> = {};
  const predicted: Record<string, string[]> = {};
  for (const [key, f] of Object.entries(pb ?? {})) {
    const d = verdict.ok ? verdict.divergences.find((x) => x.key === key) : undefined;
    // The spec asks for protobuf's kind, as a training spec written against
    // what validate saw would; a key protobuf reads with no kind gets the kind
    // TensorFlow reads (so a wrong prediction still shows as a type error).
    const tfFeature = d ? d.tf : f;
    const kind = f.kind !== 'empty' ? f.kind : tfFeature.kind !== 'empty' ? tfFeature.kind : 'bytes_list';
    spec[key] = DTYPE[kind];
    predicted[key] = encodeValues(tfFeature);
  }
  // Keys TensorFlow can be asked for that protobuf names otherwise (a leading BOM).
  for (const d of verdict.ok ? verdict.divergences : []) {
    if (d.key in spec) continue;
    spec[d.key] = DTYPE[d.tf.kind === 'empty' ? 'bytes_list' : d.tf.kind];
    predicted[d.key] = encodeValues(d.tf);
  }
  // A failure tied to a key happens only when the spec names it (with any dtype).
  if (!verdict.ok && verdict.key !== undefined && !(verdict.key in spec)) spec[verdict.key] = 'string';
  return { group, name, payload, verdict, spec, predicted };
}

async function buildCases(): Promise<JudgeCase[]> {
  const cases = HAND_CASES.map((c) => makeCase('hand', c.name, c.payload));
  for (const g of generatedCases(GENERATED, SEED)) cases.push(makeCase('generated', g.name, g.payload));
  for (const f of byteFlips(FLIPS, SEED)) cases.push(makeCase('flips', f.name, f.payload));
  if (HAVE_INTEROP) {
    for (const file of [...new Set(loadExpected().map((e) => e.file))]) {
      for await (const r of readRecordEntries(interopPath(file))) cases.push(makeCase('interop', `${file} record ${r.index}`, r.data));
    }
  }
  return cases;
}

type Judged = { available: true; version: string; answers: JudgeAnswer[] } | { available: false; why: string };

function runJudge(cases: JudgeCase[]): Judged {
  if (!existsSync(PYTHON)) return { available: false, why: `no Python at ${PYTHON} (set TFRECORD_OD_JUDGE_PYTHON to one with tensorflow installed)` };
  const input = cases.map((c, id) => JSON.stringify({ id, payload: Buffer.from(c.payload).toString('base64'), spec: c.spec })).join('\n') + '\n';
  const run = spawnSync(PYTHON, [SCRIPT], { input, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' } });
  if (run.error) return { available: false, why: `cannot run ${PYTHON}: ${run.error.message}` };
  const lines = run.stdout.split('\n').filter((l) => l.trim() !== '');
  const head = lines.length > 0 ? (JSON.parse(lines[0]!) as { tensorflow?: string; unavailable?: string }) : {};
  if (head.unavailable) return { available: false, why: head.unavailable };
  if (run.status !== 0 || head.tensorflow === undefined) {
    throw new Error(`judge ${SCRIPT} failed (exit ${run.status}): ${run.stderr.slice(-2000)}`);
  }
  return { available: true, version: head.tensorflow, answers: lines.slice(1).map((l) => JSON.parse(l) as JudgeAnswer) };
}

const cases = await buildCases();
const judged = runJudge(cases);
if (!judged.available) console.warn(`TensorFlow judge skipped: ${judged.why}`);

/** Float32 hex with every NaN written as 'NaN': JS numbers do not keep NaN payloads, so neither side's payload bits count. */
function sameNaN(values: string[] | undefined): string[] | undefined {
  return values?.map((v) =>
    /^[0-9a-f]{8}$/.test(v) && (parseInt(v.slice(6, 8) + v.slice(4, 6), 16) & 0x7f80) === 0x7f80 && (parseInt(v.slice(0, 6), 16) & 0xffff7f) !== 0 ? 'NaN' : v,
  );
}

/** Where our verdict and TensorFlow disagree on one case ('' when they agree). */
function disagreement(c: JudgeCase, a: JudgeAnswer): string {
  if (c.verdict.ok !== a.ok) {
    const ours = c.verdict.ok ? `ok, divergences: ${c.verdict.divergences.map((d) => d.message).join('; ') || 'none'}` : c.verdict.message;
    return `${c.name} [${hex(c.payload)}]: we say ${ours}; TensorFlow ${a.ok ? `parses it: ${JSON.stringify(a.values)}` : `fails: ${a.error}`}`;
  }
  if (!a.ok) return '';
  for (const key of Object.keys(c.spec)) {
    const float = c.spec[key] === 'float';
    const want = float ? sameNaN(c.predicted[key]) : c.predicted[key];
    const got = float ? sameNaN(a.values?.[key]) : a.values?.[key];
    if (JSON.stringify(want) !== JSON.stringify(got)) {
      return `${c.name} [${hex(c.payload).slice(0, 400)}]: key '${key}': we predict ${JSON.stringify(want)}, TensorFlow reads ${JSON.stringify(got)}`;
    }
  }
  return '';
}

describe.skipIf(!judged.available)(`TensorFlow ${judged.available ? judged.version : ''} judges tfParseVerdict`, () => {
  const answers = judged.available ? judged.answers : [];

  it('answered every case', () => {
    expect(answers.map((a) => a.id)).toEqual(cases.map((_, i) => i));
  });

  const byGroup = (g: JudgeCase['group']) => cases.map((c, i) => [c, answers[i]] as const).filter(([c]) => c.group === g);

  for (const [i, c] of cases.entries()) {
    if (c.group !== 'hand') continue;
    it(`agrees on: ${c.name}`, () => {
      expect(disagreement(c, answers[i]!)).toBe('');
    });
  }

  it(`agrees on ${GENERATED} generated mutations of small Examples`, () => {
    const pairs = byGroup('generated');
    const wrong = pairs.map(([c, a]) => disagreement(c, a!)).filter((s) => s !== '');
    expect(wrong).toEqual([]);
    // Not vacuous: the mutations reach all three outcomes.
    const fails = pairs.filter(([c]) => !c.verdict.ok).length;
    const diverges = pairs.filter(([c]) => c.verdict.ok && c.verdict.divergences.length > 0).length;
    const plain = pairs.length - fails - diverges;
    expect(fails, 'cases TensorFlow fails').toBeGreaterThanOrEqual(30);
    expect(diverges, 'cases with divergences').toBeGreaterThanOrEqual(20);
    expect(plain, 'cases read alike').toBeGreaterThanOrEqual(20);
  });

  it(`agrees on ${FLIPS} single-byte changes of the hand-built cases`, () => {
    const pairs = byGroup('flips');
    expect(pairs.length).toBe(FLIPS);
    const wrong = pairs.map(([c, a]) => disagreement(c, a!)).filter((s) => s !== '');
    expect(wrong).toEqual([]);
    expect(pairs.filter(([c]) => !c.verdict.ok).length, 'cases TensorFlow fails').toBeGreaterThanOrEqual(100);
  });

  it.skipIf(!HAVE_INTEROP)('agrees on every interop record (all parse, no divergence)', () => {
    const pairs = byGroup('interop');
    expect(pairs.length).toBe(loadExpected().length);
    for (const [c, a] of pairs) {
      expect(a!.ok, `${c.name}: ${a!.error}`).toBe(true);
      expect(disagreement(c, a!)).toBe('');
    }
  });
});

if (!judged.available) {
  describe('TensorFlow judge', () => {
    it.skip(`skipped: ${judged.why}`, () => {});
  });
}
