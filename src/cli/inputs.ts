/**
 * The paths a command line names, checked before the command runs: a path
 * that does not exist is a usage mistake (exit 2) named once, not an error
 * per file later, and the file patterns TensorFlow users write
 * (`validate 'out/val-*'`, quoted so the shell leaves them alone) are
 * expanded here, the way `tf.io.gfile.glob` reads them.
 */
import { readdirSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { UsageError } from './io.js';
import { didYouMean, type CommandSpec, type ParsedCommand } from './spec.js';

const GLOB_META = /[*?[]/;

/** True when `part` holds a wildcard (`*`, `?` or a `[...]` class). */
export function hasGlob(part: string): boolean {
  return GLOB_META.test(part);
}

/**
 * One path component's pattern as a regular expression, with fnmatch's
 * meaning (TensorFlow's FileSystem::Match calls fnmatch with FNM_PATHNAME):
 * `*` any run of characters, `?` one character, `[abc]`, `[a-z]`, `[!a]` or
 * `[^a]` one character of (or not of) a set, `\x` the character x. Neither
 * wildcard crosses a '/', and a leading '.' is matched like any other
 * character (no FNM_PERIOD), so `*` also matches hidden files, as in TF.
 * An unclosed `[` stands for itself.
 */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) re += escapeRegExp(pattern[++i]!);
    else if (c === '[') {
      const close = classEnd(pattern, i);
      if (close < 0) {
        re += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, close);
      let negate = false;
      if (body[0] === '!' || body[0] === '^') {
        negate = true;
        body = body.slice(1);
      }
      // Inside a class only '\', ']' and '^' mean anything to a RegExp; ranges (a-z) are kept.
      const set = body.replace(/[\\\]^]/g, (m) => `\\${m}`);
      re += negate ? `[^/${set}]` : `[${set}]`;
      i = close;
    } else re += escapeRegExp(c);
  }
  return new RegExp(`^${re}$`, 's');
}

/** Index of the `]` closing the class opened at `open` (a `]` right after `[` or `[!` is a member), or -1. */
function classEnd(pattern: string, open: number): number {
  let i = open + 1;
  if (pattern[i] === '!' || pattern[i] === '^') i++;
  if (pattern[i] === ']') i++;
  const end = pattern.indexOf(']', i);
  return end;
}

function escapeRegExp(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function statOf(path: string): Stats | undefined {
  return statSync(path, { throwIfNoEntry: false });
}

/**
 * The paths matching `pattern` (relative patterns taken from `cwd`), sorted,
 * in the pattern's own form: a relative pattern gives relative paths.
 * Wildcards may appear in any component; components before the first one are
 * taken as they are. Folders that cannot be listed match nothing.
 */
export function expandGlob(pattern: string, cwd: string): string[] {
  const absolute = isAbsolute(pattern);
  const parts = pattern.split('/');
  let start = 0;
  while (start < parts.length && !hasGlob(parts[start]!)) start++;
  // Candidates as typed (`fixed`), each with where it is on disk.
  const fixed = parts.slice(0, start).join('/');
  let found: Array<{ typed: string; disk: string }> = [{ typed: fixed, disk: absolute ? fixed || '/' : resolve(cwd, fixed) }];
  for (let k = start; k < parts.length; k++) {
    const part = parts[k]!;
    const last = k === parts.length - 1;
    const next: typeof found = [];
    for (const at of found) {
      const join2 = (name: string) => ({ typed: at.typed === '' && !absolute ? name : `${at.typed}/${name}`, disk: join(at.disk, name) });
      if (part === '') {
        // A trailing or doubled '/': the path so far must be a folder.
        if (statOf(at.disk)?.isDirectory()) next.push({ typed: `${at.typed}/`, disk: at.disk });
        continue;
      }
      if (!hasGlob(part)) {
        const child = join2(part);
        if (last ? statOf(child.disk) : statOf(child.disk)?.isDirectory()) next.push(child);
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(at.disk);
      } catch {
        continue;
      }
      const re = globToRegExp(part);
      for (const name of names.filter((n) => re.test(n)).sort()) {
        const child = join2(name);
        if (last || statOf(child.disk)?.isDirectory()) next.push(child);
      }
    }
    found = next;
  }
  return found.map((f) => f.typed).sort();
}

/** " (did you mean images?)" when a name in the same folder is close (letter case, a typo); '' otherwise. */
export function nearbyName(path: string, cwd: string): string {
  const dir = resolve(cwd, dirname(path));
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return '';
  }
  const hint = didYouMean(basename(path), names);
  if (hint === '') return '';
  const near = hint.slice(' (did you mean '.length, -'?)'.length);
  const shown = dirname(path) === '.' && !path.startsWith('./') ? near : join(dirname(path), near);
  return ` (did you mean ${shown}?)`;
}

/**
 * Input paths as the command will read them: each existing path as given,
 * each pattern replaced by its matches. A path that does not exist, or a
 * pattern that matches nothing, is a UsageError naming it.
 */
export function expandInputs(paths: readonly string[], cwd: string): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (statOf(resolve(cwd, p))) out.push(p);
    else if (hasGlob(p)) {
      const matches = expandGlob(p, cwd);
      if (matches.length === 0) throw new UsageError(`no files match '${p}'`);
      out.push(...matches);
    } else throw new UsageError(`no such file or directory: ${p}${nearbyName(p, cwd)}`);
  }
  return out;
}

/**
 * The file-system half of a command line's checks, after parseCommandLine:
 * the path options' `mustBe` and the positional paths. Returns the parsed
 * command with its inputs expanded.
 */
export function checkPaths<S extends CommandSpec>(spec: S, parsed: ParsedCommand<S>, cwd: string): ParsedCommand<S> {
  const values = parsed.values as Record<string, unknown>;
  for (const option of spec.options) {
    if (option.type !== 'path' || option.mustBe === undefined) continue;
    const value = values[option.name];
    if (typeof value !== 'string') continue;
    const st = statOf(resolve(cwd, value));
    const flag = `--${option.name}`;
    if (option.mustBe === 'output-folder') {
      if (st && !st.isDirectory()) throw new UsageError(`${flag} is a file, not a folder: ${value}`);
      continue;
    }
    if (!st) throw new UsageError(`${option.missing ?? 'no such file or directory'}: ${value}${nearbyName(value, cwd)}`);
    if (option.mustBe === 'directory' && !st.isDirectory()) throw new UsageError(`${flag} is a file, not a folder: ${value}`);
    if (option.mustBe === 'file' && st.isDirectory()) throw new UsageError(`${flag} is a folder, not a file: ${value}`);
  }
  const kind = spec.positionals?.kind;
  if (kind === 'inputs') return { ...parsed, positionals: expandInputs(parsed.positionals, cwd) };
  if (kind === 'path') {
    for (const p of parsed.positionals) {
      if (!statOf(resolve(cwd, p))) throw new UsageError(`no such file or directory: ${p}${nearbyName(p, cwd)}`);
    }
  }
  return parsed;
}
