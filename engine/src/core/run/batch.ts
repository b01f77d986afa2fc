/**
 * Batch files for runs too big for one machine: `medalign batch export` writes the requests as an
 * OpenAI Batch API / vLLM `run-batch` JSONL file (one `{custom_id, method, url, body}` per line) plus
 * a manifest that maps each `custom_id` to its run draft; `medalign batch import` reads the results
 * file those tools write (one `{custom_id, response: {status_code, body}, error}` per line) back
 * into run records. The request lines are strictly the documented shape (no extra fields), so both
 * OpenAI and vLLM accept them.
 */
import type { ChatMessage, ChatRole } from '../template/template';
import type { EndpointKind } from '../workspace/config';
import type { Failure, FailureContext } from './errors';
import { classifyFailure } from './errors';
import type { RunDraft, RunRecord } from './runRecord';
import { buildRunRecord, safeSegment } from './runRecord';

export const BATCH_MANIFEST_FORMAT = 'medalign-batch-manifest';

export interface BatchRequestBody {
  model: string;
  messages: { role: ChatRole; content: string }[];
  max_tokens?: number;
  max_completion_tokens?: number;
}

export interface BatchRequestLine {
  custom_id: string;
  method: 'POST';
  url: string;
  body: BatchRequestBody;
}

/** The request body for an endpoint kind: OpenAI and Azure take `max_completion_tokens`, servers
 * like vLLM and llama.cpp `max_tokens`. */
export function chatRequestBody(
  kind: EndpointKind,
  model: string,
  messages: readonly ChatMessage[],
  maxTokens: number,
): BatchRequestBody {
  const body: BatchRequestBody = {
    model,
    messages: messages.map((m) => ({ role: m.role, content: m.content })),
  };
  if (kind === 'openai-compatible') body.max_tokens = maxTokens;
  else body.max_completion_tokens = maxTokens;
  return body;
}

/** A custom id that is unique per job and readable: `<instruction>.<endpoint>.<context>.<key>`. */
export function batchCustomId(
  d: Pick<RunDraft, 'instruction' | 'endpoint' | 'contextLabel' | 'key'>,
): string {
  return `${safeSegment(d.instruction.id, 40)}.${safeSegment(d.endpoint.id, 24)}.${safeSegment(d.contextLabel, 12)}.${d.key}`;
}

export function batchRequestLine(
  customId: string,
  kind: EndpointKind,
  model: string,
  messages: readonly ChatMessage[],
  maxTokens: number,
): BatchRequestLine {
  return {
    custom_id: customId,
    method: 'POST',
    // Azure's batch API takes the path without the version prefix.
    url: kind === 'azure-openai' ? '/chat/completions' : '/v1/chat/completions',
    body: chatRequestBody(kind, model, messages, maxTokens),
  };
}

export interface BatchManifest {
  format: typeof BATCH_MANIFEST_FORMAT;
  version: 1;
  createdAt: string;
  /** The requests file's name, as written next to this manifest. */
  requestsFile: string;
  /** Whether the requests carried the prompt to be stored with imported runs (always true in the file itself). */
  entries: Record<string, RunDraft>;
}

export function serializeManifest(m: BatchManifest): string {
  return JSON.stringify(m, null, 2) + '\n';
}

export function parseBatchManifest(text: string): BatchManifest | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (raw === null || typeof raw !== 'object') return undefined;
  const r = raw as Record<string, unknown>;
  if (r['format'] !== BATCH_MANIFEST_FORMAT || r['version'] !== 1) return undefined;
  const entries = r['entries'];
  if (entries === null || typeof entries !== 'object' || Array.isArray(entries)) return undefined;
  return raw as BatchManifest;
}

export interface ParsedLines<T> {
  items: T[];
  /** `line N: what is wrong`. */
  problems: string[];
}

function jsonLines(text: string): { line: number; value: unknown; error?: string }[] {
  const out: { line: number; value: unknown; error?: string }[] = [];
  text.split(/\r?\n/).forEach((l, i) => {
    if (l.trim() === '') return;
    try {
      out.push({ line: i + 1, value: JSON.parse(l) });
    } catch (err) {
      out.push({ line: i + 1, value: undefined, error: `not JSON (${(err as Error).message})` });
    }
  });
  return out;
}

const ROLES: readonly string[] = ['system', 'user', 'assistant'];

/** The messages of each request of a requests file, by custom id. */
export function parseBatchRequests(text: string): ParsedLines<{ customId: string; messages: ChatMessage[] }> {
  const items: { customId: string; messages: ChatMessage[] }[] = [];
  const problems: string[] = [];
  for (const { line, value, error } of jsonLines(text)) {
    if (error !== undefined) {
      problems.push(`line ${line}: ${error}`);
      continue;
    }
    const v = value as Partial<BatchRequestLine> | null;
    const msgs = v?.body?.messages;
    if (typeof v?.custom_id !== 'string' || !Array.isArray(msgs)) {
      problems.push(`line ${line}: not a batch request (custom_id, body.messages)`);
      continue;
    }
    const messages: ChatMessage[] = [];
    for (const m of msgs as unknown[]) {
      const mm = m as { role?: unknown; content?: unknown } | null;
      if (mm && typeof mm.role === 'string' && ROLES.includes(mm.role) && typeof mm.content === 'string') {
        messages.push({ role: mm.role as ChatRole, content: mm.content });
      }
    }
    items.push({ customId: v.custom_id, messages });
  }
  return { items, problems };
}

