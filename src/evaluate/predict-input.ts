/**
 * Inputs for a detection SavedModel whose serving signature takes
 * `encoded_image` (the image file's bytes, as in `image/encoded`) and `key`
 * (a string it passes through to its outputs): one instance per image,
 * `{"encoded_image": {"b64": "…"}, "key": "…"}`, the JSON form prediction
 * services use for binary inputs.
 *
 * Images come from TFRecords (the bytes of `image/encoded`, exactly; the key
 * is the one `evaluate` matches by, image/source_id) or from folders of image
 * files at any depth (the file's bytes; the key is its path relative to the
 * folder). Written either as JSON lines, one instance each (batch
 * prediction's input), or as `{"instances": […]}` request bodies for online
 * prediction, each under a size limit, one per line or one per numbered
 * file. A side file `<out>.sources.jsonl` says where each key came from.
 *
 * One image is in memory at a time (plus, for request bodies, the body being
 * filled); every output appears by rename, complete or not at all.
 */
import { mkdir, readdir, readFile, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, sep } from 'node:path';
import { fromExample } from '../detection/from-example.js';
import { describeFsError, isTfrecordError, TfrecordError } from '../errors.js';
import { decodeExample } from '../example/codec.js';
import { sniffFormat, TF_DECODABLE_FORMATS } from '../image/probe.js';
import { temporaryPath } from '../io/write.js';
import { TFRECORD_NAME, walkRecords } from '../walk/walk-records.js';
import { AtomicText } from './atomic-text.js';
import { imageKey } from './ground-truth.js';

/** Online prediction's request size limit (Vertex AI: 1.5 MB), the default for request bodies. */
export const DEFAULT_MAX_REQUEST_BYTES = 1_500_000;

/** Image files taken from folders: what the model's decode_image reads. */
const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.gif', '.bmp']);

export type PredictInputFormat = 'jsonl' | 'instances';

export interface PredictInputOptions {
  /**
   * Output file; for `instances`, a folder (an existing one, or a path
   * ending in '/') gets numbered files `request-00000.json`, … instead of
   * one body per line.
   */
  out: string;
  format?: PredictInputFormat;
  /** Largest request body, in bytes (`instances` only; default DEFAULT_MAX_REQUEST_BYTES). */
  maxRequestBytes?: number;
  /** How paths are shown in messages and in the sources file (default: as they are). */
  display?: (path: string) => string;
}

export interface PredictInputResult {
  /** Instances written (one per image). */
  instances: number;
  /** Request bodies written (`instances`); for `jsonl`, equal to `instances`. */
  requests: number;
  /** Bytes of output (all request files together). */
  bytes: number;
  /** The output file or folder. */
  out: string;
  /** The key → source map. */
  sourcesFile: string;
  /** Files in image folders left out because their extension is not an image's. */
  skippedFiles: number;
}

/** One image and where it came from. */
interface Source {
  key: string;
  bytes: Uint8Array;
  file: string;
  record?: number;
}

/** A path is an image file by its extension. */
function isImagePath(path: string): boolean {
  return IMAGE_EXTENSIONS.has(extname(path).toLowerCase());
}

/** Every image file under `dir`, at any depth, as paths relative to it, sorted; and how many other files there were. */
async function listImages(dir: string): Promise<{ images: string[]; skipped: number }> {
  const images: string[] = [];
  let skipped = 0;
  const visit = async (sub: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(join(dir, sub), { withFileTypes: true });
    } catch (err) {
      throw new TfrecordError('io', describeFsError(err), { file: join(dir, sub), cause: err });
    }
    for (const e of entries) {
      const rel = sub === '' ? e.name : join(sub, e.name);
      // Symlinked folders are not followed (they can loop); symlinked files are read.
      if (e.isDirectory()) await visit(rel);
      else if (e.isFile() || e.isSymbolicLink()) {
        if (isImagePath(e.name) && !e.name.startsWith('.')) images.push(rel);
        else skipped++;
      }
    }
  };
  await visit('');
  images.sort();
  return { images, skipped };
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false; // reading it reports what is wrong
  }
}

