/** Stats layer: a streaming description of a TFRecord detection dataset. */
export {
  datasetStats,
  type BoxSizes,
  type BoxesPerImage,
  type ClassStats,
  type DatasetStats,
  type FileStats,
  type FormatCount,
  type HistogramBucket,
  type ImageSizeCount,
  type ImageSizes,
  type StatsOptions,
} from './stats.js';
