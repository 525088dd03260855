/** Public surface of the annotation importers. */
export * from './types.js';
export { FORMATS, findFormat, detectFormat, type FormatName, type FormatSpec } from './registry.js';
export { readCoco, type CocoReadOptions } from './coco/read.js';
export { readVoc, type VocReadOptions } from './voc/read.js';
export { readYolo, type YoloReadOptions } from './yolo/read.js';
export { readCsv, type CsvReadOptions } from './csv/read.js';
export type { CsvColumnMapping, CsvField } from './csv/format.js';
export { readOpenImages, type OpenImagesReadOptions } from './openimages/read.js';
export { readVertex, type VertexReadOptions } from './vertex/read.js';
export { readLabelMe, type LabelMeReadOptions } from './labelme/read.js';
export { detectCoco } from './coco/detect.js';
export { detectVoc } from './voc/detect.js';
export { detectYolo } from './yolo/detect.js';
export { detectCsv } from './csv/detect.js';
export { detectOpenImages } from './openimages/detect.js';
export { detectVertex } from './vertex/detect.js';
export { detectLabelMe } from './labelme/detect.js';
export { loadClassList } from './classes.js';
