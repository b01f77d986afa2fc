/**
 * Which encoding counts tokens for a model. An endpoint's explicit `encoding` wins; otherwise the
 * model name is matched against OpenAI's families. A model with no known encoding gets an
 * *estimate*: counted with `cl100k_base` (the tokenizer Llama 3's is derived from; close for most
 * modern BPE vocabularies) and flagged `estimated: true`, to be shown with `≈`, never as exact.
 */
import type { EncodingName } from './encodings';
import { isEncodingName } from './encodings';
import type { ChatFormat } from './chat';
import type { TokenizerName } from './tokenizer';
import { formatInt } from '../util/format';

export interface TokenizerChoice {
  /** The tokenizer that counts (tokens/tokenizer.ts): an encoding, or `hf:<hash>` of a tokenizer.json. */
  encoding: TokenizerName;
  /** How it is shown when it is not the encoding's own name (`hf:models/llama3`). */
  label?: string;
  /** What the chat API adds around the messages (tokens/chat.ts); none when absent. */
  chat?: ChatFormat;
  /** True when the model's real tokenizer is unknown: counts are estimates (show `≈`). */
  estimated: boolean;
  /** Why: the endpoint said so, the model name is known, or nothing was known. */
  source: 'endpoint' | 'model' | 'fallback';
  /**
   * `tokenizer: server`: the exact count is the endpoint's own `/tokenize` (tokens/serverCounts.ts);
   * `encoding` is the local fallback that estimates when the server's count is not available.
   */
  server?: true;
}

export const ESTIMATE_ENCODING: EncodingName = 'cl100k_base';

const O200K =
  /^(?:gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o[134](?:$|-)|gpt-oss|omni-moderation|gpt-realtime|gpt-audio|codex-mini|computer-use)/;
const CL100K =
  /^(?:gpt-4(?:$|-)|gpt-3\.5|gpt-35|text-embedding-3|text-embedding-ada-002|davinci-002|babbage-002)/;

/** Lower-cased model id without provider prefixes (`openai/`, `azure/`), fine-tune wrappers (`ft:`) or tags. */
export function normaliseModelName(model: string): string {
  let m = model.trim().toLowerCase();
  if (m.startsWith('ft:')) m = m.slice(3);
  const slash = m.lastIndexOf('/');
  if (slash >= 0) m = m.slice(slash + 1);
  const colon = m.indexOf(':');
  if (colon >= 0) m = m.slice(0, colon);
  return m;
}

/** The encoding known for a model name, or `undefined`. */
export function knownEncodingForModel(model: string): EncodingName | undefined {
  const m = normaliseModelName(model);
  if (O200K.test(m)) return 'o200k_base';
  if (CL100K.test(m)) return 'cl100k_base';
  return undefined;
}

/**
 * The tokenizer for a model, honouring an endpoint's `encoding` override (anything other than
 * `cl100k_base`/`o200k_base` there is ignored).
 */
export function tokenizerForModel(model: string | undefined, endpointEncoding?: string): TokenizerChoice {
  if (isEncodingName(endpointEncoding))
    return { encoding: endpointEncoding, estimated: false, source: 'endpoint', chat: { kind: 'openai' } };
  const known = model === undefined ? undefined : knownEncodingForModel(model);
  if (known !== undefined)
    return { encoding: known, estimated: false, source: 'model', chat: { kind: 'openai' } };
  return { encoding: ESTIMATE_ENCODING, estimated: true, source: 'fallback', chat: { kind: 'openai' } };
}

/** How a tokenizer choice is named to the user. */
export function tokenizerLabel(t: Pick<TokenizerChoice, 'encoding' | 'label'>): string {
  return t.label ?? t.encoding;
}

/**
 * `12,345` for an exact count; `≈12,300` (three significant digits) for an estimate, so an estimate
 * never looks exact.
 */
export function formatTokenCount(count: number, estimated: boolean): string {
  if (!estimated) return formatInt(count);
  const digits = Math.max(0, String(Math.round(count)).length - 3);
  const rounded = Math.round(count / 10 ** digits) * 10 ** digits;
  return '≈' + formatInt(rounded);
}
