#!/usr/bin/env node
/**
 * Entry point of the `tfrecord-od` command. Each sub-command lives in
 * `commands/<name>.ts` and is loaded only when used, so `inspect` does not pay
 * for sharp's start-up.
 *
 * Exit codes: 0 success, 1 data errors (damaged file, invalid dataset), 2 usage.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SHARD_SIZE } from '../convert/options.js';
import { isTfrecordError } from '../errors.js';
import { FORMAT_NAMES } from '../formats/names.js';
import { type CliIo, type CommandSpec, UsageError } from './io.js';

export const COMMANDS: CommandSpec[] = [
  {
    name: 'convert',
    summary: 'convert COCO, Pascal VOC, YOLO, CSV, Open Images, Vertex AI or LabelMe annotations to sharded TFRecords',
    usage:
      `tfrecord-od convert --from ${FORMAT_NAMES.join('|')} --annotations PATH [--images DIR] [--classes FILE] [--image-set NAME] [--columns FIELD=COLUMN,...] [--coords pixel|normalized] [--path-map gs://PREFIX=DIR]... [--label-map FILE] --out DIR [--name NAME] [--shards N | --shard-size ${DEFAULT_SHARD_SIZE / 1e6}MB] [--compression none|gzip|zlib] [--split train=0.8,val=0.2] [--seed N] [--bbox clip|drop|fail] [--on-error fail|skip] [--crowd keep|drop] [--empty keep|drop] [--format jpeg|png] [--quality Q] [--max-size PX] [--max-pixels N] [--workers N] [--quiet] [--json]`,
    load: () => import('./commands/convert.js'),
  },
  {
    name: 'inspect',
    summary: 'print the records of TFRecord files',
    usage: 'tfrecord-od inspect FILE... [--json] [--limit N] [--compression auto|none|gzip|zlib]',
    load: () => import('./commands/inspect.js'),
  },
  {
    name: 'validate',
    summary: 'check TFRecord detection datasets before training',
    usage:
      'tfrecord-od validate PATH... [--label-map FILE] [--num-classes N] [--decode] [--json] [--max-findings N] [--compression auto|none|gzip|zlib]',
    load: () => import('./commands/validate.js'),
  },
  {
    name: 'stats',
    summary: 'describe a detection dataset: classes, boxes, image sizes, shards',
    usage: 'tfrecord-od stats PATH... [--label-map FILE] [--json] [--compression auto|none|gzip|zlib]',
    load: () => import('./commands/stats.js'),
  },
  {
    name: 'preview',
    summary: 'draw records with their boxes as PNGs and an index.html contact sheet',
    usage: 'tfrecord-od preview PATH... --out DIR [--limit N] [--filter CODE] [--label-map FILE] [--compression auto|none|gzip|zlib]',
    load: () => import('./commands/preview.js'),
  },
  {
    name: 'job-args',
    summary: "print a built-in training job's data arguments for a converted dataset",
    usage: 'tfrecord-od job-args OUT [--bucket gs://BUCKET/PATH] [--json]',
    load: () => import('./commands/job-args.js'),
  },
];

function helpText(): string {
  const lines = ['Usage: tfrecord-od <command> [options]', '', 'Commands:'];
  for (const c of COMMANDS) lines.push(`  ${c.name.padEnd(10)} ${c.summary}`);
  lines.push('', 'Run `tfrecord-od <command> --help` for the options of one command.');
  return lines.join('\n') + '\n';
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(helpText());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    const { version } = await import('../version.js');
    io.stdout.write(`${version}\n`);
    return 0;
  }
  const spec = COMMANDS.find((c) => c.name === name);
  if (!spec) {
    io.stderr.write(`tfrecord-od: unknown command '${name}'\n\n${helpText()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`Usage: ${spec.usage}\n`);
    return 0;
  }
  try {
    const mod = await spec.load();
    return await mod.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`tfrecord-od ${name}: ${err.message}\nUsage: ${spec.usage}\n`);
      return 2;
    }
    if (isTfrecordError(err)) {
      io.stderr.write(`tfrecord-od ${name}: ${err.message}\n`);
      return 1;
    }
    // Anything else is a bug or an environment problem (disk full, permissions):
    // still no stack trace unless asked for.
    const message = err instanceof Error ? err.message : String(err);
    io.stderr.write(`tfrecord-od ${name}: ${message}\n`);
    if (process.env.TFRECORD_OD_DEBUG && err instanceof Error) io.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // `tfrecord-od inspect … | head`: when the reader goes away, stop quietly,
  // as command-line tools do, instead of dying on an unhandled EPIPE.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  const code = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() });
  process.exitCode = code;
}
