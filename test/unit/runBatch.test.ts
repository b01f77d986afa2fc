import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  batchCustomId,
  batchRequestLine,
  chatRequestBody,
  parseBatchManifest,
  parseBatchRequests,
  parseBatchResults,
  runFromBatchResult,
  serializeManifest,
  BATCH_MANIFEST_FORMAT,
} from '../../engine/src/core/run/batch';
import {
  EXPORT_COLUMNS,
  csvField,
  exportRow,
  parseCsv,
  rowsToCsv,
  rowsToJsonl,
} from '../../engine/src/core/run/export';
import {
  buildRunRecord,
  promptHash,
  serializeRun,
  parseRunRecord,
} from '../../engine/src/core/run/runRecord';
import type { RunDraft } from '../../engine/src/core/run/runRecord';
import type { BatchManifest } from '../../engine/src/core/run/batch';

const messages = [
  { role: 'system' as const, content: 'You are a clinician.' },
  { role: 'user' as const, content: 'EHR: <record>…</record>\n\nQuestion: "BP", trend?' },
];

function draft(over: Partial<RunDraft> = {}): RunDraft {
  return {
    key: '0123456789abcdef',
    instruction: { id: '7222697931', file: 'instructions/a.medalign', hash: 'a'.repeat(64) },
    record: { file: 'records/1234555.xml', hash: 'b'.repeat(64), chars: 10842 },
    template: { hash: 'c'.repeat(64), builtin: true },
    endpoint: { id: 'gpt-4o', kind: 'openai', model: 'gpt-4o-2024-08-06', origin: 'https://api.openai.com' },
    context: 32768,
    contextLabel: '32k',
    strategy: 'recent',
    reserve: 256,
    encoding: 'o200k_base',
    estimated: false,
    tokens: {
      prompt: 2984,
      recordKept: 2949,
      recordCut: 0,
      recordBudget: 32475,
      visitsKept: 3,
      visitsCut: 0,
    },
    promptHash: promptHash(messages),
    ...over,
  };
}

test('request lines: the documented Batch API shape per endpoint kind, nothing else', () => {
  const id = batchCustomId(draft());
  assert.equal(id, '7222697931.gpt-4o.32k.0123456789abcdef');
  const openai = batchRequestLine(id, 'openai', 'gpt-4o-2024-08-06', messages, 256);
  assert.deepEqual(Object.keys(openai), ['custom_id', 'method', 'url', 'body']);
  assert.equal(openai.url, '/v1/chat/completions');
  assert.equal(openai.method, 'POST');
  assert.deepEqual(openai.body, { model: 'gpt-4o-2024-08-06', messages, max_completion_tokens: 256 });
  const vllm = batchRequestLine(id, 'openai-compatible', 'meta-llama/Llama-3.1-8B-Instruct', messages, 128);
  assert.equal(vllm.url, '/v1/chat/completions');
  assert.equal(vllm.body.max_tokens, 128);
  assert.equal(vllm.body.max_completion_tokens, undefined);
  assert.equal(batchRequestLine(id, 'azure-openai', 'dep', messages, 1).url, '/chat/completions');
  assert.deepEqual(chatRequestBody('openai', 'm', [], 5), {
    model: 'm',
    messages: [],
    max_completion_tokens: 5,
  });
  const parsed = parseBatchRequests(
    [JSON.stringify(openai), '', 'junk', JSON.stringify({ custom_id: 'x' })].join('\n'),
  );
  assert.deepEqual(parsed.items, [{ customId: id, messages }]);
  assert.deepEqual(
    parsed.problems.map((p) => p.replace(/\(.*\)/, '').trim()),
    ['line 3: not JSON', 'line 4: not a batch request'],
  );
});

