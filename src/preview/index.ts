/** Preview layer: records drawn as PNGs with their boxes, and a contact sheet. */
export {
  previewDataset,
  DEFAULT_PREVIEW_LIMIT,
  DEFAULT_SCORE_THRESHOLD,
  PREDICTION_FILTERS,
  type PredictionFilter,
  type PreviewOptions,
  type PreviewResult,
  type PreviewTile,
} from './preview.js';
