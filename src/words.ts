/**
 * Counts and articles in messages, so every layer words them the same way:
 * "1 image", "3 images", "an int64_list". Pure (no Node APIs), for any layer.
 */

/** "1 record", "2 records"; `many` for irregular plurals ("box", "boxes"). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "is"/"are" to go with a count: `${plural(n, 'class')} ${isAre(n)} declared`. */
export function isAre(n: number): string {
  return n === 1 ? 'is' : 'are';
}

/** Acronyms said as a word, not letter by letter ("a HEIF image", not "an"). */
const SAID_AS_WORDS = new Set(['HEIF', 'JPEG', 'JSON', 'NaN']);

/**
 * "a" or "an" before `word`, by how it is said: an acronym spelt letter by
 * letter goes by its first letter's name ("an XML file", "an HTML page",
 * "a PNG image"), anything else by its first letter ("an int64_list",
 * "a float_list", "an empty list"). Enough for the words messages put it
 * before: feature kinds, file kinds, format names.
 */
export function article(word: string): string {
  const first = word.split(/[\s_-]/)[0] ?? '';
  if (/^[A-Z][A-Z0-9]+$/.test(first) && !SAID_AS_WORDS.has(first)) return /^[AEFHILMNORSX]/.test(first) ? 'an' : 'a';
  return /^[aeiou8]/i.test(word) ? 'an' : 'a';
}

/** `${article(word)} ${word}` */
export function withArticle(word: string): string {
  return `${article(word)} ${word}`;
}
