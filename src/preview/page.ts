/**
 * The contact sheet: one self-contained index.html. The tiles are data (a
 * JSON block in the page), drawn a page at a time by a small inline script,
 * so a sheet of 10,000+ records opens as fast as one of 20: the browser only
 * ever lays out and fetches one page of thumbnails. Filters by class and by
 * finding code and a search on file names run over that data in the page.
 * No external scripts, styles or fonts: the sheet works offline and from a
 * file:// URL.
 */
import { formatProblem } from '../problem.js';
import type { Finding, FindingCode } from '../validate/findings.js';
import { escapeXml, PLACEHOLDER_SIZE, VERDICT_COLOURS } from './draw.js';
import type { PredictionFilter } from './match.js';
import type { PreviewResult, PreviewTile } from './preview.js';

export interface SheetOptions {
  filter?: FindingCode | PredictionFilter;
  sample?: number;
  /** Predictions were compared: the legend explains the verdict styles. */
  predictions?: unknown;
  limit: number;
  display: (file: string) => string;
}

/** One tile as the page's script reads it. */
export interface SheetTile {
  src: string;
  file: string;
  record: number;
  name: string;
  classes: string[];
  codes: string[];
  boxes: number;
  notes: string[];
  crowd: number;
  difficult: number;
  w?: number;
  h?: number;
  tw?: number;
  th?: number;
  why?: string;
  /** With predictions: true positives, false positives, missed ground-truth boxes. */
  tp?: number;
  fp?: number;
  missed?: number;
}

/** Tiles drawn at once; the pager moves through the rest. */
export const PAGE_SIZE = 60;

const DATA_ID = 'tiles';

function sheetTile(t: PreviewTile, display: (file: string) => string): SheetTile {
  const out: SheetTile = {
    src: t.image,
    file: display(t.file),
    record: t.record,
    name: t.name,
    classes: t.classes,
    codes: t.codes,
    boxes: t.boxes,
    notes: t.notes,
    crowd: t.crowd,
    difficult: t.difficult,
  };
  if (t.width !== undefined && t.height !== undefined) Object.assign(out, { w: t.width, h: t.height });
  if (t.thumbWidth !== undefined && t.thumbHeight !== undefined) Object.assign(out, { tw: t.thumbWidth, th: t.thumbHeight });
  if (t.placeholder !== undefined) out.why = t.placeholder;
  if (t.tp !== undefined) {
    Object.assign(out, { tp: t.tp, fp: t.fp, missed: t.missed });
    // The page's finding filter offers these too, beside the validator's codes.
    out.codes = [...t.codes, ...(t.fp ? ['false-positive'] : []), ...(t.missed ? ['missed'] : [])];
  }
  return out;
}

/**
 * JSON that is safe inside a <script> element: every '<' is escaped, so no
 * file or class name can close the element or open a comment.
 */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const s = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function summary(result: PreviewResult, options: SheetOptions): string {
  const h = escapeXml;
  const shown = result.tiles.length;
  if (options.filter !== undefined) {
    const how = options.sample !== undefined ? `, chosen at random (seed ${result.seed})` : '';
    const what = options.filter === 'false-positive' ? 'a false positive' : options.filter === 'missed' ? 'a missed box' : 'finding';
    return `${shown} of ${s(result.matched ?? 0, 'record')} with ${what} <code>${h(options.filter)}</code> shown${how}; ${s(result.total, 'record')} in all`;
  }
  if (options.sample !== undefined) return `${shown} of ${s(result.total, 'record')} shown, chosen at random across all files (seed ${result.seed})`;
  const which = shown < result.total ? ` (the first ${shown} in file order; <code>--sample N</code> picks across all files)` : '';
  return `${shown} of ${s(result.total, 'record')} shown${which}`;
}

/** Small SVG samples of each box style, drawn the way draw.ts draws them. */
const LEGEND = (() => {
  const sw = (inner: string) => `<svg width="34" height="22" viewBox="0 0 34 22" aria-hidden="true">${inner}</svg>`;
  const c = '#1f9de0';
  return [
    [sw(`<rect x="2" y="2" width="30" height="18" fill="none" stroke="${c}" stroke-width="2"/>`), 'box'],
    [
      sw(`<rect x="2" y="2" width="30" height="18" fill="none" stroke="${c}" stroke-width="2" stroke-dasharray="6,4"/>`),
      'outside the image or inverted (drawn clamped)',
    ],
    [
      sw(
        `<defs><pattern id="lh" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><rect width="1.5" height="6" fill="${c}"/></pattern></defs>` +
          `<rect x="2" y="2" width="30" height="18" fill="url(#lh)" fill-opacity="0.55"/><rect x="2" y="2" width="30" height="18" fill="none" stroke="${c}" stroke-width="2"/>`,
      ),
      'crowd (is_crowd)',
    ],
    [
      sw(
        `<rect x="2" y="2" width="30" height="18" fill="none" stroke="${c}" stroke-width="2"/><rect x="6" y="6" width="22" height="10" fill="none" stroke="${c}" stroke-width="2"/>`,
      ),
      'difficult',
    ],
    [
      sw(`<rect x="0" y="8" width="34" height="14" fill="#000" fill-opacity="0.75"/><rect x="3" y="13" width="24" height="4" fill="#ffd040"/>`),
      'boxes not drawn as stored (NaN, missing, inverted), listed on the tile',
    ],
  ]
    .map(([svg, text]) => `<span class="key">${svg}${text}</span>`)
    .join('');
})();

