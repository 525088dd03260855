/**
 * What each command loads at start-up, observed in a real process (the
 * compiled CLI with a module-loading hook): zod took 100–250 ms and
 * protobufjs 30–90 ms to load on the reference machine, and a worker thread
 * ~0.2 CPU-s to start, in runs whose own work can take less. So the
 * commands that do not need them must not load them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'dist/cli/main.js');
const SAMPLE = join(ROOT, 'fixtures/sample');

let dir: string;
let hook: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tfrecord-od-startup-'));
  // Registered in the main thread and, through --import, in every worker thread.
  const loader = join(dir, 'loader.mjs');
  // biome-ignore lint/suspicious/noTemplateCurlyInString: this is the source text of a loader hook, template literal included
  writeFileSync(loader, 'export async function load(url, context, next) { process.stderr.write(`LOADED ${url}\\n`); return next(url, context); }\n');
  hook = join(dir, 'hook.mjs');
  writeFileSync(hook, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(loader).href)});\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs node with the hook; returns the URLs loaded, with their count. */
function loaded(args: string[]): { status: number | null; urls: string[]; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(hook).href, ...args], { encoding: 'utf8', cwd: dir });
  const urls = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('LOADED '))
    .map((l) => l.slice(7));
  return { status: r.status, urls, stderr: r.stderr };
}

const uses = (urls: string[], pkg: string) => urls.some((u) => u.includes(`/node_modules/${pkg}/`));

describe('start-up loads only what a command needs', () => {
  let out: string;
  it('convert of a small dataset: no zod, no protobufjs, no worker thread', () => {
    out = join(dir, 'out');
    const csv = join(SAMPLE, 'csv/annotations.csv');
    const r = loaded([CLI, 'convert', '--from', 'csv', '--annotations', csv, '--images', join(SAMPLE, 'images'), '--out', out, '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.urls.some((u) => u.endsWith('/dist/cli/commands/convert.js'))).toBe(true); // the hook sees the command
    expect(uses(r.urls, 'zod')).toBe(false);
    expect(uses(r.urls, 'protobufjs')).toBe(false);
    expect(r.urls.filter((u) => u.endsWith('/item-worker.js'))).toEqual([]);
  });

  it.each([['validate'], ['stats'], ['inspect']])('%s: no zod, no protobufjs, no sharp', (command) => {
    const target = command === 'inspect' ? join(out, 'data-00000-of-00001.tfrecord') : out;
    const r = loaded([CLI, command, '--json', target]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.urls.some((u) => u.endsWith(`/dist/cli/commands/${command}.js`))).toBe(true);
    for (const pkg of ['zod', 'protobufjs', 'sharp']) expect(uses(r.urls, pkg), pkg).toBe(false);
  });

  it('the package root loads neither zod nor protobufjs; protobufjs comes with the first SequenceExample', () => {
    // CommonJS loaded with require() does not pass the hook: require.cache tells.
    const script = [
      "import { createRequire } from 'node:module';",
      'const cache = () => Object.keys(createRequire(import.meta.url).cache);',
      `const m = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'dist/index.js')).href)});`,
      'const before = cache();',
      'const bytes = m.encodeSequenceExample({ context: { a: m.int64Feature(7) } });',
      'console.log(JSON.stringify({ before, after: cache(), value: m.decodeSequenceExample(bytes).context.a.values[0] }));',
    ].join('\n');
    const r = loaded(['--input-type=module', '-e', script]);
    expect(r.status, r.stderr).toBe(0);
    const seen = JSON.parse(spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: dir }).stdout) as {
      before: string[];
      after: string[];
      value: number;
    };
    expect(r.urls.some((u) => u.endsWith('/dist/index.js'))).toBe(true);
    expect(uses(r.urls, 'zod')).toBe(false);
    expect(uses(r.urls, 'protobufjs')).toBe(false);
    expect(uses(seen.before, 'protobufjs')).toBe(false);
    expect(uses(seen.after, 'protobufjs')).toBe(true);
    expect(seen.value).toBe(7);
  });
});
