// Skeletons: the least a Node program can do and still keep each target's
// promises, with none of the product's parsing, checking, reporting or
// safety, spread over the cores where the work splits. They run in the same
// rounds as the product and its limit, so their share of the limit is what
// any Node implementation on this machine could reach at best; a target
// above it cannot be met by the product, which does all of this and more.
//
//   node skeleton.js read THREADS FILES…        library read: fresh memory (records the caller may keep) + CRC32C
//   node skeleton.js scan THREADS FILES…        stats: a reused buffer + CRC32C
//   node skeleton.js hash THREADS FILES…        validate: a reused buffer + CRC32C + SHA-256 (the images' digests)
//   node skeleton.js convert THREADS OUT IMAGES…  read, SHA-256, copy into a record, CRC32C, write, shard SHA-256, read back + CRC32C
//   node skeleton.js write 1 OUT IMAGES…        library write: images in memory; copy into a record, CRC32C, write
//
// `read` and `write` are timed from the call, as the library cases are, and
// print JSON; the others are timed as commands (process start included).
// With THREADS 2 the files (or images) are split in two halves, one per
// thread, and the worker's start-up is part of the time.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, readSync, renameSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

const { crc32c } = createRequire(import.meta.url)('@node-rs/crc32');
const CHUNK = 1024 * 1024;

/** Reads every file in CHUNK reads; `fresh` allocates each chunk anew, as a reader whose records may be kept must. */
function readFiles(files, { fresh, sha }) {
  let reused = fresh ? undefined : Buffer.allocUnsafeSlow(CHUNK);
  let crc = 0;
  let bytes = 0;
  for (const f of files) {
    const fd = openSync(f, 'r');
    const hash = sha ? createHash('sha256') : undefined;
    for (let at = 0; ; ) {
      const buf = reused ?? Buffer.allocUnsafeSlow(CHUNK);
      const n = readSync(fd, buf, 0, CHUNK, at);
      if (n === 0) break;
      at += n;
      bytes += n;
      const view = buf.subarray(0, n);
      crc ^= crc32c(view);
      hash?.update(view);
    }
    hash?.digest();
    closeSync(fd);
  }
  return { crc, bytes };
}

const FRAME = 16;
const ROOM = 64; // the Example's keys and boxes around the image, roughly

/** Each image read, hashed, copied into a framed record, CRC'd and written; the shard hashed as it goes, then read back with its CRC. */
function convertImages(out, images) {
  const staging = `${out}.tmp-${process.pid}-${isMainThread ? 0 : 1}`;
  const fd = openSync(staging, 'w');
  const shardHash = createHash('sha256');
  let image = Buffer.allocUnsafeSlow(256 * 1024);
  let record = Buffer.allocUnsafeSlow(256 * 1024);
  for (const path of images) {
    const ifd = openSync(path, 'r');
    const size = fstatSync(ifd).size;
    if (image.length < size) image = Buffer.allocUnsafeSlow(size * 2);
    let got = 0;
    while (got < size) got += readSync(ifd, image, got, size - got, got);
    closeSync(ifd);
    const bytes = image.subarray(0, got);
    const digest = createHash('sha256').update(bytes).digest('hex');
    const length = got + ROOM + digest.length;
    if (record.length < length + FRAME) record = Buffer.allocUnsafeSlow((length + FRAME) * 2);
    record.writeBigUInt64LE(BigInt(length), 0);
    record.writeUInt32LE(crc32c(record.subarray(0, 8)), 8);
    record.write(digest, 12 + ROOM, 'latin1');
    bytes.copy(record, 12 + ROOM + digest.length);
    record.writeUInt32LE(crc32c(record.subarray(12, 12 + length)), 12 + length);
    const framed = record.subarray(0, length + FRAME);
    writeSync(fd, framed);
    shardHash.update(framed);
  }
  closeSync(fd);
  shardHash.digest();
  readFiles([staging], { fresh: false, sha: false });
  renameSync(staging, `${out}-${isMainThread ? 0 : 1}.tfrecord`);
}

/** The library write: records built from images already in memory, into one file. */
function writeImages(out, images) {
  const fd = openSync(out, 'w');
  let record = Buffer.allocUnsafeSlow(256 * 1024);
  for (const bytes of images) {
    const length = bytes.length + ROOM + 64;
    if (record.length < length + FRAME) record = Buffer.allocUnsafeSlow((length + FRAME) * 2);
    record.writeBigUInt64LE(BigInt(length), 0);
    record.writeUInt32LE(crc32c(record.subarray(0, 8)), 8);
    record.set(bytes, 12 + ROOM + 64);
    record.writeUInt32LE(crc32c(record.subarray(12, 12 + length)), 12 + length);
    writeSync(fd, record, 0, length + FRAME);
  }
  closeSync(fd);
}

function work(kind, args) {
  if (kind === 'read') return readFiles(args, { fresh: true, sha: false });
  if (kind === 'scan') return readFiles(args, { fresh: false, sha: false });
  if (kind === 'hash') return readFiles(args, { fresh: false, sha: true });
  if (kind === 'convert') return convertImages(args[0], args.slice(1));
  throw new Error(`unknown skeleton ${kind}`);
}

if (!isMainThread) {
  work(workerData.kind, workerData.args);
  parentPort.postMessage('done');
} else {
  const [kind, threadsArg, ...rest] = process.argv.slice(2);
  const threads = Number(threadsArg);
  const timed = kind === 'read' || kind === 'write';
  let images;
  if (kind === 'write') images = rest.slice(1).map((f) => readFileSync(f));
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  if (kind === 'write') writeImages(rest[0], images);
  else if (threads <= 1) work(kind, rest);
  else {
    // Two halves: the worker takes the second, this thread the first.
    const [head, list] = kind === 'convert' ? [[rest[0]], rest.slice(1)] : [[], rest];
    const half = Math.ceil(list.length / 2);
    const worker = new Worker(new URL(import.meta.url), { workerData: { kind, args: [...head, ...list.slice(half)] } });
    const done = new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    work(kind, [...head, ...list.slice(0, half)]);
    await done;
    await worker.terminate();
  }
  if (timed) {
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    console.log(JSON.stringify({ seconds, cpu: (c.user + c.system) / 1e6 }));
  }
}
