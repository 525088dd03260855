/**
 * The input formats' names, in the registry's order, as a module with no
 * imports: the CLI's usage text lists them without loading any importer.
 * registry.ts checks at compile time that its table has exactly these.
 */
export const FORMAT_NAMES = ['coco', 'openimages', 'csv', 'vertex', 'voc', 'labelme', 'yolo'] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];
