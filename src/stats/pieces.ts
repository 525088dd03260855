/**
 * datasetStats on several threads: each piece of the files (walk/pieces.ts)
 * is read, its CRCs checked and its records decoded on whichever thread is
 * least busy; what the statistics need of each record comes back in record
 * order and is folded into the one StatsAccumulator in file order, so the
 * result is the one a single thread gives.
 */
import * as K from '../detection/keys.js';
import { isTfrecordError } from '../errors.js';
import { decodeExample } from '../example/codec.js';
import type { Feature, Features } from '../example/features.js';
import type { FileRange } from '../io/read.js';
import { makeProblem } from '../problem.js';
import type { CompressionOption } from '../record/compression.js';
import type { Finding } from '../validate/findings.js';
import { isFramingProblem, type ProblemEvent, type RecordEvent, walkFile, walkFileSync } from '../walk/walk-records.js';

export interface StatsPieceRequest {
  path: string;
  range?: FileRange;
  compression: CompressionOption;
  maxRecordBytes?: number;
}

/** One record of a piece, or a framing problem, in record order. */
export type StatsItem =
  /** A record: its payload length, and the features the statistics read (undefined with `problem` when it is not a tf.Example). */
  { kind: 'record'; length: number; features?: Features; problem?: Finding } | { kind: 'framing'; problem: Finding };

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

function statsItem(ev: RecordEvent): StatsItem {
  let features: Features;
  try {
    features = decodeExample(ev.payload);
  } catch (err) {
    if (!isTfrecordError(err) || (err.code !== 'not-an-example' && err.code !== 'example-too-large')) throw err;
    return { kind: 'record', length: ev.length, problem: makeProblem(err.code, err.reason, { file: ev.file, record: ev.index, offset: ev.offset }) };
  }
  // Bytes values are views of the read buffer: copied, so that only these few bytes travel.
  const slim: Features = {};
  for (const key of STATS_KEYS) {
    const f = features[key];
    if (f !== undefined) slim[key] = f.kind === 'bytes_list' ? ({ kind: 'bytes_list', values: f.values.map((v) => v.slice()) } satisfies Feature) : f;
  }
  return { kind: 'record', length: ev.length, features: slim };
}