/** A folder is TFRecords when it has *.tfrecord* files directly inside it, else a folder of images. */
async function holdsTfrecords(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir, { withFileTypes: true })).some((d) => d.isFile() && TFRECORD_NAME.test(d.name));
  } catch (err) {
    throw new TfrecordError('io', describeFsError(err), { file: dir, cause: err });
  }
}

async function readImage(path: string, shown: string): Promise<Uint8Array> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new TfrecordError('io', describeFsError(err), { file: shown, cause: err });
  }
  const format = sniffFormat(bytes);
  if (format === undefined || !TF_DECODABLE_FORMATS.includes(format)) {
    throw new TfrecordError(
      'image',
      `${format ? `a ${format} image` : 'not an image the model can decode'}: the model reads ${TF_DECODABLE_FORMATS.join(', ')}`,
      {
        file: shown,
      },
    );
  }
  return bytes;
}

/** The images of all inputs in order: each path in turn, records in file order, folder images sorted by path. */
async function* imageSources(paths: readonly string[], display: (p: string) => string, counts: { skipped: number }): AsyncGenerator<Source> {
  for (const path of paths) {
    if (await isDirectory(path)) {
      if (await holdsTfrecords(path)) {
        yield* recordSources(path, display);
        continue;
      }
      const { images, skipped } = await listImages(path);
      counts.skipped += skipped;
      if (images.length === 0)
        throw new TfrecordError('io', `folder holds no *.tfrecord* files and no images (${[...IMAGE_EXTENSIONS].join(' ')})`, { file: display(path) });
      for (const rel of images) {
        const file = join(path, rel);
        // Keys use '/' whatever the platform, so they read the same everywhere.
        yield { key: rel.split(sep).join('/'), bytes: await readImage(file, display(file)), file };
      }
    } else if (isImagePath(path)) {
      yield { key: basename(path), bytes: await readImage(path, display(path)), file: path };
    } else {
      yield* recordSources(path, display);
    }
  }
}

async function* recordSources(path: string, display: (p: string) => string): AsyncGenerator<Source> {
  for await (const ev of walkRecords([path], { borrow: true })) {
    if (ev.kind === 'file') continue;
    if (ev.kind === 'problem') throw ev.error;
    const where = { file: display(ev.file), record: ev.index, offset: ev.offset };
    let key: string | undefined;
    let bytes: Uint8Array;
    try {
      const d = fromExample(decodeExample(ev.payload));
      key = imageKey(d);
      bytes = d.image;
    } catch (err) {
      if (isTfrecordError(err)) throw err.withLocation(where);
      throw err;
    }
    if (key === undefined) throw new TfrecordError('annotation', 'record has neither image/source_id nor image/filename to key its predictions by', where);
    // `bytes` is a view into the lent payload: encoded before the next record is asked for.
    yield { key, bytes, file: ev.file, record: ev.index };
  }
}

/** Where request bodies go: lines of one file, or numbered files in a folder that appears whole. */
interface BodySink {
  write(body: string, index: number): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  bytes(): number;
}

function lineSink(path: string): BodySink {
  const file = new AtomicText(path);
  return {
    write: (body) => file.write(`${body}\n`),
    commit: () => file.commit(),
    abort: () => file.abort(),
    bytes: () => file.bytes,
  };
}

/** Numbered request files in a temporary folder next to `dir`, renamed to `dir` at the end. */
async function folderSink(dir: string, shown: string): Promise<BodySink> {
  try {
    const existing = await readdir(dir);
    if (existing.length > 0)
      throw new TfrecordError('io', 'output folder exists and is not empty; request files are only written into a new or empty folder', { file: shown });
  } catch (err) {
    if (isTfrecordError(err)) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new TfrecordError('io', describeFsError(err), { file: shown, cause: err });
  }
  const temp = temporaryPath(dir);
  await mkdir(temp, { recursive: true });
  let bytes = 0;
  return {
    async write(body, index) {
      const file = new AtomicText(join(temp, `request-${String(index).padStart(5, '0')}.json`));
      try {
        await file.write(body);
        await file.commit();
      } catch (err) {
        await file.abort();
        throw err;
      }
      bytes += file.bytes;
    },
    async commit() {
      await rmdir(dir).catch(() => undefined); // an empty folder given as the target
      await rename(temp, dir);
    },
    abort: () => rm(temp, { recursive: true, force: true }),
    bytes: () => bytes,
  };
}

