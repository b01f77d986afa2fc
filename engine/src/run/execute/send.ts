/**
 * Step 2 of a run: send it. A model endpoint gets an audit line before each request, the answer
 * streams through `onText` (redacted of the key even when it is split across chunks), and failures
 * are retried per core/run/retry.ts; a broken stream keeps its partial. The baseline's answer is
 * delivered line by line, like a stream, so the response view works the same way.
 */
import { randomInt } from 'node:crypto';
import type { EndpointConfig } from '../../core/workspace/config';
import type { EndpointTarget } from '../../core/run/guard';
import type { Failure, RunError } from '../../core/run/errors';
import { classifyFailure, redactSecrets } from '../../core/run/errors';
import { StreamRedactor } from '../../core/run/redact';
import type { RetryPolicy } from '../../core/run/retry';
import { DEFAULT_RETRY_POLICY, retryDecision } from '../../core/run/retry';
import type { RunStatus } from '../../core/run/runRecord';
import type { PreparedRun } from '../../core/run/prepared';
import { ModelCallError, callChat } from '../modelClient';
import { appendAudit } from '../audit';
import type { ExecuteOptions, RunContext, RunOutcome } from './types';
import { notWritable } from './types';

/** A number in [0, 1) for retry jitter and run ids. */
export const rand = (): number => randomInt(0, 1 << 30) / (1 << 30);

function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** What was sent and received, for the record. */
export interface Sent {
  status: RunStatus;
  text: string;
  attempts: number;
  retryWaitMs: number;
  finishReason: string | null;
  error?: RunError;
  firstTokenMs?: number;
  usage?: { prompt?: number; completion?: number };
}

/** The baseline's prepared answer, delivered line by line until the signal aborts. */
export function sendBaseline(
  answer: { text: string },
  o: ExecuteOptions,
): { text: string; cancelled: boolean } {
  let text = '';
  for (const line of answer.text.split(/(?<=\n)/)) {
    if (o.signal?.aborted) break;
    text += line;
    o.onText?.(line, text);
  }
  return { text, cancelled: o.signal?.aborted === true };
}

/**
 * Sends to a model endpoint with retries. Returns what happened, or (`notSent`) an outcome to return
 * as is when the first audit line could not be written: then nothing was sent.
 */
export async function sendWithRetry(
  p: PreparedRun,
  o: ExecuteOptions,
  run: RunContext,
  endpoint: EndpointConfig,
  target: EndpointTarget,
): Promise<{ sent: Sent } | { notSent: RunOutcome }> {
  const { now, startedAt, secrets } = run;
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...o.retry };
  const ctx = {
    endpointId: endpoint.id,
    endpointKind: endpoint.kind,
    host: target.host,
    loopback: target.loopback,
    ...(o.keySource !== undefined ? { keySource: o.keySource } : {}),
    promptTokens: p.pack.budget.prompt,
    context: p.settings.context,
    estimated: p.pack.estimated,
    secrets,
  };
  let text = '';
  let attempts = 0;
  let retryWaitMs = 0;
  let error: RunError | undefined;
  let finishReason: string | null = null;
  let firstTokenMs: number | undefined;
  let usage: { prompt?: number; completion?: number } | undefined;
  let status: RunStatus = 'error';
  // The answer as shown while it streams: a key the server echoes (even split across chunks) is redacted.
  const redactor = new StreamRedactor(secrets);
  let shown = '';
  const show = (piece: string) => {
    if (piece === '') return;
    shown += piece;
    o.onText?.(piece, shown);
  };

  for (;;) {
    if (o.signal?.aborted) {
      error = classifyFailure({ type: 'cancelled' }, ctx);
      status = 'cancelled';
      break;
    }
    attempts++;
    try {
      await appendAudit(p.workspaceRoot, {
        time: now().toISOString(),
        endpoint: endpoint.id,
        host: target.host,
        instruction: p.instruction.id,
        record: p.record.hash,
        tokens: p.pack.budget.prompt,
        attempt: attempts,
        run: run.id,
      });
    } catch (err) {
      if (attempts === 1) return { notSent: notWritable(err, run.decision, secrets) };
      error = { kind: 'internal', message: `${redactSecrets(String(err), secrets)} The retry was not sent.` };
      status = 'error';
      break;
    }
    o.onEvent?.({
      type: 'sending',
      attempt: attempts,
      host: target.host,
      promptTokens: p.pack.budget.prompt,
    });
    let attemptText = '';
    try {
      const r = await callChat({
        endpoint,
        target,
        ...(o.apiKey !== undefined && o.apiKey !== '' ? { apiKey: o.apiKey } : {}),
        messages: p.pack.messages,
        maxTokens: p.settings.reserve,
        stream: o.stream !== false,
        ...(o.signal !== undefined ? { signal: o.signal } : {}),
        ...(o.timeouts !== undefined ? { timeouts: o.timeouts } : {}),
        ...(o.fetch !== undefined ? { fetch: o.fetch } : {}),
        onText: (delta) => {
          if (attemptText === '')
            o.onEvent?.({ type: 'first-text', ms: now().getTime() - startedAt.getTime() });
          attemptText += delta;
          text = attemptText;
          show(redactor.push(delta));
        },
      });
      text = r.text;
      finishReason = r.finishReason;
      firstTokenMs = r.firstTokenMs;
      usage = r.usage;
      status = 'complete';
      error = undefined;
      break;
    } catch (err) {
      const failure: Failure =
        err instanceof ModelCallError
          ? err.failure
          : { type: 'internal', message: err instanceof Error ? err.message : String(err) };
      if (err instanceof ModelCallError) {
        text = err.text;
        firstTokenMs = err.firstTokenMs;
      }
      error = classifyFailure(failure, ctx);
      if (failure.type === 'content-filter-finish') finishReason = 'content_filter';
      if (error.kind === 'cancelled') {
        status = 'cancelled';
        break;
      }
      const d = retryDecision(
        policy,
        attempts,
        {
          kind: error.kind,
          receivedText: text !== '',
          refusedLocally: error.kind === 'network' && error.code === 'ECONNREFUSED' && target.loopback,
          ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
        },
        rand,
      );
      if (!d.retry) {
        status = 'error';
        break;
      }
      o.onEvent?.({ type: 'retrying', attempt: attempts, delayMs: d.delayMs, error });
      const t = performance.now();
      const slept = await sleep(d.delayMs, o.signal);
      retryWaitMs += performance.now() - t;
      if (!slept) {
        error = classifyFailure({ type: 'cancelled' }, ctx);
        status = 'cancelled';
        break;
      }
    }
  }

  show(redactor.flush());
  if (error !== undefined) error = { ...error, message: redactSecrets(error.message, secrets) };
  const sent: Sent = { status, text, attempts, retryWaitMs, finishReason };
  if (error !== undefined) sent.error = error;
  if (firstTokenMs !== undefined) sent.firstTokenMs = firstTokenMs;
  if (usage !== undefined) sent.usage = usage;
  return { sent };
}