export interface BatchResult {
  customId: string;
  line: number;
  /** HTTP status of the request inside the batch, when there was a response. */
  statusCode?: number;
  text: string;
  finishReason: string | null;
  usage?: { prompt?: number; completion?: number };
  /** Set when the request failed. */
  failure?: Failure;
}

function num(x: unknown): number | undefined {
  return typeof x === 'number' && Number.isFinite(x) ? x : undefined;
}

function str(x: unknown): string | undefined {
  return typeof x === 'string' ? x : undefined;
}

function httpFailure(status: number | undefined, err: unknown): Failure {
  const e = (err ?? {}) as Record<string, unknown>;
  const f: Failure = { type: 'http' };
  if (status !== undefined) f.status = status;
  const code = str(e['code']);
  if (code !== undefined) f.code = code;
  const t = str(e['type']);
  if (t !== undefined) f.errorType = t;
  const m = str(e['message']);
  if (m !== undefined) f.message = m;
  f.body = err;
  return f;
}

/**
 * The results of an OpenAI Batch API or vLLM `run-batch` output file. Accepts both shapes: a
 * response with `status_code` and `body` (a chat completion, or `{error}`), or a top-level `error`.
 */
export function parseBatchResults(text: string): ParsedLines<BatchResult> {
  const items: BatchResult[] = [];
  const problems: string[] = [];
  for (const { line, value, error } of jsonLines(text)) {
    if (error !== undefined) {
      problems.push(`line ${line}: ${error}`);
      continue;
    }
    const v = (value ?? {}) as Record<string, unknown>;
    const customId = str(v['custom_id']);
    if (customId === undefined) {
      problems.push(`line ${line}: no custom_id`);
      continue;
    }
    const resp = v['response'] as Record<string, unknown> | null | undefined;
    const status = num(resp?.['status_code']);
    const body = resp?.['body'] as Record<string, unknown> | null | undefined;
    const r: BatchResult = { customId, line, text: '', finishReason: null };
    if (status !== undefined) r.statusCode = status;
    const topError = v['error'];
    if (topError !== null && topError !== undefined) {
      r.failure = httpFailure(status, topError);
      items.push(r);
      continue;
    }
    if (body === null || body === undefined || typeof body !== 'object') {
      r.failure = httpFailure(status, { message: 'the result has no response body' });
      items.push(r);
      continue;
    }
    if (body['error'] !== undefined && body['error'] !== null) {
      r.failure = httpFailure(status, body['error']);
      items.push(r);
      continue;
    }
    if (status !== undefined && status >= 400) {
      r.failure = httpFailure(status, body);
      items.push(r);
      continue;
    }
    const choice = (Array.isArray(body['choices']) ? body['choices'][0] : undefined) as
      Record<string, unknown> | undefined;
    const message = choice?.['message'] as Record<string, unknown> | undefined;
    r.text = str(message?.['content']) ?? '';
    r.finishReason = str(choice?.['finish_reason']) ?? null;
    const usage = body['usage'] as Record<string, unknown> | undefined;
    if (usage) {
      r.usage = {};
      const p = num(usage['prompt_tokens']);
      const c = num(usage['completion_tokens']);
      if (p !== undefined) r.usage.prompt = p;
      if (c !== undefined) r.usage.completion = c;
    }
    if (r.finishReason === 'content_filter') r.failure = { type: 'content-filter-finish' };
    items.push(r);
  }
  return { items, problems };
}

export interface ImportOptions {
  id: string;
  now: Date;
  /** The prompt, when it is to be stored (from the requests file). */
  messages?: ChatMessage[];
  /** Counts the completion when the result has no usage. */
  countCompletion: (text: string) => number;
  context: Omit<FailureContext, 'endpointId' | 'endpointKind' | 'host'>;
}

/** A run record from a batch result and the draft the manifest kept for its custom id. */
export function runFromBatchResult(draft: RunDraft, result: BatchResult, o: ImportOptions): RunRecord {
  const error =
    result.failure === undefined
      ? undefined
      : classifyFailure(result.failure, {
          ...o.context,
          endpointId: draft.endpoint.id,
          endpointKind: draft.endpoint.kind,
          host: draft.endpoint.origin ?? draft.endpoint.id,
          promptTokens: draft.tokens.prompt,
          context: draft.context,
          estimated: draft.estimated,
        });
  const completion = result.usage?.completion;
  return buildRunRecord(draft, {
    id: o.id,
    source: 'batch-import',
    startedAt: o.now,
    endedAt: o.now,
    status: error === undefined ? 'complete' : 'error',
    finishReason: result.finishReason,
    ...(error !== undefined ? { error } : {}),
    response: result.text,
    completionTokens: completion ?? o.countCompletion(result.text),
    completionSource: completion !== undefined ? 'server' : 'counted',
    ...(result.usage?.prompt !== undefined ? { serverPromptTokens: result.usage.prompt } : {}),
    attempts: 1,
    retryWaitMs: 0,
    ...(o.messages !== undefined ? { prompt: o.messages } : {}),
  });
}
