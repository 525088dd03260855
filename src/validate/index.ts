/** Validation layer: checks TFRecord detection datasets before training. */
export { validateDataset, DatasetValidator, listTfrecordFiles, type ValidateOptions, type ValidationReport } from './validate.js';
export {
  FINDING_CODES,
  DEFAULT_SEVERITY,
  FINDING_RULES,
  describeFindingLocation,
  type FindingRule,
  type Finding,
  type FindingCode,
  type FindingSummary,
  type CodeSummary,
  type Severity,
} from './findings.js';
export { findingSchema, validationReportSchema } from './schemas.js';
