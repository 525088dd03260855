import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { TF_EXAMPLE_DESCRIPTOR } from '../../src/example/proto-descriptor.js';

describe('proto descriptor', () => {
  it('is current with proto/*.proto (run scripts/gen-proto-descriptor.js after editing them)', () => {
    const root = protobuf.loadSync(fileURLToPath(new URL('../../proto/example.proto', import.meta.url)));
    expect(JSON.parse(JSON.stringify(TF_EXAMPLE_DESCRIPTOR))).toEqual(root.toJSON());
  });

  it('uses TensorFlow field numbers', () => {
    const root = protobuf.Root.fromJSON(TF_EXAMPLE_DESCRIPTOR as unknown as protobuf.INamespace);
    const feature = root.lookupType('tensorflow.Feature');
    expect(feature.fields.bytesList!.id).toBe(1);
    expect(feature.fields.floatList!.id).toBe(2);
    expect(feature.fields.int64List!.id).toBe(3);
    expect(root.lookupType('tensorflow.FloatList').fields.value!.packed).toBe(true);
    expect(root.lookupType('tensorflow.SequenceExample').fields.featureLists!.id).toBe(2);
  });
});
