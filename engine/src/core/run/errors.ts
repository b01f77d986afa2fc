/**
 * Typed run errors and how a failed model request is classified into one. The transport
 * (engine/src/run/modelClient.ts) reports *what happened* as a `Failure`; `classifyFailure` turns it
 * into a `RunError` whose message says what to do. Messages never carry a key: server text is
 * passed through `redactSecrets` and clipped, and for a refused key the server's text (OpenAI echoes
 * part of the key) is not shown at all.
 */

export type RunErrorKind =
  /** The PHI guard refused the endpoint: nothing was sent. */
  | 'refused'
  /** The endpoint or run is misconfigured (no baseUrl, unknown model, template missing...). */
  | 'config'
  /** No API key available for an endpoint that needs one. */
  | 'no-key'
  /** The prompt could not be packed (e.g. strategy `none` and the record does not fit). */
  | 'pack'
  /** HTTP 401/403: the key was refused. */
  | 'auth'
  /** HTTP 404: no such model or deployment. */
  | 'not-found'
  | 'rate-limited'
  /** The server says the prompt is longer than the model's context. */
  | 'context-overflow'
  /** A content filter (Azure's, typically) refused the prompt or cut the answer. */
  | 'content-filter'
  | 'bad-request'
  /** HTTP 5xx. */
  | 'server'
  /** Connection refused/reset, or the stream broke off before the answer was complete. */
  | 'network'
  /** The server answered with a redirect: not followed for patient data, not retried. */
  | 'redirect'
  | 'timeout'
  | 'cancelled'
  | 'internal';
import { formatInt } from '../util/format';
import { redactSecrets } from './redact';

export { redactSecrets };

export interface RunError {
  kind: RunErrorKind;
  /** What happened and what to do, for people. */
  message: string;
  status?: number;
  /** The server's error code (`context_length_exceeded`, `content_filter`, ...). */
  code?: string;
  /** The server asked to wait this long before retrying. */
  retryAfterMs?: number;
  /** The technical cause (e.g. `fetch failed: connect ECONNREFUSED 127.0.0.1:8000`), for the log. */
  detail?: string;
}

/** What the transport saw. */
export type Failure =
  | {
      type: 'http';
      /** Absent for an error object sent inside an SSE stream. */
      status?: number;
      code?: string;
      errorType?: string;
      /** The server's message. */
      message?: string;
      /** The server's `error` object, as sent. */
      body?: unknown;
      retryAfterMs?: number;
    }
  | {
      type: 'network';
      message: string;
      midStream: boolean;
      /** The system error code found in the cause chain (`ECONNREFUSED`, `ENOTFOUND`, ...). */
      code?: string;
    }
  /** An HTTP redirect, not followed; `location` is the origin it pointed to, when known. */
  | { type: 'redirect'; status: number; location?: string }
  | { type: 'timeout'; phase: 'headers' | 'idle' | 'total'; ms: number }
  | { type: 'cancelled' }
  /** The stream finished with `finish_reason: content_filter`. */
  | { type: 'content-filter-finish' }
  | { type: 'internal'; message: string };

export interface FailureContext {
  endpointId: string;
  /** `azure-openai` etc.; Azure gets the note about its filter. */
  endpointKind: string;
  host: string;
  /** The endpoint is on this machine (127.0.0.1, ::1, localhost). */
  loopback?: boolean;
  /** Where the key comes from, for a refused key: e.g. "the environment variable OPENAI_API_KEY". */
  keySource?: string;
  promptTokens?: number;
  context?: number;
  /** The prompt count is an estimate (unknown tokenizer). */
  estimated?: boolean;
  /** Secrets to scrub from any text that is kept. */
  secrets?: readonly string[];
}

