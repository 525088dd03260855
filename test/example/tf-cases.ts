/**
 * Payloads on which TensorFlow's fast Example parser and protobuf disagree (or
 * might), shared by tf-view.test.ts (our expectations) and tf-judge.test.ts
 * (TensorFlow's own answer). Each is built by hand from the wire format.
 */
import fc from 'fast-check';
import {
  WIRE,
  bytesList,
  bytesValues,
  cat,
  entry,
  entryBody,
  example,
  floatList,
  fromHex,
  int64List,
  ld,
  longTag,
  packedFloat,
  packedInt64,
  rawEntry,
  tag,
  unknownField,
  unpackedFloat,
  unpackedInt64,
  utf8,
  varint,
} from './wire-builder.js';

export type Expectation =
  | { ok: false; reason: RegExp; key?: string }
  /** key → [what TensorFlow reads, what protobuf reads], as summaries. */
  | { ok: true; divergent: Record<string, [string, string]> };

export interface HandCase {
  name: string;
  payload: Uint8Array;
  expect: Expectation;
}

const same: Expectation = { ok: true, divergent: {} };
const fails = (reason: RegExp, key?: string): Expectation => (key === undefined ? { ok: false, reason } : { ok: false, reason, key });
const diverges = (divergent: Record<string, [string, string]>): Expectation => ({ ok: true, divergent });

const k1 = entry('k', int64List(packedInt64(1)));

