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

/** The library's internals the count path reads (checked at load; anything else counts the slow way). */
interface HfLibInternals {
  normalizer: unknown;
  remove_space?: unknown;
  do_lowercase_and_remove_accent?: unknown;
  splitter_unnormalized: { split(text: string): string[] };
  splitter_normalized: { split(text: string): string[] };
  added_tokens_map: Map<string, { lstrip?: boolean; rstrip?: boolean }>;
  model: { encode(tokens: string[]): string[]; fuse_unk?: unknown; cache?: unknown };
  pre_tokenizer: unknown;
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
  /** `encode(text).length`, without building the tokens. */
  count(text: string): number;
  decode(ids: readonly number[]): string;
  /** Drops the BPE model's piece cache (for cold-start measurements). */
  clearCache(): void;
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
  const encode = (text: string): number[] =>
    text.length === 0 ? [] : t.encode(text, { add_special_tokens: false }).ids;
  const fast = fastCount(t);
  return {
    encode,
    count: fast?.count ?? ((text) => encode(text).length),
    decode: (ids) => (ids.length === 0 ? '' : t.decode([...ids])),
    clearCache: () => {
      (t.model?.cache as { clear?: () => void } | undefined)?.clear?.();
      fast?.clear();
    },
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
    (typeof b === 'object' || typeof b === 'function') &&
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
    // The library's pre-tokenizers are callable objects (functions).
    if (p === null || (typeof p !== 'object' && typeof p !== 'function')) return;
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

/**
 * Counting without building tokens, for the common shape of BPE tokenizer.json files (GPT-2 style
 * `ByteLevel` with its regex; Llama 3 / GPT-4 style `Split` regex then `ByteLevel`; no normalizer):
 * the same steps as the library's `encode_text` (added tokens split out, pre-tokenized pieces,
 * the BPE model on each piece), with each piece's token count cached by the piece's text. Any other
 * shape gives `undefined` (counted through `encode`). The parity tests check both paths.
 */
function fastCount(t: HfLibTokenizer): { count: (text: string) => number; clear: () => void } | undefined {
  const i = t as unknown as Partial<HfLibInternals>;
  const { splitter_unnormalized: su, splitter_normalized: sn, added_tokens_map: added, model } = i;
  if (
    i.normalizer !== null ||
    i.remove_space === true ||
    i.do_lowercase_and_remove_accent === true ||
    su === undefined ||
    sn === undefined ||
    !(added instanceof Map) ||
    [...added.values()].some((a) => a.lstrip === true || a.rstrip === true) ||
    model === undefined ||
    typeof model.encode !== 'function' ||
    model.fuse_unk === true
  ) {
    return undefined;
  }
  const pieces = rawPieces(i.pre_tokenizer);
  if (pieces === undefined) return undefined;
  const { split, map } = pieces;
  const cache = new Map<string, number>();
  const pieceCount = (piece: string): number => {
    let n = cache.get(piece);
    if (n === undefined) {
      n = model.encode([map(piece)]).length;
      if (cache.size >= BPE_CACHE_ENTRIES) cache.clear();
      cache.set(piece, n);
    }
    return n;
  };
  const count = (text: string): number => {
    let n = 0;
    for (const outer of su.split(text)) {
      if (outer.length === 0) continue;
      if (added.has(outer)) {
        n++;
        continue;
      }
      for (const inner of sn.split(outer)) {
        if (inner.length === 0) continue;
        if (added.has(inner)) {
          n++;
          continue;
        }
        for (const piece of split(inner)) n += pieceCount(piece);
      }
    }
    return n;
  };
  return { count, clear: () => cache.clear() };
}

/** How a pre-tokenizer cuts text into pieces, and maps a piece to the model's symbols (byte level). */
function rawPieces(
  pre: unknown,
): { split: (text: string) => string[]; map: (piece: string) => string } | undefined {
  const byteMap = (bl: ByteLevelLike) => {
    const enc = bl.byte_encoder;
    return (piece: string): string => Array.from(bl.text_encoder.encode(piece), (b) => enc[b]).join('');
  };
  if (isByteLevel(pre)) {
    if (!pre.use_regex || pre.add_prefix_space) return undefined;
    const pattern = pre.pattern;
    return { split: (text) => text.match(pattern) ?? [], map: byteMap(pre) };
  }
  const seq = (pre as { tokenizers?: unknown } | null)?.tokenizers;
  if (!Array.isArray(seq) || seq.length !== 2) return undefined;
  const [first, second] = seq as [unknown, unknown];
  const splitter = first as { pre_tokenize_text?: unknown; config?: { type?: unknown } } | null;
  if (
    !isByteLevel(second) ||
    second.use_regex ||
    second.add_prefix_space ||
    splitter === null ||
    typeof splitter.pre_tokenize_text !== 'function' ||
    splitter.config?.type !== 'Split'
  ) {
    return undefined;
  }
  const splitText = splitter.pre_tokenize_text as (text: string) => string[];
  return { split: (text) => splitText.call(splitter, text), map: byteMap(second) };
}
