/**
 * Exact BPE token counts for OpenAI's `cl100k_base` and `o200k_base`, via `gpt-tokenizer` (pure
 * JS, token ids identical to tiktoken's; a unit test checks parity against `js-tiktoken`).
 *
 * Special-token text such as `<|endoftext|>` inside a record or instruction is counted as ordinary
 * text (that is what an API does with user content), never rejected.
 *
 * The BPE tables are loaded on first use of an encoding (~0.1 s for cl100k, ~0.2 s for o200k),
 * so a process that only ever needs one encoding never pays for the other.
 */

import type * as Cl100kModule from 'gpt-tokenizer/encoding/cl100k_base';
import { bytePairMergeQueue, LONG_PIECE_BYTES } from './bpe';

export type EncodingName = 'cl100k_base' | 'o200k_base';

export const ENCODINGS: readonly EncodingName[] = ['cl100k_base', 'o200k_base'];

export function isEncodingName(name: unknown): name is EncodingName {
  return name === 'cl100k_base' || name === 'o200k_base';
}

export interface Tokenizer {
  readonly encoding: EncodingName;
  /** Token ids of `text`. */
  encode(text: string): number[];
  /** Number of tokens of `text` (same as `encode(text).length`, without building the array). */
  count(text: string): number;
  decode(ids: readonly number[]): string;
}

type GptEncodingModule = typeof Cl100kModule;

const NO_SPECIAL = { disallowedSpecial: new Set<string>() };

function load(name: EncodingName): GptEncodingModule {
  // Loaded lazily (a plain require keeps this synchronous and lets bundlers see the module).
  /* eslint-disable @typescript-eslint/no-require-imports */
  return name === 'cl100k_base'
    ? (require('gpt-tokenizer/encoding/cl100k_base') as GptEncodingModule)
    : (require('gpt-tokenizer/encoding/o200k_base') as GptEncodingModule);
  /* eslint-enable @typescript-eslint/no-require-imports */
}

/**
 * The parts of gpt-tokenizer 4.0.0's `BytePairEncodingCore` (private in its types, plain methods at
 * run time) that route long pieces: `bytePairMerge(bytes)` merges one piece not in the vocabulary
 * (after the library's pre-tokenizer regex, vocabulary lookup and merge cache) with a quadratic scan;
 * `getBpeRankFromBytes(bytes)` is its bytes -> rank lookup (the rank tables as a string map plus a
 * sorted table of the non-UTF-8 tokens).
 */
interface BpeCore {
  bytePairMerge(piece: Uint8Array): number[];
  getBpeRankFromBytes(key: Uint8Array): number | undefined;
  bytePairStringRankEncoder: Map<string, number>;
}

/** Pieces merged with the merge queue since the process started (tests check the routing with it). */
export const longPieceStats = { pieces: 0, bytes: 0 };

/**
 * Routes pieces of `LONG_PIECE_BYTES` or more through `bytePairMergeQueue` (O(n log n), same merges
 * in the same order, see bpe.ts); shorter ones keep the library's merge. Throws when the library's
 * internals are not what this expects (a changed version), rather than count slowly or wrongly.
 */
function routeLongPieces(mod: GptEncodingModule, name: EncodingName): void {
  const core = (mod.default as unknown as { bytePairEncodingCoreProcessor?: Partial<BpeCore> })
    .bytePairEncodingCoreProcessor;
  if (
    core === undefined ||
    typeof core.bytePairMerge !== 'function' ||
    typeof core.getBpeRankFromBytes !== 'function' ||
    !(core.bytePairStringRankEncoder instanceof Map)
  ) {
    throw new Error(`gpt-tokenizer (${name}): unexpected internals; long pieces cannot be routed`);
  }
  const libraryMerge = core.bytePairMerge.bind(core);
  const rankOfBytes = core.getBpeRankFromBytes.bind(core);
  const strings = core.bytePairStringRankEncoder;
  // The library's lookup, made cheaper for the many short lookups of a long piece: valid UTF-8 is
  // decoded in JS and looked up in the library's string map; anything else goes to its byte table.
  const rankOf = (piece: Uint8Array, start: number, end: number): number => {
    const s = decodeUtf8(piece, start, end);
    return (s !== undefined ? strings.get(s) : rankOfBytes(piece.subarray(start, end))) ?? -1;
  };
  core.bytePairMerge = (piece: Uint8Array): number[] => {
    if (piece.length < LONG_PIECE_BYTES) return libraryMerge(piece);
    longPieceStats.pieces++;
    longPieceStats.bytes += piece.length;
    return bytePairMergeQueue(piece, rankOf);
  };
}

/**
 * `bytes[start, end)` as a string when it is valid UTF-8 (no overlong forms, surrogates or code
 * points above U+10FFFF: the library's `isValidUTF8` rules), else undefined.
 */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string | undefined {
  let s = '';
  let i = start;
  while (i < end) {
    const b = bytes[i];
    if (b < 0x80) {
      s += String.fromCharCode(b);
      i++;
      continue;
    }
    let n: number;
    let cp: number;
    let min: number;
    if ((b & 0xe0) === 0xc0) {
      n = 2;
      cp = b & 0x1f;
      min = 0x80;
    } else if ((b & 0xf0) === 0xe0) {
      n = 3;
      cp = b & 0x0f;
      min = 0x800;
    } else if ((b & 0xf8) === 0xf0) {
      n = 4;
      cp = b & 0x07;
      min = 0x10000;
    } else return undefined;
    if (i + n > end) return undefined;
    for (let j = 1; j < n; j++) {
      const c = bytes[i + j];
      if ((c & 0xc0) !== 0x80) return undefined;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return undefined;
    s += String.fromCodePoint(cp);
    i += n;
  }
  return s;
}

const tokenizers = new Map<EncodingName, Tokenizer>();

export function getTokenizer(encoding: EncodingName): Tokenizer {
  let t = tokenizers.get(encoding);
  if (t === undefined) {
    const mod = load(encoding);
    routeLongPieces(mod, encoding);
    t = {
      encoding,
      encode: (text) => mod.encode(text, NO_SPECIAL),
      count: (text) => (text.length === 0 ? 0 : mod.countTokens(text, NO_SPECIAL)),
      decode: (ids) => mod.decode(ids),
    };
    tokenizers.set(encoding, t);
  }
  return t;
}

/** Drops gpt-tokenizer's internal merge caches (for cold-start measurements). */
export function clearTokenizerCaches(): void {
  for (const name of tokenizers.keys()) load(name).clearMergeCache();
}