/** Server text made safe to keep: redacted, whitespace-collapsed, at most `max` characters. */
export function safeServerText(text: string | undefined, secrets: readonly string[] = [], max = 300): string {
  if (text === undefined) return '';
  const t = redactSecrets(text, secrets).replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

const CONTEXT_PATTERNS = [
  /maximum context length/i,
  /context length/i,
  /context[_ ]window/i,
  /exceeds? the (available )?context/i,
  /too many tokens/i,
  /prompt is too long/i,
  /input (is )?too long/i,
  /reduce the length of the (messages|prompt)/i,
];

function obj(x: unknown): Record<string, unknown> | undefined {
  return x !== null && typeof x === 'object' && !Array.isArray(x)
    ? (x as Record<string, unknown>)
    : undefined;
}

/**
 * Azure's filter categories that tripped (`sexual (medium)`, `violence (low)`, `jailbreak`), read
 * from `innererror.content_filter_result` of its error, or from a response's filter results.
 */
export function contentFilterCategories(body: unknown): string[] {
  const b = obj(body);
  const inner = obj(b?.['innererror']);
  const result =
    obj(inner?.['content_filter_result']) ??
    obj(b?.['content_filter_result']) ??
    obj(b?.['content_filter_results']);
  if (!result) return [];
  const out: string[] = [];
  for (const [name, v] of Object.entries(result)) {
    const r = obj(v);
    if (!r) continue;
    if (r['filtered'] === true || r['detected'] === true) {
      out.push(typeof r['severity'] === 'string' ? `${name} (${r['severity']})` : name);
    }
  }
  return out;
}

function isContentFilter(code: string | undefined, body: unknown, message: string | undefined): boolean {
  if (code === 'content_filter' || code === 'content_policy_violation') return true;
  const inner = obj(obj(body)?.['innererror']);
  if (inner?.['code'] === 'ResponsibleAIPolicyViolation') return true;
  return /content (management )?(policy|filter)/i.test(message ?? '');
}

function isContextOverflow(
  code: string | undefined,
  errorType: string | undefined,
  message: string | undefined,
): boolean {
  if (code === 'context_length_exceeded' || code === 'string_above_max_length') return true;
  if (errorType === 'exceed_context_size_error') return true; // llama.cpp's server
  return CONTEXT_PATTERNS.some((re) => re.test(message ?? ''));
}

export const AZURE_FILTER_NOTE =
  "Azure OpenAI's content filter is known to trip on ordinary anatomical and clinical terms in " +
  'medical records (the MedAlign authors hit it too), so this says little about the prompt itself. ' +
  'Use a deployment whose content filter configuration allows clinical text, or another endpoint.';

function contentFilterError(
  ctx: FailureContext,
  body: unknown,
  where: 'prompt' | 'answer',
  status?: number,
): RunError {
  const cats = contentFilterCategories(body);
  const azure = ctx.endpointKind === 'azure-openai' || /azure/i.test(ctx.host);
  const what =
    where === 'prompt'
      ? `The content filter of '${ctx.endpointId}' refused the prompt`
      : `The content filter of '${ctx.endpointId}' stopped the answer`;
  const message =
    `${what}${cats.length > 0 ? ` (flagged: ${cats.join(', ')})` : ''}. ` +
    (azure
      ? AZURE_FILTER_NOTE
      : 'Content filters can trip on ordinary clinical terms in medical records; try another endpoint or model.');
  const e: RunError = { kind: 'content-filter', message, code: 'content_filter' };
  if (status !== undefined) e.status = status;
  return e;
}

const CERT_CODES = /^(CERT_|DEPTH_ZERO_SELF_SIGNED|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS)/;

/** A connection that failed before any answer: a sentence per cause, with the next step. */
function networkError(f: Extract<Failure, { type: 'network' }>, ctx: FailureContext): RunError {
  const id = `'${ctx.endpointId}'`;
  const out = (message: string): RunError => {
    const e: RunError = {
      kind: 'network',
      message,
      detail: safeServerText(f.message, ctx.secrets ?? [], 200),
    };
    if (f.code !== undefined) e.code = f.code;
    return e;
  };
  const code = f.code ?? '';
  if (code === 'ECONNREFUSED') {
    return out(
      ctx.loopback === true
        ? `Nothing is listening at ${ctx.host}: ${id} refused the connection. Start your server at ${ctx.host}, or choose another model.`
        : `${ctx.host} refused the connection to ${id}. Check the endpoint's baseUrl in medalign.config.json, or retry later.`,
    );
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return out(
      `The host of ${id} (${ctx.host}) could not be found. Check the endpoint's baseUrl in medalign.config.json and your network, then retry.`,
    );
  }
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET') {
    return out(
      `The connection to ${id} (${ctx.host}) was closed before an answer came. Retry, or check the server's log.`,
    );
  }
  if (
    code === 'ETIMEDOUT' ||
    code === 'ENETUNREACH' ||
    code === 'EHOSTUNREACH' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  ) {
    return out(
      `${ctx.host} (${id}) cannot be reached from this machine. Check your network or VPN, then retry.`,
    );
  }
  if (CERT_CODES.test(code)) {
    return out(
      `The TLS certificate of ${ctx.host} (${id}) was not accepted, so nothing was sent. Check the endpoint's baseUrl (https and the right host name).`,
    );
  }
  return out(
    `Cannot reach ${id} at ${ctx.host}. Check that the server is running and the endpoint's baseUrl is right, then retry.`,
  );
}

