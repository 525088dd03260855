/** tfrecord-od/evaluate: COCO box metrics of a model's predictions against TFRecord ground truth. */
export {
  evaluateCoco,
  AREA_RANGES,
  IOU_THRESHOLDS,
  MAX_DETS,
  RECALL_THRESHOLDS,
  STAT_NAMES,
  type AreaRange,
  type ClassResult,
  type CocoEvalResult,
  type CocoStats,
  type DetectionBox,
  type EvalImage,
  type EvaluateOptions,
  type GroundTruthBox,
  type StatName,
} from './coco-eval.js';
export { readGroundTruth, imageKey, pixelBox, type GroundTruth, type GroundTruthImage, type GroundTruthOptions } from './ground-truth.js';
export { readPredictions, readPredictionFile, parsePrediction, listPredictionFiles, type Prediction } from './predictions.js';
export { matchPredictions, evaluatedClasses, type MatchReport, type KeyCount, type ClassCount, type EvaluatedClass } from './match.js';
export { evaluateDetections, evaluateAgainst, type DetectionEvaluation, type ClassSummary, type EvaluateDetectionsOptions } from './evaluate.js';
export { writePredictInput, DEFAULT_MAX_REQUEST_BYTES, type PredictInputOptions, type PredictInputResult, type PredictInputFormat } from './predict-input.js';
export { exportPredictions, groundTruthToCoco, CSV_COLUMNS, type ExportFormat, type ExportPredictionsOptions, type ExportPredictionsResult } from './export.js';
