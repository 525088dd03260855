/**
 * Finding `gs://` images on this machine: a Cloud Storage prefix stands for
 * a local folder (a copy made with `gcloud storage cp -r`, or a bucket
 * mounted with gcsfuse). Pure, so the matching is tested without files.
 */
import { GCS_SCHEME } from './format.js';

export interface PathMapping {
  /** `gs://bucket` or `gs://bucket/some/prefix`, without a trailing '/'. */
  prefix: string;
  dir: string;
}

/** The mappings, longest prefix first, so `gs://b/x/y` wins over `gs://b/x` for what lies under both. */
export function sortPathMap(map: Readonly<Record<string, string>> | undefined): PathMapping[] {
  return Object.entries(map ?? {})
    .map(([prefix, dir]) => ({ prefix: prefix.replace(/\/+$/, ''), dir }))
    .sort((a, b) => b.prefix.length - a.prefix.length);
}

/**
 * The mapping that covers `uri` and the rest of the URI below its prefix,
 * or undefined. Prefixes match whole path segments: `gs://b/data` covers
 * `gs://b/data/x.jpg`, not `gs://b/database/x.jpg`.
 */
export function mapUri(uri: string, mappings: readonly PathMapping[]): { mapping: PathMapping; rest: string } | undefined {
  for (const mapping of mappings) {
    if (uri.startsWith(mapping.prefix + '/')) return { mapping, rest: uri.slice(mapping.prefix.length + 1) };
  }
  return undefined;
}

/** `gs://bucket/dir/` of a URI: what a user would map. */
export function uriFolder(uri: string): string {
  const slash = uri.lastIndexOf('/');
  return slash >= GCS_SCHEME.length ? uri.slice(0, slash + 1) : uri;
}

/** `gs://bucket` of a URI. */
export function uriBucket(uri: string): string {
  const slash = uri.indexOf('/', GCS_SCHEME.length);
  return slash < 0 ? uri : uri.slice(0, slash);
}

/** Folders shown in the error; the rest are counted. */
const SHOWN_FOLDERS = 5;

/** The one message for every unmapped URI: the folders they are in, busiest first, and how to map them. */
export function unmappedMessage(uris: readonly string[], mappings: readonly PathMapping[]): string {
  const folders = new Map<string, number>();
  for (const u of uris) folders.set(uriFolder(u), (folders.get(uriFolder(u)) ?? 0) + 1);
  const ranked = [...folders].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const shown = ranked.slice(0, SHOWN_FOLDERS).map(([f, n]) => `${f} (${n} image${n === 1 ? '' : 's'})`);
  if (ranked.length > SHOWN_FOLDERS) shown.push(`and ${ranked.length - SHOWN_FOLDERS} more folders`);
  const buckets = [...new Set(uris.map(uriBucket))].sort();
  const example = ranked[0]![0].replace(/\/$/, '');
  const whole = buckets.length <= 3 ? `, or a whole bucket (${buckets.map((b) => `--path-map ${b}=DIR`).join(', ')})` : '';
  const mapped = mappings.length > 0 ? ` The prefixes mapped now (${mappings.map((m) => m.prefix).join(', ')}) do not cover them.` : '';
  return (
    `${uris.length} image${uris.length === 1 ? ' is' : 's are'} on Cloud Storage with no local copy mapped: ${shown.join(', ')}.${mapped} ` +
    `Map each prefix to the folder that holds a copy of it, e.g. --path-map ${example}=DIR${whole}`
  );
}
