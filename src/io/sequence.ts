/**
 * tf.SequenceExample for the package root, with protobufjs loaded on first
 * use rather than with the package: it took 40–90 ms of every `import` of
 * the root on the reference machine (`npm run bench`), and only
 * SequenceExample needs it (tf.Example has a codec of its own). Loading a
 * CommonJS package synchronously is a Node matter, so it lives here.
 */
import { createRequire } from 'node:module';
import type protobuf from 'protobufjs';
import { TF_EXAMPLE_DESCRIPTOR } from '../example/proto-descriptor.js';
import { makeSequenceCodec, type SequenceCodec, type SequenceExample, type SequenceExampleInput } from '../example/sequence-codec.js';

let codec: SequenceCodec | undefined;

function sequenceCodec(): SequenceCodec {
  if (!codec) {
    const pb = createRequire(import.meta.url)('protobufjs') as typeof protobuf;
    const root = pb.Root.fromJSON(TF_EXAMPLE_DESCRIPTOR as unknown as protobuf.INamespace);
    codec = makeSequenceCodec(root.lookupType('tensorflow.SequenceExample'));
  }
  return codec;
}

export function encodeSequenceExample(input: SequenceExampleInput): Uint8Array {
  return sequenceCodec().encode(input);
}

export function decodeSequenceExample(bytes: Uint8Array): SequenceExample {
  return sequenceCodec().decode(bytes);
}
