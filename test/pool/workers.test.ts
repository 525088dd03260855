import { afterEach, describe, expect, it } from 'vitest';
import { AnnotationError, CorruptRecordError, isTfrecordError } from 'tfrecord-od';
import { createWorkerPool, orderedPipeline, workerScript, type WorkerPool } from '../../src/pool/workers.js';

/**
 * A worker that answers {ms, bytes?} after `ms` milliseconds with its thread
 * id and the size of the buffer it was sent (0 when none arrived or it was
 * detached), through the compiled worker host.
 */
const host = workerScript(new URL('../../src/pool/workers.ts', import.meta.url).href, 'worker-host.js', 'pool').href;
const script = new URL(
  'data:text/javascript,' +
    encodeURIComponent(`
      import { threadId } from 'node:worker_threads';
      import { serveJobs } from ${JSON.stringify(host)};
      serveJobs(async (job) => {
        await new Promise((r) => setTimeout(r, job.ms));
        return { result: { threadId, bytes: job.buffer ? job.buffer.byteLength : 0 } };
      });
    `),
);

type Job = { ms: number; buffer?: ArrayBuffer };
type Reply = { threadId: number; bytes: number };
let pool: WorkerPool<Job, Reply> | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

async function* numbers(n: number) {
  for (let i = 0; i < n; i++) yield i;
}

describe('orderedPipeline', () => {
  it('consumes results in input order whatever order they finish in, never exceeding the window', async () => {
    let running = 0;
    let maxRunning = 0;
    const seen: number[] = [];
    await orderedPipeline(
      numbers(50),
      4,
      async (i) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        // Later inputs often finish first.
        await new Promise((r) => setTimeout(r, (50 - i) % 7));
        running--;
        return i * 10;
      },
      async (i, r) => {
        expect(r).toBe(i * 10);
        seen.push(i);
      },
    );
    expect(seen).toEqual([...Array(50).keys()]);
    expect(maxRunning).toBeLessThanOrEqual(4);
    expect(maxRunning).toBeGreaterThan(1);
  });

  it('asks a window function again after every result', async () => {
    let inFlight = 0;
    const peaks: number[] = [];
    let window = 8;
    await orderedPipeline(
      numbers(30),
      () => window,
      async (i) => {
        inFlight++;
        peaks.push(inFlight);
        await new Promise((r) => setTimeout(r, 1));
        return i;
      },
      async (i) => {
        inFlight--;
        // After the tenth result, records turn out to be big: shrink the window.
        if (i === 9) window = 2;
      },
    );
    expect(Math.max(...peaks.slice(0, 10))).toBe(8);
    expect(Math.max(...peaks.slice(20))).toBeLessThanOrEqual(2);
  });
});

describe('createWorkerPool', () => {
  const start = () => (pool = createWorkerPool<Job, Reply>({ size: 2, script: () => script, inline: async () => ({ threadId: 0, bytes: 0 }) }));

  it('pins jobs to a worker, and judges how busy a worker is by the cost of its jobs', async () => {
    const p = start();
    const long = p.run({ ms: 40 }, 0, 10);
    const pinned = p.run({ ms: 0 }, 2); // 2 mod 2 = worker 0, behind the long job
    // Worker 0 carries cost 11: the next five jobs (cost 1 each) all go to worker 1.
    const others = await Promise.all(Array.from({ length: 5 }, () => p.run({ ms: 1 })));
    const zero = (await long).threadId;
    expect((await pinned).threadId).toBe(zero);
    expect(others.map((r) => r.threadId)).toEqual(Array(5).fill(others[0]!.threadId));
    expect(others[0]!.threadId).not.toBe(zero);
  });

  it('with shareThisThread, this thread is one more slot: jobs spread over both, one at a time each, a failure failing only its job', async () => {
    let running = 0;
    let most = 0;
    const shared = createWorkerPool<Job, Reply>({
      size: 1,
      script: () => script,
      inline: async (job) => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, job.ms));
        running--;
        if (job.ms === 3) throw new Error('inline failure');
        return { threadId: -1, bytes: 0 };
      },
      shareThisThread: true,
    });
    try {
      expect(shared.size).toBe(2);
      const replies = await Promise.all(Array.from({ length: 12 }, () => shared.run({ ms: 5 })));
      const threads = new Set(replies.map((r) => r.threadId));
      // Both slots took jobs: the worker (its own thread id) and this thread (-1).
      expect(threads.has(-1)).toBe(true);
      expect([...threads].some((t) => t > 0)).toBe(true);
      expect(most).toBe(1);
      // Pinned to this thread's slot (index size - 1), a failing job fails alone.
      await expect(shared.run({ ms: 3 }, 1)).rejects.toThrow('inline failure');
      expect((await shared.run({ ms: 1 }, 1)).threadId).toBe(-1);
    } finally {
      await shared.close();
    }
  });

  it('moves the buffers it is told to transfer instead of copying them', async () => {
    const p = start();
    const buffer = new ArrayBuffer(1000);
    const reply = await p.run({ ms: 0, buffer }, undefined, 1, [buffer]);
    expect(reply.bytes).toBe(1000);
    // Detached here: it now belongs to the worker.
    expect(buffer.byteLength).toBe(0);
  });
});

