/**
 * `tokenizer: server`: counts from the endpoint's own `/tokenize` route. The core never sends
 * anything: the program around it passes a `ServerTokenize` function (the language server asks the
 * extension with `medalign/tokenize`, which checks the PHI approval without prompting and sends over
 * HTTP; the CLI sends itself after its trust and PHI checks). Answers are kept by endpoint and
 * content hash (`ServerCountCache`), so a text counted once is never sent again.
 *
 * When the server cannot count (the endpoint is not approved for records, the server is down, has no
 * `/tokenize`, or says 429), the caller shows the local estimate with the fallback encoding and why.
 */
import { hashKey } from '../util/hash';

/** Why the server's count is not available: not approved (nothing was sent) or the request failed. */
export interface ServerTokenizeRefusal {
  ok: false;
  reason: 'not-approved' | 'failed' | 'unavailable';
  /** One sentence for the user. */
  message: string;
  /** For `not-approved`: what to approve (the `medalign.approveEndpoint` command's argument). */
  approval?: { endpointId: string; origin: string; host: string };
}

export type ServerTokenizeAnswer = { ok: true; counts: number[]; url: string } | ServerTokenizeRefusal;

/** Counts `texts` (in order) with an endpoint's `/tokenize`, after the PHI guard. Never throws. */
export type ServerTokenize = (endpointId: string, texts: string[]) => Promise<ServerTokenizeAnswer>;

/** Texts sent at once at most (vLLM's `/tokenize` takes one text a request). */
export const SERVER_TOKENIZE_CONCURRENCY = 4;

/** Server counts by endpoint key + content hash; least recently used dropped past `max`. */
export class ServerCountCache {
  private readonly map = new Map<string, number>();
  constructor(private readonly max = 10_000) {}

  private key(endpointKey: string, text: string): string {
    return `${endpointKey}\n${text.length}:${hashKey(text)}`;
  }

  get(endpointKey: string, text: string): number | undefined {
    const k = this.key(endpointKey, text);
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }

  set(endpointKey: string, text: string, count: number): void {
    const k = this.key(endpointKey, text);
    this.map.delete(k);
    this.map.set(k, count);
    if (this.map.size > this.max) {
      const oldest = this.map.keys().next();
      if (oldest.done !== true) this.map.delete(oldest.value);
    }
  }

  get size(): number {
    return this.map.size;
  }
}

/** An endpoint's identity for the cache: what it counts with (its URL and model). */
export function serverCountKey(endpoint: { id: string; baseUrl?: string; model?: string }): string {
  return `${endpoint.id}\n${endpoint.baseUrl ?? ''}\n${endpoint.model ?? ''}`;
}

/**
 * The server's counts of `texts`: cached ones from `cache`, the others asked once (each distinct
 * text once) and kept. A refusal or failure is returned as is (nothing is cached).
 */
export async function countWithServer(
  cache: ServerCountCache,
  endpointKey: string,
  endpointId: string,
  texts: readonly string[],
  ask: ServerTokenize,
): Promise<ServerTokenizeAnswer & { asked?: number }> {
  const counts: (number | undefined)[] = texts.map((t) => cache.get(endpointKey, t));
  const missing = [...new Set(texts.filter((_, i) => counts[i] === undefined))];
  let url = '';
  if (missing.length > 0) {
    const answer = await ask(endpointId, missing);
    if (!answer.ok) return answer;
    if (answer.counts.length !== missing.length || answer.counts.some((n) => !Number.isInteger(n) || n < 0)) {
      return {
        ok: false,
        reason: 'failed',
        message: `The server's /tokenize answer was not a count per text.`,
      };
    }
    missing.forEach((t, i) => cache.set(endpointKey, t, answer.counts[i]));
    url = answer.url;
  }
  return {
    ok: true,
    counts: texts.map((t, i) => counts[i] ?? cache.get(endpointKey, t) ?? 0),
    url,
    asked: missing.length,
  };
}

/**
 * `fn` over `items` with at most `limit` running at once; results in order. The first rejection
 * rejects the whole (the others still settle; none is started after it).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i], i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker);
  await Promise.all(workers);
  return out;
}
