/**
 * The dataset-level files of a conversion: manifest.json, worked out from
 * the run's options and its report, and merged with what earlier runs left
 * in the output folder. Finalize (finalize.ts) writes it, and label_map.pbtxt
 * beside it, once every shard is in place.
 *
 * The output folder is one dataset: the manifest keeps the sets of earlier
 * runs under other prefixes (train from one run, val from another) and
 * replaces those of the prefixes this run wrote.
 */
import { relative } from 'node:path';
import type { LabelMap } from '../detection/label-map.js';
import { mergeRun, type DatasetManifest } from '../dataset/manifest.js';
import { shardExtension } from '../shard/naming.js';
import { version } from '../version.js';
import type { ResolvedConvertOptions } from './options.js';
import type { ConvertReport } from './report.js';

/** The run's options as resolved, `null` where not given and without a default: the manifest's `options`. */
export function manifestOptions(opts: ResolvedConvertOptions): Record<string, unknown> {
  const given = opts.importOptions;
  const prepare = opts.job.prepare;
  return {
    from: opts.from,
    annotations: given.annotations,
    images: given.images ?? null,
    classes: given.classes ?? null,
    imageSet: given.imageSet ?? null,
    // Options of the newer importers appear only when given, so manifests
    // of runs that did not use them keep their shape.
    ...(given.columns !== undefined ? { columns: given.columns } : {}),
    ...(given.coords !== undefined ? { coords: given.coords } : {}),
    ...(given.pathMap !== undefined ? { pathMap: given.pathMap } : {}),
    labelMap: typeof opts.labelMap === 'string' ? opts.labelMap : opts.labelMap ? 'given' : null,
    name: opts.name ?? null,
    shards: 'shards' in opts.layout ? opts.layout.shards : null,
    shardSize: 'shardSize' in opts.layout ? opts.layout.shardSize : null,
    compression: opts.compression,
    split: opts.split ?? null,
    seed: opts.seed,
    bbox: opts.job.policy,
    onError: opts.onError,
    crowd: given.crowd,
    empty: given.empty,
    format: prepare.format,
    quality: prepare.quality ?? null,
    maxSize: prepare.maxSize ?? null,
    maxPixels: prepare.maxPixels ?? null,
    target: opts.target,
    extension: shardExtension(opts.compression),
  };
}

/**
 * manifest.json: every set in the output folder, this run's (its options,
 * then its report) merged with those earlier runs left under other prefixes.
 *
 * Warnings about copies of one image in two splits are the report's only:
 * each task of a job finds those among its own images alone, and the
 * manifest must come out the same whether one machine or many wrote the
 * dataset.
 */
export function buildManifest(
  out: string,
  options: Record<string, unknown>,
  report: ConvertReport,
  labelMap: LabelMap,
  existing: DatasetManifest | undefined,
): DatasetManifest {
  const rel = (p: string) => relative(out, p) || '.';
  const run = {
    prefixes: report.splits.map((s) => s.prefix),
    options,
    labelOrder: report.labelOrder,
    classes: report.classes,
    items: report.items,
    boxes: report.boxes,
    notes: report.notes,
    skipped: report.errors,
    clipped: report.clipped,
    dropped: report.dropped,
    withoutLabelFile: report.withoutLabelFile,
    warnings: report.warnings.filter((w) => w.code !== 'duplicate-across-splits'),
  };
  return mergeRun(existing, {
    tool: { name: 'tfrecord-od', version },
    target: report.target as DatasetManifest['target'],
    labelMap: labelMap.items,
    run,
    splits: report.splits.map((s) => ({
      name: s.name,
      prefix: s.prefix,
      records: s.records,
      boxes: s.boxes,
      classes: s.classes,
      shards: s.shards.map((sh) => ({
        name: rel(sh.path),
        records: sh.records,
        bytes: sh.bytes,
        uncompressedBytes: sh.uncompressedBytes,
        sha256: sh.sha256,
        crc32c: sh.crc32c,
      })),
    })),
  });
}
