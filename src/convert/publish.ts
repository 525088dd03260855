/**
 * Publishing a verified conversion: the label map, the shards under their
 * final names, the removal of shards an earlier run left under the same
 * prefixes, and last the manifest, which so only ever describes a complete
 * set. Every file appears by rename, never half-written.
 */
import { join, relative } from 'node:path';
import { formatLabelMap, type LabelMap } from '../detection/label-map.js';
import { shardExtension } from '../shard/naming.js';
import { version } from '../version.js';
import { shardPrefix, type ResolvedConvertOptions } from './options.js';
import { removeLeftovers, writeFileAtomic } from './output.js';
import type { ConvertReport, ShardReport, Tally } from './report.js';
import type { ShardSink, VerifiedOutput } from './sink.js';

/** Publishes the sink's shards and the files beside them, and completes the report (`ok` is set). */
export async function publishOutput(
  opts: ResolvedConvertOptions,
  sink: ShardSink,
  verified: VerifiedOutput,
  tally: Tally,
  labelMap: LabelMap,
  report: ConvertReport,
): Promise<void> {
  const labelMapPath = join(opts.out, 'label_map.pbtxt');
  await writeFileAtomic(labelMapPath, formatLabelMap(labelMap));
  const prefixes = new Set(opts.splitNames.map((s) => shardPrefix(opts, s)));
  const keep = new Set(verified.staged.map((sh) => sh.name));
  for (const s of opts.splitNames) {
    const shards = await sink.publish(s);
    const st = tally.splits.get(s)!;
    const shardReports: ShardReport[] = shards.map((sh) => ({
      name: sh.name,
      path: sh.path,
      records: sh.records,
      bytes: sh.bytes,
      sha256: verified.sha256.get(sh.stagedPath)!,
    }));
    report.splits.push({ name: s ?? shardPrefix(opts, undefined), records: st.records, boxes: st.boxes, shards: shardReports });
  }
  // Shards left by an earlier run with another shard count would be picked up
  // by a `PREFIX-*` glob together with the new ones: remove them.
  report.replaced = await removeLeftovers(opts.out, prefixes, keep);
  report.labelMapPath = labelMapPath;
  report.manifestPath = join(opts.out, 'manifest.json');
  report.ok = true;
  await writeFileAtomic(report.manifestPath, JSON.stringify(buildManifest(opts, report, labelMap), null, 2) + '\n');
}

/** manifest.json: the options as resolved (`null` where not given and without a default), then the report. */
export function buildManifest(opts: ResolvedConvertOptions, report: ConvertReport, labelMap: LabelMap) {
  const rel = (p: string) => relative(opts.out, p) || '.';
  const given = opts.importOptions;
  const prepare = opts.job.prepare;
  return {
    tool: { name: 'tfrecord-od', version },
    options: {
      from: opts.from,
      annotations: given.annotations,
      images: given.images ?? null,
      classes: given.classes ?? null,
      imageSet: given.imageSet ?? null,
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
      extension: shardExtension(opts.compression),
    },
    labelOrder: report.labelOrder,
    labelMap: labelMap.items,
    splits: report.splits.map((s) => ({
      name: s.name,
      records: s.records,
      boxes: s.boxes,
      shards: s.shards.map((sh) => ({ name: rel(sh.path), records: sh.records, bytes: sh.bytes, sha256: sh.sha256 })),
    })),
    classes: report.classes,
    items: report.items,
    boxes: report.boxes,
    skipped: report.errors,
    clipped: report.clipped,
    dropped: report.dropped,
    warnings: report.warnings,
  };
}
