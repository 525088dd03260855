/**
 * One table per command (see commands.ts) is the single source of its
 * command line: `parseCommandLine` turns argv into typed values from it,
 * defaults come from it (and through it from the library's constants), and
 * `formatHelp` writes `--help` from it. A command module receives values that
 * are already checked, so no command parses or validates a flag by hand.
 *
 * No Node APIs and nothing heavy here: `tfrecord-od <cmd> --help` and every
 * usage mistake are answered before the command's own module (sharp, the
 * importers, the validator) is loaded.
 */
import { UsageError } from './io.js';

interface OptionBase {
  /** The flag without its dashes: `label-map` for `--label-map`. */
  readonly name: string;
  /** One sentence for `--help`, without the default. */
  readonly help: string;
  /** What stands for the value in `--help` and usage lines (default by type: N, SIZE, PATH, VALUE, or the choices). */
  readonly placeholder?: string;
  /** A usage mistake when absent. */
  readonly required?: boolean;
  /** The default as `--help` words it, when the value itself says too little (a CPU count, a folder found at run time). */
  readonly defaultText?: string;
}

export interface BooleanOption extends OptionBase {
  readonly type: 'boolean';
}

export interface StringOption extends OptionBase {
  readonly type: 'string';
  readonly default?: string;
  /**
   * Turns the text into the value the command gets; throws for a bad value
   * (a UsageError, or a library error whose reason becomes the message).
   */
  readonly parse?: (text: string) => unknown;
  /** May be given more than once; the command gets every value, in order (an empty list when none). */
  readonly repeatable?: true;
}

export interface ChoiceOption extends OptionBase {
  readonly type: 'choice';
  readonly choices: readonly string[];
  readonly default?: string;
  /** Other spellings accepted for a choice (`uncompressed` for `none`). Matching ignores letter case. */
  readonly aliases?: Readonly<Record<string, string>>;
}

export interface IntOption extends OptionBase {
  readonly type: 'int';
  /** A function for a default read when the command runs (the CPU count). */
  readonly default?: number | (() => number);
  readonly min?: number;
  readonly max?: number;
}

export interface SizeOption extends OptionBase {
  readonly type: 'size';
  /** Bytes. */
  readonly default?: number;
}

/**
 * A path, given to the command as typed (commands resolve it against the
 * working directory). `mustBe` is checked before the command runs:
 * 'file' and 'directory' must exist as such, 'existing' must exist as either,
 * 'output-folder' must not be an existing file.
 */
export interface PathOption extends OptionBase {
  readonly type: 'path';
  readonly default?: string;
  readonly mustBe?: 'file' | 'directory' | 'existing' | 'output-folder';
  /** The words before the path when it does not exist (default "no such file or directory"). */
  readonly missing?: string;
}

export type OptionSpec = BooleanOption | StringOption | ChoiceOption | IntOption | SizeOption | PathOption;

export interface PositionalSpec {
  /** As shown in usage lines: `PATH...`, `OUT`. */
  readonly placeholder: string;
  readonly help: string;
  readonly min: number;
  readonly max?: number;
  /** The message when fewer than `min` are given. */
  readonly missing: string;
  /**
   * 'inputs': existing paths, with `*`, `?` and `[...]` patterns expanded by
   * the tool (see inputs.ts); 'path': one path checked like a path option's
   * `mustBe: 'existing'`.
   */
  readonly kind?: 'inputs' | 'path';
}

export interface CommandSpec {
  readonly name: string;
  /** One line for `tfrecord-od --help`. */
  readonly summary: string;
  /** Paragraphs for `<command> --help` (blank-line separated). */
  readonly description: string;
  readonly positionals?: PositionalSpec;
  readonly options: readonly OptionSpec[];
  /** Pairs of options that cannot be given together. */
  readonly exclusive?: ReadonlyArray<readonly [string, string]>;
  /** `[command line without "tfrecord-od", what it does]`. */
  readonly examples: ReadonlyArray<readonly [string, string]>;
}

// ---------------------------------------------------------------------------
// Typed values

type Absent<O> = O extends { default: unknown } ? never : O extends { required: true } ? never : undefined;

/** The type a command sees for one option. */
export type OptionValue<O extends OptionSpec> = O extends BooleanOption
  ? boolean
  : O extends { repeatable: true }
    ? string[]
    : O extends { type: 'choice'; choices: readonly (infer C)[] }
      ? C | Absent<O>
      : O extends { type: 'int' | 'size' }
        ? number | Absent<O>
        : O extends { parse: (text: string) => infer T }
          ? T | Absent<O>
          : string | Absent<O>;

export type OptionValues<S extends CommandSpec> = { -readonly [O in S['options'][number] as O['name']]: OptionValue<O> };

export interface ParsedCommand<S extends CommandSpec = CommandSpec> {
  values: OptionValues<S>;
  positionals: string[];
  /** Options the user gave (by name), as opposed to defaults filled in. */
  given: ReadonlySet<string>;
}

// ---------------------------------------------------------------------------
// Parsing