export const HAND_CASES: HandCase[] = [
  // From the issue.
  { name: 'two packed runs in one Int64List', payload: fromHex('0a0f0a0d0a016b12081a060a01010a0102'), expect: diverges({ k: ['[1]', '[1, 2]'] }) },
  {
    name: 'an empty packed run, then values',
    payload: example(entry('k', int64List(cat(packedInt64(), packedInt64(1, 2))))),
    expect: diverges({ k: ['[]', '[1, 2]'] }),
  },
  {
    name: 'a BytesList field twice in one Feature',
    payload: example(entry('k', cat(bytesList(bytesValues('a')), bytesList(bytesValues('b'))))),
    expect: diverges({ k: ["['a']", "['a', 'b']"] }),
  },
  {
    name: 'unknown field before the values of an Int64List',
    payload: example(entry('k', int64List(cat(unknownField(9, 0), packedInt64(1))))),
    expect: fails(/unknown field 9 inside an Int64List/, 'k'),
  },
  {
    name: 'unknown field among unpacked int64s',
    payload: example(entry('k', int64List(cat(unpackedInt64(1), unknownField(9, 0))))),
    expect: fails(/unknown field 9 inside an Int64List/, 'k'),
  },
  {
    name: 'unknown field after a packed run (ignored by both)',
    payload: example(entry('k', int64List(cat(packedInt64(1), unknownField(9, 0))))),
    expect: same,
  },
  { name: 'unknown field inside a Features message', payload: ld(1, cat(k1, unknownField(9, 0))), expect: fails(/unknown field 9 inside a Features message/) },
  {
    name: 'unknown field inside a map entry',
    payload: example(rawEntry(cat(entryBody('k', int64List(packedInt64(1))), unknownField(3, 0)))),
    expect: fails(/unknown field 3 inside a map entry/),
  },
  {
    name: 'unknown field inside a BytesList',
    payload: example(entry('k', bytesList(cat(bytesValues('a'), unknownField(2, 0))))),
    expect: fails(/unknown field 2 inside a BytesList/, 'k'),
  },
  { name: 'a map entry with no value', payload: example(rawEntry(ld(1, utf8('k')))), expect: fails(/map entry with no value/) },
  { name: 'a map entry with no key', payload: example(rawEntry(ld(2, int64List(packedInt64(1))))), expect: fails(/map entry with no key/) },
  { name: 'an empty map entry', payload: example(rawEntry([])), expect: fails(/empty map entry/) },
  {
    name: 'a map entry with its key twice and a value',
    payload: example(rawEntry(cat(ld(1, utf8('j')), entryBody('k', int64List(packedInt64(1)))))),
    expect: fails(/key twice/),
  },
  {
    name: 'a map entry with a key and its value twice',
    payload: example(rawEntry(cat(entryBody('k', int64List(packedInt64(1))), ld(2, int64List(packedInt64(2)))))),
    expect: fails(/value twice/),
  },
  { name: 'a map entry with two keys and no value (both: no kind)', payload: example(rawEntry(cat(ld(1, utf8('j')), ld(1, utf8('k'))))), expect: same },
  {
    name: 'a map entry with two values and no key',
    payload: example(rawEntry(cat(ld(2, int64List(packedInt64(1))), ld(2, int64List(packedInt64(2)))))),
    expect: diverges({ '': ['[2]', '[1, 2]'] }),
  },
  {
    name: 'a map entry with two values, the second empty',
    payload: example(rawEntry(cat(ld(2, int64List(packedInt64(1))), ld(2, [])))),
    expect: diverges({ '': ['no value', '[1]'] }),
  },
  { name: 'a map entry with its value before its key', payload: example(rawEntry(cat(ld(2, int64List(packedInt64(1))), ld(1, utf8('k'))))), expect: same },
  {
    name: 'unpacked int64s, then a packed run',
    payload: example(entry('k', int64List(cat(unpackedInt64(1), packedInt64(2))))),
    expect: fails(/a packed run after unpacked values inside an Int64List/, 'k'),
  },
  {
    name: 'a packed run, then unpacked int64s',
    payload: example(entry('k', int64List(cat(packedInt64(1), unpackedInt64(2))))),
    expect: diverges({ k: ['[1]', '[1, 2]'] }),
  },
  { name: 'unpacked int64s (TensorFlow reads them)', payload: example(entry('k', int64List(unpackedInt64(1, -2, 3)))), expect: same },
  {
    name: 'an int64 with the fixed64 wire type',
    payload: example(entry('k', int64List(cat(tag(1, WIRE.fixed64), [1, 0, 0, 0, 0, 0, 0, 0])))),
    expect: fails(/int64 sent with wire type 1/, 'k'),
  },
  {
    name: 'a float sent with the varint wire type',
    payload: example(entry('k', floatList(cat(tag(1, WIRE.varint), varint(1))))),
    expect: fails(/float sent with the varint wire type/, 'k'),
  },
  { name: 'unpacked floats (TensorFlow reads them)', payload: example(entry('k', floatList(unpackedFloat(1.5, -2.5)))), expect: same },
  {
    name: 'two packed float runs',
    payload: example(entry('k', floatList(cat(packedFloat(1.5), packedFloat(2.5))))),
    expect: diverges({ k: ['[1.5]', '[1.5, 2.5]'] }),
  },
  {
    name: 'unpacked floats, then a packed run',
    payload: example(entry('k', floatList(cat(unpackedFloat(1.5), packedFloat(2.5))))),
    expect: fails(/a packed run after unpacked values inside a FloatList/, 'k'),
  },
  {
    name: 'a Feature whose kind is set twice (int64 then bytes)',
    payload: example(entry('k', cat(int64List(packedInt64(1)), bytesList(bytesValues('a'))))),
    expect: fails(/sets its kind twice.*int64_list.*bytes_list/, 'k'),
  },
  {
    name: 'bytes, int64, bytes in one Feature',
    payload: example(entry('k', cat(bytesList(bytesValues('a')), int64List(packedInt64(1)), bytesList(bytesValues('b'))))),
    expect: diverges({ k: ["['a']", "['b']"] }),
  },
  {
    name: 'an empty Int64List, then one with a value',
    payload: example(entry('k', cat(int64List([]), int64List(packedInt64(3))))),
    expect: diverges({ k: ['[]', '[3]'] }),
  },
  {
    name: 'unknown field after the list in a Feature (ignored by both)',
    payload: example(entry('k', cat(int64List(packedInt64(1)), unknownField(4, 0)))),
    expect: same,
  },
  {
    name: 'unknown field before the list in a Feature',
    payload: example(entry('k', cat(unknownField(4, 0), int64List(packedInt64(1))))),
    expect: fails(/unknown field 4 inside a Feature.*Unsupported datatype/, 'k'),
  },
  { name: 'a Feature holding only an unknown field', payload: example(entry('k', unknownField(4, 2))), expect: fails(/unknown field 4 inside a Feature/, 'k') },
  {
    name: 'a Feature with bytes_list sent as a varint',
    payload: example(entry('k', cat(tag(1, WIRE.varint), varint(5)))),
    expect: fails(/field 1 with wire type 0 \(not a list\) inside a Feature/, 'k'),
  },
  { name: 'a Feature with no kind', payload: example(entry('k', [])), expect: same },
  { name: 'an empty Example', payload: new Uint8Array(0), expect: same },
  {
    name: 'a key in two entries: the last wins in both',
    payload: example(entry('k', int64List(packedInt64(1))), entry('k', int64List(packedInt64(2)))),
    expect: same,
  },
  {
    name: 'a key in two entries, the last with no kind',
    payload: example(entry('k', int64List(packedInt64(1))), entry('k', [])),
    expect: diverges({ k: ['[1]', 'no value'] }),
  },
  {
    name: 'a key in three entries, the last two with no kind',
    payload: example(entry('k', bytesList(bytesValues('x'))), entry('k', []), entry('k', [])),
    expect: diverges({ k: ["['x']", 'no value'] }),
  },
  {
    name: 'a key in two entries, the first with a bad kind byte',
    payload: example(entry('k', unknownField(4, 0)), entry('k', int64List(packedInt64(2)))),
    expect: fails(/unknown field 4 inside a Feature/, 'k'),
  },
  {
    name: 'a key in two entries, the first with a bad list (shadowed)',
    payload: example(entry('k', int64List(unknownField(9, 0))), entry('k', int64List(packedInt64(2)))),
    expect: same,
  },
  {
    name: 'a key in two entries of different kinds',
    payload: example(entry('k', bytesList(bytesValues('x'))), entry('k', int64List(packedInt64(2)))),
    expect: same,
  },
  { name: 'two Features blocks', payload: cat(example(entry('k', int64List(packedInt64(1)))), example(entry('j', int64List(packedInt64(2))))), expect: same },
  {
    name: 'a key in two Features blocks',
    payload: cat(example(entry('k', int64List(packedInt64(1)))), example(entry('k', int64List(packedInt64(2))))),
    expect: same,
  },
  { name: 'a Features tag written in two bytes', payload: ld(1, k1, longTag(1, WIRE.len)), expect: diverges({ k: ['no value', '[1]'] }) },
  {
    name: 'a second Features block with a two-byte tag',
    payload: cat(example(entry('j', int64List(packedInt64(5)))), ld(1, k1, longTag(1, WIRE.len))),
    expect: diverges({ k: ['no value', '[1]'] }),
  },
  {
    name: 'a map-entry tag written in two bytes',
    payload: ld(1, ld(1, entryBody('k', int64List(packedInt64(1))), longTag(1, WIRE.len))),
    expect: fails(/tag written in more than one byte inside a Features message/),
  },
  {
    name: 'a key tag written in two bytes (ReadTag accepts it)',
    payload: example(rawEntry(cat(ld(1, utf8('k'), longTag(1, WIRE.len)), ld(2, int64List(packedInt64(1)))))),
    expect: same,
  },
  {
    name: 'a list tag written in two bytes',
    payload: example(entry('k', ld(3, packedInt64(1), longTag(3, WIRE.len)))),
    expect: fails(/list tag written in more than one byte/, 'k'),
  },
  {
    name: 'a bytes value tag written in two bytes',
    payload: example(entry('k', bytesList(ld(1, utf8('a'), longTag(1, WIRE.len))))),
    expect: fails(/tag written in more than one byte inside a BytesList/, 'k'),
  },
  {
    name: 'unknown fields of every wire type around the Features',
    payload: cat(unknownField(2, 0), unknownField(3, 1), example(k1), unknownField(4, 2), unknownField(5, 5)),
    expect: same,
  },
  { name: 'field 1 of the Example with the varint wire type (skipped by both)', payload: cat(tag(1, WIRE.varint), varint(7), example(k1)), expect: same },
  { name: 'a group in the Example', payload: cat(example(k1), tag(2, WIRE.group), tag(2, 4)), expect: fails(/wire type 3 \(a group\)/) },
  {
    name: 'Features holding field 1 with the varint wire type',
    payload: ld(1, cat(k1, tag(1, WIRE.varint), varint(1))),
    expect: fails(/field 1 with wire type 0 inside a Features message/),
  },
  {
    name: 'a key that is not valid UTF-8',
    payload: example(rawEntry(cat(ld(1, [0x6b, 0xff]), ld(2, int64List(packedInt64(1)))))),
    expect: diverges({ 'k\uFFFD': ['no value', '[1]'] }),
  },
  {
    name: 'a key with a leading byte-order mark',
    payload: example(entry('\uFEFFk', int64List(packedInt64(1)))),
    expect: diverges({ k: ['no value', '[1]'], '\uFEFFk': ['[1]', 'no value'] }),
  },
  {
    name: 'a BOM key and the plain key: TensorFlow reads the plain one',
    payload: example(entry('k', int64List(packedInt64(2))), entry('\uFEFFk', int64List(packedInt64(1)))),
    expect: diverges({ k: ['[2]', '[1]'], '\uFEFFk': ['[1]', 'no value'] }),
  },
  {
    name: 'a bad list under a key that is not UTF-8 (no spec can name it)',
    payload: example(rawEntry(cat(ld(1, [0xff]), ld(2, int64List(unknownField(9, 0)))))),
    expect: diverges({ '\uFFFD': ['no value', '[]'] }),
  },
  {
    name: 'unicode keys (valid UTF-8)',
    payload: example(entry('图像/编码', bytesList(bytesValues('x'))), entry('ключ', int64List(packedInt64(3)))),
    expect: same,
  },
  { name: 'negative and large int64s', payload: example(entry('k', int64List(packedInt64(-1, 2n ** 63n - 1n, -(2n ** 63n), 0)))), expect: same },
  { name: 'floats: NaN, -0, infinities', payload: example(entry('k', floatList(packedFloat(Number.NaN, -0, Infinity, -Infinity)))), expect: same },
];