/** What a button next to a failed run does (the editor maps each to a command; the CLI prints the sentence). */
export type RunErrorAction =
  'approve' | 'set-key' | 'choose-model' | 'choose-context' | 'retry' | 'open-config' | 'show-log';

export const RUN_ERROR_ACTION_LABELS: Readonly<Record<RunErrorAction, string>> = {
  approve: 'Approve…',
  'set-key': 'Set API key…',
  'choose-model': 'Choose model…',
  'choose-context': 'Choose context…',
  retry: 'Retry',
  'open-config': 'Open config',
  'show-log': 'Show log',
};

/**
 * The actions that fix a run error, most useful first: one list for every typed error, so the
 * response panel and the notification offer the same buttons the message's next step names.
 */
export function runErrorActions(e: Pick<RunError, 'kind' | 'code'>): RunErrorAction[] {
  switch (e.kind) {
    case 'refused':
      return ['approve'];
    case 'no-key':
      return ['set-key'];
    case 'auth':
      return ['set-key', 'retry'];
    case 'config':
      return ['open-config', 'choose-model'];
    case 'pack':
    case 'context-overflow':
      return ['choose-context'];
    case 'not-found':
    case 'content-filter':
      return ['choose-model', 'open-config'];
    case 'bad-request':
      return ['choose-model', 'show-log'];
    case 'redirect':
      return ['open-config'];
    case 'network':
      return e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND'
        ? ['retry', 'choose-model', 'open-config']
        : ['retry', 'choose-model'];
    case 'rate-limited':
    case 'server':
    case 'timeout':
      return ['retry', 'choose-model'];
    case 'cancelled':
      return ['retry'];
    case 'internal':
      return ['show-log', 'retry'];
  }
}

