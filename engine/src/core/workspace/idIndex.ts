/** Which instruction file uses which `id`, across the workspace, for the duplicate-id check. */
export class IdIndex {
  private readonly idOf = new Map<string, string>();
  private readonly urisOf = new Map<string, Set<string>>();

  /** Records the id of `uri` (`undefined`: the file has none). */
  set(uri: string, id: string | undefined): void {
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