// ---------------------------------------------------------------------------
// Generated cases: small valid Examples, then wire-level mutations.

type Int64 = number | bigint;
type ListPart =
  | { t: 'packed'; values: Int64[] | number[] }
  | { t: 'unpacked'; value: Int64 | number }
  | { t: 'bytes'; value: Uint8Array }
  | { t: 'raw'; bytes: Uint8Array };
interface ListM {
  kind: 'bytes_list' | 'float_list' | 'int64_list';
  parts: ListPart[];
  tagBytes?: Uint8Array;
}
type FeaturePart = { t: 'list'; list: ListM } | { t: 'raw'; bytes: Uint8Array };
type EntryPart = { t: 'key'; key: string; tagBytes?: Uint8Array } | { t: 'value'; feature: FeaturePart[] } | { t: 'raw'; bytes: Uint8Array };
interface EntryM {
  t: 'entry';
  parts: EntryPart[];
  tagBytes?: Uint8Array;
}
/** A Features block holds map entries, or (mutated) raw fields. */
type FeaturesItem = EntryM | { t: 'raw'; bytes: Uint8Array };
type ExamplePart = { t: 'features'; items: FeaturesItem[]; tagBytes?: Uint8Array } | { t: 'raw'; bytes: Uint8Array };

const FIELD_OF_KIND = { bytes_list: 1, float_list: 2, int64_list: 3 } as const;

