/** Worker-thread entry for validation on several threads: checks the records of a file or a range of one (range.ts). */
import { serveJobs } from '../pool/worker-host.js';
import { checkRecords, type RecordCheckRequest, type RecordCheckResult } from './range.js';

// This thread does nothing else while it reads: blocking reads (see ReadOptions.sync).
serveJobs<RecordCheckRequest, RecordCheckResult>(async (request) => ({ result: await checkRecords({ ...request, sync: true }) }));
