/**
 * Renumbering after pass 2. Pass 1 numbered every class the annotations use,
 * but skipped items (--on-error skip) and dropped boxes (--bbox drop) can
 * leave a class without a single box. The labels used must stay exactly
 * 1..N, so such a class leaves the label map and the classes after it move
 * down; the shards already written are rewritten with the new ids (rare: only
 * then is any record read twice). A user's --label-map is kept as given.
 */
import { decodeExample, encodeExample } from '../example/codec.js';
import { CLASS_LABEL } from '../detection/keys.js';
import type { LabelMap } from '../detection/label-map.js';
import type { RecordCheckOptions } from '../validate/record-check.js';
import type { LabelAssignment } from './labels.js';
import type { ClassCount } from './report.js';
import type { ShardSink } from './sink.js';

export interface Renumbering {
  /** The classes that kept a box, numbered 1..K in their old order. */
  labelMap: LabelMap;
  /** Old id → new id, for the classes kept. */
  ids: Map<number, number>;
  /** Whether any kept class changes its id (else no record needs rewriting). */
  moves: boolean;
}

/** The renumbering the counts call for, or undefined when every class kept a box (or the label map is the user's). */
export function planRenumbering(labels: LabelAssignment, counts: ReadonlyMap<number, ClassCount>): Renumbering | undefined {
  if (labels.order === 'label-map') return undefined;
  const items = labels.labelMap.items;
  const kept = items.filter((it) => (counts.get(it.id)?.boxes ?? 0) > 0);
  if (kept.length === items.length) return undefined;
  return {
    labelMap: { items: kept.map((it, i) => ({ ...it, id: i + 1 })) },
    ids: new Map(kept.map((it, i) => [it.id, i + 1] as const)),
    moves: kept.some((it, i) => it.id !== i + 1),
  };
}

/**
 * Applies the renumbering the counts call for: rewrites the shards when ids
 * move, re-keys `counts` by the new ids, and returns the final label map.
 */
export async function renumberLabels(
  labels: LabelAssignment,
  counts: Map<number, ClassCount>,
  sink: ShardSink,
  checkOptions: RecordCheckOptions,
): Promise<LabelMap> {
  const plan = planRenumbering(labels, counts);
  if (!plan) return labels.labelMap;
  if (plan.moves) await sink.rewrite((payload) => relabel(payload, plan.ids), { ...checkOptions, labelMap: plan.labelMap });
  const moved = [...plan.ids].map(([from, to]) => [to, counts.get(from)!] as const);
  counts.clear();
  for (const [id, c] of moved) counts.set(id, c);
  return plan.labelMap;
}

/** The same tf.Example with its class labels mapped through `ids` (other features untouched). */
export function relabel(payload: Uint8Array, ids: ReadonlyMap<number, number>): Uint8Array {
  const features = decodeExample(payload);
  const labels = features[CLASS_LABEL];
  if (labels?.kind !== 'int64_list' || labels.values.length === 0) return payload;
  labels.values = labels.values.map((v) => ids.get(Number(v)) ?? v);
  return encodeExample(features);
}
