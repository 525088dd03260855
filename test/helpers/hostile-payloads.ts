/**
 * tf.Example payloads built to cost far more memory decoded than on the wire
 * (issue 17): many empty bytes values, a long packed int64 run, many distinct
 * map keys. Written straight into one typed array, since the test builders in
 * wire-builder.ts make a small array per value and would themselves take
 * gigabytes at these sizes.
 */

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

function putVarint(out: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    out[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  out[pos++] = n;
  return pos;
}

/** Tag + length of a length-delimited field around `bodyLength` bytes. */
const headerLength = (bodyLength: number) => 1 + varintLength(bodyLength);

/** An Example of one feature `key` whose Feature body (list tag and list) is written by `writeList` into `listLength` bytes. */
function oneFeature(key: string, listTag: number, listLength: number, writeList: (out: Uint8Array, at: number) => void): Uint8Array {
  const keyBytes = new TextEncoder().encode(key);
  const feature = headerLength(listLength) + listLength;
  const entry = headerLength(keyBytes.length) + keyBytes.length + headerLength(feature) + feature;
  const features = headerLength(entry) + entry;
  const out = new Uint8Array(headerLength(features) + features);
  let p = 0;
  out[p++] = 0x0a; // Example.features
  p = putVarint(out, p, features);
  out[p++] = 0x0a; // Features.feature (map entry)
  p = putVarint(out, p, entry);
  out[p++] = 0x0a; // key
  p = putVarint(out, p, keyBytes.length);
  out.set(keyBytes, p);
  p += keyBytes.length;
  out[p++] = 0x12; // value: Feature
  p = putVarint(out, p, feature);
  out[p++] = listTag;
  p = putVarint(out, p, listLength);
  writeList(out, p);
  return out;
}

/** One bytes_list of `n` empty values: 2 bytes each on the wire. */
export function emptyBytesValuesPayload(n: number, key = 'k'): Uint8Array {
  return oneFeature(key, 0x0a, 2 * n, (out, at) => {
    for (let i = 0; i < n; i++) out[at + 2 * i] = 0x0a; // value tag; its length byte stays 0
  });
}

/** One int64_list of `n` ones in a single packed run: 1 byte each on the wire. */
export function packedInt64Payload(n: number, key = 'k'): Uint8Array {
  const listLength = headerLength(n) + n;
  return oneFeature(key, 0x1a, listLength, (out, at) => {
    out[at] = 0x0a;
    const p = putVarint(out, at + 1, n);
    out.fill(1, p, p + n);
  });
}

/** `n` map entries with distinct 8-byte keys and no value kind. */
export function distinctKeysPayload(n: number): Uint8Array {
  // Entry: 0x0a len | 0x0a 8 key(8) | 0x12 0  →  14 bytes.
  const entryLength = 12;
  const features = n * (2 + entryLength);
  const out = new Uint8Array(headerLength(features) + features);
  out[0] = 0x0a;
  let p = putVarint(out, 1, features);
  for (let i = 0; i < n; i++) {
    out[p++] = 0x0a;
    out[p++] = entryLength;
    out[p++] = 0x0a;
    out[p++] = 8;
    const key = `k${i.toString(36).padStart(7, '0')}`;
    for (let c = 0; c < 8; c++) out[p++] = key.charCodeAt(c);
    out[p++] = 0x12;
    out[p++] = 0;
  }
  return out;
}
