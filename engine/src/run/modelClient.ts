/**
 * The model client: one chat completion over the `openai` package (OpenAI, Azure OpenAI, and
 * OpenAI-compatible servers such as vLLM, llama.cpp's server and Ollama), streamed, abortable, with
 * our own timeouts (time to response headers, silence between chunks, total) and failures reported
 * as typed `Failure`s (classified by core/run/errors.ts).
 *
 * Safety:
 * - Everything the `openai` package would read from the environment (OPENAI_BASE_URL,
 *   OPENAI_API_KEY, OPENAI_ORG_ID, OPENAI_PROJECT_ID, OPENAI_LOG, AZURE_OPENAI_*) is passed
 *   explicitly, so only the guarded endpoint and the key the caller gives are used; its logging is off.
 * - Every request goes through a fetch wrapper that refuses any URL outside the guarded origin and
 *   never follows redirects (a local proxy must not bounce a record elsewhere): a redirect fails the
 *   request at once as a `redirect` failure naming where it pointed (not retried).
 * - An endpoint at the name `localhost` (which the guard lets through as loopback) goes over
 *   localhostFetch.ts, which connects to 127.0.0.1 / ::1 without asking DNS.
 * - No retries here (`maxRetries: 0`): the runner retries with core/run/retry.ts.
 */
import OpenAI, { AzureOpenAI } from 'openai';
import type { ChatMessage } from '../core/template/template';
import type { EndpointConfig } from '../core/workspace/config';
import type { EndpointTarget } from '../core/run/guard';
import { AZURE_DEFAULT_API_VERSION } from '../core/run/guard';
import type { Failure } from '../core/run/errors';
import { parseRetryAfter } from '../core/run/retry';
import { chatRequestBody } from '../core/run/batch';
import { localhostFetch } from './localhostFetch';

export interface ClientTimeouts {
  /** Until the response headers arrive (the server accepted the request). */
  headersMs: number;
  /** Longest silence while streaming (also before the first chunk). */
  idleMs: number;
  /** The whole request. */
  totalMs: number;
}

export const DEFAULT_TIMEOUTS: ClientTimeouts = { headersMs: 120_000, idleMs: 120_000, totalMs: 900_000 };

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface ChatCall {
  endpoint: EndpointConfig;
  /** From the guard: requests may only go to `target.origin`. */
  target: EndpointTarget;
  apiKey?: string;
  messages: readonly ChatMessage[];
  /** The generation reserve. */
  maxTokens: number;
  /** Stream the answer (default true). */
  stream?: boolean;
  signal?: AbortSignal;
  timeouts?: Partial<ClientTimeouts>;
  /** Each piece of answer text as it arrives, in order. */
  onText?: (delta: string) => void;
  /** Transport (default: global fetch). Tests use it to reach a local server under another name. */
  fetch?: FetchLike;
}

export interface ChatSuccess {
  text: string;
  finishReason: string | null;
  usage?: { prompt?: number; completion?: number };
  /** From sending the request to the first answer text. */
  firstTokenMs?: number;
}

/** A failed request: what happened, and the answer text that had arrived before it. */
export class ModelCallError extends Error {
  constructor(
    readonly failure: Failure,
    readonly text: string,
    readonly firstTokenMs?: number,
  ) {
    super(failure.type);
    this.name = 'ModelCallError';
  }
}

const silentLogger = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** The server answered with a redirect, which is not followed. */
export class RedirectRefusedError extends Error {
  constructor(
    readonly status: number,
    /** The origin the redirect pointed to, when it named one. */
    readonly location: string | undefined,
  ) {
    super(`blocked: HTTP ${status} redirect${location ? ` to ${location}` : ''} not followed`);
    this.name = 'RedirectRefusedError';
  }
}

