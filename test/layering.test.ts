/**
 * record/ and example/ are documented as free of Node APIs (they run in a
 * browser or any JS runtime; io/ adds files, streams, zlib and the native
 * CRC). Checked on the source text: every module they import, directly or
 * through other project modules (errors.ts, say), must not load a Node
 * built-in, with or without the `node:` prefix, nor use require().
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const PURE_LAYERS = ['record', 'example'];

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Module specifiers of static imports/re-exports and dynamic import() calls. */
function specifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [/\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const re of patterns) for (const m of source.matchAll(re)) found.push(m[1]!);
  return found;
}

/** Every project file reachable from `start` through relative imports, with its source. */
function reachable(start: string[]): Map<string, string> {
  const seen = new Map<string, string>();
  const queue = [...start];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    const source = readFileSync(file, 'utf8');
    seen.set(file, source);
    for (const spec of specifiers(source)) {
      if (spec.startsWith('.')) queue.push(path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts'));
    }
  }
  return seen;
}

describe('layering', () => {
  const roots = PURE_LAYERS.flatMap((layer) =>
    readdirSync(path.join(SRC, layer))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => path.join(SRC, layer, f)),
  );

  it('finds the modules it checks (the scan itself works)', () => {
    const files = reachable(roots);
    expect(roots.length).toBeGreaterThan(5);
    expect([...files.keys()]).toContain(path.join(SRC, 'errors.ts'));
    // The pattern must see a node: import where there is one.
    expect(specifiers(readFileSync(path.join(SRC, 'io', 'native-crc.ts'), 'utf8'))).toContain('node:module');
    expect(specifiers("import x from 'node:fs';\nexport { y } from \"zlib\";\nawait import('node:url');")).toEqual(['node:fs', 'zlib', 'node:url']);
  });

  it('record/ and example/ (and what they import) use no Node built-in modules', () => {
    const offenders: string[] = [];
    for (const [file, source] of reachable(roots)) {
      const rel = path.relative(SRC, file);
      for (const spec of specifiers(source)) if (builtins.has(spec)) offenders.push(`${rel} imports ${spec}`);
      if (/\brequire\s*\(/.test(source)) offenders.push(`${rel} calls require()`);
      if (/\bcreateRequire\b/.test(source)) offenders.push(`${rel} uses createRequire`);
    }
    expect(offenders).toEqual([]);
  });
});
