import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32c, frameRecord } from 'tfrecord-od/record';
import { ShardVerifier } from '../../src/convert/verify.js';
import { ShardedWriter, type ShardInfo } from '../../src/shard/sharded-writer.js';
import { checkRecords, type FileHashes, type RecordCheckRequest, type RecordCheckResult } from '../../src/validate/range.js';
import { checkRecordContent, recordCheckContext } from '../../src/validate/record-check.js';
import { DatasetValidator, validateDataset } from 'tfrecord-od/validate';
import { detection, makeImage, payload, tempDir, validRecords, type TempDir } from '../validate/helpers.js';

let dir: TempDir;
let payloads: Uint8Array[];

beforeAll(async () => {
  dir = await tempDir();
  const { payloads: three } = await validRecords();
  // 30 records; every image appears ten times, so there are duplicates to name.
  payloads = Array.from({ length: 30 }, (_, i) => three[i % 3]!);
});
afterAll(() => dir.remove());

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Two pretend workers: requests of one pin run in order on that pin's own
 * queue, after a random delay, so requests of different shards finish in
 * any order. `before` may tamper with the file first.
 */
function pretendWorkers(before?: (request: RecordCheckRequest) => Promise<void>) {
  const queues = [Promise.resolve(), Promise.resolve()];
  const hashes: FileHashes[] = [new Map(), new Map()];
  const requests: RecordCheckRequest[] = [];
  const check = (request: RecordCheckRequest, pin: number): Promise<RecordCheckResult> => {
    requests.push(request);
    const w = pin % 2;
    const result = queues[w]!.then(async () => {
      await sleep(Math.floor(Math.random() * 4));
      await before?.(request);
      return checkRecords(request, hashes[w]);
    });
    queues[w] = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  };
  return { check, requests };
}

async function run(options: { shards?: number; shardSize?: number; compression?: 'none' | 'gzip' }, check: ReturnType<typeof pretendWorkers>['check']) {
  const out = await tempDir();
  const compression = options.compression ?? 'none';
  const verifier = new ShardVerifier({ check, inOrder: true, validator: await DatasetValidator.create(), options: {}, compression, rangeBytes: 1 });
  const writer = await ShardedWriter.create({ dir: out.path, prefix: 'data', compression, listener: verifier, ...options });
  for (const p of payloads) await writer.write(p);
  const shards: ShardInfo[] = await writer.finish();
  const result = await verifier.finish(shards);
  return { out, shards, result };
}

