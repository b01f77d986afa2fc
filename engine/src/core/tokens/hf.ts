/**
 * The Hugging Face kind of tokenizer: a model's `tokenizer.json` (and `tokenizer_config.json`), run
 * by `@huggingface/tokenizers` (pure JS, the Hugging Face implementation). The host reads the files
 * and hands their text in (the core does no I/O); `tokenizer.ts` names it by a hash of
 * `tokenizer.json`, so two copies of the same tokenizer are one, and a changed file is another.
 *
 * Counts are of the text as a server tokenizes a prompt it templated itself: `add_special_tokens:
 * false` (the chat template writes the BOS token), and special-token text in the input (`<|eot_id|>`)
 * is matched as the special token, as the server's tokenizer does.
 *
 * Speed: the library's byte-level pre-tokenizer maps every byte through `Array.from(...).join`, and
 * its BPE cache is an LRU that deletes and re-inserts on every hit. Both are replaced on the
 * instance by code giving the same strings (ASCII pieces mapped through a table; a plain map
 * cleared when full); the parity tests compare the token ids with the Rust implementation.
 */

/** The library's API as this module uses it (its types are ESM-only; the core is CommonJS). */
interface HfLibTokenizer {
  encode(text: string, options: { add_special_tokens: boolean }): { ids: number[] };
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
  model?: { cache?: unknown };
  pre_tokenizer?: unknown;
}
interface HfLib {
  Tokenizer: new (tokenizerJson: object, tokenizerConfig: object) => HfLibTokenizer;
}

/** The files of a Hugging Face tokenizer, as text. */
export interface HfTokenizerFiles {
  /** `tokenizer.json`. */
  json: string;
  /** `tokenizer_config.json`, when there is one. */
  config?: string;
}

/** What `tokenizer_config.json` says about chat: the template, bos and eos tokens. */
export interface HfChatConfig {
  chatTemplate?: string;
  bosToken?: string;
  eosToken?: string;
}

function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') {
    return (v as { content: string }).content;
  }
  return undefined;
}

/**
 * The chat settings of a `tokenizer_config.json` text. A list of named templates (`[{name,
 * template}]`, as some models ship) gives the one named `default`, else the first.
 * Throws with a clear message when the text is not a JSON object.
 */
export function parseHfChatConfig(configText: string | undefined): HfChatConfig {
  if (configText === undefined) return {};
  const raw = parseJsonObject(configText, 'tokenizer_config.json');
  const out: HfChatConfig = {};
  const t = raw['chat_template'];
  if (typeof t === 'string') out.chatTemplate = t;
  else if (Array.isArray(t)) {
    const named = (t as unknown[]).filter(
      (x): x is { name: string; template: string } =>
        x !== null && typeof x === 'object' && typeof (x as { template?: unknown }).template === 'string',
    );
    const pick = named.find((x) => x.name === 'default') ?? named[0];
    if (pick) out.chatTemplate = pick.template;
  }
  const bos = tokenText(raw['bos_token']);
  const eos = tokenText(raw['eos_token']);
  if (bos !== undefined) out.bosToken = bos;
  if (eos !== undefined) out.eosToken = eos;
  return out;
}

export function parseJsonObject(text: string, what: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${what} is not valid JSON: ${(err as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new Error(`${what} is not a JSON object.`);
  }
  return raw as Record<string, unknown>;
}

/** A loaded Hugging Face tokenizer: ids without the special tokens a post-processor would add. */
export interface HfTokenizer {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}

/** Builds the tokenizer from its files. Throws a clear error for files that are not a tokenizer. */
export function loadHfTokenizer(files: HfTokenizerFiles): HfTokenizer {
  const json = parseJsonObject(files.json, 'tokenizer.json');
  if (json['model'] === null || typeof json['model'] !== 'object') {
    throw new Error('tokenizer.json has no "model": it is not a Hugging Face tokenizer file.');
  }
  const config = files.config === undefined ? {} : parseJsonObject(files.config, 'tokenizer_config.json');
  // Loaded lazily: only a project that names an hf tokenizer pays for the library.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily (ambient.d.ts)
  const lib = require('@huggingface/tokenizers') as HfLib;
  let t: HfLibTokenizer;
  try {
    t = new lib.Tokenizer(json, config);
  } catch (err) {
    throw new Error(`tokenizer.json could not be loaded: ${(err as Error).message}`);
  }
  speedUp(t);
  return {
    encode: (text) => (text.length === 0 ? [] : t.encode(text, { add_special_tokens: false }).ids),
    decode: (ids) => (ids.length === 0 ? '' : t.decode([...ids])),
  };
}

/** Pieces cached by the BPE model before the cache is cleared. */
const BPE_CACHE_ENTRIES = 200_000;

interface ByteLevelLike {
  add_prefix_space: boolean;
  use_regex: boolean;
  pattern: RegExp;
  byte_encoder: Record<number, string>;
  text_encoder: { encode(s: string): Uint8Array };
  pre_tokenize_text: (text: string) => string[];
}

function isByteLevel(p: unknown): p is ByteLevelLike {
  const b = p as Partial<ByteLevelLike> | null;
  return (
    b !== null &&
    typeof b === 'object' &&
    typeof b.pre_tokenize_text === 'function' &&
    b.byte_encoder !== undefined &&
    b.text_encoder !== undefined &&
    b.pattern instanceof RegExp &&
    typeof b.use_regex === 'boolean' &&
    typeof b.add_prefix_space === 'boolean'
  );
}

/** See the module comment: same results, less work per piece. Leaves anything unexpected alone. */
function speedUp(t: HfLibTokenizer): void {
  const model = t.model as { cache?: { get: unknown; put: unknown; clear?: unknown } } | undefined;
  if (model?.cache !== undefined && typeof model.cache.get === 'function') {
    const map = new Map<string, unknown>();
    model.cache = {
      get: (k: string) => map.get(k),
      put: (k: string, v: unknown) => {
        if (map.size >= BPE_CACHE_ENTRIES) map.clear();
        map.set(k, v);
      },
      clear: () => map.clear(),
    };
  }
  const visit = (p: unknown): void => {
    if (p === null || typeof p !== 'object') return;
    const seq = (p as { tokenizers?: unknown }).tokenizers;
    if (Array.isArray(seq)) seq.forEach(visit);
    if (!isByteLevel(p)) return;
    const enc = p.byte_encoder;
    const ascii: string[] = [];
    for (let b = 0; b < 128; b++) ascii.push(enc[b]);
    if (ascii.some((s) => typeof s !== 'string')) return;
    p.pre_tokenize_text = (input: string): string[] => {
      const text = p.add_prefix_space && !input.startsWith(' ') ? ' ' + input : input;
      const pieces = p.use_regex ? (text.match(p.pattern) ?? []) : [text];
      const out = new Array<string>(pieces.length);
      for (let i = 0; i < pieces.length; i++) {
        const piece = pieces[i];
        let s = '';
        let j = 0;
        for (; j < piece.length; j++) {
          const c = piece.charCodeAt(j);
          if (c >= 128) break;
          s += ascii[c];
        }
        out[i] = j === piece.length ? s : Array.from(p.text_encoder.encode(piece), (b) => enc[b]).join('');
      }
      return out;
    };
  };
  visit(t.pre_tokenizer);
}
