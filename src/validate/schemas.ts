/**
 * zod schemas of the validator's report: they document the `--json` output
 * for consumers, who can check a report with them. The options are checked
 * without zod (options-check.ts), so that validating and converting do not
 * pay for loading it.
 */
import { z } from 'zod';
import { FINDING_CODES } from './findings.js';

export const findingSchema = z.object({
  severity: z.enum(['error', 'warning']),
  code: z.enum(FINDING_CODES),
  file: z.string(),
  record: z.number().int().min(0).optional(),
  offset: z.number().int().min(0).optional(),
  message: z.string(),
});

export const validationReportSchema = z.object({
  valid: z.boolean(),
  files: z.number().int().min(0),
  records: z.number().int().min(0),
  boxes: z.number().int().min(0),
  findings: z.array(findingSchema),
  summary: z.partialRecord(z.enum(FINDING_CODES), z.object({ severity: z.enum(['error', 'warning']), count: z.number().int().min(1) })),
});
