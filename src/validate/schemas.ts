/**
 * zod schemas for the validator's inputs and outputs: options are checked at
 * the library boundary (so a CLI typo and a library misuse fail the same way),
 * and the report schema documents the `--json` output for consumers.
 */
import { z } from 'zod';
import { FINDING_CODES } from './findings.js';

const labelMapSchema = z.object({
  items: z.array(z.object({ id: z.number().int().min(1), name: z.string(), displayName: z.string().optional() })),
});

export const validateOptionsSchema = z.object({
  labelMap: labelMapSchema.optional(),
  numClasses: z.number().int().min(1).optional(),
  decode: z.boolean().optional(),
  maxFindings: z.number().int().min(0).optional(),
  compression: z.enum(['auto', 'none', 'gzip', 'zlib']).optional(),
  maxRecordBytes: z.number().int().min(1).optional(),
  trustImageHashes: z.boolean().optional(),
  syncReads: z.boolean().optional(),
  target: z.enum(['ai-platform', 'od-api']).optional(),
  onFinding: z.custom<(f: unknown) => void>((v) => typeof v === 'function', { message: 'expected a function' }).optional(),
});

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
