/**
 * Step 3 of a run: the run record. Built from what was sent and received, redacted of the key
 * (whole or in part) and saved under `.medalign/runs/`: finished, cancelled or failed.
 */
import type { ChatMessage } from '../../core/template/template';
import { redactDeep } from '../../core/run/redact';
import type { RunRecord } from '../../core/run/runRecord';
import { buildRunRecord } from '../../core/run/runRecord';
import { BASELINE_LABEL } from '../../core/run/baseline';
import type { PreparedRun } from '../../core/run/prepared';
import type { RunStore } from '../store';
import type { ExecuteOptions, RunContext, RunOutcome } from './types';
import type { Sent } from './send';

/** What to record: a model's answer as sent, or the baseline's answer as delivered. */
export type Received =
  { kind: 'model'; sent: Sent } | { kind: 'baseline'; text: string; cancelled: boolean; passages: number };

/** Builds the run record (the end time is taken now, before the answer is counted). */
export async function buildRecord(
  p: PreparedRun,
  o: ExecuteOptions,
  run: RunContext,
  got: Received,
): Promise<RunRecord> {
  const prompt: ChatMessage[] | undefined = o.storePrompt === false ? undefined : p.pack.messages;
  const countText = (t: string) => o.countTokens(t, p.pack.encoding);
  const base = { id: run.id, source: 'run' as const, startedAt: run.startedAt, endedAt: run.now() };
  if (got.kind === 'baseline') {
    const { cancelled, text } = got;
    return buildRunRecord(p.draft, {
      ...base,
      status: cancelled ? 'cancelled' : 'complete',
      finishReason: cancelled ? null : 'stop',
      ...(cancelled ? { error: { kind: 'cancelled', message: 'Cancelled.' } } : {}),
      response: text,
      completionTokens: await countText(text),
      completionSource: 'counted',
      attempts: 0,
      retryWaitMs: 0,
      baseline: { label: BASELINE_LABEL, passages: got.passages },
      ...(prompt !== undefined ? { prompt } : {}),
    });
  }
  const s = got.sent;
  const completion = s.usage?.completion;
  return buildRunRecord(p.draft, {
    ...base,
    status: s.status,
    finishReason: s.finishReason,
    ...(s.error !== undefined ? { error: s.error } : {}),
    response: s.text,
    completionTokens: completion ?? (await countText(s.text)),
    completionSource: completion !== undefined ? 'server' : 'counted',
    ...(s.usage?.prompt !== undefined ? { serverPromptTokens: s.usage.prompt } : {}),
    ...(s.firstTokenMs !== undefined ? { firstTokenMs: s.firstTokenMs } : {}),
    attempts: s.attempts,
    retryWaitMs: Math.round(s.retryWaitMs),
    ...(prompt !== undefined ? { prompt } : {}),
  });
}

/** Saves the run, redacted (the run as kept and as returned holds no key), and emits `saved`. */
export async function saveRecord(
  raw: RunRecord,
  store: RunStore,
  o: ExecuteOptions,
  run: RunContext,
): Promise<RunOutcome> {
  const record = redactDeep(raw, run.secrets);
  const file = await store.save(record, run.secrets);
  o.onEvent?.({ type: 'saved', file, status: record.status });
  const out: RunOutcome = { status: record.status, run: record, file, guard: run.decision };
  if (record.error) out.error = record.error;
  return out;
}
