// tf.Example payloads for the fuzz campaign: well-formed ones (whose decoding
// is known), hand-built wire data with the hostile shapes protobuf decoders
// trip on, and mutations of both.
import { encodeExample, toExample } from 'tfrecord-od';
import { concat, mutateBytes } from './random.js';

const utf8 = new TextEncoder();

const KEYS = [
  'image/encoded',
  'image/format',
  'image/height',
  'image/width',
  'image/object/bbox/xmin',
  'image/object/class/label',
  'image/object/class/text',
  'k',
  '',
];

function randomKey(rng) {
  return rng.weighted([
    [6, () => rng.pick(KEYS)],
    [2, () => `key${rng.int(1000)}`],
    [1, () => 'ü€𝄞'.repeat(rng.range(1, 3))],
    [1, () => 'x'.repeat(rng.range(100, 300))],
  ])();
}

/** A random feature map (what encodeExample accepts) and the values it should decode to. */
export function randomFeatures(rng) {
  const features = {};
  const n = rng.weighted([
    [1, 0],
    [6, rng.range(1, 6)],
    [1, rng.range(7, 60)],
  ]);
  for (let i = 0; i < n; i++) {
    const kind = rng.pick(['bytes_list', 'float_list', 'int64_list', 'empty']);
    const count = rng.size(200);
    let f;
    if (kind === 'bytes_list') f = { kind, values: Array.from({ length: count }, () => rng.bytes(rng.size(300))) };
    else if (kind === 'float_list') f = { kind, values: Array.from({ length: count }, () => Math.fround(rng.pick([0, -0, 1.5, 1e-40, 3e38, rng.next()]))) };
    else if (kind === 'int64_list') {
      f = { kind, values: Array.from({ length: count }, () => rng.pick([0, 1, -1, 2 ** 31, -(2 ** 53) + 1, 2n ** 63n - 1n, -(2n ** 63n), rng.int(1000)])) };
    } else f = { kind };
    features[randomKey(rng)] = f;
  }
  return features;
}

/** A detection record as convert writes it, with small fake image bytes. */
export function detectionPayload(rng) {
  const objects = Array.from({ length: rng.range(0, 5) }, () => {
    const xmin = rng.next() * 0.5;
    const ymin = rng.next() * 0.5;
    return { xmin, ymin, xmax: xmin + 0.1, ymax: ymin + 0.2, label: rng.range(1, 3), text: rng.pick(['cat', 'dog', 'bird']) };
  });
  return encodeExample(
    toExample({
      image: rng.bytes(rng.size(2000)),
      format: 'jpeg',
      width: rng.range(1, 4000),
      height: rng.range(1, 4000),
      filename: `img${rng.int(100)}.jpg`,
      sourceId: String(rng.int(1e6)),
      sha256: '',
      objects,
    }),
  );
}

// --- hand-built wire data ---

function varint(v) {
  let x = BigInt.asUintN(64, BigInt(v));
  const out = [];
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return Uint8Array.from(out);
}

const tag = (field, wire) => varint(field * 8 + wire);
const delimited = (field, body) => concat([tag(field, 2), varint(body.length), body]);

/** A length-delimited field whose length says more (or far more) than there is. */
function lyingLength(rng, field, body) {
  const claim = rng.pick([body.length + 1, body.length + 1000, 2 ** 31 - 1, 2 ** 32 + 5, 2n ** 63n, 2n ** 64n - 1n, -1]);
  return concat([tag(field, 2), varint(claim), body]);
}

/** Wire data with a field of every wire type, groups, unterminated varints and lying lengths, nested in Example/Features/Feature. */
export function hostileWire(rng, depth = 0) {
  const parts = [];
  const n = rng.range(1, 6);
  for (let i = 0; i < n; i++) {
    const field = rng.weighted([
      [6, rng.range(1, 3)],
      [1, rng.range(4, 20)],
      [1, rng.pick([0, 2 ** 29 - 1, 19000])],
    ]);
    const piece = rng.weighted([
      [3, () => delimited(field, depth < 4 ? hostileWire(rng, depth + 1) : rng.bytes(rng.size(40)))],
      [1, () => concat([tag(field, 0), varint(rng.pick([0, 1, -1, 2n ** 63n, 300]))])],
      [1, () => concat([tag(field, 1), rng.bytes(8)])],
      [1, () => concat([tag(field, 5), rng.bytes(4)])],
      // A group: start tag, some fields, and an end tag that may be missing or mismatched.
      [
        1,
        () =>
          concat([
            tag(field, 3),
            depth < 4 ? hostileWire(rng, depth + 1) : new Uint8Array(0),
            rng.bool(0.6) ? tag(rng.bool(0.8) ? field : field + 1, 4) : new Uint8Array(0),
          ]),
      ],
      [1, () => tag(field, 4)],
      [1, () => tag(field, rng.pick([6, 7]))],
      // Unterminated varint: continuation bits to the end.
      [1, () => concat([tag(field, 0), new Uint8Array(rng.range(1, 12)).fill(0xff)])],
      [1, () => lyingLength(rng, field, rng.bytes(rng.size(20)))],
      // Packed runs of the wrong size for their kind.
      [1, () => delimited(field, concat([tag(1, 2), varint(rng.range(1, 9)), rng.bytes(rng.range(0, 9))]))],
      // Deep nesting of length-delimited messages.
      [depth === 0 ? 0.3 : 0, () => deepNesting(rng)],
    ])();
    parts.push(piece);
  }
  return concat(parts);
}

function deepNesting(rng) {
  let body = rng.bytes(rng.range(0, 4));
  const levels = rng.pick([50, 500, 5000]);
  for (let i = 0; i < levels; i++) body = delimited(1, body);
  return body;
}

/** Many tiny values in one list: the shape that costs a decoder far more memory than its bytes. */
export function denseList(rng) {
  const count = rng.pick([1000, 50_000, 200_000]);
  const kind = rng.pick(['bytes', 'int64', 'keys']);
  let list;
  if (kind === 'bytes')
    list = delimited(
      1,
      new Uint8Array(count * 2).map((_, i) => (i % 2 === 0 ? 0x0a : 0)),
    );
  else if (kind === 'int64') list = delimited(3, delimited(1, new Uint8Array(count).fill(1)));
  else {
    const entries = [];
    for (let i = 0; i < count / 10; i++) entries.push(delimited(1, concat([delimited(1, utf8.encode(`k${i}`)), delimited(2, new Uint8Array(0))])));
    return delimited(1, concat(entries));
  }
  return delimited(1, delimited(1, concat([delimited(1, utf8.encode('k')), delimited(2, list)])));
}

/** A payload of any of the kinds, and whether it is known to be a well-formed Example. */
export function randomPayload(rng) {
  return rng.weighted([
    [3, () => ({ bytes: encodeExample(randomFeatures(rng)), wellFormed: true })],
    [2, () => ({ bytes: detectionPayload(rng), wellFormed: true })],
    [3, () => ({ bytes: mutateBytes(rng, encodeExample(randomFeatures(rng))).bytes, wellFormed: false })],
    [3, () => ({ bytes: hostileWire(rng), wellFormed: false })],
    [1, () => ({ bytes: rng.bytes(rng.size(2000)), wellFormed: false })],
    [0.3, () => ({ bytes: denseList(rng), wellFormed: false })],
  ])();
}