/** A leading '-' that starts a number is a value (`--seed -3`), not an option. */
const NUMBER_LIKE = /^-\.?\d/;

/**
 * argv (after the command name) to checked, typed values. Throws UsageError
 * naming the option for every mistake: an unknown flag (with the nearest
 * known one), a missing or malformed value, a value out of range, a missing
 * required option, two options that exclude each other, too many or too few
 * positionals. File-system checks of paths come after (see inputs.ts).
 */
export function parseCommandLine<S extends CommandSpec>(spec: S, argv: readonly string[]): ParsedCommand<S> {
  const byName = new Map<string, OptionSpec>(spec.options.map((o) => [o.name, o]));
  const raw = new Map<string, string | true | string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-' || NUMBER_LIKE.test(arg)) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const name = flag.replace(/^--?/, '');
    const option = flag.startsWith('--') ? byName.get(name) : undefined;
    if (!option) throw new UsageError(`unknown option '${flag}'${didYouMean(name, [...byName.keys()], '--')}`);
    if (option.type === 'boolean') {
      if (eq >= 0) throw new UsageError(`--${name} takes no value; got '${arg}'`);
      raw.set(name, true);
      continue;
    }
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      // `--out --json`: the next flag is not taken as a value, which would
      // hide the mistake; `--seed -3` is (NUMBER_LIKE), so the range check
      // can say what is wrong with it.
      if (next === undefined || (next.startsWith('-') && next !== '-' && !NUMBER_LIKE.test(next))) {
        throw new UsageError(`--${name} needs a value (${placeholderOf(option)})${next !== undefined ? `; got the option '${next}'` : ''}`);
      }
      value = next;
      i++;
    }
    if (option.type === 'string' && option.repeatable) {
      const list = (raw.get(name) as string[] | undefined) ?? [];
      list.push(value);
      raw.set(name, list);
    } else raw.set(name, value);
  }

  for (const [a, b] of spec.exclusive ?? []) {
    if (raw.has(a) && raw.has(b)) throw new UsageError(`give --${a} or --${b}, not both`);
  }
  const values: Record<string, unknown> = {};
  for (const option of spec.options) {
    const given = raw.get(option.name);
    if (option.type === 'string' && option.repeatable) {
      values[option.name] = ((given as string[] | undefined) ?? []).map((v) => convert(option, v));
      continue;
    }
    values[option.name] = given === undefined ? defaultOf(option) : convert(option, given as string | true);
  }
  for (const option of spec.options) {
    if (option.required && values[option.name] === undefined) throw new UsageError(`--${option.name} is required`);
  }
  const p = spec.positionals;
  if (!p || p.max !== undefined) {
    const max = p?.max ?? 0;
    if (positionals.length > max) throw new UsageError(`unexpected argument '${positionals[max]}'`);
  }
  if (p && positionals.length < p.min) throw new UsageError(p.missing);
  return { values: values as OptionValues<S>, positionals, given: new Set(raw.keys()) };
}

function defaultOf(option: OptionSpec): unknown {
  if (option.type === 'boolean') return false;
  const d = option.default;
  return typeof d === 'function' ? d() : d;
}

function convert(option: OptionSpec, value: string | true): unknown {
  const text = value === true ? '' : value;
  const name = `--${option.name}`;
  switch (option.type) {
    case 'boolean':
      return true;
    case 'choice': {
      const wanted = text.toLowerCase();
      const found = option.choices.find((c) => c.toLowerCase() === wanted);
      if (found !== undefined) return found;
      const alias = Object.entries(option.aliases ?? {}).find(([k]) => k.toLowerCase() === wanted);
      if (alias) return alias[1];
      throw new UsageError(`${name} must be one of ${option.choices.join(', ')}; got '${text}'${didYouMean(text, option.choices)}`);
    }
    case 'int': {
      if (!/^\s*-?\d+\s*$/.test(text)) throw new UsageError(`${name} must be a whole number; got '${text}'`);
      const n = Number(text);
      const { min, max } = option;
      if ((min !== undefined && n < min) || (max !== undefined && n > max)) {
        const range = min !== undefined && max !== undefined ? `between ${min} and ${max}` : min !== undefined ? `at least ${min}` : `at most ${max}`;
        throw new UsageError(`${name} must be ${range}; got ${text.trim()}`);
      }
      return n;
    }
    case 'size':
      return parseSize(text, name);
    case 'path':
      if (text === '') throw new UsageError(`${name} needs a path`);
      return text;
    case 'string':
      if (!option.parse) return text;
      try {
        return option.parse(text);
      } catch (err) {
        if (err instanceof UsageError) throw err;
        // A library parser's own wording (parseSplits' 'bad-argument') is the message.
        const reason = (err as { reason?: unknown }).reason;
        throw new UsageError(typeof reason === 'string' ? reason : (err as Error).message);
      }
  }
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** Sizes like `200MB`, `1.5GiB`, `4096` (bytes). */
export function parseSize(text: string, name: string): number {
  if (/^\s*-/.test(text)) throw new UsageError(`${name} must be positive; got '${text}'`);
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new UsageError(`${name} must be a size like 200MB or 1GiB; got '${text}'`);
  const n = Math.round(Number(m[1]) * unit);
  if (n <= 0) throw new UsageError(`${name} must be positive; got '${text}'`);
  return n;
}

/** 200000000 → "200MB": the way a size default is written on the command line. */
export function formatSize(n: number): string {
  for (const [unit, size] of [
    ['GB', 1e9],
    ['MB', 1e6],
    ['KB', 1e3],
  ] as const) {
    if (n >= size && n % size === 0) return `${n / size}${unit}`;
  }
  return String(n);
}

// ---------------------------------------------------------------------------
// Suggestions

/**
 * Optimal string alignment distance (Levenshtein plus adjacent swaps): the
 * number of one-character edits between two typed words, a swap counting one.
 */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[0]!.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]!.push(d);
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * The known word nearest `typed`, if near enough to be a slip: within a third
 * of its length (at least 1, at most 3 edits), or the only word it begins.
 */
