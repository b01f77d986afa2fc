/**
 * The `server:` tokenizer kind: counts an endpoint's `/tokenize` gave, looked up by content hash,
 * so packing, the timeline and the fit table (synchronous code) count with the server's numbers.
 * Counting happens where the record engine runs (a worker thread in the language server), which
 * cannot ask the server itself; so a text the table lacks is counted with the local fallback and
 * noted as missing. `packWithServerCounts` (features/serverPack.ts) then asks the server for the
 * missing texts, adds them (`addServerCounts`) and counts again.
 *
 * A name is `server:<fallback>:<table>@<generation>`. The generation changes whenever counts are
 * added, so no cache keeps a fallback count under a name whose table now knows better. A run record
 * stores the name without its generation (`storedTokenizerName`): the same endpoint gives the same
 * name in every run and every process.
 */
import { hashKey } from '../util/hash';
import type { EncodingName } from './encodings';
import { getTokenizer as getEncoding, isEncodingName } from './encodings';

export type ServerTableName = `server:${string}`;

interface Table {
  counts: Map<string, number>;
  /** Texts counted with the fallback since they were last asked for, by key. */
  missing: Map<string, string>;
}

const tables = new Map<string, Table>();
const MAX_COUNTS = 200_000;

/** The content key a table keeps a text's count under. */
export function serverTextKey(text: string): string {
  return `${text.length}:${hashKey(text)}`;
}

function table(id: string): Table {
  let t = tables.get(id);
  if (t === undefined) tables.set(id, (t = { counts: new Map(), missing: new Map() }));
  return t;
}

/**
 * `server:<fallback>:<table>@<generation>` (or a stored name, without `@<generation>`: generation
 * 0) → its parts; undefined for another name.
 */
export function parseServerTableName(
  name: string,
): { fallback: EncodingName; table: string; generation: number } | undefined {
  const m = /^server:([^:@]+):([^@]+)(?:@(\d+))?$/.exec(name);
  if (m === null || !isEncodingName(m[1])) return undefined;
  return { fallback: m[1], table: m[2], generation: m[3] === undefined ? 0 : Number(m[3]) };
}

/** A tokenizer's name as a run record keeps it: a server table's without its generation. */
export function storedTokenizerName<T extends string>(name: T): T | ServerTableName {
  const p = parseServerTableName(name);
  return p === undefined ? name : `server:${p.fallback}:${p.table}`;
}

/** A tokenizer's name for people: a server table's says whose counts they are. */
export function tokenizerDisplayName(name: string): string {
  const p = parseServerTableName(name);
  return p === undefined ? name : `the server's /tokenize (else ${p.fallback})`;
}

export function isServerTableName(name: string): name is ServerTableName {
  return parseServerTableName(name) !== undefined;
}

export function serverTableName(
  fallback: EncodingName,
  tableId: string,
  generation: number,
): ServerTableName {
  return `server:${fallback}:${tableId}@${generation}`;
}

/** A table's counter: the server's count when known, else the fallback's (noted as missing). */
export function serverTableCounter(name: ServerTableName): { count(text: string): number } {
  const p = parseServerTableName(name)!;
  const fallback = getEncoding(p.fallback);
  const t = table(p.table);
  return {
    count(text: string): number {
      if (text.length === 0) return 0;
      const key = serverTextKey(text);
      const n = t.counts.get(key);
      if (n !== undefined) return n;
      t.missing.set(key, text);
      return fallback.count(text);
    },
  };
}

/** Texts of a table counted with the fallback and not yet answered, with their keys. */
export function serverMissing(tableId: string): { key: string; text: string }[] {
  return [...table(tableId).missing].map(([key, text]) => ({ key, text }));
}

/** Adds the server's counts (by text key); they are no longer missing. */
export function addServerCounts(tableId: string, entries: readonly (readonly [string, number])[]): void {
  const t = table(tableId);
  if (t.counts.size + entries.length > MAX_COUNTS) t.counts.clear();
  for (const [key, n] of entries) {
    t.counts.set(key, n);
    t.missing.delete(key);
  }
}
