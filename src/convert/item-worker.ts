/** Worker-thread entry for conversion: runs item jobs (item-job.ts) with the conversion's shared config. */
import { workerData } from 'node:worker_threads';
import type { SourceItem } from '../formats/types.js';
import { serveJobs } from '../shard/worker-host.js';
import { createItemRunner, type ItemJobConfig, type ItemJobResult } from './item-job.js';

const run = createItemRunner(workerData as ItemJobConfig, true);

serveJobs<SourceItem, ItemJobResult>(async (item) => {
  const result = await run(item);
  // The record is a fresh buffer of its own: move it, don't copy it.
  return result.ok ? { result, transfer: [result.record.buffer as ArrayBuffer] } : { result };
});