const BODY_OPEN = '{"instances": [';
const BODY_SEPARATOR = ', ';
const BODY_CLOSE = ']}';

/** Writes the instances (see the file comment). */
export async function writePredictInput(paths: readonly string[], options: PredictInputOptions): Promise<PredictInputResult> {
  const format = options.format ?? 'jsonl';
  const limit = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const display = options.display ?? ((p: string) => p);
  const toFolder = format === 'instances' && (options.out.endsWith('/') || options.out.endsWith(sep) || (await isDirectory(options.out)));
  const out = toFolder ? options.out.replace(/[/\\]+$/, '') : options.out;
  const sourcesPath = `${out}.sources.jsonl`;
  await mkdir(dirname(out), { recursive: true });

  const sink = toFolder ? await folderSink(out, display(out)) : lineSink(out);
  const sources = new AtomicText(sourcesPath);
  const seen = new Map<string, string>();
  const counts = { skipped: 0 };
  let instances = 0;
  let requests = 0;
  // The body being filled (instances format).
  let pending: string[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    await sink.write(BODY_OPEN + pending.join(BODY_SEPARATOR) + BODY_CLOSE, requests);
    requests++;
    pending = [];
    pendingBytes = 0;
  };

  try {
    for await (const s of imageSources(paths, display, counts)) {
      const where = s.record !== undefined ? `${display(s.file)} record ${s.record}` : display(s.file);
      const earlier = seen.get(s.key);
      if (earlier !== undefined) {
        throw new TfrecordError('annotation', `image key '${s.key}' is also used by ${earlier}; predictions could not be told apart`, {
          file: display(s.file),
          ...(s.record !== undefined ? { record: s.record } : {}),
        });
      }
      seen.set(s.key, where);
      const instance = `{"encoded_image": {"b64": "${Buffer.from(s.bytes.buffer, s.bytes.byteOffset, s.bytes.byteLength).toString('base64')}"}, "key": ${JSON.stringify(s.key)}}`;
      if (format === 'jsonl') {
        await sink.write(instance, instances);
        requests++;
      } else {
        const size = Buffer.byteLength(instance);
        const alone = BODY_OPEN.length + size + BODY_CLOSE.length;
        if (alone > limit) {
          throw new TfrecordError(
            'bad-argument',
            `image '${s.key}' (${s.bytes.length} bytes) alone makes a ${alone}-byte request, over the ${limit}-byte limit (--max-request-bytes); images are never split`,
            {
              file: display(s.file),
              ...(s.record !== undefined ? { record: s.record } : {}),
            },
          );
        }
        const grown = pending.length === 0 ? alone : pendingBytes + BODY_SEPARATOR.length + size;
        if (grown > limit) await flush();
        pendingBytes = pending.length === 0 ? alone : pendingBytes + BODY_SEPARATOR.length + size;
        pending.push(instance);
      }
      const source: Record<string, unknown> = { key: s.key, file: display(s.file) };
      if (s.record !== undefined) source.record = s.record;
      if (format === 'instances') source.request = requests;
      await sources.write(`${JSON.stringify(source)}\n`);
      instances++;
    }
    await flush();
    if (instances === 0) throw new TfrecordError('io', 'no images found in the inputs', { file: paths.map(display).join(', ') });
    await sink.commit();
    await sources.commit();
  } catch (err) {
    await sink.abort();
    await sources.abort();
    throw err;
  }
  return { instances, requests, bytes: sink.bytes(), out, sourcesFile: sourcesPath, skippedFiles: counts.skipped };
}
