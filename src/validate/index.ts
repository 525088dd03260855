/** Validation layer: checks TFRecord detection datasets before training. */
export { validateDataset, listTfrecordFiles, type ValidateOptions, type ValidationReport } from './validate.js';
export {
  FINDING_CODES,
  DEFAULT_SEVERITY,
  describeFindingLocation,
  FindingCollector,
  type Finding,
  type FindingCode,
  type FindingSummary,
  type CodeSummary,
  type Severity,
} from './findings.js';
export { checkFeatures, checkImage, normalizeFormatName, type RecordFacts, type CheckOptions, type Emit, type ImageDecoder } from './checks.js';
export { validateOptionsSchema, findingSchema, validationReportSchema } from './schemas.js';
