/**
 * The in-memory shape of one object-detection example, independent of any
 * annotation format: the image bytes, its size, and boxes in normalized
 * coordinates with 1-based class labels (the OD API convention; 0 means
 * background and must not appear as an object label).
 */
import { z } from 'zod';
import type { Features } from '../example/features.js';

export interface DetectionObject {
  /** Normalized to [0, 1] by image width; xmin <= xmax. */
  xmin: number;
  xmax: number;
  /** Normalized to [0, 1] by image height; ymin <= ymax. */
  ymin: number;
  ymax: number;
  /** Class id, >= 1. */
  label: number;
  /** Class name as written to `image/object/class/text` ('' when unknown). */
  text: string;
  isCrowd?: boolean;
  /** Area in pixels, as COCO reports it (not normalized). */
  area?: number;
  difficult?: boolean;
  truncated?: boolean;
  /** Pose such as 'Frontal' or 'Unspecified' (Pascal VOC). */
  view?: string;
  /** The box covers a group of objects of its class (Open Images `IsGroupOf`). */
  groupOf?: boolean;
}

export interface DetectionExample {
  /** The encoded image file (JPEG, PNG, ...), exactly as stored. */
  image: Uint8Array;
  /** Lower-case format name, e.g. 'jpeg' or 'png' ('' when unknown). */
  format: string;
  width: number;
  height: number;
  filename: string;
  sourceId: string;
  /** Lower-case hex SHA-256 of `image` ('' when not recorded). */
  sha256: string;
  objects: DetectionObject[];
  /** Features this library has no field for; kept so they survive a read/write round trip. */
  extra?: Features;
}

const unit = z.number().min(0).max(1);

export const detectionObjectSchema = z
  .object({
    xmin: unit,
    xmax: unit,
    ymin: unit,
    ymax: unit,
    label: z.number().int().min(1),
    text: z.string(),
    isCrowd: z.boolean().optional(),
    area: z.number().min(0).optional(),
    difficult: z.boolean().optional(),
    truncated: z.boolean().optional(),
    view: z.string().optional(),
    groupOf: z.boolean().optional(),
  })
  .refine((o) => o.xmin <= o.xmax, { message: 'xmin must not exceed xmax', path: ['xmin'] })
  .refine((o) => o.ymin <= o.ymax, { message: 'ymin must not exceed ymax', path: ['ymin'] });

const featuresSchema = z.custom<Features>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), { message: 'expected a feature map' });

export const detectionExampleSchema = z.object({
  image: z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'expected a Uint8Array' }),
  format: z.string(),
  width: z.number().int().min(0),
  height: z.number().int().min(0),
  filename: z.string(),
  sourceId: z.string(),
  sha256: z.string().regex(/^(?:[0-9a-f]{64})?$/, 'expected 64 lower-case hex digits or an empty string'),
  objects: z.array(detectionObjectSchema),
  extra: featuresSchema.optional(),
});

// Compile-time guard that the schemas and the hand-written interfaces agree.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const objectSchemaMatches: Same<z.infer<typeof detectionObjectSchema>, DetectionObject> = true;
const exampleSchemaMatches: Same<z.infer<typeof detectionExampleSchema>, DetectionExample> = true;
void objectSchemaMatches;
void exampleSchemaMatches;
