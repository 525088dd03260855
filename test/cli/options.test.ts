import { describe, expect, it } from 'vitest';
import { COMMANDS, CONVERT, INSPECT, JOB_ARGS, MAX_WORKERS, PREVIEW, VALIDATE } from '../../src/cli/commands.js';
import { UsageError } from '../../src/cli/io.js';
import { editDistance, formatHelp, nearest, parseCommandLine, type CommandSpec } from '../../src/cli/spec.js';
import { CONVERT_DEFAULTS } from '../../src/convert/options.js';
import { TARGETS } from '../../src/dataset/manifest.js';
import { FORMATS } from '../../src/formats/registry.js';
import { DEFAULT_PREVIEW_LIMIT } from '../../src/preview/preview.js';
import { runCli } from '../helpers/cli.js';

const convertArgs = ['--from', 'csv', '--annotations', 'a.csv', '--out', 'o'];

function usageError(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
  throw new Error('expected a UsageError');
}

describe('the parser', () => {
  it('fills every default from the library constants', () => {
    const { values } = parseCommandLine(CONVERT, convertArgs);
    expect(values).toMatchObject({
      from: 'csv',
      annotations: 'a.csv',
      out: 'o',
      compression: CONVERT_DEFAULTS.compression,
      'shard-size': CONVERT_DEFAULTS.shardSize,
      seed: CONVERT_DEFAULTS.seed,
      bbox: CONVERT_DEFAULTS.bbox,
      'on-error': CONVERT_DEFAULTS.onError,
      crowd: CONVERT_DEFAULTS.crowd,
      empty: CONVERT_DEFAULTS.empty,
      format: CONVERT_DEFAULTS.format,
      target: CONVERT_DEFAULTS.target,
      // Not given: the library decides from the number of images (CONVERT_DEFAULTS.workers).
      workers: undefined,
      quiet: false,
      json: false,
    });
    expect(values.images).toBeUndefined();
    expect(values.shards).toBeUndefined();
    // validate's target has no fixed default: a folder's manifest decides it, else the library's ai-platform.
    expect(parseCommandLine(VALIDATE, ['x']).values.target).toBeUndefined();
    expect(parseCommandLine(PREVIEW, ['x', '--out', 'o']).values.limit).toBe(DEFAULT_PREVIEW_LIMIT);
  });

  it('converts values by type: ints, sizes, choices (any letter case, aliases), custom parsers', () => {
    const { values } = parseCommandLine(CONVERT, [
      ...convertArgs,
      '--from',
      'COCO',
      '--shard-size',
      '1.5GiB',
      '--compression',
      'uncompressed',
      '--split',
      'a=8,b=2',
      '--workers=3',
      '--quiet',
    ]);
    expect(values.from).toBe('coco');
    expect(values['shard-size']).toBe(Math.round(1.5 * 1024 ** 3));
    expect(values.compression).toBe('none');
    expect(values.split).toEqual([
      { name: 'a', fraction: 0.8 },
      { name: 'b', fraction: 0.2 },
    ]);
    expect(values.workers).toBe(3);
    expect(values.quiet).toBe(true);
  });

  it('an unknown option names the nearest known one', () => {
    expect(usageError(() => parseCommandLine(CONVERT, [...convertArgs, '--annotation', 'x']))).toBe(
      "unknown option '--annotation' (did you mean --annotations?)",
    );
    expect(usageError(() => parseCommandLine(CONVERT, [...convertArgs, '--shard_size', '1MB']))).toBe(
      "unknown option '--shard_size' (did you mean --shard-size?)",
    );
    expect(usageError(() => parseCommandLine(VALIDATE, ['x', '--lable-map', 'm']))).toBe("unknown option '--lable-map' (did you mean --label-map?)");
    expect(usageError(() => parseCommandLine(VALIDATE, ['x', '--frobnicate']))).toBe("unknown option '--frobnicate'");
    expect(usageError(() => parseCommandLine(INSPECT, ['x', '-l', '3']))).toMatch(/^unknown option '-l'/);
  });

  it('negative numbers are values with a clear range message, not "ambiguous" options', () => {
    expect(usageError(() => parseCommandLine(CONVERT, [...convertArgs, '--shards', '-3']))).toBe('--shards must be at least 1; got -3');
    expect(usageError(() => parseCommandLine(CONVERT, [...convertArgs, '--seed', '-1']))).toBe('--seed must be at least 0; got -1');
    expect(usageError(() => parseCommandLine(CONVERT, [...convertArgs, '--shard-size', '-5MB']))).toBe("--shard-size must be positive; got '-5MB'");
    expect(usageError(() => parseCommandLine(CONVERT, [...convertArgs, '--quality', '-80']))).toBe('--quality must be between 1 and 100; got -80');
  });

  it(`--workers above ${MAX_WORKERS} is a usage error`, () => {
    expect(parseCommandLine(CONVERT, [...convertArgs, '--workers', String(MAX_WORKERS)]).values.workers).toBe(MAX_WORKERS);
    expect(usageError(() => parseCommandLine(CONVERT, [...convertArgs, '--workers', '1000']))).toBe(`--workers must be between 0 and ${MAX_WORKERS}; got 1000`);
  });

  it('a value-taking option followed by another option, or by nothing, says it needs a value', () => {
    expect(usageError(() => parseCommandLine(CONVERT, ['--from', 'csv', '--annotations', '--out', 'o']))).toBe(
      "--annotations needs a value (PATH); got the option '--out'",
    );
    expect(usageError(() => parseCommandLine(CONVERT, [...convertArgs, '--seed']))).toBe('--seed needs a value (N)');
    expect(usageError(() => parseCommandLine(CONVERT, [...convertArgs, '--json=yes']))).toBe("--json takes no value; got '--json=yes'");
  });

  it('names the option in every malformed value', () => {
    expect(usageError(() => parseCommandLine(CONVERT, [...convertArgs, '--bbox', 'shrink']))).toBe("--bbox must be one of clip, drop, fail; got 'shrink'");
    expect(usageError(() => parseCommandLine(CONVERT, [...convertArgs, '--from', 'yollo']))).toBe(
      "--from must be one of coco, openimages, csv, vertex, voc, labelme, yolo; got 'yollo' (did you mean yolo?)",
    );
    expect(usageError(() => parseCommandLine(VALIDATE, ['x', '--num-classes', 'many']))).toBe("--num-classes must be a whole number; got 'many'");
    expect(usageError(() => parseCommandLine(JOB_ARGS, ['o', '--bucket', 'my-bucket']))).toBe("--bucket must look like gs://BUCKET/PATH; got 'my-bucket'");
  });

  it('checks required options, exclusive pairs and the number of positionals', () => {
    expect(usageError(() => parseCommandLine(CONVERT, ['--annotations', 'a', '--out', 'o']))).toBe('--from is required');
    expect(usageError(() => parseCommandLine(CONVERT, [...convertArgs, '--shards', '2', '--shard-size', '1MB']))).toBe(
      'give --shards or --shard-size, not both',
    );
    expect(usageError(() => parseCommandLine(CONVERT, [...convertArgs, 'extra']))).toBe("unexpected argument 'extra'");
    expect(usageError(() => parseCommandLine(VALIDATE, []))).toBe('no input files or directories');
    expect(usageError(() => parseCommandLine(JOB_ARGS, ['a', 'b']))).toBe("unexpected argument 'b'");
    // After `--`, everything is a positional, even what looks like an option.
    expect(parseCommandLine(INSPECT, ['--', '--json']).positionals).toEqual(['--json']);
  });
});