describe('ShardVerifier', () => {
  it('reads shards back while they are written and reports what validate reports, whatever order the checks finish in', async () => {
    for (let round = 0; round < 3; round++) {
      const workers = pretendWorkers();
      // ~3 records per shard, and (rangeBytes 1) a check after every flush.
      const { out, shards, result } = await run({ shardSize: 3 * (payloads[0]!.length + 200) }, workers.check);
      expect(shards.length).toBeGreaterThan(3);
      // Each shard was read in stretches that cover it exactly.
      for (const s of shards) {
        const ranges = workers.requests.filter((r) => r.path === s.stagedPath).map((r) => r.range!);
        expect(ranges[0]!.start).toBe(0);
        ranges.slice(1).forEach((r, i) => expect(r.start).toBe(ranges[i]!.end));
        expect(ranges.at(-1)!.end).toBe(s.bytes);
        expect(result.digests.get(s.stagedPath)?.sha256).toBe(sha(await readFile(s.stagedPath)));
      }
      const whole = await validateDataset(shards.map((s) => s.stagedPath));
      expect(result.report).toEqual(whole);
      expect(whole.summary['duplicate-image']?.count).toBe(27);
      await out.remove();
    }
  });

  it('adds records in the order they were written, also when shards are dealt round-robin', async () => {
    const { out, shards, result } = await run({ shards: 3 }, pretendWorkers().check);
    expect(result.report.records).toBe(30);
    // Record 3 (the first repeat of record 0) went to shard 0 as its record 1;
    // record 0 was written first, so it is the one named as the original.
    const first = result.report.findings.find((f) => f.code === 'duplicate-image')!;
    expect(first).toMatchObject({ file: shards[0]!.stagedPath, record: 1 });
    expect(first.message).toContain(`${shards[0]!.stagedPath} record 0`);
    for (const s of shards) expect(result.digests.get(s.stagedPath)?.sha256).toBe(sha(await readFile(s.stagedPath)));
    await out.remove();
  });

  it("does not hash uncompressed shards again: their digests are the writer's, and equal the files'", async () => {
    const workers = pretendWorkers();
    const { out, shards, result } = await run({ shardSize: 3 * (payloads[0]!.length + 200) }, workers.check);
    expect(workers.requests.length).toBeGreaterThanOrEqual(shards.length);
    expect(workers.requests.filter((r) => r.hash !== undefined)).toEqual([]);
    for (const s of shards) {
      const bytes = await readFile(s.stagedPath);
      expect(s.digest).toEqual({ sha256: sha(bytes), crc32c: crc32c(bytes), bytes: bytes.length });
      expect(result.digests.get(s.stagedPath)).toEqual(s.digest);
    }
    await out.remove();
  });

  it('checks compressed shards whole once they are closed', async () => {
    const workers = pretendWorkers();
    const { out, shards, result } = await run({ shards: 2, compression: 'gzip' }, workers.check);
    expect(workers.requests.every((r) => r.range === undefined && r.hash?.first && r.hash.last)).toBe(true);
    expect(result.report.records).toBe(30);
    for (const s of shards) expect(result.digests.get(s.stagedPath)?.sha256).toBe(sha(await readFile(s.stagedPath)));
    await out.remove();
  });

  it('finds a record damaged on disk after it was written, at its place in the shard', async () => {
    let damaged: { path: string; at: number } | undefined;
    const workers = pretendWorkers(async (request) => {
      // Flip a payload byte of the second record of the first stretch of shard 0.
      if (damaged || !request.range || request.range.end - request.range.start < 2 * (payloads[0]!.length + 16)) return;
      const at = request.range.start + payloads[0]!.length + 16;
      const byte = (await readFile(request.path))[at + 12 + 7]!;
      // In place: the writer still has the file open.
      const handle = await open(request.path, 'r+');
      await handle.write(Uint8Array.of(byte ^ 0x04), 0, 1, at + 12 + 7);
      await handle.close();
      damaged = { path: request.path, at };
    });
    const out = await tempDir();
    const verifier = new ShardVerifier({
      check: workers.check,
      inOrder: true,
      validator: await DatasetValidator.create(),
      options: {},
      compression: 'none',
      rangeBytes: 4 * (payloads[0]!.length + 16),
    });
    const writer = await ShardedWriter.create({ dir: out.path, prefix: 'data', listener: verifier, shards: 1 });
    for (const p of payloads) await writer.write(p);
    const result = await verifier.finish(await writer.finish());
    expect(damaged).toBeDefined();
    expect(result.report.valid).toBe(false);
    expect(result.report.findings.find((f) => f.code === 'crc-mismatch')).toMatchObject({ file: damaged!.path, offset: damaged!.at });
    await out.remove();
  });

  it('sends a shard one request at a time when the checker may run them concurrently', async () => {
    let running = 0;
    let most = 0;
    const hashes: FileHashes = new Map();
    const check = async (request: RecordCheckRequest) => {
      running++;
      most = Math.max(most, running);
      await sleep(2);
      const r = await checkRecords(request, hashes);
      running--;
      return r;
    };
    const out = await tempDir();
    const verifier = new ShardVerifier({ check, inOrder: false, validator: await DatasetValidator.create(), options: {}, compression: 'none', rangeBytes: 1 });
    const writer = await ShardedWriter.create({ dir: out.path, prefix: 'data', listener: verifier, shards: 1 });
    for (const p of payloads) await writer.write(p);
    const shards = await writer.finish();
    const result = await verifier.finish(shards);
    expect(most).toBe(1);
    expect(result.digests.get(shards[0]!.stagedPath)?.sha256).toBe(sha(await readFile(shards[0]!.stagedPath)));
    await out.remove();
  });
});

