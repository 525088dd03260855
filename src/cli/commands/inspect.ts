/**
 * `tfrecord-od inspect FILE... [--json] [--limit N] [--compression auto|none|gzip|zlib]`
 *
 * Human output summarises each record; --json prints one line per record in
 * the interop corpus's conventions (see inspect/json.ts).
 */
import { decodeExample } from '../../example/codec.js';
import { tfParseVerdict } from '../../example/tf-view.js';
import type { Feature } from '../../example/features.js';
import { describeLocation, isTfrecordError } from '../../errors.js';
import { sniffFormat } from '../../image/probe.js';
import { featuresToJson, sha256Hex } from '../../inspect/json.js';
import { formatProblem, makeProblem } from '../../problem.js';
import { walkRecords } from '../../walk/walk-records.js';
import type { INSPECT } from '../commands.js';
import { type CliIo, displayPath, plural, typedPaths, writeOut } from '../io.js';
import type { ParsedCommand } from '../spec.js';

const SHOWN_VALUES = 8;
const TEXT_PREVIEW = 60;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export async function run({ values, positionals }: ParsedCommand<typeof INSPECT>, io: CliIo): Promise<number> {
  const { limit, compression } = values;
  let failed = false;
  // Files only, as named: a folder is reported as unreadable rather than expanded.
  // Each record is printed before the next is read, so it is lent, not copied;
  // and this process does nothing else while it reads (see ReadOptions.sync).
  const walk = walkRecords(typedPaths(positionals, io.cwd), { compression, expandDirectories: false, borrow: true, sync: true });
  /** Records shown of the file being read; undefined once the file failed (it then gets no count line). */
  let count: number | undefined;
  const endFile = async () => {
    if (count !== undefined && !values.json) {
      await writeOut(io.stdout, `  ${plural(count, 'record')}${limit !== undefined && count >= limit ? ' shown (--limit)' : ''}\n`);
    }
    count = undefined;
  };
  // Files named as the user would (relative to the working directory when inside it).
  const shown = (file: string) => displayPath(io.cwd, file);
  for await (const ev of walk) {
    if (ev.kind === 'file') {
      await endFile();
      if (!values.json) await writeOut(io.stdout, `${shown(ev.file)}\n`);
      count = 0;
    } else if (ev.kind === 'problem') {
      // Even a record the reader could skip ends the file here: inspect shows a file up to its first damage.
      failed = true;
      count = undefined;
      const { error } = ev;
      io.stderr.write(
        `tfrecord-od inspect: ${formatProblem({ file: shown(error.file ?? ev.problem.file), record: error.record, offset: error.offset, message: error.reason })}\n`,
      );
      walk.skipFile();
    } else if (limit !== undefined && count! >= limit) {
      walk.skipFile();
    } else {
      count!++;
      let features;
      try {
        features = decodeExample(ev.payload);
      } catch (err) {
        if (!isTfrecordError(err)) throw err;
        failed = true;
        io.stderr.write(`${formatProblem(makeProblem(err.code, err.reason, { file: shown(ev.file), record: ev.index, offset: ev.offset }))}\n`);
        continue;
      }
      // What TensorFlow's own parser would make of this record, when it differs from what is shown.
      const verdict = tfParseVerdict(ev.payload, features);
      const notes = verdict.ok
        ? verdict.divergences.map((d) => `${d.message}: ${d.reason}`)
        : [`${verdict.message} (at byte ${verdict.byteOffset} of the payload)`];
      if (values.json) {
        const line = {
          file: shown(ev.file),
          index: ev.index,
          offset: ev.offset,
          length: ev.length,
          features: featuresToJson(features),
          ...(notes.length > 0 ? { tensorflow: notes } : {}),
        };
        await writeOut(io.stdout, `${JSON.stringify(line)}\n`);
      } else {
        await writeOut(io.stdout, renderRecord(ev.index, ev.offset, ev.length, features) + notes.map((n) => `    note: ${n}\n`).join(''));
      }
    }
  }
  await endFile();
  return failed ? 1 : 0;
}

function renderRecord(index: number, offset: number, length: number, features: Record<string, Feature>): string {
  // Sorted so related keys (image/object/bbox/*) sit together; --json keeps wire order.
  const keys = Object.keys(features).sort();
  const lines = [`  ${describeLocation({ record: index, offset })} · ${plural(length, 'byte')} · ${plural(keys.length, 'feature')}`];
  // A loop, not Math.max(...lengths): spreading a record's 100,000 keys overflows the stack.
  let width = 0;
  for (const k of keys) width = Math.min(40, Math.max(width, k.length));
  for (const key of keys) {
    const f = features[key]!;
    const kind = f.kind === 'bytes_list' ? 'bytes' : f.kind === 'float_list' ? 'float' : f.kind === 'int64_list' ? 'int64' : 'none';
    const count = f.kind === 'empty' ? '' : `[${f.values.length}]`;
    lines.push(`    ${key.padEnd(width)}  ${kind.padEnd(5)} ${count.padEnd(5)} ${renderValues(f)}`.trimEnd());
  }
  return lines.join('\n') + '\n';
}

function renderValues(f: Feature): string {
  if (f.kind === 'empty') return '(no kind set)';
  const shown: string[] = [];
  const values = f.values as ReadonlyArray<Uint8Array | number | bigint>;
  for (let i = 0; i < Math.min(values.length, SHOWN_VALUES); i++) {
    const v = values[i]!;
    if (f.kind === 'bytes_list') shown.push(renderBytes(v as Uint8Array));
    else if (f.kind === 'float_list') shown.push(renderFloat(v as number));
    else shown.push(String(v));
  }
  if (values.length > SHOWN_VALUES) shown.push(`… (+${values.length - SHOWN_VALUES} more)`);
  return shown.join(', ');
}

function renderFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (Object.is(v, -0)) return '-0';
  // Floats are float32: 7 significant digits are all there is.
  return Number.isFinite(v) ? String(Number(v.toPrecision(7))) : String(v);
}

function renderBytes(b: Uint8Array): string {
  const format = sniffFormat(b);
  if (format || b.length > 256) {
    return `<${plural(b.length, 'byte')}${format ? `, ${format}` : ''}, sha256 ${sha256Hex(b).slice(0, 12)}>`;
  }
  try {
    const text = strictUtf8.decode(b);
    return JSON.stringify(text.length > TEXT_PREVIEW ? `${text.slice(0, TEXT_PREVIEW)}…` : text);
  } catch {
    return `<${plural(b.length, 'byte')}: ${Array.from(b.subarray(0, 16), (x) => x.toString(16).padStart(2, '0')).join('')}${b.length > 16 ? '…' : ''}>`;
  }
}
