/** Worker-thread entry for statistics on several threads: reads a piece of a file (pieces.ts). */
import { serveJobs } from '../pool/worker-host.js';
import { readStatsPiece, type StatsPieceRequest } from './pieces.js';
import type { StatsItem } from './stats.js';

// This thread does nothing else while it reads: blocking reads (see ReadOptions.sync).
serveJobs<StatsPieceRequest, StatsItem[]>(async (request) => ({ result: await readStatsPiece(request, true) }));
