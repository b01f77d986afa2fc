/**
 * The runner: pack → guard → stream → store. `executeRun` takes a prepared run (see prepare.ts),
 * asks the PHI guard (and, for a non-local endpoint, the caller's approval checker), appends an audit
 * line before each request, streams the answer through `onText`, retries per core/run/retry.ts, and
 * saves the run under `.medalign/runs/` — finished, cancelled or failed (a broken stream keeps its
 * partial). A refused run sends nothing and saves nothing.
 *
 * The editor calls this in-process with the key from SecretStorage, its own approval checker (user
 * state), an AbortSignal from the progress notification's Cancel, and callbacks for the response view.
 */
import { randomInt } from 'node:crypto';
import type { ChatMessage } from '../core/template/template';
import { BASELINE_MODEL } from '../core/workspace/config';
import type { GuardDecision, ApprovalQuery } from '../core/run/guard';
import { approvalQuery, endpointNeedsKey, guardEndpoint } from '../core/run/guard';
import type { Failure, RunError } from '../core/run/errors';
import { classifyFailure, redactSecrets } from '../core/run/errors';
import { StreamRedactor, redactDeep } from '../core/run/redact';
import type { RetryPolicy } from '../core/run/retry';
import { DEFAULT_RETRY_POLICY, retryDecision } from '../core/run/retry';
import type { RunRecord, RunStatus } from '../core/run/runRecord';
import { buildRunRecord, newRunId } from '../core/run/runRecord';
import { BASELINE_LABEL } from '../core/run/baseline';
import type { EncodingName } from '../core/tokens/encodings';
import type { ClientTimeouts, FetchLike } from './modelClient';
import { ModelCallError, callChat } from './modelClient';
import type { ApprovalChecker } from './approvals';
import { appendAudit } from './audit';
import type { PreparedRun } from '../core/run/prepared';
import { RunStore, checkWritePaths, ensureMedalignDir } from './store';

export type RunEvent =
  | { type: 'guard'; decision: GuardDecision }
  | { type: 'sending'; attempt: number; host: string; promptTokens: number }
  | { type: 'first-text'; ms: number }
  | { type: 'retrying'; attempt: number; delayMs: number; error: RunError }
  | { type: 'saved'; file: string; status: RunStatus }
  /** Something the engine did on the user's behalf (e.g. restored `.medalign/.gitignore`): show it. */
  | { type: 'notice'; message: string };

export interface ExecuteOptions {
  /** The endpoint's API key (editor: SecretStorage; CLI: the env var named by `apiKeyEnv`). Never stored. */
  apiKey?: string;
  /** Where the key comes from, for the message when it is refused (e.g. "the environment variable X"). */
  keySource?: string;
  /** Asked only for a non-local endpoint. Must answer from user-level state, never the workspace. */
  approval: ApprovalChecker;
  signal?: AbortSignal;
  /** Answer text as it arrives (`text` is everything so far). */
  onText?: (delta: string, text: string) => void;
  onEvent?: (e: RunEvent) => void;
  /** Keep the full prompt in the run file (default true). */
  storePrompt?: boolean;
  /** Default: a store at the prepared run's workspace root. */
  store?: RunStore;
  timeouts?: Partial<ClientTimeouts>;
  retry?: Partial<RetryPolicy>;
  /** Stream the answer (default true). */
  stream?: boolean;
  /** Transport for model requests (tests). */
  fetch?: FetchLike;
  /** Clock (tests). */
  now?: () => Date;
  /**
   * Exact tokens of the answer when the server reports no usage (and of the baseline's answer): the
   * CLI counts in-process (host/countTokens.ts); the editor asks the language server, so the
   * extension host carries no tokenizer.
   */
  countTokens: (text: string, encoding: EncodingName) => number | Promise<number>;
}

export type OutcomeStatus = RunStatus | 'refused';

export interface RunOutcome {
  /**
   * `complete` | `cancelled` | `error` (the run was saved, see `file`), or `refused`: the guard said
   * no and nothing was sent. An `error` before anything was sent (no key, pack failed, bad endpoint)
   * is not saved either (`file` is absent).
   */
  status: OutcomeStatus;
  run?: RunRecord;
  file?: string;
  error?: RunError;
  guard?: GuardDecision;
  /** For `refused`: what to ask the user to approve. */
  approval?: ApprovalQuery;
}

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

const rand = () => randomInt(0, 1 << 30) / (1 << 30);

