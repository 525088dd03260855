import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findLabelById, findLabelByName, formatLabelMap, indexLabelMap, labelMapFromNames, parseLabelMap, type LabelMap } from 'tfrecord-od/detection';
import { isTfrecordError } from 'tfrecord-od';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const interop = resolve(projectRoot, '../shared/interop');

describe('parseLabelMap syntax', () => {
  it('reads the multi-line form with single quotes', () => {
    const map = parseLabelMap("item {\n  id: 1\n  name: 'cat'\n}\n\nitem {\n  id: 2\n  name: 'dog'\n}\n");
    expect(map.items).toEqual([
      { id: 1, name: 'cat' },
      { id: 2, name: 'dog' },
    ]);
  });

  it('reads items on one line, double quotes, display_name, any field order', () => {
    const map = parseLabelMap('item { name: "cat" id: 1 display_name: "Cat" } item { id: 2, name: "dog"; }');
    expect(map.items).toEqual([
      { id: 1, name: 'cat', displayName: 'Cat' },
      { id: 2, name: 'dog' },
    ]);
  });

  it("accepts ':' before '{', angle brackets and separators between items", () => {
    const map = parseLabelMap('item: { id: 1 name: "a" },\nitem < id: 2 name: "b" >;\nitem: < id: 3, name: "c" >');
    expect(map.items.map((i) => i.name)).toEqual(['a', 'b', 'c']);
  });

  it('skips comments, including # inside a line after a value', () => {
    const map = parseLabelMap("# classes\nitem { # first\n  id: 1 # one\n  name: 'a#b' # not a comment inside quotes\n}\n");
    expect(map.items).toEqual([{ id: 1, name: 'a#b' }]);
  });

  it('decodes escapes: quotes, backslash, newline, octal and hex bytes (as UTF-8), \\u', () => {
    const map = parseLabelMap(String.raw`item { id: 1 name: 'it\'s' display_name: "say \"hi\"" }
item { id: 2 name: "back\\slash\nnew" }
item { id: 3 name: "caf\303\251" display_name: "\x41\x42\u00e9" }
item { id: 4 name: "a" 'b' "c" }`);
    expect(map.items).toEqual([
      { id: 1, name: "it's", displayName: 'say "hi"' },
      { id: 2, name: 'back\\slash\nnew' },
      { id: 3, name: 'café', displayName: 'ABé' },
      { id: 4, name: 'abc' },
    ]);
  });

  it('accepts hex and octal integers for id', () => {
    expect(parseLabelMap('item { id: 0x10 name: "a" } item { id: 011 name: "b" }').items.map((i) => i.id)).toEqual([16, 9]);
  });

  it('ignores unknown fields: scalars, enums, nested messages, lists, unknown top-level fields', () => {
    const text = `
item {
  id: 1
  name: "person"
  frequency: FREQUENT
  instance_count: 42
  keypoints { id: 0 label: "nose" }
  keypoints: { id: 1 label: "left_eye" }
  ancestor_ids: [2, 3]
  score: -inf
  weight: 1.5e-3
}
some_future_field: "x"
item { id: 2 name: "bike" }
`;
    expect(parseLabelMap(text).items).toEqual([
      { id: 1, name: 'person' },
      { id: 2, name: 'bike' },
    ]);
  });

  it('reads an empty file as an empty map', () => {
    expect(parseLabelMap('').items).toEqual([]);
    expect(parseLabelMap('# nothing\n').items).toEqual([]);
  });
});

describe('parseLabelMap errors', () => {
  const cases: Array<[string, string, number, RegExp]> = [
    ['missing id', "item {\n  name: 'a'\n}", 1, /item has no 'id'/],
    ['missing name', "item { id: 1 name: 'a' }\nitem {\n  id: 2\n}", 2, /item has no 'name'/],
    ['id zero', "item {\n  id: 0\n  name: 'bg'\n}", 2, /id must be between 1/],
    ['negative id', "item {\n  name: 'x'\n  id: -3\n}", 3, /id must be between 1/],
    ['non-integer id', 'item { id: 1.5 name: "x" }', 1, /id must be an integer/],
    ['quoted id', 'item { id: "1" name: "x" }', 1, /id must be an integer/],
    ['duplicate id', "item { id: 1 name: 'a' }\n\nitem {\n  id: 1\n  name: 'b'\n}", 4, /duplicate id 1 \(first used on line 1\)/],
    ['duplicate name', "item { id: 1 name: 'a' }\nitem { id: 2\n name: 'a' }", 3, /duplicate name "a"/],
    ['unquoted name', 'item { id: 1 name: cat }', 1, /name must be a quoted string/],
    ['unterminated string', "item { id: 1\n name: 'cat }", 2, /unterminated string/],
    ['unclosed item', "item {\n id: 1\n name: 'a'\n", 1, /not closed/],
    ['bad escape', "item { id: 1 name: 'a\\q' }", 1, /invalid escape/],
    ['garbage', 'item { id: 1 name: "a" }\n@', 2, /unexpected character/],
    ['two names', 'item { id: 1 name: "a"\n name: "b" }', 2, /more than one 'name'/],
    ['missing colon', 'item { id 1 name: "a" }', 1, /expected ':' after 'id'/],
  ];
  for (const [name, text, line, message] of cases) {
    it(`${name} -> label-map error on line ${line}`, () => {
      let err: unknown;
      try {
        parseLabelMap(text, 'labels.pbtxt');
      } catch (e) {
        err = e;
      }
      expect(isTfrecordError(err)).toBe(true);
      const e = err as { code: string; file: string; line: number; message: string; name: string };
      expect(e.name).toBe('AnnotationError');
      expect(e.code).toBe('label-map');
      expect(e.file).toBe('labels.pbtxt');
      expect(e.line).toBe(line);
      expect(e.message).toMatch(message);
      expect(e.message).toContain(`labels.pbtxt: line ${line}: `);
    });
  }
});

