/**
 * `tfrecord-od finalize OUT [--quick] [--json]`
 *
 * Finishes a dataset that the tasks of a batch job converted into OUT
 * (convert --task-index I --task-count N): label map and manifest, as one
 * machine's convert writes them. The report reads as convert's.
 */
import { resolve } from 'node:path';
import { finalizeDataset } from '../../convert/finalize.js';
import type { FINALIZE } from '../commands.js';
import type { CliIo } from '../io.js';
import type { ParsedCommand } from '../spec.js';
import { printReport } from './convert.js';

export async function run({ values, positionals }: ParsedCommand<typeof FINALIZE>, io: CliIo): Promise<number> {
  const report = await finalizeDataset(resolve(io.cwd, positionals[0]!), { check: values.quick ? 'size' : 'hash' });
  return printReport(report, values.json, io);
}
