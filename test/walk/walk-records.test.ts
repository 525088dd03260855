import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/problem.js';
import { frameRecord } from 'tfrecord-od/record';
import {
  isFramingProblem,
  listTfrecordFiles,
  type ProblemEvent,
  type RecordEvent,
  walkFile,
  walkFileSync,
  type WalkEvent,
  walkRecords,
  type RecordWalk,
} from '../../src/walk/walk-records.js';
import { concatBytes } from '../helpers/streams.js';

/** Records of different sizes, each filled with its own index so a payload names itself. */
const PAYLOAD_SIZES = [30, 0, 200, 5, 77, 1000, 12];
const payloads = PAYLOAD_SIZES.map((n, i) => new Uint8Array(n).fill(i + 1));
const frames = payloads.map((p) => frameRecord(p));
/** Header offset of each record, from the frame sizes alone. */
const offsets = frames.map((_, i) => frames.slice(0, i).reduce((n, f) => n + f.length, 0));
const whole = concatBytes(frames);

let dir: string;
const at = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tfrecord-od-walk-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileOf(name: string, bytes: Uint8Array): Promise<string> {
  const path = at(name);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, bytes);
  return path;
}

/** Everything a walk yields, with payloads copied (they may be lent) and shown as their fill byte. */
async function eventsOf(walk: AsyncIterable<WalkEvent>): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  for await (const ev of walk) out.push(summarize(ev));
  return out;
}

function summarize(ev: WalkEvent): Record<string, unknown> {
  if (ev.kind === 'file') return { kind: 'file', file: ev.file, bytes: ev.bytes };
  if (ev.kind === 'record') return { kind: 'record', file: ev.file, index: ev.index, offset: ev.offset, length: ev.length, fill: ev.payload[0] ?? null };
  return {
    kind: 'problem',
    code: ev.problem.code,
    file: ev.problem.file,
    record: ev.problem.record,
    offset: ev.problem.offset,
    fatal: ev.fatal,
    message: ev.problem.message,
  };
}

/** What a walk of `file` should yield for the records `indexes` of the layout above. */
function recordsAt(file: string, indexes: number[]): Array<Record<string, unknown>> {
  return indexes.map((i) => ({ kind: 'record', file, index: i, offset: offsets[i], length: PAYLOAD_SIZES[i], fill: PAYLOAD_SIZES[i] === 0 ? null : i + 1 }));
}

const all = PAYLOAD_SIZES.map((_, i) => i);

