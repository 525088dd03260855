// The annotation importers (COCO's JSON scanner, the VOC XML parser, the CSV
// parser, YOLO label files) on hostile datasets, and the label-map parser.
import { realpath } from 'node:fs/promises';
import { sep } from 'node:path';
import { parseLabelMap } from 'tfrecord-od';
import { ITEM_ERROR_CODES, readCoco, readCsv, readVoc, readYolo } from 'tfrecord-od/formats';
import { checkLibraryError, fail, internalText, withinTime } from '../check.js';
import { writeDataset } from '../gen-dataset.js';
import { mutateBytes } from '../random.js';

const READERS = { coco: readCoco, voc: readVoc, csv: readCsv, yolo: readYolo };
const BOX = ['xmin', 'ymin', 'xmax', 'ymax'];

async function inside(root, file) {
  let real;
  try {
    real = await realpath(file);
  } catch {
    fail(`an item's image ${file} was accepted but cannot be resolved (missing, a loop?)`);
  }
  const realRoot = await realpath(root);
  return real === realRoot || real.startsWith(realRoot + sep);
}

/** A target per importer: every entry is a well-formed item inside the images folder, or an item error that says where. */
function importerTarget(format) {
  return {
    name: format,
    kind: 'library',
    async run(rng, ctx) {
      const d = await writeDataset(rng, ctx.dir, format);
      ctx.note({ format });
      const options = { annotations: d.annotations, images: d.images, ...(d.classes ? { classes: d.classes } : {}) };
      await withinTime(10_000, `importing a ${format} dataset`, async () => {
        let result;
        try {
          result = await READERS[format](options);
          for await (const entry of result.entries) {
            if (entry.ok) {
              const it = entry.item;
              if (!it.source?.file) fail('an item without a source file');
              if (!(await inside(d.images, it.imagePath))) fail(`item ${JSON.stringify(it.id)} reads ${it.imagePath}, outside the images folder`);
              for (const o of it.objects) {
                for (const k of BOX) if (!Number.isFinite(o[k])) fail(`item ${JSON.stringify(it.id)} has a box with ${k} = ${o[k]}`);
              }
              for (const k of ['width', 'height']) {
                if (it[k] !== undefined && !(Number.isFinite(it[k]) && it[k] > 0)) fail(`item ${JSON.stringify(it.id)} claims ${k} = ${it[k]}`);
              }
            } else {
              const e = entry.error;
              if (!ITEM_ERROR_CODES.includes(e.code)) fail(`item error with unknown code '${e.code}'`);
              if (!e.source?.file) fail(`item error without a file: ${e.reason}`);
              const leak = internalText(e.reason);
              if (leak) fail(`internal text in an item error: ${leak}`);
            }
          }
        } catch (err) {
          if (err?.name === 'FuzzFailure') throw err;
          checkLibraryError(err, { file: d.annotations, locatedCodes: [] });
        }
      });
    },
  };
}

export const cocoTarget = importerTarget('coco');
export const vocTarget = importerTarget('voc');
export const csvTarget = importerTarget('csv');
export const yoloTarget = importerTarget('yolo');

function pbString(rng, s) {
  const q = rng.pick(['"', "'"]);
  return q + s.replace(/\\/g, '\\\\').replace(new RegExp(q, 'g'), `\\${q}`) + q;
}

/** Label-map text: items with odd ids and names, unknown fields, comments, nesting, and damage. */
function labelMapText(rng) {
  const lines = [];
  const n = rng.weighted([
    [8, rng.range(0, 6)],
    [1, rng.range(50, 500)],
    [0.1, 50_000],
  ]);
  for (let i = 0; i < n; i++) {
    const id = rng.weighted([
      [10, String(i + 1)],
      [1, rng.pick(['0', '-1', '1.5', '1e400', '99999999999999999999', '0x10', 'abc', '"3"', String(i)])],
    ]);
    const name = rng.weighted([
      [10, `class${i}`],
      [1, rng.pick(['', 'ü', 'a b', 'x'.repeat(1000), '\\x41\\101\\u00e9', 'tab\\there', 'bad\\q'])],
    ]);
    const fields = [`id: ${id}`, `name: ${pbString(rng, name)}`];
    if (rng.bool(0.3)) fields.push(`display_name: ${pbString(rng, name.toUpperCase())}`);
    if (rng.bool(0.1))
      fields.push(rng.pick(['keypoints { id: 1 label: "x" }', 'frequency: FREQUENT', 'unknown_field: [1, 2, 3]', '# a comment', 'id: 5', 'name: "again"']));
    if (rng.bool(0.1)) fields.splice(rng.int(fields.length), 1);
    lines.push(`item ${rng.pick(['{', '{', '<'])}\n  ${fields.join(rng.pick(['\n  ', ' ', ', ', '; ']))}\n${rng.pick(['}', '}', '>'])}`);
  }
  if (rng.bool(0.1)) {
    const depth = rng.pick([50, 150, 5000, 100_000]);
    lines.push(`${'item { '.repeat(depth)}${'} '.repeat(rng.bool(0.5) ? depth : rng.int(depth))}`);
  }
  let text = lines.join('\n') + '\n';
  if (rng.bool(0.25)) text = Buffer.from(mutateBytes(rng, Buffer.from(text)).bytes).toString('latin1');
  return text;
}

export const labelMapTarget = {
  name: 'label-map',
  kind: 'library',
  async run(rng, ctx) {
    const text = labelMapText(rng);
    const file = await ctx.saveInput('label_map.pbtxt', text);
    await withinTime(5000, 'parsing one label map', () => {
      let map;
      try {
        map = parseLabelMap(text, file);
      } catch (err) {
        checkLibraryError(err, { file, locatedCodes: ['label-map'] });
        return;
      }
      const ids = new Set();
      for (const item of map.items) {
        if (!Number.isSafeInteger(item.id) || item.id < 1) fail(`label map accepted with id ${item.id}`);
        if (ids.has(item.id)) fail(`label map accepted with id ${item.id} twice`);
        ids.add(item.id);
        if (typeof item.name !== 'string') fail('label map item without a name');
      }
    });
  },
};
