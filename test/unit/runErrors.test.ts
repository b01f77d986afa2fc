import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AZURE_FILTER_NOTE,
  RUN_ERROR_ACTION_LABELS,
  classifyFailure,
  contentFilterCategories,
  runErrorActions,
  redactSecrets,
  safeServerText,
} from '../../engine/src/core/run/errors';
import type { FailureContext, RunErrorKind } from '../../engine/src/core/run/errors';

const KEY = 'sk-proj-Zq81mTESTKEYdoNotLeak0042';
const ctx: FailureContext = {
  endpointId: 'gpt-4o',
  endpointKind: 'openai',
  host: 'api.openai.com',
  keySource: 'the environment variable OPENAI_API_KEY',
  promptTokens: 30_500,
  context: 32768,
  estimated: false,
  secrets: [KEY],
};

test('redactSecrets: the key itself, key-shaped strings, bearer tokens and key=value pairs', () => {
  const text = `key ${KEY} then sk-abc***xyz123 and Authorization: Bearer abcdef123456 and api-key=zzzzzzzz and "api_key": "qqqqqqqq"`;
  const out = redactSecrets(text, [KEY]);
  assert.doesNotMatch(out, /Zq81mTESTKEY/);
  assert.doesNotMatch(out, /sk-abc/);
  assert.doesNotMatch(out, /abcdef123456/);
  assert.doesNotMatch(out, /zzzzzzzz/);
  assert.doesNotMatch(out, /qqqqqqqq/);
  assert.match(out, /\[redacted\]/);
  assert.equal(redactSecrets('nothing secret here', [KEY]), 'nothing secret here');
  assert.equal(safeServerText('a\n\n  b', [], 300), 'a b');
  assert.equal(safeServerText('x'.repeat(500), [], 10).length, 10);
});

test('auth: the server text (which echoes the key) is dropped; says where the key comes from', () => {
  const e = classifyFailure(
    { type: 'http', status: 401, code: 'invalid_api_key', message: `Incorrect API key provided: ${KEY}.` },
    ctx,
  );
  assert.equal(e.kind, 'auth');
  assert.equal(e.status, 401);
  assert.doesNotMatch(e.message, /Zq81m|Incorrect API key/);
  assert.match(e.message, /refused the API key/);
  assert.match(e.message, /OPENAI_API_KEY/);
  const forbidden = classifyFailure({ type: 'http', status: 403, message: 'nope' }, ctx);
  assert.equal(forbidden.kind, 'auth');
  assert.match(forbidden.message, /not allowed/);
});

test('rate limit, server errors, not found, other 4xx, SSE errors', () => {
  const rl = classifyFailure(
    { type: 'http', status: 429, message: 'Rate limit reached', retryAfterMs: 2000 },
    ctx,
  );
  assert.equal(rl.kind, 'rate-limited');
  assert.equal(rl.retryAfterMs, 2000);
  assert.match(rl.message, /wait 2 s/);
  assert.equal(classifyFailure({ type: 'http', status: 503 }, ctx).kind, 'server');
  assert.equal(classifyFailure({ type: 'http', status: 500, message: 'boom' }, ctx).kind, 'server');
  assert.equal(
    classifyFailure({ type: 'http', status: 404, message: 'model not found' }, ctx).kind,
    'not-found',
  );
  assert.equal(classifyFailure({ type: 'http', status: 422, message: 'bad field' }, ctx).kind, 'bad-request');
  assert.equal(classifyFailure({ type: 'http', message: 'stream broke' }, ctx).kind, 'server');
  assert.equal(classifyFailure({ type: 'http', status: 408 }, ctx).kind, 'timeout');
});