function listBytes(l: ListM): Uint8Array {
  const body = cat(
    ...l.parts.map((p) => {
      if (p.t === 'raw') return p.bytes;
      if (p.t === 'bytes') return ld(1, p.value);
      if (l.kind === 'float_list') return p.t === 'packed' ? packedFloat(...(p.values as number[])) : unpackedFloat(p.value as number);
      return p.t === 'packed' ? packedInt64(...p.values) : unpackedInt64(p.value);
    }),
  );
  return ld(FIELD_OF_KIND[l.kind], body, l.tagBytes);
}

const featureBytes = (parts: FeaturePart[]): Uint8Array => cat(...parts.map((p) => (p.t === 'raw' ? p.bytes : listBytes(p.list))));

function entryBytes(e: EntryM): Uint8Array {
  const body = cat(...e.parts.map((p) => (p.t === 'raw' ? p.bytes : p.t === 'key' ? ld(1, utf8(p.key), p.tagBytes) : ld(2, featureBytes(p.feature)))));
  return ld(1, body, e.tagBytes);
}

function exampleBytes(parts: ExamplePart[]): Uint8Array {
  return cat(...parts.map((p) => (p.t === 'raw' ? p.bytes : ld(1, cat(...p.items.map((e) => (e.t === 'raw' ? e.bytes : entryBytes(e)))), p.tagBytes))));
}

