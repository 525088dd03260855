#!/usr/bin/env node
/**
 * Entry point of the `tfrecord-od` command. Each sub-command has a table in
 * commands.ts (its flags, checks, defaults and help) and its code in
 * `commands/<name>.ts`, loaded only once the command line has been checked,
 * so `--help` and usage mistakes do not pay for sharp's start-up.
 *
 * Exit codes: 0 success, 1 data errors (damaged file, invalid dataset), 2 usage.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { isTfrecordError } from '../errors.js';
import { COMMANDS } from './commands.js';
import { type CliIo, UsageError } from './io.js';
import { didYouMean, formatHelp, parseCommandLine, usageLine } from './spec.js';

function helpText(): string {
  const lines = ['Usage: tfrecord-od <command> [options]', '', 'Commands:'];
  for (const { spec } of COMMANDS) lines.push(`  ${spec.name.padEnd(14)} ${spec.summary}`);
  lines.push(
    '',
    'Run `tfrecord-od <command> --help` for the options of one command, with examples.',
    '`tfrecord-od --version` prints the version.',
    '',
    'Exit status: 0 success, 1 a problem with the data, 2 a usage mistake.',
  );
  return lines.join('\n') + '\n';
}

/** `--help` or `-h` before any `--` (after it, they are file names). */
function asksForHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
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
  const command = COMMANDS.find((c) => c.spec.name === name);
  if (!command) {
    const hint = didYouMean(
      name,
      COMMANDS.map((c) => c.spec.name),
    );
    io.stderr.write(`tfrecord-od: unknown command '${name}'${hint}\n\n${helpText()}`);
    return 2;
  }
  const { spec } = command;
  if (asksForHelp(rest)) {
    io.stdout.write(formatHelp(spec));
    return 0;
  }
  try {
    // The whole command line is checked before the command's module (and
    // what it needs: sharp, the importers) is loaded.
    const parsed = parseCommandLine(spec, rest);
    // The file-system checks (and glob expansion) are not needed for --help.
    const { checkPaths } = await import('./inputs.js');
    const checked = checkPaths(spec, parsed, io.cwd);
    const mod = await command.load();
    return await mod.run(checked, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`tfrecord-od ${name}: ${err.message}\nUsage: ${usageLine(spec)}\nRun 'tfrecord-od ${name} --help' for every option.\n`);
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

/**
 * V8 compiles a function with its optimizing compiler once it has run for a
 * budget of bytecode; the default budget suits long-running programs. The
 * reading commands run for a second or so, and their heavy lifting is
 * native (CRC32C, SHA-256, file I/O): on the reference machine optimizing
 * compilation took a quarter of `stats`' CPU time (perf). About seven times
 * the default budget leaves only the truly hot functions to optimize:
 * `stats` took ~16% less CPU and wall time, `validate` the same (5–6
 * interleaved runs each; start-up unchanged). Not for `convert`: its worker
 * thread, the busy side, builds and checks every record in JavaScript, and
 * left unoptimized for longer it took more CPU at 4,000 images (median of 6
 * interleaved runs: 1.12 against 0.92 CPU-s), though the compiler threads
 * saved more than that in all. Set before any command module loads.
 */
const INTERRUPT_BUDGET = 500_000;
const DEFAULT_BUDGET_COMMANDS: ReadonlySet<string> = new Set(['convert']);

if (isEntryPoint()) {
  if (!DEFAULT_BUDGET_COMMANDS.has(process.argv[2] ?? '')) setFlagsFromString(`--interrupt-budget=${INTERRUPT_BUDGET}`);
  // `tfrecord-od inspect … | head`: when the reader goes away, stop quietly,
  // as command-line tools do, instead of dying on an unhandled EPIPE.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  const code = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env });
  process.exitCode = code;
}
