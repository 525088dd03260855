/**
 * datasetStats on several threads: each piece of the files (walk/pieces.ts)
 * is read, its CRCs checked and its records decoded on whichever thread is
 * least busy; what the statistics need of each record comes back in record
 * order and is folded into the one StatsAccumulator in file order, so the
 * result is the one a single thread gives.
 */
import * as K from '../detection/keys.js';
import type { Feature, Features } from '../example/features.js';
import type { FileRange } from '../io/read.js';
import type { CompressionOption } from '../record/compression.js';
import { isFramingProblem, type ProblemEvent, type RecordEvent, walkFile, walkFileSync } from '../walk/walk-records.js';
import { recordItem, type StatsItem } from './stats.js';

export interface StatsPieceRequest {
  path: string;
  range?: FileRange;
  compression: CompressionOption;
  maxRecordBytes?: number;
}

/** The keys StatsAccumulator.add reads: only these travel between threads. */
const STATS_KEYS = [K.BBOX_XMIN, K.BBOX_XMAX, K.BBOX_YMIN, K.BBOX_YMAX, K.CLASS_LABEL, K.CLASS_TEXT, K.IMAGE_FORMAT, K.IMAGE_WIDTH, K.IMAGE_HEIGHT];

/**
 * Reads a piece and returns its items. `sync`: blocking reads (a worker, or
 * a command-line process). A problem that is not framing damage (the file
 * cannot be read) is thrown, as the one-thread walk does.
 */
export async function readStatsPiece(request: StatsPieceRequest, sync: boolean): Promise<StatsItem[]> {
  const items: StatsItem[] = [];
  const options = {
    borrow: true,
    ...(request.range ? { range: request.range } : {}),
    ...(request.maxRecordBytes !== undefined ? { maxRecordBytes: request.maxRecordBytes } : {}),
  };
  const take = (ev: RecordEvent | ProblemEvent) => {
    if (ev.kind === 'problem') {
      if (!isFramingProblem(ev.problem)) throw ev.error;
      items.push({ kind: 'framing', problem: ev.problem });
    } else items.push(statsItem(ev));
  };
  if (sync && (request.range !== undefined || request.compression === 'none')) for (const ev of walkFileSync(request.path, options)) take(ev);
  else for await (const ev of walkFile(request.path, { ...options, compression: request.range ? 'none' : request.compression })) take(ev);
  return items;
}

/** recordItem, with only the features the statistics read, copied out of the read buffer. */
function statsItem(ev: RecordEvent): StatsItem {
  const item = recordItem(ev);
  if (item.kind !== 'record' || !item.features) return item;
  // Bytes values are views of the read buffer: copied, so that only these few bytes travel.
  const slim: Features = {};
  for (const key of STATS_KEYS) {
    const f = item.features[key];
    if (f !== undefined) slim[key] = f.kind === 'bytes_list' ? ({ kind: 'bytes_list', values: f.values.map((v) => v.slice()) } satisfies Feature) : f;
  }
  return { ...item, features: slim };
}