const keyArb = fc.constantFrom('a', 'b', 'image/object/class/label', 'image/encoded', '');
const int64Arb: fc.Arbitrary<Int64> = fc.oneof(fc.integer({ min: -5, max: 300 }), fc.constantFrom<Int64>(2n ** 63n - 1n, -(2n ** 63n)));
// Values exact in float32, so every reader agrees on them.
const floatArb = fc.integer({ min: -64, max: 64 }).map((n) => n / 8);
const listArb: fc.Arbitrary<ListM> = fc.oneof(
  fc.array(fc.uint8Array({ maxLength: 4 }), { maxLength: 3 }).map((vs): ListM => ({ kind: 'bytes_list', parts: vs.map((value) => ({ t: 'bytes', value })) })),
  fc.array(floatArb, { minLength: 1, maxLength: 4 }).map((values): ListM => ({ kind: 'float_list', parts: [{ t: 'packed', values }] })),
  fc.array(int64Arb, { minLength: 1, maxLength: 4 }).map((values): ListM => ({ kind: 'int64_list', parts: [{ t: 'packed', values }] })),
);
const featureArb: fc.Arbitrary<FeaturePart[]> = fc.oneof(
  { weight: 6, arbitrary: listArb.map((list): FeaturePart[] => [{ t: 'list', list }]) },
  { weight: 1, arbitrary: fc.constant<FeaturePart[]>([]) },
);
const entryArb: fc.Arbitrary<EntryM> = fc.tuple(keyArb, featureArb).map(
  ([key, feature]): EntryM => ({
    t: 'entry',
    parts: [
      { t: 'key', key },
      { t: 'value', feature },
    ],
  }),
);

const OPS = [
  'dupEntry',
  'dupEntryEmpty',
  'splitRun',
  'emptyRun',
  'unpack',
  'appendUnpacked',
  'prependUnpacked',
  'unknown',
  'dupList',
  'secondKind',
  'swapEntry',
  'valueTwice',
  'keyTwice',
  'dropKey',
  'dropValue',
  'longTag',
  'floatVarint',
  'splitBlock',
] as const;
type Op = (typeof OPS)[number];
interface Mutation {
  op: Op;
  a: number;
  b: number;
  c: number;
}
const mutationArb: fc.Arbitrary<Mutation> = fc.record({ op: fc.constantFrom(...OPS), a: fc.nat(), b: fc.nat(), c: fc.nat() });

export interface GeneratedCase {
  name: string;
  payload: Uint8Array;
}

function pick<T>(xs: T[], n: number): T | undefined {
  return xs.length === 0 ? undefined : xs[n % xs.length];
}

const UNKNOWN_WIRES = [0, 1, 2, 5] as const;

