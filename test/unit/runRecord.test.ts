import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildRunRecord,
  formatAuditLine,
  keyOfRunFileName,
  newRunId,
  parseRunRecord,
  promptHash,
  runDirName,
  runFileName,
  runKey,
  safeSegment,
  serializeRun,
  summarizeRun,
} from '../../engine/src/core/run/runRecord';
import type { RunDraft, RunKeyParts } from '../../engine/src/core/run/runRecord';

function sampleDraft(over: Partial<RunDraft> = {}): RunDraft {
  return {
    key: runKey(KEY_PARTS),
    instruction: { id: '7222697931', file: 'instructions/a.medalign', hash: 'a'.repeat(64) },
    record: { file: 'records/1234555.xml', hash: 'b'.repeat(64), chars: 10842 },
    template: { hash: 'c'.repeat(64), builtin: false, file: 'templates/medalign.prompt' },
    endpoint: {
      id: 'local-vllm',
      kind: 'openai-compatible',
      model: 'llama',
      origin: 'http://127.0.0.1:8000',
    },
    context: 32768,
    contextLabel: '32k',
    strategy: 'recent',
    reserve: 256,
    encoding: 'cl100k_base',
    estimated: true,
    tokens: {
      prompt: 2984,
      recordKept: 2949,
      recordCut: 0,
      recordBudget: 32475,
      visitsKept: 3,
      visitsCut: 0,
    },
    promptHash: promptHash([{ role: 'user', content: 'hi' }]),
    ...over,
  };
}

const KEY_PARTS: RunKeyParts = {
  instructionHash: 'a'.repeat(64),
  recordHash: 'b'.repeat(64),
  templateHash: 'c'.repeat(64),
  endpointId: 'local-vllm',
  model: 'llama',
  origin: 'http://127.0.0.1:8000',
  context: 32768,
  strategy: 'recent',
  reserve: 256,
};

test('runKey: stable, 16 hex digits, and changes with every part that decides the prompt or its target', () => {
  const k = runKey(KEY_PARTS);
  assert.match(k, /^[0-9a-f]{16}$/);
  assert.equal(runKey({ ...KEY_PARTS }), k);
  const variants: Partial<RunKeyParts>[] = [
    { instructionHash: 'd'.repeat(64) },
    { recordHash: 'd'.repeat(64) },
    { templateHash: 'd'.repeat(64) },
    { endpointId: 'other' },
    { model: 'llama-2' },
    { origin: 'http://127.0.0.1:9000' },
    { context: 2048 },
    { strategy: 'bm25' },
    { reserve: 512 },
  ];
  const keys = new Set(variants.map((v) => runKey({ ...KEY_PARTS, ...v })));
  assert.equal(keys.size, variants.length);
  assert.ok(!keys.has(k));
});

test('run record: build, serialize (prompt last), parse back; a cancelled run is partial', () => {
  const start = new Date('2025-03-04T05:06:07.089Z');
  const run = buildRunRecord(sampleDraft({ packMs: 12.3456 }), {
    id: newRunId(start, () => 0.5),
    source: 'run',
    startedAt: start,
    endedAt: new Date(start.getTime() + 1500),
    status: 'cancelled',
    finishReason: null,
    error: { kind: 'cancelled', message: 'Cancelled.' },
    response: 'Labetalol 5 mg',
    completionTokens: 5,
    completionSource: 'counted',
    firstTokenMs: 210.7,
    attempts: 1,
    retryWaitMs: 0,
    prompt: [{ role: 'user', content: 'EHR: <record/>' }],
  });
  assert.equal(run.id, '20250304T050607089Z-iiiiii');
  assert.equal(run.partial, true);
  assert.equal(run.timings.totalMs, 1500);
  assert.equal(run.timings.firstTokenMs, 211);
  assert.equal(run.timings.packMs, 12.35);
  assert.equal(run.promptStored, true);
  const text = serializeRun(run);
  assert.match(text, /\n {2}"prompt": \[[\s\S]*\]\n\}\n$/, 'the prompt is last');
  assert.ok(text.indexOf('"prompt": [') > text.indexOf('"response"'));
  assert.deepEqual(parseRunRecord(text), run);

  const noPrompt = buildRunRecord(sampleDraft(), {
    id: 'x',
    source: 'run',
    startedAt: start,
    endedAt: start,
    status: 'complete',
    finishReason: 'stop',
    response: 'ok',
    completionTokens: 1,
    completionSource: 'server',
    attempts: 1,
    retryWaitMs: 0,
  });
  assert.equal(noPrompt.partial, false);
  assert.equal(noPrompt.promptStored, false);
  assert.equal('prompt' in noPrompt, false);
  assert.equal(parseRunRecord(serializeRun(noPrompt))?.status, 'complete');
});

