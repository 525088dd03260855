/**
 * Renumbering after pass 2. Pass 1 gave an id to every class the annotations
 * use, but skipped items (--on-error skip) and dropped boxes (--bbox drop)
 * can leave a class without a single box. A class this run added (not one
 * of the user's or the output folder's label map, whose ids are fixed) that
 * ends up without a box leaves the label map and the added classes after it
 * move down, so the ids stay consecutive; the shards already written are
 * rewritten with the new ids (rare: only then is any record read twice).
 */
import { decodeExample, encodeExample } from '../example/codec.js';
import { CLASS_LABEL } from '../detection/keys.js';
import type { LabelMap } from '../detection/label-map.js';
import type { RecordCheckOptions } from '../validate/record-check.js';
import { dropUnusedAdded, type LabelAssignment } from './labels.js';
import type { ClassCount, Tally } from './report.js';
import type { ShardSink } from './sink.js';

/**
 * Applies the renumbering the counts call for: rewrites the shards when ids
 * move, re-keys the tally's class counts by the new ids, and returns the
 * final label map.
 */
export async function renumberLabels(labels: LabelAssignment, tally: Tally, sink: ShardSink, checkOptions: RecordCheckOptions): Promise<LabelMap> {
  const { labelMap, moved } = dropUnusedAdded(labels, (id) => tally.classes.get(id)?.boxes ?? 0);
  if (moved.size === 0) return labelMap;
  await sink.rewrite((payload) => relabel(payload, moved), { ...checkOptions, labelMap });
  rekey(tally.classes, moved);
  for (const split of tally.splits.values()) rekey(split.classes, moved);
  return labelMap;
}

function rekey(counts: Map<number, ClassCount>, moved: ReadonlyMap<number, number>): void {
  const entries = [...counts].map(([id, c]) => [moved.get(id) ?? id, c] as const);
  counts.clear();
  for (const [id, c] of entries) counts.set(id, c);
}

/** The same tf.Example with its class labels mapped through `ids` (other features and labels untouched). */
export function relabel(payload: Uint8Array, ids: ReadonlyMap<number, number>): Uint8Array {
  const features = decodeExample(payload);
  const labels = features[CLASS_LABEL];
  if (labels?.kind !== 'int64_list' || labels.values.length === 0) return payload;
  labels.values = labels.values.map((v) => ids.get(Number(v)) ?? v);
  return encodeExample(features);
}
