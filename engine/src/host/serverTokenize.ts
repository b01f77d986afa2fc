/**
 * An endpoint's own `/tokenize` route: the count its server gives for a text (`medalign count
 * --verify`). vLLM serves `POST /tokenize` `{model, prompt}` → `{count, tokens, max_model_len}`;
 * llama.cpp's server `POST /tokenize` `{content}` → `{tokens}`. Both live at the server's root,
 * next to `/v1`. The caller has passed the PHI guard (the text is a patient record).
 */
import type { EndpointTarget } from '../core/run/guard';
import type { EndpointConfig } from '../core/workspace/config';
import { hashKey } from '../core/util/hash';
import { localhostFetch } from '../run/localhostFetch';

/** Counts the server gave, by URL + model + content hash (a text asked twice is asked once). */
const answers = new Map<string, ServerCount>();
const MAX_ANSWERS = 256;

export interface ServerCount {
  count: number;
  /** The URL asked. */
  url: string;
  /** Which server's shape answered. */
  shape: 'vllm' | 'llama.cpp';
  /** The server's context window, when it says (vLLM's `max_model_len`). */
  maxModelLen?: number;
}

/** `…/v1` → the server's root: where `/tokenize` is. */
export function tokenizeUrl(target: EndpointTarget): string {
  return `${target.baseUrl.replace(/\/v1$/, '')}/tokenize`;
}

function readCount(body: unknown): { count: number; maxModelLen?: number } | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const b = body as { count?: unknown; tokens?: unknown; max_model_len?: unknown };
  const count = typeof b.count === 'number' ? b.count : Array.isArray(b.tokens) ? b.tokens.length : undefined;
  if (count === undefined || !Number.isInteger(count) || count < 0) return undefined;
  return typeof b.max_model_len === 'number' ? { count, maxModelLen: b.max_model_len } : { count };
}

/**
 * The server's count of `text` without special tokens (a record is counted as content). Tries
 * vLLM's request shape, then llama.cpp's. Throws a clear error when neither answers with a count.
 */
export async function serverTokenCount(
  endpoint: EndpointConfig,
  target: EndpointTarget,
  text: string,
  o: { apiKey?: string; signal?: AbortSignal; fetch?: typeof fetch } = {},
): Promise<ServerCount> {
  const url = tokenizeUrl(target);
  const key = `${url}\n${endpoint.model}\n${hashKey(text)}`;
  const cached = answers.get(key);
  if (cached !== undefined) return cached;
  const doFetch = o.fetch ?? (target.loopback && target.hostname === 'localhost' ? localhostFetch : fetch);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(endpoint.headers ?? {}) };
  if (o.apiKey !== undefined) headers['authorization'] = `Bearer ${o.apiKey}`;
  const shapes: [ServerCount['shape'], unknown][] = [
    ['vllm', { model: endpoint.model, prompt: text, add_special_tokens: false }],
    ['llama.cpp', { content: text, add_special: false }],
  ];
  const problems: string[] = [];
  for (const [shape, body] of shapes) {
    let res: Response;
    try {
      res = await doFetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        redirect: 'manual',
        ...(o.signal ? { signal: o.signal } : {}),
      });
    } catch (err) {
      throw new Error(`${url} could not be reached: ${(err as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = await res.json();
    } catch {
      parsed = undefined;
    }
    const c = res.ok ? readCount(parsed) : undefined;
    if (c !== undefined) {
      const answer: ServerCount = { ...c, url, shape };
      if (answers.size >= MAX_ANSWERS) answers.clear();
      answers.set(key, answer);
      return answer;
    }
    problems.push(`${shape}: HTTP ${res.status}${res.ok ? ' without a count' : ''}`);
    if (
      res.status === 404 ||
      res.status === 401 ||
      res.status === 403 ||
      (res.status >= 300 && res.status < 400)
    )
      break;
  }
  throw new Error(
    `${url} gave no token count (${problems.join('; ')}). The endpoint needs a /tokenize route, as vLLM and llama.cpp's server have.`,
  );
}