function mutate(blocks: ExamplePart[], m: Mutation): string {
  const features = blocks.filter((b): b is Extract<ExamplePart, { t: 'features' }> => b.t === 'features');
  const entries = features.flatMap((f) => f.items.filter((e): e is EntryM => e.t === 'entry'));
  const values = entries.flatMap((e) => e.parts.filter((p): p is Extract<EntryPart, { t: 'value' }> => p.t === 'value'));
  const lists = values.flatMap((v) => v.feature.filter((p): p is Extract<FeaturePart, { t: 'list' }> => p.t === 'list').map((p) => p.list));
  const numeric = lists.filter((l) => l.kind !== 'bytes_list');
  const unknown = (): Uint8Array => unknownField(4 + (m.b % 12), UNKNOWN_WIRES[m.c % 4]!);
  switch (m.op) {
    case 'dupEntry': {
      const e = pick(entries, m.a);
      const f = pick(features, m.b);
      if (!e || !f) return 'noop';
      f.items.push(structuredClone(e));
      return 'dupEntry';
    }
    case 'dupEntryEmpty': {
      const e = pick(entries, m.a);
      const f = pick(features, m.b);
      const key = e?.parts.find((p) => p.t === 'key');
      if (!key || !f || key.t !== 'key') return 'noop';
      f.items.push({
        t: 'entry',
        parts: [
          { t: 'key', key: key.key },
          { t: 'value', feature: [] },
        ],
      });
      return 'dupEntryEmpty';
    }
    case 'splitRun':
    case 'emptyRun':
    case 'unpack':
    case 'appendUnpacked':
    case 'prependUnpacked': {
      const l = pick(numeric, m.a);
      const i = l ? l.parts.findIndex((p) => p.t === 'packed') : -1;
      if (!l || i < 0) return 'noop';
      const run = l.parts[i] as { t: 'packed'; values: Int64[] };
      const vs = run.values;
      if (m.op === 'splitRun') {
        const at = m.b % (vs.length + 1);
        l.parts.splice(i, 1, { t: 'packed', values: vs.slice(0, at) }, { t: 'packed', values: vs.slice(at) });
      } else if (m.op === 'emptyRun') {
        l.parts.splice(m.b % 2 === 0 ? i : i + 1, 0, { t: 'packed', values: [] });
      } else if (m.op === 'unpack') {
        l.parts.splice(i, 1, ...vs.map((value): ListPart => ({ t: 'unpacked', value })));
      } else {
        const extra: ListPart = { t: 'unpacked', value: l.kind === 'float_list' ? 0.5 : 7 };
        l.parts.splice(m.op === 'appendUnpacked' ? l.parts.length : 0, 0, extra);
      }
      return m.op;
    }
    case 'unknown': {
      // Somewhere: Example, Features, map entry, Feature, list.
      const where = m.a % 5;
      if (where === 0) {
        blocks.splice(m.b % (blocks.length + 1), 0, { t: 'raw', bytes: unknown() });
        return 'unknown in Example';
      }
      if (where === 1) {
        const f = pick(features, m.b);
        if (!f) return 'noop';
        f.items.splice(m.c % (f.items.length + 1), 0, { t: 'raw', bytes: unknown() });
        return 'unknown in Features';
      }
      if (where === 2) {
        const e = pick(entries, m.b);
        if (!e) return 'noop';
        e.parts.splice(m.c % (e.parts.length + 1), 0, { t: 'raw', bytes: unknown() });
        return 'unknown in map entry';
      }
      if (where === 3) {
        const v = pick(values, m.b);
        if (!v) return 'noop';
        v.feature.splice(m.c % (v.feature.length + 1), 0, { t: 'raw', bytes: unknown() });
        return 'unknown in Feature';
      }
      const l = pick(lists, m.b);
      if (!l) return 'noop';
      l.parts.splice(m.c % (l.parts.length + 1), 0, { t: 'raw', bytes: unknownField(2 + (m.b % 12), UNKNOWN_WIRES[m.c % 4]!) });
      return 'unknown in list';
    }
    case 'dupList': {
      const v = pick(values, m.a);
      const l = v?.feature.find((p) => p.t === 'list');
      if (!v || !l) return 'noop';
      v.feature.push(structuredClone(l));
      return 'dupList';
    }
    case 'secondKind': {
      const v = pick(values, m.a);
      if (!v) return 'noop';
      const kinds = ['bytes_list', 'float_list', 'int64_list'] as const;
      const kind = kinds[m.b % 3]!;
      const parts: ListPart[] = kind === 'bytes_list' ? [{ t: 'bytes', value: utf8('z') }] : [{ t: 'packed', values: kind === 'float_list' ? [0.25] : [9] }];
      v.feature.splice(m.c % 2 === 0 ? v.feature.length : 0, 0, { t: 'list', list: { kind, parts } });
      return 'secondKind';
    }
    case 'swapEntry': {
      const e = pick(entries, m.a);
      if (!e) return 'noop';
      e.parts.reverse();
      return 'swapEntry';
    }
    case 'valueTwice': {
      const e = pick(entries, m.a);
      if (!e) return 'noop';
      e.parts.splice(m.b % (e.parts.length + 1), 0, {
        t: 'value',
        feature: [{ t: 'list', list: { kind: 'int64_list', parts: [{ t: 'packed', values: [m.c % 50] }] } }],
      });
      return 'valueTwice';
    }
    case 'keyTwice': {
      const e = pick(entries, m.a);
      if (!e) return 'noop';
      e.parts.splice(m.b % (e.parts.length + 1), 0, { t: 'key', key: m.c % 2 === 0 ? 'a' : 'b' });
      return 'keyTwice';
    }
    case 'dropKey':
    case 'dropValue': {
      const e = pick(entries, m.a);
      if (!e) return 'noop';
      const t = m.op === 'dropKey' ? 'key' : 'value';
      e.parts = e.parts.filter((p) => p.t !== t);
      return m.op;
    }
    case 'longTag': {
      const where = m.a % 4;
      if (where === 0) {
        const f = pick(features, m.b);
        if (!f) return 'noop';
        f.tagBytes = longTag(1, WIRE.len, 2 + (m.c % 2));
        return 'longTag on Features';
      }
      if (where === 1) {
        const e = pick(entries, m.b);
        if (!e) return 'noop';
        e.tagBytes = longTag(1, WIRE.len);
        return 'longTag on map entry';
      }
      if (where === 2) {
        const e = pick(entries, m.b);
        const key = e?.parts.find((p) => p.t === 'key');
        if (key?.t !== 'key') return 'noop';
        key.tagBytes = longTag(1, WIRE.len);
        return 'longTag on key';
      }
      const l = pick(lists, m.b);
      if (!l) return 'noop';
      l.tagBytes = longTag(FIELD_OF_KIND[l.kind], WIRE.len);
      return 'longTag on list';
    }
    case 'floatVarint': {
      const l = pick(
        lists.filter((x) => x.kind === 'float_list'),
        m.a,
      );
      if (!l) return 'noop';
      l.parts.splice(m.b % (l.parts.length + 1), 0, { t: 'raw', bytes: cat(tag(1, WIRE.varint), varint(m.c % 1000)) });
      return 'floatVarint';
    }
    case 'splitBlock': {
      const i = blocks.findIndex((b) => b.t === 'features' && b.items.length > 1);
      if (i < 0) return 'noop';
      const f = blocks[i] as Extract<ExamplePart, { t: 'features' }>;
      const at = 1 + (m.a % (f.items.length - 1));
      blocks.splice(i + 1, 0, { t: 'features', items: f.items.splice(at) });
      return 'splitBlock';
    }
  }
}

export const generatedCaseArb: fc.Arbitrary<GeneratedCase> = fc
  .tuple(
    // Distinct keys, as a normal writer's; duplicates come from the mutations.
    fc.uniqueArray(entryArb, { minLength: 1, maxLength: 4, selector: (e) => (e.parts[0] as { key: string }).key }),
    fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
  )
  .map(([entries, mutations]) => {
    const blocks: ExamplePart[] = [{ t: 'features', items: structuredClone(entries) }];
    const applied = mutations.map((m) => mutate(blocks, m)).filter((s) => s !== 'noop');
    return { name: applied.join(' + ') || 'unmutated', payload: exampleBytes(blocks) };
  });

/** `count` generated cases, the same on every run. */
export function generatedCases(count: number, seed = 16): GeneratedCase[] {
  return fc.sample(generatedCaseArb, { numRuns: count, seed });
}