test('results: OpenAI success, OpenAI error line, vLLM success and error, content filter finish', () => {
  const completion = (text: string, finish = 'stop') => ({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: finish }],
    usage: { prompt_tokens: 2990, completion_tokens: 12, total_tokens: 3002 },
  });
  const lines = [
    {
      id: 'batch_req_1',
      custom_id: 'a',
      response: { status_code: 200, request_id: 'r1', body: completion('Labetalol.') },
      error: null,
    },
    {
      id: 'batch_req_2',
      custom_id: 'b',
      response: null,
      error: { code: 'invalid_request', message: 'bad line' },
    },
    {
      id: 'vllm-3',
      custom_id: 'c',
      response: { status_code: 200, request_id: 'vllm-batch-3', body: completion('vLLM says hi', 'length') },
      error: null,
    },
    {
      id: 'vllm-4',
      custom_id: 'd',
      response: {
        status_code: 400,
        request_id: 'x',
        body: { error: { message: "This model's maximum context length is 4096 tokens.", code: null } },
      },
      error: null,
    },
    {
      id: 'batch_req_5',
      custom_id: 'e',
      response: { status_code: 200, body: completion('The patient', 'content_filter') },
      error: null,
    },
    { id: 'batch_req_6', custom_id: 'f', response: { status_code: 500, body: null }, error: null },
  ];
  const { items, problems } = parseBatchResults(
    lines.map((l) => JSON.stringify(l)).join('\n') + '\n{"no":"id"}\n',
  );
  assert.deepEqual(problems, ['line 7: no custom_id']);
  const byId = new Map(items.map((r) => [r.customId, r]));
  assert.equal(byId.get('a')!.text, 'Labetalol.');
  assert.equal(byId.get('a')!.finishReason, 'stop');
  assert.deepEqual(byId.get('a')!.usage, { prompt: 2990, completion: 12 });
  assert.equal(byId.get('a')!.failure, undefined);
  assert.equal(byId.get('b')!.failure?.type, 'http');
  assert.equal(byId.get('c')!.finishReason, 'length');
  assert.equal(byId.get('d')!.failure?.type, 'http');
  assert.equal(byId.get('e')!.failure?.type, 'content-filter-finish');
  assert.equal(byId.get('f')!.failure?.type, 'http');

  const opts = {
    id: 'run-1',
    now: new Date('2025-05-05T00:00:00Z'),
    countCompletion: (t: string) => t.length,
    context: {},
  };
  const ok = runFromBatchResult(draft(), byId.get('a')!, { ...opts, messages });
  assert.equal(ok.status, 'complete');
  assert.equal(ok.source, 'batch-import');
  assert.equal(ok.response, 'Labetalol.');
  assert.equal(ok.tokens.completion, 12);
  assert.equal(ok.tokens.completionSource, 'server');
  assert.equal(ok.tokens.serverPrompt, 2990);
  assert.deepEqual(ok.prompt, messages);
  assert.deepEqual(parseRunRecord(serializeRun(ok)), ok);
  const overflow = runFromBatchResult(draft(), byId.get('d')!, opts);
  assert.equal(overflow.status, 'error');
  assert.equal(overflow.error?.kind, 'context-overflow');
  assert.equal(overflow.promptStored, false);
  const filtered = runFromBatchResult(
    draft({ endpoint: { id: 'az', kind: 'azure-openai', model: 'dep' } }),
    byId.get('e')!,
    opts,
  );
  assert.equal(filtered.error?.kind, 'content-filter');
  assert.equal(filtered.response, 'The patient');
  assert.equal(filtered.tokens.completionSource, 'server');
  const server = runFromBatchResult(draft(), byId.get('f')!, opts);
  assert.equal(server.error?.kind, 'server');
});

test('manifest round trip; foreign JSON is not a manifest', () => {
  const m: BatchManifest = {
    format: BATCH_MANIFEST_FORMAT,
    version: 1,
    createdAt: '2025-01-01T00:00:00.000Z',
    requestsFile: 'requests.jsonl',
    entries: { [batchCustomId(draft())]: draft() },
  };
  assert.deepEqual(parseBatchManifest(serializeManifest(m)), m);
  assert.equal(parseBatchManifest('{"format":"other","version":1,"entries":{}}'), undefined);
  assert.equal(parseBatchManifest('nope'), undefined);
});

test('export: JSONL and RFC 4180 CSV (quotes, commas, newlines) read back to the same values', () => {
  const start = new Date('2025-01-01T00:00:00Z');
  const run = buildRunRecord(draft(), {
    id: 'run-1',
    source: 'run',
    startedAt: start,
    endedAt: new Date(start.getTime() + 2500),
    status: 'complete',
    finishReason: 'stop',
    response: 'Labetalol, 5 mg IV "once".\nThen tPA.',
    completionTokens: 14,
    completionSource: 'counted',
    firstTokenMs: 300,
    attempts: 1,
    retryWaitMs: 0,
    prompt: messages,
  });
  const row = exportRow(run, '.medalign/runs/7222697931/x.json', 'Labetalol 5 mg IV.');
  assert.equal(row.response, run.response);
  assert.equal(row.gold, 'Labetalol 5 mg IV.');
  assert.equal(row.total_ms, 2500);
  assert.equal(JSON.stringify(row).includes('You are a clinician'), false, 'the prompt is not exported');
  const jsonl = rowsToJsonl([row, row]);
  assert.deepEqual(
    jsonl
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown),
    [row, row],
  );
  assert.equal(rowsToJsonl([]), '');
  const csv = rowsToCsv([row]);
  const table = parseCsv(csv);
  assert.deepEqual(table[0], [...EXPORT_COLUMNS]);
  assert.equal(table.length, 2);
  const back = Object.fromEntries(EXPORT_COLUMNS.map((c, i) => [c, table[1][i]]));
  assert.equal(back['response'], run.response);
  assert.equal(back['instruction_id'], '7222697931');
  assert.equal(back['context'], '32768');
  assert.equal(back['partial'], 'false');
  assert.equal(back['first_token_ms'], '300');
  assert.equal(csvField('a"b'), '"a""b"');
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField(null), '');
});
