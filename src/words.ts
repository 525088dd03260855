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

/**
 * "a" or "an" before `word`, by its first letter: enough for the words these
 * messages put it before (feature kinds, format names), where a vowel letter
 * is a vowel sound. Digits read as their names: "an 8-bit".
 */
export function article(word: string): string {
  return /^[aeiou8]/i.test(word) || /^11(?!\d)/.test(word) || /^18(?!\d)/.test(word) ? 'an' : 'a';
}

/** `${article(word)} ${word}` */
export function withArticle(word: string): string {
  return `${article(word)} ${word}`;
}