describe('ShardVerifier with contents checked as records are built', () => {
  /**
   * Convert's way: each record framed and checked on its own before it is
   * written (here in this thread), its findings handed to the writer with
   * it; planned shards written one after the other, as the plan fills them.
   */
  async function runBuilt(
    records: Uint8Array[],
    shards: number,
    check: ReturnType<typeof pretendWorkers>['check'],
    rangeBytes = 1,
  ): Promise<{ out: TempDir; shards: ShardInfo[]; result: Awaited<ReturnType<ShardVerifier['finish']>> }> {
    const out = await tempDir();
    const verifier = new ShardVerifier({
      check,
      inOrder: true,
      validator: await DatasetValidator.create({ trustImageHashes: true }),
      options: { trustImageHashes: true },
      compression: 'none',
      rangeBytes,
      contentChecked: true,
    });
    const indexes = Array.from({ length: shards }, (_, i) => i);
    const writer = await ShardedWriter.create({ dir: out.path, prefix: 'data', listener: verifier, planned: { total: shards, indexes } });
    const context = recordCheckContext({ trustImageHashes: true });
    const per = Math.ceil(records.length / shards);
    for (let i = 0; i < records.length; i++) {
      const p = records[i]!;
      await writer.writeFramedAt(Math.floor(i / per), frameRecord(p), checkRecordContent(p, context));
    }
    const written = await writer.finish();
    return { out, shards: written, result: await verifier.finish(written) };
  }

  /** The 30 valid records, with two that have findings of their own among them. */
  async function mixedRecords(): Promise<Uint8Array[]> {
    const image = await makeImage('jpeg', 64, 48, 9);
    const zeroLabel = payload(detection(image, 'jpeg', 64, 48, 'zero', { objects: [{ xmin: 0.1, xmax: 0.5, ymin: 0.2, ymax: 0.6, label: 0, text: 'cat' }] }));
    const wrongSize = payload(detection(image, 'jpeg', 99, 48, 'size'));
    const all = [...payloads];
    all.splice(4, 0, zeroLabel);
    all.splice(17, 0, wrongSize);
    return all;
  }

  it('reads back framing and CRCs only, and reports what validate reports of the files', async () => {
    const records = await mixedRecords();
    const workers = pretendWorkers();
    const { out, shards, result } = await runBuilt(records, 3, workers.check);
    expect(workers.requests.length).toBeGreaterThanOrEqual(3);
    expect(workers.requests.every((r) => r.framingOnly === true)).toBe(true);
    const whole = await validateDataset(
      shards.map((s) => s.stagedPath),
      { trustImageHashes: true },
    );
    expect(result.report).toEqual(whole);
    expect(whole.records).toBe(32);
    expect(whole.summary['label-out-of-range']?.count).toBe(1);
    expect(whole.summary['image-size-mismatch']?.count).toBe(1);
    expect(whole.summary['duplicate-image']?.count).toBeGreaterThan(20);
    await out.remove();
  });

  it('reports a record damaged on disk as validate does: a CRC mismatch at its place, and no findings of its contents', async () => {
    const records = await mixedRecords();
    // Damage the record with a finding of its own (record 4 of shard 0) once it is on disk, before its read-back.
    const at = records.slice(0, 4).reduce((n, p) => n + p.length + 16, 0);
    let damaged = false;
    const workers = pretendWorkers(async (request) => {
      if (damaged || !request.range || request.range.end < at + records[4]!.length + 16) return;
      const handle = await open(request.path, 'r+');
      const byte = Buffer.alloc(1);
      await handle.read(byte, 0, 1, at + 12 + 40);
      await handle.write(Uint8Array.of(byte[0]! ^ 0x10), 0, 1, at + 12 + 40);
      await handle.close();
      damaged = true;
    });
    const { out, shards, result } = await runBuilt(records, 1, workers.check, 8 * 1024);
    expect(damaged).toBe(true);
    const whole = await validateDataset([shards[0]!.stagedPath], { trustImageHashes: true });
    expect(result.report).toEqual(whole);
    expect(result.report.valid).toBe(false);
    expect(result.report.records).toBe(31);
    expect(result.report.findings.find((f) => f.code === 'crc-mismatch')).toMatchObject({ record: 4, offset: at });
    // The damaged record's own finding (label 0) is not reported: it was not read.
    expect(result.report.summary['label-out-of-range']).toBeUndefined();
    await out.remove();
  });

  it('refuses a record that comes without its checked contents', async () => {
    const out = await tempDir();
    const verifier = new ShardVerifier({
      check: pretendWorkers().check,
      inOrder: true,
      validator: await DatasetValidator.create(),
      options: {},
      compression: 'none',
      rangeBytes: 1,
      contentChecked: true,
    });
    const writer = await ShardedWriter.create({ dir: out.path, prefix: 'data', listener: verifier, planned: { total: 1, indexes: [0] } });
    await expect(writer.writeFramedAt(0, frameRecord(payloads[0]!))).rejects.toThrow(/without its checked contents/);
    await writer.abort();
    await out.remove();
  });
});
