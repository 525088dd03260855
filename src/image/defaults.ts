/**
 * Image preparation's defaults, apart from prepare.ts so the CLI's `--help`
 * can state them without loading the image modules.
 */

/** sharp's own default `limitInputPixels`: 0x3FFF × 0x3FFF. */
export const DEFAULT_MAX_PIXELS = 268_402_689;
export const DEFAULT_JPEG_QUALITY = 92;
