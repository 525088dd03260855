/** Detection layer: the format-neutral example type and its tf.Example mapping. */
export * from './keys.js';
export type { DetectionExample, DetectionObject } from './schema.js';
export { toExample } from './to-example.js';
export { fromExample } from './from-example.js';
export * from './label-map.js';