/** The origin of a Location header (relative to `base`), or `undefined` when it has none. */
function locationOrigin(location: string | null, base: string): string | undefined {
  if (location === null) return undefined;
  try {
    const origin = new URL(location, base).origin;
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

/** A fetch that only talks to `origin` and never follows a redirect (it fails with `RedirectRefusedError`). */
export function guardedFetch(origin: string, inner: FetchLike = fetch): FetchLike {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    let target: string;
    try {
      target = new URL(url).origin;
    } catch {
      throw new Error('blocked: invalid request URL');
    }
    if (target !== origin) {
      throw new Error(`blocked: a request to ${target} is outside the approved origin ${origin}`);
    }
    // `manual`: the redirect comes back as the response (not followed), so its Location can be named.
    const res = await inner(input, { ...init, redirect: 'manual' });
    if (REDIRECT_STATUSES.has(res.status) || res.type === 'opaqueredirect') {
      await res.body?.cancel().catch(() => {});
      throw new RedirectRefusedError(res.status, locationOrigin(res.headers.get('location'), url));
    }
    return res;
  };
}

function makeClient(call: ChatCall): OpenAI {
  const { endpoint, target } = call;
  const headers: Record<string, string | null> = { ...(endpoint.headers ?? {}) };
  // No key: send no Authorization header at all (local servers without auth).
  if (call.apiKey === undefined) headers['Authorization'] = null;
  const common = {
    apiKey: call.apiKey ?? 'no-key',
    baseURL: target.baseUrl,
    organization: null,
    project: null,
    webhookSecret: null,
    maxRetries: 0,
    // Our own timers do the real work; this is only a backstop.
    timeout: (call.timeouts?.totalMs ?? DEFAULT_TIMEOUTS.totalMs) + 5000,
    logLevel: 'off' as const,
    logger: silentLogger,
    defaultHeaders: headers,
    fetch: guardedFetch(
      target.origin,
      call.fetch ?? (target.hostname === 'localhost' ? localhostFetch : undefined),
    ),
  };
  if (endpoint.kind === 'azure-openai') {
    return new AzureOpenAI({
      ...common,
      apiVersion: endpoint.apiVersion ?? AZURE_DEFAULT_API_VERSION,
      deployment: endpoint.model,
    });
  }
  return new OpenAI(common);
}

/** What a failed request's error says, as far as its shape is known. */
interface ErrorFields {
  status?: number;
  code?: string;
  type?: string;
  message?: string;
  body?: unknown;
  headers?: Headers;
}

function errorFields(err: unknown): ErrorFields {
  const e = err as {
    status?: unknown;
    code?: unknown;
    type?: unknown;
    error?: unknown;
    headers?: unknown;
    message?: unknown;
  };
  const body = e.error;
  const bodyMsg = (body as { message?: unknown } | undefined)?.message;
  const out: ErrorFields = {};
  if (typeof e.status === 'number') out.status = e.status;
  if (typeof e.code === 'string') out.code = e.code;
  if (typeof e.type === 'string') out.type = e.type;
  if (typeof bodyMsg === 'string') out.message = bodyMsg;
  else if (typeof e.message === 'string') out.message = e.message;
  if (body !== undefined) out.body = body;
  if (e.headers instanceof Headers) out.headers = e.headers;
  return out;
}

function causeMessage(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let i = 0; i < 4 && e instanceof Error; i++) {
    const code = (e as { code?: unknown }).code;
    parts.push(typeof code === 'string' ? `${e.message} [${code}]` : e.message);
    e = (e as { cause?: unknown }).cause;
  }
  return [...new Set(parts)].join(': ') || String(err);
}

