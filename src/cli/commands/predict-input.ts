/**
 * `tfrecord-od predict-input PATH... --out FILE [--format jsonl|instances] [--max-request-bytes N]`
 *
 * Writes a detection SavedModel's inputs, `{"encoded_image": {"b64": …},
 * "key": …}` per image, from TFRecords or folders of images: JSON lines for
 * batch prediction, or `{"instances": […]}` request bodies under a size limit
 * for online prediction (one per line, or numbered files when --out is a
 * folder). Next to the output, `<out>.sources.jsonl` maps each key to its
 * file (and record). See src/evaluate/predict-input.ts.
 */
import { resolve } from 'node:path';
import { DEFAULT_MAX_REQUEST_BYTES, writePredictInput } from '../../evaluate/predict-input.js';
import type { PREDICT_INPUT } from '../commands.js';
import type { ParsedCommand } from '../spec.js';
import { type CliIo, displayPath, formatBytes, UsageError, writeOut } from '../io.js';

export async function run({ values, positionals }: ParsedCommand<typeof PREDICT_INPUT>, io: CliIo): Promise<number> {
  const { format } = values;
  const maxRequestBytes = values['max-request-bytes'];
  if (maxRequestBytes !== undefined && format !== 'instances') throw new UsageError('--max-request-bytes applies to --format instances only');

  // A trailing slash asks for a folder of request files: keep it through resolve().
  const out = resolve(io.cwd, values.out) + (/[/\\]$/.test(values.out) ? '/' : '');
  const shown = (p: string) => displayPath(io.cwd, p);
  const r = await writePredictInput(
    positionals.map((p) => resolve(io.cwd, p)),
    { out, format, maxRequestBytes: maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES, display: shown },
  );
  const what =
    format === 'jsonl'
      ? `${r.instances} instance${r.instances === 1 ? '' : 's'}`
      : `${r.instances} instance${r.instances === 1 ? '' : 's'} in ${r.requests} request${r.requests === 1 ? '' : 's'}`;
  await writeOut(io.stdout, `${shown(r.out)}: ${what}, ${formatBytes(r.bytes)}; keys and their sources in ${shown(r.sourcesFile)}\n`);
  if (r.skippedFiles > 0)
    io.stderr.write(
      `tfrecord-od predict-input: ${r.skippedFiles} file${r.skippedFiles === 1 ? '' : 's'} in image folders left out (not .jpg, .jpeg, .png, .gif or .bmp)\n`,
    );
  return 0;
}
