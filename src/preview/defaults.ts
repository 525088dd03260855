/**
 * Preview's defaults, apart from preview.ts so the CLI can show them in
 * `--help` without loading sharp (preview.ts draws with it).
 */

/** Records rendered when no limit is given: a contact sheet a browser opens at once. */
export const DEFAULT_PREVIEW_LIMIT = 100;
