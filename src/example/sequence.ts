/**
 * tf.SequenceExample encoding and decoding for the `tfrecord-od/example`
 * entry point, with protobufjs loaded with this module (see
 * sequence-codec.ts; the package root loads it lazily instead).
 */
import { makeSequenceCodec, type SequenceExample, type SequenceExampleInput } from './sequence-codec.js';
import { SequenceExampleType } from './proto-schema.js';

export type { SequenceExample, SequenceExampleInput } from './sequence-codec.js';

const codec = makeSequenceCodec(SequenceExampleType);

export function encodeSequenceExample(input: SequenceExampleInput): Uint8Array {
  return codec.encode(input);
}

export function decodeSequenceExample(bytes: Uint8Array): SequenceExample {
  return codec.decode(bytes);
}
