/** Which instruction file uses which `id`, across the workspace, for the duplicate-id check. */
import { isMap, isScalar } from 'yaml';
import type { InstructionFile, Span } from '../format/parse';

/** A line/character range (the shape of an LSP Range, without depending on its library). */
export interface IdRange {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

export class IdIndex {
  private readonly idOf = new Map<string, string>();
  private readonly urisOf = new Map<string, Set<string>>();
  private readonly rangeOf = new Map<string, IdRange>();

  /**
   * Records the id of `uri` (`undefined`: the file has none), with where its value is written (for
   * the "same id here" location a duplicate points at).
   */
  set(uri: string, id: string | undefined, range?: IdRange): void {
    if (range && id !== undefined) this.rangeOf.set(uri, range);
    else this.rangeOf.delete(uri);
    const old = this.idOf.get(uri);
    if (old === id) return;
    if (old !== undefined) {
      const set = this.urisOf.get(old);
      set?.delete(uri);
      if (set && set.size === 0) this.urisOf.delete(old);
    }
    if (id === undefined) {
      this.idOf.delete(uri);
      return;
    }
    this.idOf.set(uri, id);
    let set = this.urisOf.get(id);
    if (!set) this.urisOf.set(id, (set = new Set()));
    set.add(uri);
  }

  delete(uri: string): void {
    this.set(uri, undefined);
  }

  /** Where the id's value is written in `uri`, when known. */
  rangeFor(uri: string): IdRange | undefined {
    return this.rangeOf.get(uri);
  }

  idFor(uri: string): string | undefined {
    return this.idOf.get(uri);
  }

  /** Other files that use the same id as `uri`, sorted. */
  othersWithSameId(uri: string): string[] {
    const id = this.idOf.get(uri);
    if (id === undefined) return [];
    return [...(this.urisOf.get(id) ?? [])].filter((u) => u !== uri).sort();
  }

  /** Files using `id`, sorted. */
  urisFor(id: string): string[] {
    return [...(this.urisOf.get(id) ?? [])].sort();
  }

  has(id: string): boolean {
    return (this.urisOf.get(id)?.size ?? 0) > 0;
  }

  /** Every file that shares its id with another file. */
  duplicatedUris(): string[] {
    const out: string[] = [];
    for (const set of this.urisOf.values()) if (set.size > 1) out.push(...set);
    return out.sort();
  }

  get size(): number {
    return this.idOf.size;
  }
}

/** The id as the index stores it (`7222697931` and `"7222697931"` are the same id). */
export function normalizeId(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  return undefined;
}

/**
 * A new 10-digit id (the shape of MedAlign's instruction ids), derived from `seed` and probed until
 * `taken` says it is free. Deterministic for a seed, so tests and previews are stable.
 */
export function generateUniqueId(seed: string, taken: (id: string) => boolean): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  let n = 1_000_000_000 + (h % 8_999_999_999);
  for (let i = 0; i < 1_000_000; i++) {
    const id = String(n);
    if (!taken(id)) return id;
    n = n >= 9_999_999_999 ? 1_000_000_000 : n + 1;
  }
  return String(n);
}

/** The span of the front matter's `id` value (offsets in the file's text). */
export function idSpan(file: InstructionFile): Span | undefined {
  const fm = file.frontMatter;
  const contents = fm?.doc.contents;
  if (!fm || !isMap(contents)) return undefined;
  const pair = contents.items.find((p) => isScalar(p.key) && String(p.key.value) === 'id');
  const node = pair?.value;
  const range = node && typeof node === 'object' && 'range' in node ? node.range : undefined;
  if (!Array.isArray(range)) return undefined;
  return { start: fm.content.start + Number(range[0]), end: fm.content.start + Number(range[1]) };
}

/** The range of the id of a parsed file, as line/character positions. */
export function idRangeIn(text: string, file: InstructionFile): IdRange | undefined {
  const span = idSpan(file);
  if (!span) return undefined;
  return { start: positionIn(text, span.start), end: positionIn(text, span.end) };
}

/** The line/character of `offset` in `text`. */
export function positionIn(text: string, offset: number): { line: number; character: number } {
  let line = 0;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, character: offset - lineStart };
}