/** A `RunError` for a failure, with a message that says what happened and what to do. */
export function classifyFailure(f: Failure, ctx: FailureContext): RunError {
  const secrets = ctx.secrets ?? [];
  switch (f.type) {
    case 'cancelled':
      return { kind: 'cancelled', message: 'Cancelled.' };
    case 'timeout': {
      const s = (f.ms / 1000).toFixed(f.ms < 10_000 ? 1 : 0);
      const what =
        f.phase === 'headers'
          ? `'${ctx.endpointId}' (${ctx.host}) did not answer within ${s} s`
          : f.phase === 'idle'
            ? `The answer from '${ctx.endpointId}' stalled: nothing arrived for ${s} s`
            : `The run took longer than ${s} s`;
      return {
        kind: 'timeout',
        message: `${what}. Timed out: retry, or choose a smaller context or another model.`,
      };
    }
    case 'network':
      return f.midStream
        ? {
            kind: 'network',
            message: `The connection to '${ctx.endpointId}' (${ctx.host}) broke off in the middle of the answer; the part that arrived is kept. Retry, or check the server's log.`,
            detail: safeServerText(f.message, secrets, 200),
          }
        : networkError(f, ctx);
    case 'redirect': {
      const to = f.location !== undefined ? ` to ${safeServerText(f.location, secrets, 200)}` : '';
      return {
        kind: 'redirect',
        status: f.status,
        message:
          `The server redirected; redirects are not followed for patient data. '${ctx.endpointId}' ` +
          `(${ctx.host}) answered HTTP ${f.status}${to}; nothing was sent there and the request is not ` +
          `retried. If the model really is at that address and you trust it, put it in the endpoint's baseUrl.`,
      };
    }
    case 'content-filter-finish':
      return contentFilterError(ctx, undefined, 'answer');
    case 'internal':
      return { kind: 'internal', message: safeServerText(f.message, secrets) };
    case 'http':
      break;
  }
  const status = f.status;
  const detail = safeServerText(f.message, secrets);
  const withStatus = (e: RunError): RunError => {
    if (status !== undefined) e.status = status;
    if (f.code !== undefined) e.code = f.code;
    if (f.retryAfterMs !== undefined) e.retryAfterMs = f.retryAfterMs;
    return e;
  };
  const http = status !== undefined ? ` (HTTP ${status})` : '';
  if (isContentFilter(f.code, f.body, f.message)) return contentFilterError(ctx, f.body, 'prompt', status);
  if (status === 401 || status === 403) {
    // The server's text is not shown: OpenAI's echoes part of the key.
    const where = ctx.keySource ? ` Check the key in ${ctx.keySource}.` : '';
    return withStatus({
      kind: 'auth',
      message:
        status === 401
          ? `'${ctx.endpointId}' refused the API key${http}.${where}`
          : `'${ctx.endpointId}' refused access${http}: the key is not allowed to use this model or deployment.${where}`,
    });
  }
  if (status === 429) {
    const wait =
      f.retryAfterMs !== undefined ? ` The server asks to wait ${Math.ceil(f.retryAfterMs / 1000)} s.` : '';
    return withStatus({
      kind: 'rate-limited',
      message: `'${ctx.endpointId}' is rate limiting requests${http}.${wait}${detail ? ` ${detail}` : ''}`,
    });
  }
  if (isContextOverflow(f.code, f.errorType, f.message)) {
    const sent =
      ctx.promptTokens !== undefined
        ? ` The prompt was ${ctx.estimated ? '≈' : ''}${formatInt(ctx.promptTokens)} tokens${ctx.context !== undefined ? `, packed for a ${formatInt(ctx.context)}-token context` : ''}${ctx.estimated ? ' (counted with a stand-in tokenizer)' : ''}.`
        : '';
    return withStatus({
      kind: 'context-overflow',
      message:
        `'${ctx.endpointId}' says the prompt is longer than the model's context${http}: ${detail || 'no details'}.${sent} ` +
        `Choose a smaller context, or set the endpoint's contextWindow and encoding in medalign.config.json.`,
    });
  }
  if (status === 404) {
    return withStatus({
      kind: 'not-found',
      message:
        `'${ctx.endpointId}' has no such model or deployment${http}.${detail ? ` ${detail}` : ''} ` +
        `Check the endpoint's model in medalign.config.json, or choose another model.`,
    });
  }
  if (status !== undefined && status >= 500) {
    return withStatus({
      kind: 'server',
      message: `'${ctx.endpointId}' had a server error${http}.${detail ? ` ${detail}` : ''} Retry later, or check the server's log.`,
    });
  }
  if (status === 408) {
    return withStatus({ kind: 'timeout', message: `'${ctx.endpointId}' timed out${http}. ${detail}`.trim() });
  }
  if (status === undefined) {
    return withStatus({
      kind: 'server',
      message: `'${ctx.endpointId}' sent an error in the stream: ${detail || 'no details'}`,
    });
  }
  return withStatus({
    kind: 'bad-request',
    message:
      `'${ctx.endpointId}' rejected the request${http}.${detail ? ` ${detail}` : ''} ` +
      `Check the endpoint's settings in medalign.config.json (model, kind, apiVersion), or choose another model.`,
  });
}