describe('walkRecords: files and folders', () => {
  it('gives a file event, then every record with its index, header offset, length and payload', async () => {
    const path = await fileOf('plain/one.tfrecord', whole);
    expect(await eventsOf(walkRecords([path]))).toEqual([{ kind: 'file', file: path, bytes: whole.length }, ...recordsAt(path, all)]);
  });

  it('expands a folder to its *.tfrecord* files, sorted, and passes files through as given', async () => {
    const d = at('folder');
    await fileOf('folder/b.tfrecord-00001-of-00002', whole);
    await fileOf('folder/a.tfrecords', whole);
    await fileOf('folder/c.tfrecord.gz', gzipSync(whole));
    await fileOf('folder/notes.txt', new Uint8Array([1, 2, 3]));
    await fileOf('folder/sub/d.tfrecord', whole);
    const loose = await fileOf('loose.data', whole);
    const expected = [join(d, 'a.tfrecords'), join(d, 'b.tfrecord-00001-of-00002'), join(d, 'c.tfrecord.gz'), loose];
    expect(await listTfrecordFiles([d, loose])).toEqual(expected);
    const events = await eventsOf(walkRecords([d, loose]));
    expect(events.filter((e) => e.kind === 'file').map((e) => e.file)).toEqual(expected);
    // The gzip file reads like the others (compression 'auto' by default).
    expect(events.filter((e) => e.kind === 'record' && e.file === expected[2])).toEqual(recordsAt(expected[2]!, all));
    expect(events.filter((e) => e.kind === 'record')).toHaveLength(4 * all.length);
  });

  it('leaves out the index files written beside record files (x.tfrecord.index, x.tfrecord.idx)', async () => {
    const d = at('indexed');
    await fileOf('indexed/a.tfrecord', whole);
    await fileOf('indexed/a.tfrecord.index', new TextEncoder().encode('0 46\n'));
    await fileOf('indexed/a.tfrecord.IDX', new TextEncoder().encode('0 46\n'));
    await fileOf('indexed/b.tfrecord-00000-of-00001', whole);
    expect(await listTfrecordFiles([d])).toEqual([join(d, 'a.tfrecord'), join(d, 'b.tfrecord-00000-of-00001')]);
  });

  it('reports a folder without record files before any file is read', async () => {
    const good = await fileOf('early/good.tfrecord', whole);
    const empty = at('early/empty');
    await mkdir(empty, { recursive: true });
    const events = await eventsOf(walkRecords([good, empty]));
    expect(events[0]).toEqual({
      kind: 'problem',
      code: 'io',
      file: empty,
      record: undefined,
      offset: undefined,
      fatal: true,
      message: 'directory contains no *.tfrecord* files',
    });
    expect(events.slice(1)).toEqual([{ kind: 'file', file: good, bytes: whole.length }, ...recordsAt(good, all)]);
    await expect(listTfrecordFiles([good, empty])).rejects.toThrow(`${empty}: directory contains no *.tfrecord* files`);
  });

  it('with expandDirectories false, a folder is read as a file and reported as unreadable', async () => {
    const d = at('folder');
    const events = await eventsOf(walkRecords([d], { expandDirectories: false }));
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ kind: 'file', file: d });
    expect(events[1]).toMatchObject({ kind: 'problem', code: 'io', file: d, fatal: true, message: 'is a directory, not a TFRecord file' });
  });

  it('reports a missing file as an io problem and goes on with the next', async () => {
    const missing = at('nope/missing.tfrecord');
    const good = await fileOf('after-missing.tfrecord', whole);
    const walk = walkRecords([missing, good]);
    const events: WalkEvent[] = [];
    for await (const ev of walk) events.push(ev);
    expect(events.map(summarize)).toEqual([
      { kind: 'file', file: missing, bytes: 0 },
      { kind: 'problem', code: 'io', file: missing, record: undefined, offset: undefined, fatal: true, message: 'no such file' },
      { kind: 'file', file: good, bytes: whole.length },
      ...recordsAt(good, all),
    ]);
    const problem = events[1] as ProblemEvent;
    expect(isFramingProblem(problem.problem)).toBe(false);
    // The reader's own error comes along, for a consumer that stops on it.
    expect(problem.error.message).toBe(`${missing}: no such file`);
  });

  it.skipIf(process.getuid?.() === 0)('reports an unreadable folder as an io problem', async () => {
    const locked = at('locked');
    await fileOf('locked/x.tfrecord', whole);
    await chmod(locked, 0);
    try {
      const events = await eventsOf(walkRecords([locked]));
      expect(events).toEqual([expect.objectContaining({ kind: 'problem', code: 'io', file: locked, message: 'permission denied' })]);
    } finally {
      await chmod(locked, 0o755);
    }
  });
});

