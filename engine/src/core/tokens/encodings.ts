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

const tokenizers = new Map<EncodingName, Tokenizer>();

export function getTokenizer(encoding: EncodingName): Tokenizer {
  let t = tokenizers.get(encoding);
  if (t === undefined) {
    const mod = load(encoding);
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
