/**
 * The only host globals the pure core may use (it is compiled with `types: []`, see tsconfig.json):
 *
 * - `URL`, the WHATWG URL parser (a web standard, the same in every JavaScript host), which the PHI
 *   guard uses to read a host the way the HTTP client will;
 * - `require` of the two tokenizer tables, loaded lazily and synchronously on first use of an
 *   encoding. Only these module names type-check: anything else (`require('node:fs')`) does not.
 */
declare class URL {
  constructor(url: string, base?: string);
  readonly hostname: string;
  readonly host: string;
  readonly port: string;
  readonly protocol: string;
  readonly origin: string;
  readonly pathname: string;
  readonly search: string;
  readonly username: string;
  readonly password: string;
  readonly hash: string;
  href: string;
  toString(): string;
}

declare function require(
  id: 'gpt-tokenizer/encoding/cl100k_base' | 'gpt-tokenizer/encoding/o200k_base',
): unknown;

/** The Hugging Face libraries (tokens/hf.ts, tokens/chat.ts), loaded on first use of an `hf:` tokenizer. */
declare function require(id: '@huggingface/tokenizers' | '@huggingface/jinja'): unknown;