test('parseRunRecord rejects what is not a run record', () => {
  for (const t of [
    '',
    '{',
    '[]',
    '{"format":"medalign-run","version":2}',
    JSON.stringify({ format: 'medalign-run', version: 1 }),
  ]) {
    assert.equal(parseRunRecord(t), undefined, t);
  }
});

test('file naming: sortable by time, carries the key, safe segments only', () => {
  const name = runFileName({
    id: '20250304T050607089Z-abc123',
    endpoint: { id: 'gpt-4o', kind: 'openai', model: 'gpt-4o' },
    contextLabel: '32k',
    key: '0123456789abcdef',
  });
  assert.equal(name, '20250304T050607089Z-abc123_gpt-4o_32k_0123456789abcdef.json');
  assert.equal(keyOfRunFileName(name), '0123456789abcdef');
  assert.equal(keyOfRunFileName('notes.json'), undefined);
  assert.equal(runDirName('../../etc'), '.._.._etc');
  assert.equal(safeSegment('..'), '_..');
  assert.equal(safeSegment(''), '_');
  assert.equal(safeSegment('a/b\\c d'), 'a_b_c_d');
  const a = runFileName({
    id: newRunId(new Date('2025-01-01T00:00:00Z')),
    endpoint: { id: 'x', kind: 'baseline', model: 'x' },
    contextLabel: '2k',
    key: 'f'.repeat(16),
  });
  const b = runFileName({
    id: newRunId(new Date('2025-01-01T00:00:01Z')),
    endpoint: { id: 'x', kind: 'baseline', model: 'x' },
    contextLabel: '2k',
    key: 'f'.repeat(16),
  });
  assert.ok(a < b);
});

test('summary and audit line: no prompt, no content in the audit line', () => {
  const start = new Date('2025-03-04T05:06:07.089Z');
  const run = buildRunRecord(sampleDraft(), {
    id: 'r1',
    source: 'run',
    startedAt: start,
    endedAt: start,
    status: 'error',
    finishReason: null,
    error: { kind: 'network', message: 'broke off' },
    response: 'line one\n  line two',
    completionTokens: 4,
    completionSource: 'counted',
    attempts: 2,
    retryWaitMs: 100,
    prompt: [{ role: 'user', content: 'SECRET RECORD TEXT' }],
  });
  const s = summarizeRun(run);
  assert.equal(s.preview, 'line one line two');
  assert.equal(s.errorKind, 'network');
  assert.equal(JSON.stringify(s).includes('SECRET RECORD TEXT'), false);
  const line = formatAuditLine({
    time: start.toISOString(),
    endpoint: 'gpt-4o',
    host: 'api.openai.com',
    instruction: '7222697931',
    record: 'b'.repeat(64),
    tokens: 2984,
    attempt: 1,
    run: 'r1',
    // Anything else given is not written.
    ...({ prompt: 'SECRET RECORD TEXT' } as object),
  });
  assert.ok(line.endsWith('\n'));
  assert.deepEqual(Object.keys(JSON.parse(line) as object), [
    'time',
    'endpoint',
    'host',
    'instruction',
    'record',
    'tokens',
    'attempt',
    'run',
  ]);
  assert.equal(line.includes('SECRET'), false);
});