export function nearest(typed: string, known: readonly string[]): string | undefined {
  const lower = typed.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const word of known) {
    const d = editDistance(lower, word.toLowerCase());
    if (d < bestDistance) {
      best = word;
      bestDistance = d;
    }
  }
  if (best !== undefined && bestDistance <= Math.min(3, Math.max(1, Math.floor(typed.length / 3)))) return best;
  const prefixed = lower.length >= 3 ? known.filter((w) => w.toLowerCase().startsWith(lower)) : [];
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** " (did you mean --annotations?)", or '' when nothing is near. */
export function didYouMean(typed: string, known: readonly string[], prefix = ''): string {
  const hit = nearest(typed, known);
  return hit === undefined ? '' : ` (did you mean ${prefix}${hit}?)`;
}

// ---------------------------------------------------------------------------
// Help

const WIDTH = 80;
const OPTION_COLUMN = 30;

export function placeholderOf(option: OptionSpec): string {
  if (option.placeholder !== undefined) return option.placeholder;
  switch (option.type) {
    case 'choice':
      return option.choices.join('|');
    case 'int':
      return 'N';
    case 'size':
      return 'SIZE';
    case 'path':
      return 'PATH';
    default:
      return 'VALUE';
  }
}

function flagText(option: OptionSpec): string {
  return option.type === 'boolean' ? `--${option.name}` : `--${option.name} ${placeholderOf(option)}`;
}

/** "(default: none)", "(required)", or '' when there is no default to state. */
function defaultNote(option: OptionSpec): string {
  if (option.required) return '(required)';
  if (option.defaultText !== undefined) return `(default: ${option.defaultText})`;
  if (option.type === 'boolean' || option.default === undefined || typeof option.default === 'function') return '';
  return `(default: ${option.type === 'size' ? formatSize(option.default) : String(option.default)})`;
}

/** `tfrecord-od convert --from coco|csv|voc|yolo --annotations PATH --out DIR [options]` */
export function usageLine(spec: CommandSpec): string {
  const parts = ['tfrecord-od', spec.name];
  if (spec.positionals) parts.push(spec.positionals.min > 0 ? spec.positionals.placeholder : `[${spec.positionals.placeholder}]`);
  for (const o of spec.options) if (o.required) parts.push(flagText(o));
  if (spec.options.some((o) => !o.required)) parts.push('[options]');
  return parts.join(' ');
}

/** Words of `text` in lines of at most `width` characters, each after `indent`. */
function wrap(text: string, indent: number, width = WIDTH): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines.map((l) => ' '.repeat(indent) + l);
}

/** The whole `<command> --help` text. */
export function formatHelp(spec: CommandSpec): string {
  const out: string[] = [`Usage: ${usageLine(spec)}`, ''];
  for (const paragraph of spec.description.split(/\n\s*\n/)) out.push(...wrap(paragraph, 0), '');
  if (spec.positionals) {
    out.push('Arguments:');
    out.push(...optionRow(spec.positionals.placeholder, spec.positionals.help));
    out.push('');
  }
  out.push('Options:');
  for (const o of spec.options) out.push(...optionRow(flagText(o), [o.help, defaultNote(o)].filter(Boolean).join(' ')));
  out.push(...optionRow('-h, --help', 'show this help'));
  out.push('', 'Examples:');
  for (const [args, what] of spec.examples) out.push(...wrap(what, 2), `    tfrecord-od ${spec.name} ${args}`);
  out.push('', 'Exit status: 0 success, 1 a problem with the data, 2 a usage mistake.');
  return out.join('\n') + '\n';
}

/** A flag and its help, the help in a column (or below, when the flag is wider). */
function optionRow(flag: string, help: string): string[] {
  const helpLines = wrap(help, OPTION_COLUMN);
  const head = `  ${flag}`;
  if (head.length < OPTION_COLUMN - 1 && helpLines.length > 0) {
    return [head.padEnd(OPTION_COLUMN) + helpLines[0]!.trimStart(), ...helpLines.slice(1)];
  }
  return [head, ...helpLines];
}
