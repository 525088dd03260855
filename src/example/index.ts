export * from './features.js';
export { encodeExample, decodeExample, DEFAULT_DECODE_LIMITS, type DecodeLimits } from './codec.js';
export { encodeSequenceExample, decodeSequenceExample, type SequenceExample, type SequenceExampleInput } from './sequence.js';
export { tfParseVerdict, type TfParseVerdict, type TfDivergence } from './tf-view.js';
