/** Run records for review tests: only what reviewing reads is meaningful. */
import type { RunRecord } from '../../engine/src/core/run/runRecord';

export function fakeRun(over: {
  id: string;
  endpoint: string;
  context?: number;
  createdAt: string;
  response?: string;
  status?: RunRecord['status'];
  model?: string;
  instructionId?: string;
  instructionFile?: string;
}): RunRecord {
  const context = over.context ?? 32768;
  return {
    format: 'medalign-run',
    version: 1,
    id: over.id,
    key: `k${over.id}`.padEnd(16, '0').slice(0, 16),
    createdAt: over.createdAt,
    source: 'run',
    instruction: {
      id: over.instructionId ?? '7222697931',
      file: over.instructionFile ?? 'instructions/a.medalign',
      hash: 'a'.repeat(64),
    },
    record: { file: 'records/1.xml', hash: 'b'.repeat(64), chars: 100 },
    template: { hash: 'c'.repeat(64), builtin: true },
    endpoint: { id: over.endpoint, kind: 'openai-compatible', model: over.model ?? `${over.endpoint}-model` },
    context,
    contextLabel: `${context / 1024}k`,
    strategy: 'recent',
    reserve: 256,
    encoding: 'cl100k_base',
    estimated: false,
    tokens: {
      prompt: 10,
      completion: 5,
      completionSource: 'server',
      recordKept: 1,
      recordCut: 0,
      recordBudget: 1,
      visitsKept: 1,
      visitsCut: 0,
    },
    timings: { startedAt: over.createdAt, endedAt: over.createdAt, totalMs: 1, attempts: 1, retryWaitMs: 0 },
    status: over.status ?? 'complete',
    partial: (over.status ?? 'complete') !== 'complete',
    finishReason: 'stop',
    response: over.response ?? `answer of ${over.id}`,
    promptHash: '0'.repeat(16),
    promptStored: false,
  };
}
