/** Worker-thread entry for conversion: runs ConvertJobs (item-job.ts) with the conversion's shared config. */
import { workerData } from 'node:worker_threads';
import { serveJobs } from '../pool/worker-host.js';
import { createJobRunner, type ConvertJob, type ItemJobConfig } from './item-job.js';

serveJobs<ConvertJob, unknown>(createJobRunner(workerData as ItemJobConfig, true));
