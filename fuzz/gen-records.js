// TFRecord files for the fuzz campaign: a few records, framed, mutated in
// chosen regions (length, length CRC, payload, data CRC), then perhaps
// compressed (gzip or zlib, sometimes several members) and mutated again in
// the compressed bytes (header, body, trailer, cuts, appended members).
import { gzipSync, deflateSync } from 'node:zlib';
import { crc32c, frameRecord, maskCrc } from 'tfrecord-od/record';
import { randomPayload } from './gen-example.js';
import { concat, mutateBytes } from './random.js';

const HEADER = 12;
const FOOTER = 4;

/** Offsets of each record's regions in the framed stream. */
function layout(payloads) {
  const out = [];
  let at = 0;
  for (const p of payloads) {
    out.push({ start: at, length: at, lengthCrc: at + 8, payload: at + HEADER, footer: at + HEADER + p.length, end: at + HEADER + p.length + FOOTER });
    at += HEADER + p.length + FOOTER;
  }
  return out;
}

/** Sets a record's length field to `value`, with its CRC recomputed (so the length is believed) or not. */
function setLength(buf, at, value, fixCrc) {
  const view = new DataView(buf.buffer, buf.byteOffset);
  view.setBigUint64(at, BigInt.asUintN(64, BigInt(value)), true);
  if (fixCrc) view.setUint32(at + 8, maskCrc(crc32c(buf.subarray(at, at + 8))), true);
}

/** One mutation of the framed (uncompressed) stream, aimed at a region of a record. */
function mutateFramed(rng, framed, payloads) {
  // An earlier mutation may have cut the stream: only records still whole are aimed at.
  const regions = layout(payloads).filter((r) => r.end <= framed.length);
  if (regions.length === 0) {
    const m = mutateBytes(rng, framed);
    return { bytes: m.bytes, description: `generic ${m.description}` };
  }
  const r = rng.pick(regions);
  const index = regions.indexOf(r);
  const region = rng.pick(['length', 'lengthCrc', 'payload', 'footer']);
  const span = { length: [r.length, 8], lengthCrc: [r.lengthCrc, 4], payload: [r.payload, r.footer - r.payload], footer: [r.footer, FOOTER] }[region];
  const buf = Uint8Array.from(framed);
  const op = rng.weighted([
    [3, 'flip'],
    [3, 'truncate'],
    [2, 'huge-length'],
    [1, 'tail'],
    [1, 'generic'],
  ]);
  if (op === 'flip') {
    if (span[1] === 0) return { bytes: buf, description: `flip in empty ${region} of record ${index} (none)` };
    const at = span[0] + rng.int(span[1]);
    buf[at] ^= 1 << rng.int(8);
    return { bytes: buf, description: `flip ${region} of record ${index} @${at}` };
  }
  if (op === 'truncate') {
    // Region boundaries and one byte either side, where off-by-one bugs live.
    const at = Math.max(0, Math.min(buf.length, span[0] + rng.pick([-1, 0, 1, rng.int(Math.max(1, span[1])), span[1] - 1, span[1]])));
    return { bytes: buf.slice(0, at), description: `cut in ${region} of record ${index} @${at}` };
  }
  if (op === 'huge-length') {
    const remaining = buf.length - r.payload;
    const value = rng.pick([
      2n ** 63n - 1n,
      2n ** 64n - 1n,
      2n ** 63n,
      2 ** 32,
      2 ** 31,
      2 ** 31 - 1,
      2 ** 53,
      remaining + 1,
      remaining - 1,
      buf.length + 1,
      0,
    ]);
    const fixCrc = rng.bool(0.75);
    setLength(buf, r.length, value, fixCrc);
    return { bytes: buf, description: `length of record ${index} = ${value}${fixCrc ? ' (CRC fixed)' : ''}` };
  }
  if (op === 'tail') {
    const tail = rng.pick([rng.bytes(rng.range(1, 30)), buf.subarray(r.start, r.start + rng.range(1, HEADER + 2))]);
    return { bytes: concat([buf, tail]), description: `tail of ${tail.length} bytes` };
  }
  const m = mutateBytes(rng, buf);
  return { bytes: m.bytes, description: `generic ${m.description}` };
}

