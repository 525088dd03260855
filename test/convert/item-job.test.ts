import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createJobRunner, type ItemJobResult } from '../../src/convert/item-job.js';
import { checkRecordContent, recordCheckContext } from '../../src/validate/record-check.js';
import { FOOTER_BYTES, HEADER_BYTES } from 'tfrecord-od/record';
import type { SourceItem } from 'tfrecord-od/formats';

const images = fileURLToPath(new URL('../../fixtures/sample/images/', import.meta.url));

const item = (name: string): SourceItem => ({
  id: name,
  source: { file: 'test', index: 0 },
  imagePath: images + name,
  coords: 'normalized',
  objects: [{ className: 'thing', xmin: 0.1, ymin: 0.1, xmax: 0.5, ymax: 0.6 }],
});

async function records(spare?: ArrayBuffer[]): Promise<Array<Extract<ItemJobResult, { ok: true }>>> {
  const run = createJobRunner({ prepare: { format: 'jpeg' }, policy: 'clip' }, true);
  await run({ kind: 'labels', ids: [['thing', 1]] });
  const { result, transfer } = await run({ kind: 'items', items: [item('img01.jpg'), item('img02.jpg')], ...(spare ? { spare } : {}) });
  const out = result as ItemJobResult[];
  expect(out.every((r) => r.ok)).toBe(true);
  const ok = out as Array<Extract<ItemJobResult, { ok: true }>>;
  // What the worker hands over is exactly the records' buffers.
  expect(transfer).toEqual(ok.map((r) => r.record.buffer));
  return ok;
}

describe('record buffers handed back to a worker', () => {
  it('are reused for new records when they fit, giving the same bytes', async () => {
    const plain = await records();
    for (const r of plain) {
      expect(r.record.byteOffset).toBe(0);
      // Rounded up so that a recycled buffer also fits a slightly larger record.
      expect(r.record.buffer.byteLength % (16 * 1024)).toBe(0);
    }
    const size = Math.max(...plain.map((r) => r.record.length));
    const spares = [new ArrayBuffer(size + 100), new ArrayBuffer(size + 200)];
    const reused = await records(spares);
    expect(new Set(reused.map((r) => r.record.buffer))).toEqual(new Set(spares));
    expect(reused.map((r) => Buffer.from(r.record))).toEqual(plain.map((r) => Buffer.from(r.record)));
  });

  it('are not used when too small, or much too big, for the record', async () => {
    const plain = await records();
    const size = Math.min(...plain.map((r) => r.record.length));
    const spares = [new ArrayBuffer(16), new ArrayBuffer(10 * size)];
    const got = await records(spares);
    for (const r of got) expect(spares).not.toContain(r.record.buffer);
    expect(got.map((r) => Buffer.from(r.record))).toEqual(plain.map((r) => Buffer.from(r.record)));
  });
});

describe("a record's checks as it is built", () => {
  it("run when the 'labels' job asks for them, on the payload as framed, with that job's options", async () => {
    const run = createJobRunner({ prepare: { format: 'jpeg' }, policy: 'clip' }, true);
    // A label map that lacks 'thing': every box then has a finding.
    const check = { labelMap: { items: [{ id: 2, name: 'other' }] }, trustImageHashes: true };
    await run({ kind: 'labels', ids: [['thing', 1]], check });
    const { result } = await run({ kind: 'items', items: [item('img01.jpg')] });
    const [r] = result as Array<Extract<ItemJobResult, { ok: true }>>;
    const framed = r!.record;
    const payload = framed.subarray(HEADER_BYTES, framed.length - FOOTER_BYTES);
    expect(r!.checked).toEqual(checkRecordContent(payload, recordCheckContext(check)));
    expect(r!.checked!.findings.map(([code]) => code)).toEqual(['label-out-of-range']);
    expect(r!.checked!.summary).toMatchObject({ boxes: 1, labels: [1], digest: r!.sha256 });
  });

  it("are skipped when the 'labels' job does not ask (compressed shards are checked whole when read back)", async () => {
    const ok = await records();
    for (const r of ok) expect(r.checked).toBeUndefined();
  });
});