describe('formatLabelMap', () => {
  it('writes double-quoted items the OD API parses', () => {
    expect(
      formatLabelMap({
        items: [
          { id: 1, name: 'cat', displayName: 'Cat "the" \\ one' },
          { id: 2, name: 'dog' },
        ],
      }),
    ).toBe('item {\n  id: 1\n  name: "cat"\n  display_name: "Cat \\"the\\" \\\\ one"\n}\n\nitem {\n  id: 2\n  name: "dog"\n}\n');
  });

  it('escapes non-ASCII as octal UTF-8 bytes', () => {
    expect(formatLabelMap({ items: [{ id: 1, name: 'café' }] })).toContain('name: "caf\\303\\251"');
  });

  it('round-trips any label map', () => {
    const item = fc.record({
      name: fc.string({ unit: 'binary', maxLength: 16 }),
      displayName: fc.option(fc.string({ unit: 'binary', maxLength: 16 }), { nil: undefined }),
    });
    const mapArb = fc
      .tuple(fc.uniqueArray(fc.integer({ min: 1, max: 0x7fffffff }), { maxLength: 8 }), fc.uniqueArray(item, { selector: (i) => i.name, maxLength: 8 }))
      .map(
        ([ids, items]): LabelMap => ({
          items: items
            .slice(0, ids.length)
            .map((it, k) => (it.displayName === undefined ? { id: ids[k]!, name: it.name } : { id: ids[k]!, name: it.name, displayName: it.displayName })),
        }),
      );
    fc.assert(
      fc.property(mapArb, (map) => {
        expect(parseLabelMap(formatLabelMap(map))).toEqual(map);
      }),
    );
  });
});

describe('lookups', () => {
  it('finds by id and by name', () => {
    const map = labelMapFromNames(['cat', 'dog']);
    expect(map.items).toEqual([
      { id: 1, name: 'cat' },
      { id: 2, name: 'dog' },
    ]);
    expect(findLabelById(map, 2)?.name).toBe('dog');
    expect(findLabelByName(map, 'cat')?.id).toBe(1);
    expect(findLabelById(map, 3)).toBeUndefined();
    const index = indexLabelMap(map);
    expect(index.byId.get(1)?.name).toBe('cat');
    expect(index.byName.get('dog')?.id).toBe(2);
  });
});

describe('interop label maps', () => {
  const datumaro = join(interop, 'datumaro/tf_detection_api_dataset/label_map.pbtxt');
  const roboflow = join(interop, 'datumaro/roboflow_dataset/tfrecord/train/label_map.pbtxt');

  it.skipIf(!existsSync(datumaro))(`parses Datumaro's label map${existsSync(datumaro) ? '' : ' (skipped: ../shared/interop not found)'}`, () => {
    const map = parseLabelMap(readFileSync(datumaro, 'utf8'), datumaro);
    expect(map.items).toHaveLength(10);
    expect(map.items[0]).toEqual({ id: 1, name: 'label_0' });
    expect(map.items[9]).toEqual({ id: 10, name: 'label_9' });
    expect(parseLabelMap(formatLabelMap(map))).toEqual(map);
  });

  it.skipIf(!existsSync(roboflow))(
    `parses Roboflow's label map with display_name${existsSync(roboflow) ? '' : ' (skipped: ../shared/interop not found)'}`,
    () => {
      const map = parseLabelMap(readFileSync(roboflow, 'utf8'), roboflow);
      expect(map.items).toEqual([
        { id: 1, name: 'label_0', displayName: 'label_0' },
        { id: 2, name: 'label_1', displayName: 'label_1' },
      ]);
    },
  );
});

describe('nesting', () => {
  it('refuses fields nested thousands deep with the line, instead of running out of stack', () => {
    const deep = 'item {\n  id: 1\n  name: "a"\n' + '  x {\n'.repeat(5000) + '  }\n'.repeat(5000) + '}\n';
    expect(() => parseLabelMap(deep, 'deep.pbtxt')).toThrow(/deep\.pbtxt: line 104: fields are nested more than 100 deep here/);
    const fine = 'item {\n  id: 1\n  name: "a"\n' + '  x {\n'.repeat(50) + '  }\n'.repeat(50) + '}\n';
    expect(parseLabelMap(fine).items).toEqual([{ id: 1, name: 'a' }]);
  });
});
