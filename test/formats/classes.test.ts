import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadClassList, parseClassLines, parseYamlNames } from '../../src/formats/classes.js';
import { makeTree } from './helpers.js';

describe('parseYamlNames', () => {
  it('reads a flow list with mixed quoting and comments', () => {
    expect(parseYamlNames(`path: ../data\nnc: 3 # three\nnames: ['a b', "c\\"d", e]  # comment\n`)).toEqual(['a b', 'c"d', 'e']);
  });

  it('reads a flow list spanning lines', () => {
    expect(parseYamlNames(`names: [\n  cat,\n  'dog', # pet\n  bird\n]\ntrain: x\n`)).toEqual(['cat', 'dog', 'bird']);
  });

  it('reads a block list, indented or at the key column', () => {
    expect(parseYamlNames(`names:\n  - cat\n  - 'it''s'\n\n  - bird\nval: y\n`)).toEqual(['cat', "it's", 'bird']);
    expect(parseYamlNames(`names:\n- cat\n- dog\nnc: 2\n`)).toEqual(['cat', 'dog']);
  });

  it('reads the index map form (Ultralytics) in index order', () => {
    expect(parseYamlNames(`names:\n  1: dog\n  0: cat # first\n  2: traffic light\n`)).toEqual(['cat', 'dog', 'traffic light']);
    expect(parseYamlNames(`names: {0: a, 1: 'b'}\n`)).toEqual(['a', 'b']);
  });

  it('refuses what it cannot read, with a line', () => {
    expect(() => parseYamlNames('nc: 1\n', 'd.yaml')).toThrow(/no top-level `names:`/);
    expect(() => parseYamlNames('names: cat\n')).toThrow(/must be a list/);
    expect(() => parseYamlNames('names:\n  0: a\n  2: b\n')).toThrow(/line 3.*indices 0..1/);
    expect(() => parseYamlNames('names: [a, a]\n')).toThrow(/listed twice/);
    expect(() => parseYamlNames('nc: 3\nnames: [a, b]\n')).toThrow(/line 1: nc is 3 but names lists 2/);
    expect(() => parseYamlNames('names: [a, [b]]\n')).toThrow(/nested/);
    expect(() => parseYamlNames('names: [a, b\n')).toThrow(/unterminated/);
  });
});

describe('class list files', () => {
  it('reads one name per line, trimming and skipping blanks', () => {
    expect(parseClassLines('\ufeffcat\r\n dog \n\n')).toEqual(['cat', 'dog']);
    expect(() => parseClassLines('a\nb\na\n', 'obj.names')).toThrow(/obj.names: line 3: class "a" is listed twice/);
  });

  it('picks the parser by extension and reports unreadable files', async () => {
    const dir = await makeTree({ 'data.yaml': 'names: [x, y]\n', 'obj.names': 'x\ny\nz\n' });
    expect(await loadClassList(path.join(dir, 'data.yaml'))).toEqual(['x', 'y']);
    expect(await loadClassList(path.join(dir, 'obj.names'))).toEqual(['x', 'y', 'z']);
    expect(await loadClassList(['p', 'q'])).toEqual(['p', 'q']);
    await expect(loadClassList(path.join(dir, 'nope.txt'))).rejects.toThrow(/cannot read class list/);
  });
});
