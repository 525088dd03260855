/**
 * Preview's defaults, apart from preview.ts so the CLI can show them in
 * `--help` without loading sharp (preview.ts draws with it).
 */

/** Records rendered when no limit is given: a contact sheet a browser opens at once. */
export const DEFAULT_PREVIEW_LIMIT = 100;

/** Longest side of a tile in pixels: two or three tiles across a laptop screen, ~20-40 KB as JPEG. */
export const DEFAULT_PREVIEW_SIZE = 320;

/** Seed of --sample when none is given: the same command shows the same records. */
export const DEFAULT_PREVIEW_SEED = 1;