describe('walkRecords: framing damage is reported once, in record order', () => {
  /** The layout with record `k`'s payload damaged (so its data CRC fails). */
  function withBadData(k: number): Uint8Array {
    const bytes = whole.slice();
    bytes[offsets[k]! + 12]! ^= 0x01;
    return bytes;
  }

  it('a bad data CRC skips that record between its neighbours, though the parser found it while reading ahead', async () => {
    // One 1 MiB chunk holds the whole file: the parser meets record 4 before record 0 is handed out.
    const path = await fileOf('crc.tfrecord', withBadData(4));
    const events = await eventsOf(walkRecords([path]));
    expect(events).toEqual([
      { kind: 'file', file: path, bytes: whole.length },
      ...recordsAt(path, [0, 1, 2, 3]),
      { kind: 'problem', code: 'crc-mismatch', file: path, record: 4, offset: offsets[4], fatal: false, message: 'data CRC mismatch; the record is skipped' },
      ...recordsAt(path, [5, 6]),
    ]);
  });

  it('a cut file: the records before the cut, then one fatal problem; the next file is read', async () => {
    const cutAt = offsets[5]! + 100; // inside record 5's payload
    const cut = await fileOf('cut.tfrecord', whole.slice(0, cutAt));
    const next = await fileOf('after-cut.tfrecord', whole);
    const events = await eventsOf(walkRecords([cut, next]));
    expect(events.slice(0, 6)).toEqual([{ kind: 'file', file: cut, bytes: cutAt }, ...recordsAt(cut, [0, 1, 2, 3, 4])]);
    expect(events[6]).toMatchObject({ kind: 'problem', code: 'truncated', file: cut, record: 5, offset: offsets[5], fatal: true });
    expect(events[6]!.message).toMatch(/^file ends inside the record payload.*; the rest of the file is not read$/);
    expect(events.slice(7)).toEqual([{ kind: 'file', file: next, bytes: whole.length }, ...recordsAt(next, all)]);
  });

  it('a damaged header and an oversized length are fatal', async () => {
    const bytes = whole.slice();
    bytes[offsets[2]! + 9]! ^= 0x10; // record 2's length CRC
    const header = await fileOf('header.tfrecord', bytes);
    let events = await eventsOf(walkRecords([header]));
    expect(events.slice(1, 3)).toEqual(recordsAt(header, [0, 1]));
    expect(events.slice(3)).toEqual([expect.objectContaining({ kind: 'problem', code: 'crc-mismatch', record: 2, offset: offsets[2], fatal: true })]);

    const big = await fileOf('big.tfrecord', whole);
    events = await eventsOf(walkRecords([big], { maxRecordBytes: 100 }));
    // Records 0 and 1 fit in 100 bytes; record 2's 200 do not.
    expect(events.slice(1, 3)).toEqual(recordsAt(big, [0, 1]));
    expect(events).toHaveLength(4);
    expect(events.at(-1)).toMatchObject({ kind: 'problem', code: 'record-too-large', record: 2, offset: offsets[2], fatal: true });
  });

  it('a corrupt gzip stream is a fatal problem located at the record being read', async () => {
    const gz = gzipSync(whole);
    const cut = await fileOf('cut.tfrecord.gz', gz.subarray(0, gz.length - 30));
    const events = await eventsOf(walkRecords([cut]));
    const problems = events.filter((e) => e.kind === 'problem');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ code: 'truncated', file: cut, fatal: true });
    const read = events.filter((e) => e.kind === 'record').length;
    expect(problems[0]!.record).toBe(read);
  });

  it('verify: false hands out a record whose data CRC is wrong', async () => {
    const path = await fileOf('noverify.tfrecord', withBadData(1));
    const events = await eventsOf(walkRecords([path], { verify: false }));
    expect(events.filter((e) => e.kind === 'problem')).toEqual([]);
    expect(events.filter((e) => e.kind === 'record').map((e) => e.index)).toEqual(all);
  });

  it('the problem is a Finding-shaped value that prints as "FILE: record N at byte B: message"', async () => {
    const path = await fileOf('shape.tfrecord', withBadData(3));
    let problem: ProblemEvent | undefined;
    for await (const ev of walkRecords([path])) if (ev.kind === 'problem') problem = ev;
    expect(Object.keys(problem!.problem)).toEqual(['severity', 'code', 'file', 'record', 'offset', 'message']);
    expect(problem!.problem.severity).toBe('error');
    expect(isFramingProblem(problem!.problem)).toBe(true);
    expect(formatProblem(problem!.problem)).toBe(`${path}: record 3 at byte ${offsets[3]}: data CRC mismatch; the record is skipped`);
    expect(problem!.error.message).toBe(`${path}: record 3 at byte ${offsets[3]}: data CRC mismatch`);
  });

  /**
   * Every single-record damage and every cut, read in chunks of 1-7 bytes,
   * in one chunk, and with blocking reads: the same events each time, and
   * the ones the layout predicts.
   */
  it('the same events whatever the chunking, async or sync', async () => {
    const cases: Array<{ name: string; bytes: Uint8Array; expected: Array<Record<string, unknown>> }> = [];
    for (let k = 0; k < all.length; k++) {
      if (PAYLOAD_SIZES[k] === 0) continue;
      const name = at(`every/bad-${k}.tfrecord`);
      cases.push({
        name,
        bytes: withBadData(k),
        expected: [
          ...recordsAt(name, all.slice(0, k)),
          {
            kind: 'problem',
            code: 'crc-mismatch',
            file: name,
            record: k,
            offset: offsets[k],
            fatal: false,
            message: 'data CRC mismatch; the record is skipped',
          },
          ...recordsAt(name, all.slice(k + 1)),
        ],
      });
    }
    for (const cut of [1, 11, offsets[3]! + 1, offsets[3]! + 12, offsets[6]! + 13, whole.length - 1]) {
      const name = at(`every/cut-${cut}.tfrecord`);
      const first = offsets.filter((o) => o < cut).length - 1; // the record the cut is in
      cases.push({
        name,
        bytes: whole.slice(0, cut),
        expected: [
          ...recordsAt(name, all.slice(0, first)),
          expect.objectContaining({ kind: 'problem', code: 'truncated', record: first, offset: offsets[first], fatal: true }),
        ],
      });
    }
    for (const c of cases) {
      await fileOf(c.name.slice(dir.length + 1), c.bytes);
      for (const chunkSize of [1, 2, 3, 5, 7, 1 << 20]) {
        expect(await eventsOf(walkFile(c.name, { chunkSize, borrow: chunkSize > 3 }))).toEqual(c.expected);
      }
      expect([...walkFileSync(c.name, { chunkSize: 3 })].map(summarize)).toEqual(c.expected);
      expect([...walkFileSync(c.name, { borrow: true })].map(summarize)).toEqual(c.expected);
    }
  });

  it('walkFile reads a byte range, with the file positions of its records', async () => {
    const path = await fileOf('range.tfrecord', whole);
    const range = { start: offsets[2]!, end: offsets[5]!, firstIndex: 2 };
    expect(await eventsOf(walkFile(path, { range, compression: 'none' }))).toEqual(recordsAt(path, [2, 3, 4]));
    expect([...walkFileSync(path, { range })].map(summarize)).toEqual(recordsAt(path, [2, 3, 4]));
  });
});

