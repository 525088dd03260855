/**
 * Class names as people type them: `Raccoon `, `raccoon` and `RACCOON` in one
 * CSV are almost always one class, but silently merging them could also be
 * wrong (`US` and `us`). So surrounding spaces, which nobody means, are
 * trimmed; names that still differ only in letter case are kept apart and
 * reported, so the user decides.
 */
import type { SourceItem } from '../formats/types.js';

export interface ClassNameNote {
  code: 'class-name-trimmed' | 'class-name-case';
  /** The names as written (for 'class-name-trimmed', the untrimmed spelling). */
  names: string[];
  message: string;
}

export class ClassNameCheck {
  private readonly trimmed = new Map<string, string>();
  private readonly byFolded = new Map<string, Set<string>>();

  /** Trims the item's class names in place (call on every item, in both passes) and records what it saw. */
  clean(item: SourceItem): void {
    for (const o of item.objects) {
      const name = o.className;
      const clean = name.trim();
      if (clean !== name) {
        if (!this.trimmed.has(name)) this.trimmed.set(name, clean);
        o.className = clean;
      }
      const folded = clean.toLowerCase();
      let set = this.byFolded.get(folded);
      if (!set) this.byFolded.set(folded, (set = new Set()));
      set.add(clean);
    }
  }

  /** What the user should hear about: trimmed spellings, and names that differ only in case. */
  notes(): ClassNameNote[] {
    const notes: ClassNameNote[] = [];
    for (const [raw, clean] of this.trimmed) {
      notes.push({
        code: 'class-name-trimmed',
        names: [raw],
        message: `class name ${JSON.stringify(raw)} has surrounding spaces; read as ${JSON.stringify(clean)}`,
      });
    }
    for (const set of this.byFolded.values()) {
      if (set.size < 2) continue;
      const names = [...set];
      notes.push({
        code: 'class-name-case',
        names,
        message: `class names ${names.map((n) => JSON.stringify(n)).join(', ')} differ only in letter case and became ${names.length} classes; if they are one class, write them the same way`,
      });
    }
    return notes;
  }
}
