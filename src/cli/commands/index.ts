/**
 * `tfrecord-od index PATH... [--out DIR]`
 *
 * Writes `FILE.index` next to each TFRecord file (or into DIR) in the format
 * of vahidk/tfrecord's tfrecord2idx (see record-index/record-index.ts). A
 * directory stands for the `*.tfrecord*` files in it. Prints each index with
 * its record count; a compressed or damaged file is reported on stderr with
 * its location and gets no index. Exit status: 0 when every file was
 * indexed, 1 otherwise, 2 for usage mistakes.
 */
import { mkdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { describeFsError, TfrecordError } from '../../errors.js';
import { formatProblem } from '../../problem.js';
import { INDEX_EXTENSION, writeRecordIndex } from '../../record-index/record-index.js';
import { listTfrecordFiles } from '../../walk/walk-records.js';
import type { INDEX } from '../commands.js';
import type { ParsedCommand } from '../spec.js';
import { type CliIo, displayPath, plural, UsageError, writeOut } from '../io.js';

export async function run({ values, positionals }: ParsedCommand<typeof INDEX>, io: CliIo): Promise<number> {
  const shown = (file: string) => displayPath(io.cwd, file);

  const files = await listTfrecordFiles(positionals.map((p) => resolve(io.cwd, p)));
  const outDir = values.out !== undefined ? resolve(io.cwd, values.out) : undefined;
  const targets = files.map((file) => ({ file, index: outDir ? join(outDir, basename(file) + INDEX_EXTENSION) : file + INDEX_EXTENSION }));
  if (outDir) {
    // Two inputs with one name would write one index over the other.
    const seen = new Map<string, string>();
    for (const t of targets) {
      const other = seen.get(t.index);
      if (other !== undefined)
        throw new UsageError(`${shown(other)} and ${shown(t.file)} would both be indexed as ${shown(t.index)}; index them into different folders`);
      seen.set(t.index, t.file);
    }
    try {
      await mkdir(outDir, { recursive: true });
    } catch (err) {
      throw new TfrecordError('io', `cannot create the output folder: ${describeFsError(err)}`, { file: shown(outDir), cause: err });
    }
  }

  let failed = 0;
  for (const t of targets) {
    const result = await writeRecordIndex(t.file, t.index);
    if (result.ok) {
      await writeOut(io.stdout, `${shown(result.index)}  ${plural(result.records, 'record')}\n`);
    } else {
      failed++;
      io.stderr.write(`tfrecord-od index: ${formatProblem({ ...result.problem, file: shown(result.problem.file) })}; no index written\n`);
    }
  }
  if (failed > 0) io.stderr.write(`${plural(failed, 'file')} of ${files.length} not indexed\n`);
  return failed > 0 ? 1 : 0;
}