describe('walkRecords: skipping and stopping', () => {
  it('skipFile on a file event: the file is not opened, so its problems are not reported either', async () => {
    const missing = at('skip/missing.tfrecord');
    const good = await fileOf('skip/good.tfrecord', whole);
    const walk = walkRecords([missing, good]);
    const events: Array<Record<string, unknown>> = [];
    for await (const ev of walk) {
      events.push(summarize(ev));
      if (ev.kind === 'file' && ev.file === missing) walk.skipFile();
    }
    expect(events).toEqual([{ kind: 'file', file: missing, bytes: 0 }, { kind: 'file', file: good, bytes: whole.length }, ...recordsAt(good, all)]);
  });

  it('skipFile on a record: the rest of that file (its damage included) is left, the next file is read', async () => {
    const bytes = whole.slice(0, offsets[6]! + 3); // cut in record 6
    bytes[offsets[4]! + 12]! ^= 0x01; // and a bad data CRC in record 4
    const damaged = await fileOf('skip/damaged.tfrecord', bytes);
    const good = await fileOf('skip/good2.tfrecord', whole);
    const walk = walkRecords([damaged, good]);
    const events: Array<Record<string, unknown>> = [];
    for await (const ev of walk) {
      events.push(summarize(ev));
      if (ev.kind === 'record' && ev.file === damaged && ev.index === 2) walk.skipFile();
    }
    expect(events).toEqual([
      { kind: 'file', file: damaged, bytes: bytes.length },
      ...recordsAt(damaged, [0, 1, 2]),
      { kind: 'file', file: good, bytes: whole.length },
      ...recordsAt(good, all),
    ]);
  });

  it('skipFile on a problem leaves the file there', async () => {
    const bytes = whole.slice();
    bytes[offsets[1]! + 12]! ^= 0x01;
    bytes[offsets[3]! + 12]! ^= 0x01;
    const path = await fileOf('skip/two-bad.tfrecord', bytes);
    const walk: RecordWalk = walkRecords([path]);
    const kinds: string[] = [];
    for await (const ev of walk) {
      kinds.push(ev.kind === 'record' ? `r${ev.index}` : ev.kind === 'problem' ? `p${ev.problem.record}` : 'f');
      if (ev.kind === 'problem') walk.skipFile();
    }
    expect(kinds).toEqual(['f', 'r0', 'p1']);
  });

  it("lent payloads are views that are valid until the next event; copies are the caller's to keep", async () => {
    const path = await fileOf('lend.tfrecord', whole);
    const kept: RecordEvent[] = [];
    for await (const ev of walkRecords([path], { borrow: true })) {
      if (ev.kind !== 'record') continue;
      expect(Uint8Array.from(ev.payload)).toEqual(payloads[ev.index]);
      if (ev.length > 0) expect(ev.payload.buffer.byteLength).toBeGreaterThan(ev.length); // a view into the read buffer
    }
    for await (const ev of walkRecords([path])) if (ev.kind === 'record') kept.push(ev);
    expect(kept.map((e) => Uint8Array.from(e.payload))).toEqual(payloads);
    // Kept past the walk, each is still its own record (not a reused buffer).
    expect(kept.map((e) => e.payload[0] ?? null)).toEqual(PAYLOAD_SIZES.map((n, i) => (n === 0 ? null : i + 1)));
  });

  const openFds = () => readdirSync('/proc/self/fd').length;
  it.skipIf(!existsSync('/proc/self/fd'))('closes the file when the consumer breaks off or skips, not leaving it to the garbage collector', async () => {
    const big = concatBytes(Array.from({ length: 40 }, (_, i) => frameRecord(new Uint8Array(50_000).fill(i))));
    const plain = await fileOf('fds/a.tfrecord', big);
    const gz = await fileOf('fds/b.tfrecord.gz', gzipSync(big));
    const before = openFds();
    for (let round = 0; round < 10; round++) {
      for (const file of [plain, gz]) {
        for await (const ev of walkRecords([file])) if (ev.kind === 'record') break;
        for await (const ev of walkFile(file, { chunkSize: 4096 })) if (ev.kind === 'record') break;
        for (const ev of walkFileSync(plain, { chunkSize: 4096 })) if (ev.kind === 'record') break;
      }
      const walk = walkRecords([plain, gz]);
      for await (const ev of walk) if (ev.kind === 'record' && ev.index === 1) walk.skipFile();
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(openFds()).toBe(before);
    expect((await readFile(plain)).length).toBe(big.length);
  });
});