describe('errors thrown in a worker', () => {
  /** A worker that throws what its job asks for, with the compiled errors module (as real workers do; `host` checked dist/ is current). */
  const errors = new URL('../../dist/errors.js', import.meta.url).href;
  const thrower = new URL(
    'data:text/javascript,' +
      encodeURIComponent(`
        import { serveJobs } from ${JSON.stringify(host)};
        import { AnnotationError, CorruptRecordError, TfrecordError } from ${JSON.stringify(errors)};
        serveJobs(async (job) => {
          if (job === 'corrupt') {
            throw new CorruptRecordError('crc-mismatch', 'data CRC mismatch', { file: 'train-00003.tfrecord', record: 17, offset: 40212 });
          }
          if (job === 'annotation') {
            const cause = Object.assign(new Error('open failed'), { code: 'ENOENT', syscall: 'open' });
            const err = new AnnotationError('annotation', 'cannot read CSV', { file: 'boxes.csv', line: 4, cause });
            err.itemId = 'img07.jpg';
            throw err;
          }
          if (job === 'plain') throw Object.assign(new RangeError('out of range'), { code: 'ERR_OUT_OF_RANGE' });
          throw 'not an Error';
        });
      `),
  );
  let errorPool: WorkerPool<string, never> | undefined;
  afterEach(async () => {
    await errorPool?.close();
    errorPool = undefined;
  });
  const failure = async (job: string): Promise<unknown> => {
    errorPool ??= createWorkerPool<string, never>({ size: 1, script: () => thrower, inline: async () => undefined as never });
    return errorPool.run(job).then(
      () => expect.unreachable('the job should have failed'),
      (err: unknown) => err,
    );
  };

  it('keep their TfrecordError class, code and location across the thread boundary', async () => {
    const err = await failure('corrupt');
    expect(isTfrecordError(err)).toBe(true);
    expect(err).toBeInstanceOf(CorruptRecordError);
    const e = err as CorruptRecordError;
    expect(e.name).toBe('CorruptRecordError');
    expect(e.code).toBe('crc-mismatch');
    expect(e.reason).toBe('data CRC mismatch');
    expect([e.file, e.record, e.offset]).toEqual(['train-00003.tfrecord', 17, 40212]);
    expect(e.message).toBe('train-00003.tfrecord: record 17 at byte 40212: data CRC mismatch');
    // The stack is the worker's: where the error was thrown.
    expect(e.stack).toContain('CorruptRecordError');
  });

  it("keep an AnnotationError's extra fields, its line and its cause", async () => {
    const e = (await failure('annotation')) as AnnotationError & { itemId?: string };
    expect(e).toBeInstanceOf(AnnotationError);
    expect([e.code, e.file, e.line, e.itemId]).toEqual(['annotation', 'boxes.csv', 4, 'img07.jpg']);
    expect(e.message).toBe('boxes.csv: line 4: cannot read CSV');
    const cause = e.cause as Error & { code?: string; syscall?: string };
    expect([cause.message, cause.code, cause.syscall]).toEqual(['open failed', 'ENOENT', 'open']);
  });

  it('other errors stay plain errors, with their name, message and code', async () => {
    const plain = (await failure('plain')) as Error & { code?: string };
    expect(isTfrecordError(plain)).toBe(false);
    expect([plain.name, plain.message, plain.code]).toEqual(['RangeError', 'out of range', 'ERR_OUT_OF_RANGE']);
    const odd = (await failure('other')) as Error;
    expect(odd).toBeInstanceOf(Error);
    expect(odd.message).toBe('not an Error');
  });
});