/** The first system error code (`ECONNREFUSED`, ...) in an error's cause chain. */
export function errnoCodeOf(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 5 && e instanceof Error; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code)) return code;
    // AggregateError (happy eyeballs: one error per address tried).
    const inner = (e as { errors?: unknown }).errors;
    if (Array.isArray(inner)) {
      for (const x of inner) {
        const c = errnoCodeOf(x);
        if (c !== undefined) return c;
      }
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function redirectIn(err: unknown): RedirectRefusedError | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e instanceof Error; i++) {
    if (e instanceof RedirectRefusedError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Sends one chat completion. Resolves with the answer; rejects with a `ModelCallError` that says
 * what failed and carries the text that had arrived (a cancelled or broken stream keeps its partial).
 */
export async function callChat(call: ChatCall): Promise<ChatSuccess> {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...call.timeouts };
  const ac = new AbortController();
  let stopped: Failure | undefined;
  const stop = (f: Failure) => {
    if (stopped === undefined) {
      stopped = f;
      ac.abort();
    }
  };
  const onUserAbort = () => stop({ type: 'cancelled' });
  if (call.signal?.aborted) throw new ModelCallError({ type: 'cancelled' }, '');
  call.signal?.addEventListener('abort', onUserAbort, { once: true });
  const totalTimer = setTimeout(
    () => stop({ type: 'timeout', phase: 'total', ms: timeouts.totalMs }),
    timeouts.totalMs,
  );
  let phaseTimer: NodeJS.Timeout | undefined = setTimeout(
    () => stop({ type: 'timeout', phase: 'headers', ms: timeouts.headersMs }),
    timeouts.headersMs,
  );
  const idle = () => {
    clearTimeout(phaseTimer);
    phaseTimer = setTimeout(
      () => stop({ type: 'timeout', phase: 'idle', ms: timeouts.idleMs }),
      timeouts.idleMs,
    );
  };

  const t0 = performance.now();
  let text = '';
  let firstTokenMs: number | undefined;
  let finishReason: string | null = null;
  let usage: ChatSuccess['usage'];
  let headersSeen = false;
  const got = (delta: string) => {
    if (delta === '') return;
    if (firstTokenMs === undefined) firstTokenMs = performance.now() - t0;
    text += delta;
    call.onText?.(delta);
  };
  const body = chatRequestBody(call.endpoint.kind, call.endpoint.model, call.messages, call.maxTokens);
  const client = makeClient(call);
  try {
    if (call.stream === false) {
      const r = await client.chat.completions.create({ ...body, stream: false }, { signal: ac.signal });
      headersSeen = true;
      const choice = r.choices[0];
      got(choice?.message?.content ?? '');
      finishReason = choice?.finish_reason ?? null;
      if (r.usage) usage = { prompt: r.usage.prompt_tokens, completion: r.usage.completion_tokens };
    } else {
      const stream = await client.chat.completions.create(
        {
          ...body,
          stream: true,
          ...(call.endpoint.kind !== 'openai-compatible' ? { stream_options: { include_usage: true } } : {}),
        },
        { signal: ac.signal },
      );
      headersSeen = true;
      idle();
      for await (const chunk of stream) {
        idle();
        const choice = chunk.choices?.[0];
        if (choice) {
          got(choice.delta?.content ?? '');
          if (choice.finish_reason) finishReason = choice.finish_reason;
        }
        if (chunk.usage)
          usage = { prompt: chunk.usage.prompt_tokens, completion: chunk.usage.completion_tokens };
      }
    }
  } catch (err) {
    if (stopped !== undefined) throw new ModelCallError(stopped, text, firstTokenMs);
    const redirect = redirectIn(err);
    if (redirect !== undefined) {
      const failure: Failure = { type: 'redirect', status: redirect.status };
      if (redirect.location !== undefined) failure.location = redirect.location;
      throw new ModelCallError(failure, text, firstTokenMs);
    }
    if (
      err instanceof OpenAI.APIError &&
      !(err instanceof OpenAI.APIConnectionError) &&
      !(err instanceof OpenAI.APIUserAbortError)
    ) {
      const f = errorFields(err);
      const failure: Failure = { type: 'http' };
      if (f.status !== undefined) failure.status = f.status;
      if (f.code !== undefined) failure.code = f.code;
      if (f.type !== undefined) failure.errorType = f.type;
      if (f.message !== undefined) failure.message = f.message;
      if (f.body !== undefined) failure.body = f.body;
      const ra = parseRetryAfter(f.headers, Date.now());
      if (ra !== undefined) failure.retryAfterMs = ra;
      throw new ModelCallError(failure, text, firstTokenMs);
    }
    if (err instanceof OpenAI.APIConnectionTimeoutError) {
      throw new ModelCallError(
        { type: 'timeout', phase: 'headers', ms: timeouts.totalMs },
        text,
        firstTokenMs,
      );
    }
    const failure: Failure = { type: 'network', message: causeMessage(err), midStream: headersSeen };
    const code = errnoCodeOf(err);
    if (code !== undefined) failure.code = code;
    throw new ModelCallError(failure, text, firstTokenMs);
  } finally {
    clearTimeout(totalTimer);
    clearTimeout(phaseTimer);
    call.signal?.removeEventListener('abort', onUserAbort);
  }
  // The stream iterator ends quietly when aborted: our timers and the user's cancel land here.
  if (stopped !== undefined) throw new ModelCallError(stopped, text, firstTokenMs);
  if (finishReason === null) {
    throw new ModelCallError(
      { type: 'network', message: 'the stream ended without a finish reason', midStream: true },
      text,
      firstTokenMs,
    );
  }
  if (finishReason === 'content_filter')
    throw new ModelCallError({ type: 'content-filter-finish' }, text, firstTokenMs);
  const out: ChatSuccess = { text, finishReason };
  if (usage !== undefined) out.usage = usage;
  if (firstTokenMs !== undefined) out.firstTokenMs = firstTokenMs;
  return out;
}