/** Legend entries of the prediction styles, shown only when predictions were compared. */
const PREDICTION_LEGEND = (() => {
  const sw = (inner: string) => `<svg width="34" height="22" viewBox="0 0 34 22" aria-hidden="true">${inner}</svg>`;
  const c = (v: { r: number; g: number; b: number }) => `rgb(${v.r},${v.g},${v.b})`;
  return [
    [
      sw(`<rect x="2" y="2" width="30" height="18" fill="none" stroke="${c(VERDICT_COLOURS.tp)}" stroke-width="2"/>`),
      'TP: detection matching a box (IoU ≥ 0.5)',
    ],
    [
      sw(`<rect x="2" y="2" width="30" height="18" fill="none" stroke="${c(VERDICT_COLOURS.fp)}" stroke-width="2" stroke-dasharray="6,4"/>`),
      'FP: detection matching none',
    ],
    [
      sw(`<rect x="3" y="3" width="28" height="16" fill="none" stroke="${c(VERDICT_COLOURS.missed)}" stroke-width="4"/>`),
      'missed: ground-truth box no detection found',
    ],
  ]
    .map(([svg, text]) => `<span class="key">${svg}${text}</span>`)
    .join('');
})();

export function contactSheet(result: PreviewResult, options: SheetOptions): string {
  const h = escapeXml;
  const title = options.filter ? `Records with ${options.filter}` : 'Dataset preview';
  const tiles = result.tiles.map((t) => sheetTile(t, options.display));
  const errors = result.errors.map((e: Finding) => `<li>${h(formatProblem({ ...e, file: options.display(e.file) }))}</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${h(title)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:16px;background:#fafafa;color:#222}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:12px;margin-top:12px}
figure{margin:0;background:#fff;border:1px solid #ddd;border-radius:4px;padding:6px}
figure.bad{border-color:#d04040}
figure img{display:block;width:100%;height:auto;max-height:340px;object-fit:contain;background:#eee}
figcaption{font-size:12px;margin-top:4px;overflow-wrap:anywhere}
.name{font-weight:600} .where{color:#555} .why,.note{color:#a02020} code{background:#eee;padding:0 3px;border-radius:3px}
.cls{display:inline-block;background:#e8f0fe;border-radius:3px;padding:0 4px;margin:1px 2px 1px 0}
.controls{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;position:sticky;top:0;background:#fafafa;padding:8px 0;border-bottom:1px solid #ddd}
.legend{display:flex;flex-wrap:wrap;gap:6px 16px;font-size:12px;color:#444}
.key{display:inline-flex;align-items:center;gap:4px}
</style></head><body>
<h1>${h(title)}</h1>
<p id="summary">${summary(result, options)}.</p>
<div class="legend">${LEGEND}${options.predictions !== undefined ? PREDICTION_LEGEND : ''}</div>
<p>Placeholder tiles (${PLACEHOLDER_SIZE.width}×${PLACEHOLDER_SIZE.height}, dark) stand for records whose image could not be drawn.</p>
${errors ? `<ul class="why">${errors}</ul>\n` : ''}<div class="controls">
<label>Class <select id="class"><option value="">all</option></select></label>
<label>Finding <select id="code"><option value="">all</option></select></label>
<label>File name <input id="search" type="search" placeholder="part of a name"></label>
<span><button id="prev" type="button">◀ Prev</button> <span id="page"></span> <button id="next" type="button">Next ▶</button></span>
<span id="status"></span>
</div>
<noscript><p>This page draws its tiles with JavaScript; the thumbnails are the .jpg files beside it.</p></noscript>
<div class="grid" id="grid"></div>
<script type="application/json" id="${DATA_ID}">${scriptJson(tiles)}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}

/**
 * The page's script, plain ES2017 with DOM calls only (text goes in through
 * textContent, never innerHTML, so names from the dataset cannot inject markup).
 */
const PAGE_SCRIPT = `
(function () {
  'use strict';
  var PAGE = ${PAGE_SIZE};
  var tiles = JSON.parse(document.getElementById('${DATA_ID}').textContent);
  var $ = function (id) { return document.getElementById(id); };
  var grid = $('grid'), clsSel = $('class'), codeSel = $('code'), search = $('search');
  var state = { cls: '', code: '', text: '', page: 0 };
  var shown = tiles;

  function count(key) {
    var m = new Map();
    tiles.forEach(function (t) { t[key].forEach(function (v) { m.set(v, (m.get(v) || 0) + 1); }); });
    return Array.from(m.entries()).sort(function (a, b) { return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0; });
  }
  function fill(select, entries, none) {
    entries.forEach(function (e) { var o = document.createElement('option'); o.value = e[0]; o.textContent = e[0] + ' (' + e[1] + ')'; select.appendChild(o); });
    if (none > 0) { var o = document.createElement('option'); o.value = '\\u0000none'; o.textContent = '(none) (' + none + ')'; select.appendChild(o); }
  }
  fill(clsSel, count('classes'), tiles.filter(function (t) { return t.classes.length === 0; }).length);
  fill(codeSel, count('codes'), tiles.filter(function (t) { return t.codes.length === 0; }).length);

  function has(list, want) { return want === '' || (want === '\\u0000none' ? list.length === 0 : list.indexOf(want) >= 0); }
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }
  function tile(t) {
    var fig = el('figure', t.why !== undefined ? 'bad' : '');
    fig.dataset.record = t.file + '#' + t.record;
    var a = el('a'); a.href = encodeURIComponent(t.src);
    var img = el('img'); img.src = a.href; img.alt = t.name || t.src; img.loading = 'lazy';
    if (t.tw) { img.width = t.tw; img.height = t.th; }
    a.appendChild(img); fig.appendChild(a);
    var cap = el('figcaption');
    cap.appendChild(el('div', 'name', t.name || '(no image/filename or source_id)'));
    var where = t.file + ' · record ' + t.record + ' · ' + t.boxes + (t.boxes === 1 ? ' box' : ' boxes') + (t.w ? ' · ' + t.w + '×' + t.h : '');
    if (t.crowd) where += ' · ' + t.crowd + ' crowd';
    if (t.difficult) where += ' · ' + t.difficult + ' difficult';
    cap.appendChild(el('div', 'where', where));
    if (t.tp !== undefined) cap.appendChild(el('div', 'verdicts', 'TP ' + t.tp + ' · FP ' + t.fp + ' · missed ' + t.missed));
    if (t.classes.length) { var c = el('div'); t.classes.forEach(function (n) { c.appendChild(el('span', 'cls', n)); }); cap.appendChild(c); }
    if (t.codes.length) { var k = el('div'); t.codes.forEach(function (n, i) { if (i) k.appendChild(document.createTextNode(' ')); k.appendChild(el('code', '', n)); }); cap.appendChild(k); }
    t.notes.forEach(function (n) { cap.appendChild(el('div', 'note', n)); });
    if (t.why !== undefined) cap.appendChild(el('div', 'why', t.why));
    fig.appendChild(cap);
    return fig;
  }
  function apply() {
    var text = state.text.toLowerCase();
    shown = tiles.filter(function (t) {
      return has(t.classes, state.cls) && has(t.codes, state.code) &&
        (text === '' || t.name.toLowerCase().indexOf(text) >= 0 || t.file.toLowerCase().indexOf(text) >= 0 || t.src.toLowerCase().indexOf(text) >= 0);
    });
    var pages = Math.max(1, Math.ceil(shown.length / PAGE));
    if (state.page >= pages) state.page = pages - 1;
    var frag = document.createDocumentFragment();
    shown.slice(state.page * PAGE, (state.page + 1) * PAGE).forEach(function (t) { frag.appendChild(tile(t)); });
    grid.replaceChildren(frag);
    $('page').textContent = 'page ' + (state.page + 1) + ' of ' + pages;
    $('prev').disabled = state.page === 0;
    $('next').disabled = state.page >= pages - 1;
    $('status').textContent = shown.length + ' of ' + tiles.length + ' tiles match';
  }
  clsSel.addEventListener('change', function () { state.cls = clsSel.value; state.page = 0; apply(); });
  codeSel.addEventListener('change', function () { state.code = codeSel.value; state.page = 0; apply(); });
  search.addEventListener('input', function () { state.text = search.value; state.page = 0; apply(); });
  $('prev').addEventListener('click', function () { state.page--; apply(); window.scrollTo(0, 0); });
  $('next').addEventListener('click', function () { state.page++; apply(); window.scrollTo(0, 0); });
  apply();
})();
`;

/**
 * The tile file names a sheet lists: from its JSON block, or from the
 * `<img src>` attributes of sheets written before the page became data.
 * Anything unreadable yields nothing (the caller only deletes what it finds).
 */
export function readSheetTiles(html: string): string[] {
  const names: string[] = [];
  const open = `<script type="application/json" id="${DATA_ID}">`;
  const at = html.indexOf(open);
  if (at >= 0) {
    const end = html.indexOf('</script>', at);
    try {
      const data: unknown = JSON.parse(html.slice(at + open.length, end));
      if (Array.isArray(data)) for (const t of data) if (typeof t?.src === 'string') names.push(t.src);
    } catch {
      // Not a sheet of ours after all.
    }
  }
  for (const m of html.matchAll(/<img src="([^"]*)"/g)) {
    try {
      names.push(decodeURIComponent(unescapeXml(m[1] as string)));
    } catch {
      // A src that is not URI-encoded: not one of ours.
    }
  }
  return names;
}

/** The inverse of escapeXml, which writes numeric entities. */
function unescapeXml(text: string): string {
  return text.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
}