/** Runs a prepared run. Never throws for run failures: they come back in the outcome. */
export async function executeRun(p: PreparedRun, o: ExecuteOptions): Promise<RunOutcome> {
  const now = o.now ?? (() => new Date());
  const startedAt = now();
  const { settings } = p;
  const endpoint = settings.endpoint;
  const secrets = o.apiKey !== undefined ? [o.apiKey] : [];

  if (!p.pack.ok) {
    return {
      status: 'error',
      error: { kind: 'pack', message: p.pack.error ?? 'The prompt could not be packed.' },
    };
  }

  // The guard, before anything else touches the network.
  const query = approvalQuery(settings.model, endpoint);
  let approved = false;
  if (query !== undefined) {
    try {
      approved = (await o.approval(query)) === true;
    } catch {
      approved = false;
    }
  }
  const decision = guardEndpoint(settings.model, endpoint, approved);
  o.onEvent?.({ type: 'guard', decision });
  if (!decision.allowed) {
    if (decision.reason === 'not-approved') {
      return {
        status: 'refused',
        guard: decision,
        approval: decision.approval,
        error: { kind: 'refused', message: decision.message },
      };
    }
    return { status: 'error', guard: decision, error: { kind: 'config', message: decision.message } };
  }

  const store = o.store ?? new RunStore(p.workspaceRoot);
  // `.medalign/` must be a real folder and its .gitignore the tool's before anything is written or sent.
  const notWritable = (err: unknown): RunOutcome => ({
    status: 'error',
    guard: decision,
    error: {
      kind: 'config',
      message: `${redactSecrets(err instanceof Error ? err.message : String(err), secrets)} Nothing was sent.`,
    },
  });
  try {
    await ensureMedalignDir(p.workspaceRoot, (message) => o.onEvent?.({ type: 'notice', message }));
  } catch (err) {
    return notWritable(err);
  }
  // Checked again here (the preparer did when it planned): a run whose file could not be saved safely is not sent.
  const unsafe = await checkWritePaths(p.workspaceRoot, p.instruction.id);
  if (unsafe !== undefined)
    return { status: 'error', guard: decision, error: { kind: 'config', message: unsafe } };
  const id = newRunId(startedAt, rand);
  const prompt: ChatMessage[] | undefined = o.storePrompt === false ? undefined : p.pack.messages;
  const countText = (t: string) => o.countTokens(t, p.pack.encoding);

  const save = async (raw: RunRecord): Promise<RunOutcome> => {
    // The run as kept and as returned (exports, stdout, the editor) holds no key, whole or in part.
    const run = redactDeep(raw, secrets);
    const file = await store.save(run, secrets);
    o.onEvent?.({ type: 'saved', file, status: run.status });
    const out: RunOutcome = { status: run.status, run, file, guard: decision };
    if (run.error) out.error = run.error;
    return out;
  };

  if (decision.reason === 'baseline' || settings.model === BASELINE_MODEL) {
    const answer = p.baseline;
    if (answer === undefined) {
      return {
        status: 'error',
        error: { kind: 'internal', message: 'The baseline answer was not prepared.' },
      };
    }
    let text = '';
    // Delivered line by line, like a stream, so the response view works the same way.
    for (const line of answer.text.split(/(?<=\n)/)) {
      if (o.signal?.aborted) break;
      text += line;
      o.onText?.(line, text);
    }
    const cancelled = o.signal?.aborted === true;
    return save(
      buildRunRecord(p.draft, {
        id,
        source: 'run',
        startedAt,
        endedAt: now(),
        status: cancelled ? 'cancelled' : 'complete',
        finishReason: cancelled ? null : 'stop',
        ...(cancelled ? { error: { kind: 'cancelled', message: 'Cancelled.' } } : {}),
        response: text,
        completionTokens: await countText(text),
        completionSource: 'counted',
        attempts: 0,
        retryWaitMs: 0,
        baseline: { label: BASELINE_LABEL, passages: answer.passages },
        ...(prompt !== undefined ? { prompt } : {}),
      }),
    );
  }

  const target = decision.target;
  if (endpoint === undefined) return { status: 'error', error: { kind: 'config', message: 'No endpoint.' } };
  if (endpointNeedsKey(endpoint) && (o.apiKey === undefined || o.apiKey === '')) {
    const where =
      o.keySource ??
      (endpoint.apiKeyEnv ? `the environment variable ${endpoint.apiKeyEnv}` : 'the API key store');
    return {
      status: 'error',
      guard: decision,
      error: {
        kind: 'no-key',
        message: `'${endpoint.id}' needs an API key and none is set (${where}). Nothing was sent.`,
      },
    };
  }

  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...o.retry };
  const ctx = {
    endpointId: endpoint.id,
    endpointKind: endpoint.kind,
    host: target.host,
    ...(o.keySource !== undefined ? { keySource: o.keySource } : {}),
    promptTokens: p.pack.budget.prompt,
    context: settings.context,
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
        run: id,
      });
    } catch (err) {
      if (attempts === 1) return notWritable(err);
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
        maxTokens: settings.reserve,
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
  const completion = usage?.completion;
  return save(
    buildRunRecord(p.draft, {
      id,
      source: 'run',
      startedAt,
      endedAt: now(),
      status,
      finishReason,
      ...(error !== undefined ? { error } : {}),
      response: text,
      completionTokens: completion ?? (await countText(text)),
      completionSource: completion !== undefined ? 'server' : 'counted',
      ...(usage?.prompt !== undefined ? { serverPromptTokens: usage.prompt } : {}),
      ...(firstTokenMs !== undefined ? { firstTokenMs } : {}),
      attempts,
      retryWaitMs: Math.round(retryWaitMs),
      ...(prompt !== undefined ? { prompt } : {}),
    }),
  );
}
