/**
 * `--help` and usage mistakes are answered from the option tables alone:
 * sharp, zod and protobufjs (and the importers) are not loaded for them. The
 * built CLI is run as a process with a module hook that lists every module
 * the process resolves.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
// An importer's reading code; its constants (format.js) and the CSV column-mapping parser are light and may load.
const HEAVY = /node_modules\/(sharp|zod|protobufjs)\/|dist\/formats\/(coco|csv|voc|yolo|openimages|vertex|labelme)\/(read|scan|parse|detect)\.js/;

let dir: string;
let hook: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tfrecord-od-startup-'));
  await writeFile(
    join(dir, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.MODULE_LOG, r.url + '\\n');
  return r;
}
`,
  );
  hook = join(dir, 'register.mjs');
  await writeFile(hook, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The modules the CLI process resolved for `args`, and its exit code. */
async function modulesFor(args: string[], log: string): Promise<{ code: number | null; modules: string[] }> {
  const file = join(dir, log);
  await writeFile(file, '');
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(hook).href, CLI, ...args], { env: { ...process.env, MODULE_LOG: file }, encoding: 'utf8' });
  return { code: r.status, modules: (await readFile(file, 'utf8')).split('\n').filter(Boolean) };
}

describe('start-up', () => {
  const cases: Array<[string, string[], number]> = [
    ['--help', ['--help'], 0],
    ['convert --help', ['convert', '--help'], 0],
    ['validate --help', ['validate', '--help'], 0],
    ['preview --help', ['preview', '--help'], 0],
    ['a usage mistake', ['convert', '--from', 'csv', '--annotation', 'x', '--out', 'o'], 2],
    ['a missing input', ['validate', '/nonexistent/x.tfrecord'], 2],
  ];
  it.each(cases)('%s loads no heavy module', async (name, args, code) => {
    const r = await modulesFor(args, `${name.replace(/\W+/g, '-')}.log`);
    expect(r.code).toBe(code);
    // The hook works: it saw the CLI's own modules.
    expect(r.modules.some((m) => m.endsWith('/dist/cli/commands.js'))).toBe(true);
    expect(r.modules.filter((m) => HEAVY.test(m))).toEqual([]);
  });

  it('the hook does see heavy modules when a command runs (the check can fail)', async () => {
    // A folder without TFRecord files: the command loads, then reports it (exit 1).
    const r = await modulesFor(['preview', dir, '--out', join(dir, 'p')], 'run.log');
    expect(r.code).toBe(1);
    expect(r.modules.some((m) => /node_modules\/sharp\//.test(m))).toBe(true);
  });
});