describe('suggestions', () => {
  it('edit distance counts insertions, deletions, substitutions and adjacent swaps as one', () => {
    expect(editDistance('annotation', 'annotations')).toBe(1);
    expect(editDistance('lable', 'label')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });

  it('suggests only what is near: a slip, a letter-case difference, or the one word a prefix begins', () => {
    const names = ['annotations', 'images', 'image-set', 'out'];
    expect(nearest('annotaions', names)).toBe('annotations');
    expect(nearest('IMAGES', names)).toBe('images');
    expect(nearest('annot', names)).toBe('annotations');
    expect(nearest('image', names)).toBe('images');
    expect(nearest('zzz', names)).toBeUndefined();
    expect(nearest('o', names)).toBeUndefined();
  });
});

describe('the tables', () => {
  it('offer exactly the formats of the registry, and the targets of the manifest', () => {
    const from = CONVERT.options.find((o) => o.name === 'from')!;
    expect(from.type === 'choice' && [...from.choices]).toEqual(FORMATS.map((f) => f.name));
    for (const spec of [CONVERT, VALIDATE]) {
      const target = spec.options.find((o) => o.name === 'target')!;
      expect(target.type === 'choice' && [...target.choices]).toEqual([...TARGETS]);
    }
  });

  it('every command has a description, help for every option and argument, and 2-3 examples', () => {
    for (const { spec } of COMMANDS) {
      const s = spec as CommandSpec;
      expect(s.description.length, s.name).toBeGreaterThan(40);
      expect(s.examples.length, s.name).toBeGreaterThanOrEqual(2);
      expect(s.examples.length, s.name).toBeLessThanOrEqual(3);
      for (const o of s.options) expect(o.help.length, `${s.name} --${o.name}`).toBeGreaterThan(5);
      expect(new Set(s.options.map((o) => o.name)).size, s.name).toBe(s.options.length);
      // Each example parses against its own table (paths aside: they are checked later).
      for (const [args] of s.examples) {
        const argv = args
          .replace(/ [>|] .*$/, '')
          .match(/'[^']*'|\S+/g)!
          .map((a) => a.replace(/^'|'$/g, ''));
        expect(() => parseCommandLine(s, argv), `${s.name} ${args}`).not.toThrow();
      }
    }
  });
});

describe('--help', () => {
  it('tfrecord-od --help lists every command with its summary', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const { spec } of COMMANDS) expect(r.stdout).toMatch(new RegExp(`\\n  ${spec.name}\\s+${spec.summary.slice(0, 20)}`));
  });

  it.each(COMMANDS.map((c) => [c.spec.name, c.spec] as const))(
    '%s --help: usage, description, every option with its help and default, examples',
    async (name, spec) => {
      const r = await runCli([name, '--help']);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      const text = r.stdout;
      expect(text.startsWith(`Usage: tfrecord-od ${name}`)).toBe(true);
      // Help is wrapped: compare with runs of whitespace made single spaces.
      const flat = text.replace(/\s+/g, ' ');
      expect(flat).toContain(spec.description.split('\n')[0]!.replace(/\s+/g, ' ').slice(0, 60));
      for (const o of spec.options) {
        expect(text, `--${o.name}`).toMatch(new RegExp(`^  --${o.name}\\b`, 'm'));
        expect(flat, `--${o.name}`).toContain(o.help.replace(/\s+/g, ' '));
        if ('default' in o && o.default !== undefined && typeof o.default !== 'function' && o.defaultText === undefined) {
          const shown = o.type === 'size' ? '200MB' : String(o.default);
          expect(flat, `--${o.name}`).toContain(`(default: ${shown})`);
        }
        if (o.defaultText !== undefined) expect(flat).toContain(`(default: ${o.defaultText.replace(/\s+/g, ' ')})`);
      }
      expect(text).toContain('Examples:');
      for (const [args] of spec.examples) expect(text).toContain(`tfrecord-od ${name} ${args}`);
      expect(formatHelp(spec)).toBe(text);
    },
  );

  it('--help wins over any other mistake on the line, and -h works too', async () => {
    const r = await runCli(['convert', '--bogus', '-h']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: tfrecord-od convert --from coco\|openimages\|csv\|vertex\|voc\|labelme\|yolo --annotations PATH --out DIR \[options\]/);
  });

  it('a usage mistake prints the message, the usage line and where the help is; exit 2', async () => {
    const r = await runCli(['convert', '--from', 'csv', '--annotation', 'a.csv', '--out', 'o']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      "tfrecord-od convert: unknown option '--annotation' (did you mean --annotations?)\n" +
        'Usage: tfrecord-od convert --from coco|openimages|csv|vertex|voc|labelme|yolo --annotations PATH --out DIR [options]\n' +
        "Run 'tfrecord-od convert --help' for every option.\n",
    );
    expect(r.stderr).not.toMatch(/TypeError|ERR_PARSE_ARGS|ambiguous/);
  });

  it('an unknown command names the nearest one', async () => {
    const r = await runCli(['valdate', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^tfrecord-od: unknown command 'valdate' \(did you mean validate\?\)/);
  });
});