test('context overflow: OpenAI code, vLLM and llama.cpp wording; says the prompt size and what to do', () => {
  const openai = classifyFailure(
    {
      type: 'http',
      status: 400,
      code: 'context_length_exceeded',
      message:
        "This model's maximum context length is 8192 tokens. However, your messages resulted in 9426 tokens.",
    },
    ctx,
  );
  assert.equal(openai.kind, 'context-overflow');
  assert.match(openai.message, /longer than the model's context/);
  assert.match(openai.message, /30,500 tokens/);
  assert.match(openai.message, /32,768-token context/);
  assert.match(openai.message, /maximum context length is 8192/);
  const vllm = classifyFailure(
    {
      type: 'http',
      status: 400,
      message: "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens",
    },
    ctx,
  );
  assert.equal(vllm.kind, 'context-overflow');
  const llama = classifyFailure(
    {
      type: 'http',
      status: 400,
      errorType: 'exceed_context_size_error',
      message: 'the request exceeds the available context size',
    },
    { ...ctx, estimated: true },
  );
  assert.equal(llama.kind, 'context-overflow');
  assert.match(llama.message, /≈30,500/);
  assert.match(llama.message, /stand-in tokenizer/);
});

test("content filter: Azure's error shape, its categories, and the note that it trips on anatomical terms", () => {
  const body = {
    message:
      "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
    code: 'content_filter',
    innererror: {
      code: 'ResponsibleAIPolicyViolation',
      content_filter_result: {
        hate: { filtered: false, severity: 'safe' },
        sexual: { filtered: true, severity: 'medium' },
        jailbreak: { filtered: false, detected: false },
        self_harm: { filtered: true, severity: 'low' },
      },
    },
  };
  assert.deepEqual(contentFilterCategories(body), ['sexual (medium)', 'self_harm (low)']);
  const e = classifyFailure(
    { type: 'http', status: 400, code: 'content_filter', message: body.message, body },
    { ...ctx, endpointId: 'azure-gpt4', endpointKind: 'azure-openai', host: 'res.openai.azure.com' },
  );
  assert.equal(e.kind, 'content-filter');
  assert.match(e.message, /refused the prompt/);
  assert.match(e.message, /sexual \(medium\)/);
  assert.match(e.message, /anatomical/);
  assert.ok(e.message.includes(AZURE_FILTER_NOTE));
  const fin = classifyFailure({ type: 'content-filter-finish' }, { ...ctx, endpointKind: 'azure-openai' });
  assert.equal(fin.kind, 'content-filter');
  assert.match(fin.message, /stopped the answer/);
  // Another provider's filter: no Azure note, still a clear message.
  const other = classifyFailure(
    { type: 'http', status: 400, code: 'content_policy_violation', message: 'x' },
    ctx,
  );
  assert.equal(other.kind, 'content-filter');
  assert.doesNotMatch(other.message, /Azure/);
});

test('network, timeout and cancel messages; network text is redacted', () => {
  const mid = classifyFailure({ type: 'network', message: 'terminated', midStream: true }, ctx);
  assert.equal(mid.kind, 'network');
  assert.match(mid.message, /broke off in the middle of the answer/);
  const conn = classifyFailure(
    { type: 'network', message: `connect ECONNREFUSED (${KEY})`, midStream: false },
    ctx,
  );
  assert.match(conn.message, /Cannot reach 'gpt-4o' at api\.openai\.com/);
  assert.doesNotMatch(conn.message, /Zq81m/);
  const idle = classifyFailure({ type: 'timeout', phase: 'idle', ms: 300 }, ctx);
  assert.equal(idle.kind, 'timeout');
  assert.match(idle.message, /stalled: nothing arrived for 0\.3 s/);
  assert.match(
    classifyFailure({ type: 'timeout', phase: 'headers', ms: 120_000 }, ctx).message,
    /did not answer within 120 s/,
  );
  assert.equal(classifyFailure({ type: 'cancelled' }, ctx).kind, 'cancelled');
});

test('network failures: one sentence per cause with the next step; the raw cause kept as detail', () => {
  const local: FailureContext = {
    endpointId: 'local',
    endpointKind: 'openai-compatible',
    host: '127.0.0.1:8000',
    loopback: true,
  };
  const raw = 'Connection error.: fetch failed: connect ECONNREFUSED 127.0.0.1:8000 [ECONNREFUSED]';
  const refused = classifyFailure(
    { type: 'network', message: raw, midStream: false, code: 'ECONNREFUSED' },
    local,
  );
  assert.equal(
    refused.message,
    "Nothing is listening at 127.0.0.1:8000: 'local' refused the connection. Start your server at 127.0.0.1:8000, or choose another model.",
  );
  assert.equal(refused.code, 'ECONNREFUSED');
  assert.equal(refused.detail, raw);
  const remote = classifyFailure(
    { type: 'network', message: raw, midStream: false, code: 'ECONNREFUSED' },
    ctx,
  );
  assert.match(
    remote.message,
    /^api\.openai\.com refused the connection to 'gpt-4o'\. Check the endpoint's baseUrl/,
  );
  const sentences: [string, RegExp][] = [
    ['ENOTFOUND', /could not be found\. Check the endpoint's baseUrl/],
    ['ECONNRESET', /was closed before an answer came\. Retry/],
    ['ETIMEDOUT', /cannot be reached from this machine\. Check your network or VPN/],
    ['CERT_HAS_EXPIRED', /TLS certificate .* was not accepted/],
    ['EWHATEVER', /^Cannot reach 'gpt-4o' at api\.openai\.com\. Check that the server is running/],
  ];
  for (const [code, re] of sentences) {
    const e = classifyFailure({ type: 'network', message: `x ${KEY}`, midStream: false, code }, ctx);
    assert.match(e.message, re, code);
    assert.doesNotMatch(e.message, /Zq81m/);
    assert.doesNotMatch(e.detail ?? '', /Zq81m/);
  }
});

test('runErrorActions: every typed error has at least one action, with a label', () => {
  const kinds: RunErrorKind[] = [
    'refused',
    'config',
    'no-key',
    'pack',
    'auth',
    'not-found',
    'rate-limited',
    'context-overflow',
    'content-filter',
    'bad-request',
    'server',
    'network',
    'redirect',
    'timeout',
    'cancelled',
    'internal',
  ];
  for (const kind of kinds) {
    const actions = runErrorActions({ kind });
    assert.ok(actions.length > 0, kind);
    for (const a of actions) assert.ok(RUN_ERROR_ACTION_LABELS[a].length > 0);
  }
  assert.deepEqual(runErrorActions({ kind: 'refused' }), ['approve']);
  assert.deepEqual(runErrorActions({ kind: 'no-key' }), ['set-key']);
  assert.deepEqual(runErrorActions({ kind: 'context-overflow' }), ['choose-context']);
  assert.deepEqual(runErrorActions({ kind: 'network', code: 'ECONNREFUSED' }), [
    'retry',
    'choose-model',
    'open-config',
  ]);
});
