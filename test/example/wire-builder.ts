/**
 * A tiny protobuf wire-format writer for hand-built tf.Example payloads,
 * including encodings our encoder never produces (split packed runs, unknown
 * fields, duplicate fields, tags written in more than one byte).
 */
export type Bytes = Uint8Array | number[];

export function cat(...parts: Bytes[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** Varint of a non-negative integer or an int64 (negative: 64-bit two's complement). */
export function varint(v: number | bigint): Uint8Array {
  let x = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return Uint8Array.from(out);
}

export const WIRE = { varint: 0, fixed64: 1, len: 2, group: 3, fixed32: 5 } as const;

export function tag(field: number, wire: number): Uint8Array {
  return varint(field * 8 + wire);
}

/** The same tag padded to `bytes` bytes (a legal, non-minimal varint). */
export function longTag(field: number, wire: number, bytes = 2): Uint8Array {
  const min = tag(field, wire);
  const out = new Uint8Array(Math.max(bytes, min.length));
  out.set(min);
  for (let i = 0; i < out.length - 1; i++) out[i]! |= 0x80;
  return out;
}

/** A length-delimited field: tag, length, body. `tagBytes` overrides the tag. */
export function ld(field: number, body: Bytes, tagBytes?: Bytes): Uint8Array {
  return cat(tagBytes ?? tag(field, WIRE.len), varint(body.length), body);
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export function float32(v: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setFloat32(0, v, true);
  return out;
}

// List contents (the body of a BytesList / FloatList / Int64List).
export const packedInt64 = (...values: Array<number | bigint>): Uint8Array => ld(1, cat(...values.map(varint)));
export const unpackedInt64 = (...values: Array<number | bigint>): Uint8Array => cat(...values.map((v) => cat(tag(1, WIRE.varint), varint(v))));
export const packedFloat = (...values: number[]): Uint8Array => ld(1, cat(...values.map(float32)));
export const unpackedFloat = (...values: number[]): Uint8Array => cat(...values.map((v) => cat(tag(1, WIRE.fixed32), float32(v))));
export const bytesValues = (...values: Array<string | Uint8Array>): Uint8Array => cat(...values.map((v) => ld(1, typeof v === 'string' ? utf8(v) : v)));

// Feature contents: one list field each.
export const bytesList = (body: Bytes): Uint8Array => ld(1, body);
export const floatList = (body: Bytes): Uint8Array => ld(2, body);
export const int64List = (body: Bytes): Uint8Array => ld(3, body);

/** A well-formed unknown field (field number >= 4, so no Example message knows it). */
export function unknownField(field: number, wire: 0 | 1 | 2 | 5): Uint8Array {
  switch (wire) {
    case 0:
      return cat(tag(field, 0), varint(300));
    case 1:
      return cat(tag(field, 1), [1, 2, 3, 4, 5, 6, 7, 8]);
    case 2:
      return ld(field, utf8('xyz'));
    case 5:
      return cat(tag(field, 5), [9, 8, 7, 6]);
  }
}

/** A map entry body: key then value. */
export const entryBody = (key: string, feature: Bytes): Uint8Array => cat(ld(1, utf8(key)), ld(2, feature));
/** A Features field holding one map entry. */
export const entry = (key: string, feature: Bytes): Uint8Array => ld(1, entryBody(key, feature));
/** A map entry with an arbitrary body. */
export const rawEntry = (body: Bytes): Uint8Array => ld(1, body);
/** An Example with one Features block holding these entries. */
export const example = (...entries: Bytes[]): Uint8Array => ld(1, cat(...entries));

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
