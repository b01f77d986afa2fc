/**
 * The one tokenizer interface: everything that counts (hovers, packing, the timeline, the CLI, the
 * record worker) asks `getTokenizer(name)` for a `Tokenizer` and keys its caches by the name.
 *
 * A name says which tokenizer exactly, as plain data that crosses the worker boundary:
 * - `cl100k_base`, `o200k_base`: OpenAI's encodings (encodings.ts, gpt-tokenizer);
 * - `hf:<hash>`: a Hugging Face `tokenizer.json` (hf.ts), named by a 64-bit hash of the file's text,
 *   so a cache never mixes two tokenizers. The host reads the files and registers their text here
 *   (`registerHfTokenizer`); a worker thread gets the same text once (`hfTokenizerFiles`).
 *
 * - `server:<fallback>:<table>@<generation>`: counts an endpoint's `/tokenize` gave
 *   (serverTable.ts), the fallback encoding for texts not asked yet.
 *
 * Adding a kind of tokenizer: a module like hf.ts and one entry in `KINDS` below.
 */
import { hashKey } from '../util/hash';
import type { EncodingName } from './encodings';
import {
  clearTokenizerCaches as clearEncodingCaches,
  getTokenizer as getEncoding,
  isEncodingName,
} from './encodings';
import type { HfTokenizer, HfTokenizerFiles } from './hf';
import { loadHfTokenizer } from './hf';
import type { ServerTableName } from './serverTable';
import { isServerTableName, parseServerTableName, serverTableCounter } from './serverTable';

export type HfTokenizerName = `hf:${string}`;
export type TokenizerName = EncodingName | HfTokenizerName | ServerTableName;

export interface Tokenizer {
  readonly name: TokenizerName;
  /** Token ids of `text`. */
  encode(text: string): number[];
  /** Number of tokens of `text`. */
  count(text: string): number;
  decode(ids: readonly number[]): string;
}

interface Kind {
  /** This kind's names. */
  is(name: string): boolean;
  /** The tokenizer for a name of this kind; throws a clear error when it cannot be made. */
  create(name: TokenizerName): Tokenizer;
}

const hfFiles = new Map<string, HfTokenizerFiles>();
const hfLoaded = new Map<string, HfTokenizer>();

const KINDS: readonly Kind[] = [
  {
    is: isEncodingName,
    create: (name) => {
      const t = getEncoding(name as EncodingName);
      return {
        name,
        encode: (text) => t.encode(text),
        count: (text) => t.count(text),
        decode: (ids) => t.decode(ids),
      };
    },
  },
  {
    is: (name) => name.startsWith('hf:'),
    create: (name) => {
      const files = hfFiles.get(name);
      if (files === undefined) throw new Error(`Tokenizer ${name} is not loaded in this process.`);
      const t = loadHfTokenizer(files);
      hfLoaded.set(name, t);
      return {
        name,
        encode: (text) => t.encode(text),
        count: (text) => t.count(text),
        decode: (ids) => t.decode(ids),
      };
    },
  },
  {
    is: isServerTableName,
    create: (name) => {
      const counter = serverTableCounter(name as ServerTableName);
      // Ids and text are the fallback's: only counts come from the server.
      const fallback = getEncoding(parseServerTableName(name)!.fallback);
      return {
        name,
        encode: (text) => fallback.encode(text),
        count: (text) => counter.count(text),
        decode: (ids) => fallback.decode(ids),
      };
    },
  },
];

export function isTokenizerName(name: unknown): name is TokenizerName {
  return typeof name === 'string' && KINDS.some((k) => k.is(name));
}

const loaded = new Map<TokenizerName, Tokenizer>();

/** The tokenizer of a name (made on first use, then kept). Throws for a name not known here. */
export function getTokenizer(name: TokenizerName): Tokenizer {
  let t = loaded.get(name);
  if (t === undefined) {
    const kind = KINDS.find((k) => k.is(name));
    if (kind === undefined) throw new Error(`Unknown tokenizer ${String(name)}.`);
    t = kind.create(name);
    loaded.set(name, t);
  }
  return t;
}

/** Whether `getTokenizer(name)` can work in this process without more data. */
export function hasTokenizer(name: TokenizerName): boolean {
  return !name.startsWith('hf:') || hfFiles.has(name);
}

/**
 * Registers a Hugging Face tokenizer's files and returns its name (the same files give the same
 * name). Checks that they load, so a broken file is refused here with a clear message.
 */
export function registerHfTokenizer(files: HfTokenizerFiles): HfTokenizerName {
  const name: HfTokenizerName = `hf:${hashKey(files.json, 0, files.json.length)}`;
  if (!hfFiles.has(name)) {
    hfFiles.set(name, files);
    try {
      getTokenizer(name);
    } catch (err) {
      hfFiles.delete(name);
      throw err;
    }
  }
  return name;
}

/** The files registered under an `hf:` name (to hand them to a worker thread). */
export function hfTokenizerFiles(name: TokenizerName): HfTokenizerFiles | undefined {
  return hfFiles.get(name);
}

/** Drops every tokenizer's internal caches (for cold-start measurements). */
export function clearTokenizerCaches(): void {
  clearEncodingCaches();
  for (const t of hfLoaded.values()) t.clearCache();
}
