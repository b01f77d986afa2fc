/**
 * Retry policy for model requests: exponential backoff with jitter on rate limits, 5xx, and network
 * failures or timeouts that happen before any answer text arrived; the server's `Retry-After`
 * (`retry-after-ms`, `retry-after` in seconds or as an HTTP date) wins over the backoff. Never
 * retries a refused key, a connection refused by a server on this machine (nothing listens there), a context overflow, a content filter, a bad request or a cancel, and never
 * once answer text has been streamed (the partial is kept instead).
 */
import type { RunErrorKind } from './errors';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** First backoff; doubles per attempt. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A `Retry-After` longer than this is not waited for: the run fails and says when to retry. */
  maxRetryAfterMs: number;
  /** Retry a timeout that happened before any text (default true). */
  retryTimeouts: boolean;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 120_000,
  retryTimeouts: true,
};

/** Case-insensitive header lookup over a `Headers`-like object or a plain record. */
export type HeaderSource =
  { get(name: string): string | null } | Record<string, string | string[] | undefined> | undefined;

function header(h: HeaderSource, name: string): string | undefined {
  if (h === undefined) return undefined;
  if (typeof (h as { get?: unknown }).get === 'function') {
    return (h as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const rec = h as Record<string, string | string[] | undefined>;
  for (const [k, v] of Object.entries(rec)) {
    if (k.toLowerCase() === name) return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}

/**
 * Milliseconds the server asks to wait: `retry-after-ms` (OpenAI, Azure), else `retry-after` as
 * seconds (`"2"`, `"1.5"`) or an HTTP date (relative to `nowMs`). `undefined` when absent or unreadable.
 */
export function parseRetryAfter(headers: HeaderSource, nowMs: number): number | undefined {
  const ms = header(headers, 'retry-after-ms');
  if (ms !== undefined && /^\s*\d+(\.\d+)?\s*$/.test(ms)) return Math.max(0, Math.round(Number(ms)));
  const ra = header(headers, 'retry-after')?.trim();
  if (ra === undefined || ra === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(ra)) return Math.max(0, Math.round(Number(ra) * 1000));
  // An HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`); anything without letters is not one.
  if (!/[a-z]/i.test(ra)) return undefined;
  const at = Date.parse(ra);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

export interface FailedAttempt {
  kind: RunErrorKind;
  /** From the response's Retry-After, when there was one. */
  retryAfterMs?: number;
  /** Answer text had already arrived in this attempt. */
  receivedText: boolean;
  /**
   * A server on this machine refused the connection (nothing listens on the port): it will not
   * appear within the backoff, so this fails at once instead of waiting seconds for retries.
   */
  refusedLocally?: boolean;
}

export type RetryDecision =
  { retry: true; delayMs: number; reason: string } | { retry: false; reason: string };

const RETRYABLE: ReadonlySet<RunErrorKind> = new Set<RunErrorKind>([
  'rate-limited',
  'server',
  'network',
  'timeout',
]);

/**
 * Whether to retry after attempt number `attempt` (1-based) failed, and how long to wait first.
 * `random` in [0, 1) spreads the backoff over [½, 1] of its nominal value.
 */
export function retryDecision(
  policy: RetryPolicy,
  attempt: number,
  failure: FailedAttempt,
  random: () => number = Math.random,
): RetryDecision {
  if (!RETRYABLE.has(failure.kind)) return { retry: false, reason: `${failure.kind} is not retried` };
  if (failure.refusedLocally === true)
    return { retry: false, reason: 'nothing listens on the local port; not retried' };
  if (failure.receivedText) return { retry: false, reason: 'answer text had arrived; the partial is kept' };
  if (failure.kind === 'timeout' && !policy.retryTimeouts)
    return { retry: false, reason: 'timeouts are not retried' };
  if (attempt >= policy.maxAttempts) return { retry: false, reason: `gave up after ${attempt} attempts` };
  if (failure.retryAfterMs !== undefined) {
    if (failure.retryAfterMs > policy.maxRetryAfterMs) {
      return {
        retry: false,
        reason: `the server asks to wait ${Math.ceil(failure.retryAfterMs / 1000)} s, longer than ${Math.round(policy.maxRetryAfterMs / 1000)} s`,
      };
    }
    return { retry: true, delayMs: failure.retryAfterMs, reason: 'Retry-After' };
  }
  const nominal = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return { retry: true, delayMs: Math.round(nominal * (0.5 + random() / 2)), reason: 'backoff' };
}
