/**
 * Which CSV column holds which field. Pure: the `--columns` text is parsed
 * here, and a header row (or none) is matched against the mapping and the
 * aliases of format.ts. Used by both `readCsv` and `detectCsv`, so a file
 * that detection accepts is one the reader can read.
 */
import { TfrecordError } from '../../errors.js';
import { ALIASES, type CsvColumnMapping, type CsvField, FIELDS, normalizeHeaderName, REQUIRED_FIELDS } from './format.js';

/** Parses `filename=image,class=label` or `filename=0,class=5,...`: a value of digits only is a 0-based index. */
export function parseColumnMapping(text: string): CsvColumnMapping {
  const mapping: CsvColumnMapping = {};
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) throw new TfrecordError('bad-argument', 'empty --columns');
  for (const part of parts) {
    const eq = part.indexOf('=');
    const field = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase() as CsvField;
    const value = eq < 0 ? '' : part.slice(eq + 1).trim();
    if (!(FIELDS as readonly string[]).includes(field)) {
      throw new TfrecordError('bad-argument', `--columns: unknown field '${field}' (the fields are ${FIELDS.join(', ')})`);
    }
    if (value === '') throw new TfrecordError('bad-argument', `--columns: '${part}' is not FIELD=COLUMN`);
    if (mapping[field] !== undefined) throw new TfrecordError('bad-argument', `--columns: ${field} is given twice`);
    mapping[field] = /^\d+$/.test(value) ? Number(value) : value;
  }
  return mapping;
}

/** How a field's column was found: named in the mapping, by its own name, by an alias, or as the one column left over. */
export type FoundBy = 'mapping' | 'name' | 'alias' | 'only-column';

export interface FoundColumn {
  field: CsvField;
  index: number;
  /** The header's name for the column (absent without a header row). */
  name?: string;
  by: FoundBy;
}

export interface ResolvedColumns {
  /** field → 0-based column index. width/height may be absent. */
  index: Map<CsvField, number>;
  /** Whether the first row is a header (false when the mapping gives indexes). */
  hasHeader: boolean;
  found: FoundColumn[];
  /** The canonical header, every field under its own name: nothing worth a note. */
  canonical: boolean;
}

export type ColumnResolution = { ok: true; columns: ResolvedColumns } | { ok: false; reason: string };

/** Whether the mapping names columns by index, i.e. the file has no header row; throws for a mix of the two. */
export function mappingIsByIndex(mapping: CsvColumnMapping | undefined): boolean {
  const values = Object.values(mapping ?? {});
  const byIndex = values.filter((v) => typeof v === 'number').length;
  if (byIndex > 0 && byIndex < values.length) {
    throw new TfrecordError('bad-argument', '--columns must name every column by header name or every column by index, not a mix');
  }
  return byIndex > 0;
}

/**
 * Matches the header (undefined: the file has none) with the mapping and the
 * aliases. Without a header, the mapping must give every required field.
 */
export function resolveColumns(header: readonly string[] | undefined, mapping: CsvColumnMapping | undefined): ColumnResolution {
  const index = new Map<CsvField, number>();
  const found: FoundColumn[] = [];
  const fail = (reason: string): ColumnResolution => ({ ok: false, reason });

  if (header === undefined) {
    for (const field of FIELDS) {
      const v = mapping?.[field];
      if (typeof v !== 'number') continue;
      const taken = found.find((f) => f.index === v);
      if (taken) return fail(`--columns gives column ${v} to both ${taken.field} and ${field}`);
      index.set(field, v);
      found.push({ field, index: v, by: 'mapping' });
    }
    const missing = REQUIRED_FIELDS.filter((f) => !index.has(f));
    if (missing.length > 0) return fail(`--columns by index must give ${missing.join(', ')} too (a file without a header row has no names to find them by)`);
    return { ok: true, columns: { index, hasHeader: false, found, canonical: false } };
  }

  const names = header.map(normalizeHeaderName);
  const used = new Set<number>();
  const take = (field: CsvField, i: number, by: FoundBy): void => {
    index.set(field, i);
    used.add(i);
    found.push({ field, index: i, name: header[i]!.trim(), by });
  };
  // Named in the mapping: the header name as written, else as normalized.
  for (const field of FIELDS) {
    const v = mapping?.[field];
    if (v === undefined) continue;
    if (typeof v === 'number') return fail('--columns by index means the file has no header row; name the columns instead');
    let at = header.map((h, i) => (h.trim() === v ? i : -1)).filter((i) => i >= 0);
    if (at.length === 0) at = names.map((n, i) => (n === normalizeHeaderName(v) ? i : -1)).filter((i) => i >= 0);
    if (at.length === 0)
      return fail(`--columns ${field}=${v}: the header has no column ${JSON.stringify(v)} (it has ${header.map((h) => h.trim()).join(', ')})`);
    if (at.length > 1) return fail(`--columns ${field}=${v}: column ${JSON.stringify(v)} appears ${at.length} times in the header`);
    if (used.has(at[0]!)) return fail(`--columns gives column ${JSON.stringify(v)} to two fields`);
    take(field, at[0]!, 'mapping');
  }
  // The others by their aliases, best first.
  for (const field of FIELDS) {
    if (index.has(field)) continue;
    for (const [rank, alias] of ALIASES[field].entries()) {
      const at = names.map((n, i) => (n === alias && !used.has(i) ? i : -1)).filter((i) => i >= 0);
      if (at.length > 1)
        return fail(
          `column ${field} appears twice in the header (${at.map((i) => JSON.stringify(header[i]!.trim())).join(', ')}); name the one to use with --columns ${field}=NAME`,
        );
      if (at.length === 1) {
        take(field, at[0]!, rank === 0 ? 'name' : 'alias');
        break;
      }
    }
  }
  // A class column under a name of its own (BCCD's `cell_type`) is
  // unambiguous when it is the only column nothing else claimed.
  if (!index.has('class')) {
    const left = header.map((_, i) => i).filter((i) => !used.has(i));
    if (left.length === 1) take('class', left[0]!, 'only-column');
  }
  const missing = REQUIRED_FIELDS.filter((f) => !index.has(f));
  if (missing.length > 0) {
    const looked = missing.map((f) => `${f} (${ALIASES[f].join('/')})`).join(', ');
    return fail(`header lacks column(s) ${missing.join(', ')}; looked for ${looked}; name them with --columns FIELD=COLUMN`);
  }
  const canonical = mapping === undefined && FIELDS.every((f) => found.some((c) => c.field === f && c.by === 'name'));
  return { ok: true, columns: { index, hasHeader: true, found, canonical } };
}

/** One line for the report: which column was read as which field. */
export function describeColumns(columns: ResolvedColumns, coords: 'pixel' | 'normalized'): string {
  const parts = FIELDS.flatMap((field) => {
    const c = columns.found.find((f) => f.field === field);
    if (!c) return [];
    const col = c.name !== undefined ? JSON.stringify(c.name) : `column ${c.index}`;
    const why = c.by === 'only-column' ? ' (the one column left)' : '';
    return [`${field}=${col}${why}`];
  });
  const sized = columns.index.has('width') && columns.index.has('height');
  const size = sized ? '' : "; no image width/height columns, so boxes are placed by the image files' own sizes";
  const header = columns.hasHeader ? '' : '; no header row';
  return `CSV columns read as ${parts.join(', ')}${header}${size}; coordinates in ${coords === 'pixel' ? 'pixels' : 'fractions of the image size'}`;
}
