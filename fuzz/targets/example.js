// tf.Example payloads straight into the two decoders: protobuf's reading
// (decodeExample) and TensorFlow's fast parser's (tfParseVerdict).
import { decodeExample, encodeExample, tfParseVerdict } from 'tfrecord-od';
import { isPlainRecord, scanVerdict } from '../../dist/example/tf-view.js';
import { checkLibraryError, fail, withinTime } from '../check.js';
import { randomFeatures, randomPayload } from '../gen-example.js';

/** A decoded feature map equals what was encoded (floats already float32, int64 compared exactly). */
function sameFeatures(given, decoded) {
  const keys = Object.keys(given);
  if (keys.length !== Object.keys(decoded).length) return `${Object.keys(decoded).length} keys decoded, ${keys.length} encoded`;
  for (const k of keys) {
    const a = given[k];
    const b = decoded[k];
    if (!b) return `key '${k}' lost`;
    // An empty list of a kind is written as the kind with no values; both read back alike.
    if (a.kind !== b.kind && !(a.kind !== 'empty' && a.values.length === 0)) return `key '${k}': ${a.kind} became ${b.kind}`;
    if (a.kind === 'empty' || b.kind === 'empty') continue;
    if (a.values.length !== b.values.length) return `key '${k}': ${a.values.length} values became ${b.values.length}`;
    for (let i = 0; i < a.values.length; i++) {
      const x = a.values[i];
      const y = b.values[i];
      const same =
        a.kind === 'bytes_list' ? Buffer.compare(Buffer.from(x), Buffer.from(y)) === 0 : a.kind === 'int64_list' ? BigInt(x) === BigInt(y) : Object.is(x, y);
      if (!same) return `key '${k}' value ${i} changed`;
    }
  }
  return undefined;
}

export const exampleTarget = {
  name: 'example',
  kind: 'library',
  async run(rng, ctx) {
    let bytes;
    let given;
    if (rng.bool(0.2)) {
      given = randomFeatures(rng);
      bytes = encodeExample(given);
    } else bytes = randomPayload(rng).bytes;
    await ctx.saveInput('payload.bin', bytes);
    await withinTime(2000, 'decoding one payload', () => {
      let features;
      try {
        features = decodeExample(bytes);
      } catch (err) {
        checkLibraryError(err);
        if (err.code !== 'not-an-example') fail(`decodeExample failed with code '${err.code}', not 'not-an-example'`);
        if (given) fail(`a well-formed Example was refused: ${err.message}`);
      }
      if (features && given) {
        const diff = sameFeatures(given, features);
        if (diff) fail(`round trip changed the Example: ${diff}`);
      }
      let verdict;
      try {
        verdict = tfParseVerdict(bytes, features);
      } catch (err) {
        // Without protobuf's reading there is nothing to compare against; refusing the payload is then allowed.
        if (features) fail(`tfParseVerdict threw on a payload protobuf decodes: ${err?.message}`, { stack: err?.stack });
        checkLibraryError(err);
      }
      if (verdict && typeof verdict.ok !== 'boolean') fail('tfParseVerdict returned no verdict');
      if (features && isPlainRecord(bytes)) {
        const slow = scanVerdict(bytes, features);
        if (!slow.ok || slow.divergences.length > 0) fail('the fast path called a payload plain where the full scan finds something');
      }
    });
  },
};
