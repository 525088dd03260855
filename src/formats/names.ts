/**
 * The importers' names on their own, without the importers: the CLI's option
 * table lists them in `--help` and checks `--from` against them, and loading
 * the registry (every reader) for that cost ~60 ms of start-up.
 * registry.ts's table must list exactly these (checked by a test).
 */
export const FORMAT_NAMES = ['coco', 'csv', 'voc', 'yolo'] as const;

export type FormatName = (typeof FORMAT_NAMES)[number];