function compress(compression, bytes) {
  return compression === 'gzip' ? new Uint8Array(gzipSync(bytes)) : new Uint8Array(deflateSync(bytes));
}

/** One mutation of the compressed file. */
function mutateCompressed(rng, file, members) {
  const op = rng.weighted([
    [2, 'header'],
    [3, 'body'],
    [2, 'trailer'],
    [3, 'cut'],
    [1, 'garbage'],
    [1, 'extra-member'],
    [1, 'generic'],
  ]);
  const buf = Uint8Array.from(file);
  if (buf.length === 0) return { bytes: buf, description: 'empty' };
  if (op === 'header' || op === 'body' || op === 'trailer') {
    const at = op === 'header' ? rng.int(Math.min(10, buf.length)) : op === 'trailer' ? Math.max(0, buf.length - 1 - rng.int(8)) : rng.int(buf.length);
    buf[at] ^= 1 << rng.int(8);
    return { bytes: buf, description: `flip compressed ${op} @${at}` };
  }
  if (op === 'cut') {
    const at = rng.pick([rng.int(buf.length), buf.length - 1, buf.length - 4, buf.length - 8, 10, 2]);
    return { bytes: buf.slice(0, Math.max(0, at)), description: `cut compressed @${at}` };
  }
  if (op === 'garbage') return { bytes: concat([buf, rng.bytes(rng.range(1, 40))]), description: 'garbage after the stream' };
  if (op === 'extra-member') return { bytes: concat([buf, members[0]]), description: 'first member repeated at the end' };
  const m = mutateBytes(rng, buf);
  return { bytes: m.bytes, description: `generic compressed ${m.description}` };
}

/**
 * A TFRecord file: `bytes` as written, its `compression`, the `payloads`
 * framed into it, and `exact` when nothing was mutated and the file is one
 * member, so reading it must give back exactly `payloads`.
 */
export function randomRecordFile(
  rng,
  {
    compression = rng.weighted([
      [2, 'none'],
      [1, 'gzip'],
      [1, 'zlib'],
    ]),
  } = {},
) {
  const count = rng.weighted([
    [1, 0],
    [6, rng.range(1, 4)],
    [2, rng.range(5, 40)],
  ]);
  const payloads = [];
  for (let i = 0; i < count; i++) {
    payloads.push(
      rng.weighted([
        [10, () => randomPayload(rng).bytes],
        [1, () => new Uint8Array(0)],
        [0.5, () => rng.bytes(rng.range(64 * 1024, 1024 * 1024))],
      ])(),
    );
  }
  let framed = concat(payloads.map((p) => frameRecord(p)));
  const mutations = [];
  const framedMutations = rng.weighted([
    [3, 0],
    [3, 1],
    [1, 2],
  ]);
  for (let i = 0; i < framedMutations; i++) {
    const m = mutateFramed(rng, framed, payloads);
    framed = m.bytes;
    mutations.push(m.description);
  }
  let bytes = framed;
  const members = [];
  if (compression !== 'none') {
    // Sometimes several members, each a whole stream of some records.
    const cuts = rng.bool(0.25) ? [0, rng.int(framed.length + 1), framed.length].sort((a, b) => a - b) : [0, framed.length];
    for (let i = 0; i + 1 < cuts.length; i++) members.push(compress(compression, framed.subarray(cuts[i], cuts[i + 1])));
    bytes = concat(members);
    const n = rng.weighted([
      [3, 0],
      [3, 1],
      [1, 2],
    ]);
    for (let i = 0; i < n; i++) {
      const m = mutateCompressed(rng, bytes, members);
      bytes = m.bytes;
      mutations.push(m.description);
    }
  }
  return { bytes, compression, payloads, mutations, exact: mutations.length === 0 && members.length <= 1 };
}
