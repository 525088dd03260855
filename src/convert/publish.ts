/**
 * Publishing a verified conversion: the label map, the shards under their
 * final names, the manifest (the commit point: it only ever describes a
 * complete set), and last the removal of shards an earlier run left under
 * the same prefixes. Every file appears by rename, never half-written.
 *
 * The output folder is one dataset: the manifest written here keeps the
 * sets of earlier runs under other prefixes (train from one run, val from
 * another) and replaces those of the prefixes this run wrote.
 */
import { join, relative } from 'node:path';
import { formatLabelMap, type LabelMap } from '../detection/label-map.js';
import { crc32cToBase64, LABEL_MAP_FILE, MANIFEST_FILE, mergeRun, type DatasetManifest } from '../dataset/manifest.js';
import { shardExtension } from '../shard/naming.js';
import { version } from '../version.js';
import { shardPrefix, type ResolvedConvertOptions } from './options.js';
import { removeLeftovers, writeFileAtomic } from './output.js';
import { classTable, type ConvertReport, type ShardReport, type Tally } from './report.js';
import type { ShardSink, VerifiedOutput } from './sink.js';

/** Publishes the sink's shards and the files beside them, and completes the report (`ok` is set). */
export async function publishOutput(
  opts: ResolvedConvertOptions,
  sink: ShardSink,
  verified: VerifiedOutput,
  tally: Tally,
  labelMap: LabelMap,
  report: ConvertReport,
  existing: DatasetManifest | undefined,
): Promise<DatasetManifest> {
  const labelMapPath = join(opts.out, LABEL_MAP_FILE);
  await writeFileAtomic(labelMapPath, formatLabelMap(labelMap));
  const prefixes = new Set(opts.splitNames.map((s) => shardPrefix(opts, s)));
  const keep = new Set(verified.staged.map((sh) => sh.name));
  for (const s of opts.splitNames) {
    const shards = await sink.publish(s);
    const st = tally.splits.get(s)!;
    const shardReports: ShardReport[] = shards.map((sh) => {
      const digest = verified.digests.get(sh.stagedPath)!;
      return {
        name: sh.name,
        path: sh.path,
        records: sh.records,
        bytes: digest.bytes,
        uncompressedBytes: sh.bytes,
        sha256: digest.sha256,
        crc32c: crc32cToBase64(digest.crc32c),
      };
    });
    report.splits.push({
      name: s ?? shardPrefix(opts, undefined),
      prefix: shardPrefix(opts, s),
      records: st.records,
      boxes: st.boxes,
      classes: classTable(labelMap, st.classes),
      shards: shardReports,
    });
  }
  report.labelMapPath = labelMapPath;
  report.manifestPath = join(opts.out, MANIFEST_FILE);
  report.ok = true;
  // The manifest is the commit point: until it is renamed into place the old
  // manifest describes the folder, and `validate OUT` names the new shards as
  // unlisted. Only then do the shards an earlier run left under the same
  // prefixes (another shard count, which a `PREFIX-*` glob would pick up
  // too) go; a run killed before that leaves them to the next run, which
  // removes them the same way.
  const manifest = buildManifest(opts, report, labelMap, existing);
  await writeFileAtomic(report.manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  report.replaced = await removeLeftovers(opts.out, prefixes, keep);
  return manifest;
}

/**
 * manifest.json: every set in the output folder, this run's (its options as
 * resolved, `null` where not given and without a default, then its report)
 * merged with those earlier runs left under other prefixes.
 */
export function buildManifest(opts: ResolvedConvertOptions, report: ConvertReport, labelMap: LabelMap, existing: DatasetManifest | undefined): DatasetManifest {
  const rel = (p: string) => relative(opts.out, p) || '.';
  const given = opts.importOptions;
  const prepare = opts.job.prepare;
  const run = {
    prefixes: report.splits.map((s) => s.prefix),
    options: {
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
    },
    labelOrder: report.labelOrder,
    classes: report.classes,
    items: report.items,
    boxes: report.boxes,
    notes: report.notes,
    skipped: report.errors,
    clipped: report.clipped,
    dropped: report.dropped,
    withoutLabelFile: report.withoutLabelFile,
    warnings: report.warnings,
  };
  return mergeRun(existing, {
    tool: { name: 'tfrecord-od', version },
    target: opts.target,
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
