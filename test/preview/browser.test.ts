/**
 * The contact sheet in a real browser: Debian's chromium driven by
 * puppeteer-core (which downloads no browser of its own). Skipped, saying
 * why, when /usr/bin/chromium is not installed (.ci/run installs it).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { previewDataset } from 'tfrecord-od/preview';
import { labelColour } from '../../src/preview/draw.js';
import { PAGE_SIZE } from '../../src/preview/page.js';
import { box, example, greyImage, type Scratch, scratch } from '../stats/helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) console.warn(`test/preview/browser.test.ts skipped: no ${CHROMIUM} (apt-get install chromium)`);

const RECORDS = 2 * PAGE_SIZE + 10;

let dir: Scratch;
let index: string;

beforeAll(async () => {
  if (!HAVE_CHROMIUM) return;
  dir = await scratch();
  const img = await greyImage('png', 160, 120);
  // Record 0: one 'bird' box (label 3) from x 0.25..0.75, y 0.25..0.75 on flat grey; the rest alternate cat / dog,
  // and records 5, 15, 25, … have their cat box leave the image (bbox-out-of-range).
  const pick = (i: number) =>
    i === 0
      ? box(0.25, 0.25, 0.75, 0.75, 3, 'bird')
      : i % 10 === 5
        ? box(0.1, 0.1, 1.4, 0.4, 1, 'cat')
        : i % 2
          ? box(0.1, 0.1, 0.4, 0.4, 1, 'cat')
          : box(0.5, 0.5, 0.9, 0.9, 2, 'dog');
  const records = Array.from({ length: RECORDS }, (_, i) => example(img, 'png', 160, 120, i === 0 ? 'bird-0' : `pic-${i}`, [pick(i)]));
  const file = await dir.write('data.tfrecord', records);
  const result = await previewDataset([file], { outDir: join(dir.path, 'sheet'), limit: RECORDS });
  index = result.index;
}, 60_000);
afterAll(() => dir?.remove());

describe.skipIf(!HAVE_CHROMIUM)('contact sheet in headless chromium', () => {
  it('loads without console errors, pages, filters by class and finding, searches, and shows the box where the record has it', async () => {
    const { launch } = await import('puppeteer-core');
    const browser = await launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1200, height: 900, deviceScaleFactor: 1 });
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(String(e)));
      page.on('requestfailed', (r) => problems.push(`failed: ${r.url()}`));
      await page.goto(pathToFileURL(index).href, { waitUntil: 'load' });

      const figures = () => page.$$eval('#grid figure', (fs) => fs.length);
      const text = (sel: string) => page.$eval(sel, (e) => e.textContent ?? '');
      expect(await figures()).toBe(PAGE_SIZE);
      expect(await text('#status')).toBe(`${RECORDS} of ${RECORDS} tiles match`);
      expect(await text('#page')).toBe('page 1 of 3');

      // Paging.
      await page.click('#next');
      await page.click('#next');
      expect(await text('#page')).toBe('page 3 of 3');
      expect(await figures()).toBe(RECORDS - 2 * PAGE_SIZE);
      expect(await page.$eval('#next', (b) => (b as unknown as { disabled: boolean }).disabled)).toBe(true);

      // Class filter: 'dog' is on the even records 2, 4, … (record 0 is the bird).
      await page.select('#class', 'dog');
      const dogs = Math.floor((RECORDS - 1) / 2);
      expect(await text('#status')).toBe(`${dogs} of ${RECORDS} tiles match`);
      expect(await text('#page')).toBe('page 1 of 2');
      const records = await page.$$eval('#grid figure', (fs) =>
        fs.map((f) => Number((f as unknown as { dataset: Record<string, string> }).dataset.record!.split('#')[1])),
      );
      expect(records.every((r) => r > 0 && r % 2 === 0)).toBe(true);

      // Finding filter: records 5, 15, 25, … have bbox-out-of-range.
      await page.select('#class', '');
      await page.select('#code', 'bbox-out-of-range');
      const bad = Math.floor((RECORDS - 5 - 1) / 10) + 1;
      expect(await text('#status')).toBe(`${bad} of ${RECORDS} tiles match`);
      const badRecords = await page.$$eval('#grid figure', (fs) =>
        fs.map((f) => Number((f as unknown as { dataset: Record<string, string> }).dataset.record!.split('#')[1])),
      );
      expect(badRecords).toEqual(Array.from({ length: bad }, (_, k) => 5 + 10 * k));
      await page.select('#code', '');

      // Search on the file name.
      await page.type('#search', 'bird-');
      expect(await text('#status')).toBe(`1 of ${RECORDS} tiles match`);
      // A string: the project's types have no DOM library.
      await page.waitForFunction('Array.from(document.images).every((i) => i.complete && i.naturalWidth > 0)');

      // The bird's box on the rendered tile: its left edge at 25% of the width, grey inside and outside.
      const img = await page.$('#grid figure img');
      const shot = Buffer.from(await img!.screenshot({ type: 'png' }));
      const { data, info } = await sharp(shot).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const at = (fx: number, fy: number) => {
        const i = (Math.round(fy * (info.height - 1)) * info.width + Math.round(fx * (info.width - 1))) * info.channels;
        return { r: data[i]!, g: data[i + 1]!, b: data[i + 2]! };
      };
      const dist = (p: { r: number; g: number; b: number }, q: { r: number; g: number; b: number }) =>
        Math.abs(p.r - q.r) + Math.abs(p.g - q.g) + Math.abs(p.b - q.b);
      const bird = labelColour(3);
      const grey = { r: 128, g: 128, b: 128 };
      // Search a few pixels around 25% for the outline (the tile is scaled in the page).
      let best = Infinity;
      for (let dx = -3; dx <= 3; dx++) best = Math.min(best, dist(at(0.25 + dx / info.width, 0.6), bird));
      expect(best).toBeLessThan(60);
      expect(dist(at(0.5, 0.6), grey)).toBeLessThan(20);
      expect(dist(at(0.1, 0.6), grey)).toBeLessThan(20);
      let right = Infinity;
      for (let dx = -3; dx <= 3; dx++) right = Math.min(right, dist(at(0.75 + dx / info.width, 0.6), bird));
      expect(right).toBeLessThan(60);

      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
