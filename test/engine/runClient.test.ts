/**
 * The model client over real HTTP against the local fake OpenAI server (127.0.0.1 only).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeOpenAI, chunkText, urlOf } from '../helpers/fakeOpenAI';
import type { ChatCall } from '../../engine/src/run/modelClient';
import {
  ModelCallError,
  RedirectRefusedError,
  callChat,
  guardedFetch,
} from '../../engine/src/run/modelClient';
import { endpointTarget } from '../../engine/src/core/run/guard';
import type { EndpointTarget } from '../../engine/src/core/run/guard';
import type { EndpointConfig } from '../../engine/src/core/workspace/config';
import { classifyFailure } from '../../engine/src/core/run/errors';

const KEY = 'sk-test-CLIENT-7f3a9c1e55d0-do-not-leak';
let fake: FakeOpenAI;
let local: EndpointConfig;
let target: EndpointTarget;

before(async () => {
  fake = await FakeOpenAI.start();
  local = { id: 'local', kind: 'openai-compatible', model: 'fake-llama', baseUrl: fake.baseUrl };
  const t = endpointTarget(local);
  assert.ok(t.ok);
  target = t.target;
});
after(() => fake.close());

const messages = [
  {
    role: 'user' as const,
    content: 'EHR: <record></record>\n\nQuestion: Which antihypertensives?\n\nAnswer:',
  },
];

function call(over: Partial<ChatCall> = {}): ChatCall {
  return { endpoint: local, target, apiKey: KEY, messages, maxTokens: 64, ...over };
}

async function failure(c: ChatCall): Promise<ModelCallError> {
  try {
    await callChat(c);
  } catch (err) {
    assert.ok(err instanceof ModelCallError, String(err));
    return err;
  }
  assert.fail('expected the call to fail');
}

test('streaming: every chunk arrives, in order, as the server sent it; request body and auth header', async () => {
  fake.reset();
  const chunks = ['Labetalol ', '5 mg ', 'IV ', 'once, ', 'then ', 'tPA.'];
  fake.script({ kind: 'ok', chunks, chunkDelayMs: 5 });
  const deltas: string[] = [];
  const r = await callChat(call({ onText: (d) => deltas.push(d) }));
  assert.deepEqual(deltas, chunks);
  assert.equal(r.text, chunks.join(''));
  assert.equal(r.finishReason, 'stop');
  assert.ok(r.firstTokenMs !== undefined && r.firstTokenMs >= 0);
  const [req] = fake.chatRequests;
  assert.equal(req.path, '/v1/chat/completions');
  assert.equal(req.headers['authorization'], `Bearer ${KEY}`);
  const body = req.body as Record<string, unknown>;
  assert.equal(body['stream'], true);
  assert.equal(body['model'], 'fake-llama');
  assert.equal(body['max_tokens'], 64);
  assert.deepEqual(body['messages'], messages);
  assert.equal(body['stream_options'], undefined, 'not sent to compatible servers');
});

test('non-streaming: the whole answer and the usage', async () => {
  fake.reset();
  const deltas: string[] = [];
  const r = await callChat(call({ stream: false, onText: (d) => deltas.push(d) }));
  assert.match(r.text, /^Answer 1: you asked "Which antihypertensives\?"/);
  assert.deepEqual(deltas, [r.text]);
  assert.deepEqual(r.usage, { prompt: 100, completion: 7 });
  assert.equal((fake.chatRequests[0].body as { stream?: boolean }).stream, false);
});

test('OpenAI kind: max_completion_tokens and include_usage; usage read from the last chunk', async () => {
  fake.reset();
  const ep: EndpointConfig = { id: 'oai', kind: 'openai', model: 'gpt-4o', baseUrl: fake.baseUrl };
  const r = await callChat(call({ endpoint: ep }));
  const body = fake.chatRequests[0].body as Record<string, unknown>;
  assert.equal(body['max_completion_tokens'], 64);
  assert.deepEqual(body['stream_options'], { include_usage: true });
  assert.equal(r.usage?.prompt, 100);
  assert.equal(r.usage?.completion, chunkText(r.text).length);
});

test('no key: no Authorization header at all, even with OPENAI_API_KEY and OPENAI_BASE_URL in the environment', async () => {
  fake.reset();
  const saved = {
    key: process.env['OPENAI_API_KEY'],
    url: process.env['OPENAI_BASE_URL'],
    org: process.env['OPENAI_ORG_ID'],
  };
  process.env['OPENAI_API_KEY'] = 'sk-env-should-never-be-used-123456';
  process.env['OPENAI_BASE_URL'] = 'http://127.0.0.2:9/v1';
  process.env['OPENAI_ORG_ID'] = 'org-env';
  try {
    const { apiKey: _unused, ...noKey } = call();
    await callChat(noKey);
  } finally {
    for (const [k, v] of [
      ['OPENAI_API_KEY', saved.key],
      ['OPENAI_BASE_URL', saved.url],
      ['OPENAI_ORG_ID', saved.org],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  const [req] = fake.chatRequests;
  assert.equal(req.headers['authorization'], undefined);
  assert.equal(req.headers['openai-organization'], undefined);
  assert.equal(req.rawBody.includes('sk-env-should-never'), false);
});

test('Azure: deployment path, api-version, api-key header', async () => {
  fake.reset();
  const az: EndpointConfig = {
    id: 'az',
    kind: 'azure-openai',
    model: 'gpt4o-deploy',
    baseUrl: fake.origin,
    apiVersion: '2024-10-21',
  };
  const t = endpointTarget(az);
  assert.ok(t.ok);
  await callChat(call({ endpoint: az, target: t.target }));
  const [req] = fake.chatRequests;
  assert.equal(req.path, '/openai/deployments/gpt4o-deploy/chat/completions');
  assert.equal(req.query['api-version'], '2024-10-21');
  assert.equal(req.headers['api-key'], KEY);
  assert.equal(req.headers['authorization'], undefined);
});

test('429 with Retry-After: a typed failure with the wait in ms', async () => {
  fake.reset();
  fake.script({ kind: 'rate-limit', retryAfter: '2' }, { kind: 'rate-limit', retryAfterMs: '350' });
  const a = await failure(call());
  assert.deepEqual(
    { ...a.failure, body: undefined },
    {
      type: 'http',
      status: 429,
      code: 'rate_limit_exceeded',
      errorType: 'requests',
      message: 'Rate limit reached for requests',
      body: undefined,
      retryAfterMs: 2000,
    },
  );
  const b = await failure(call());
  assert.equal(b.failure.type === 'http' && b.failure.retryAfterMs, 350);
});

test('500: a typed server failure', async () => {
  fake.reset();
  fake.script({ kind: 'server-error' });
  const e = await failure(call());
  assert.equal(e.failure.type, 'http');
  assert.equal(e.failure.type === 'http' && e.failure.status, 500);
  assert.equal(
    classifyFailure(e.failure, { endpointId: 'local', endpointKind: 'openai-compatible', host: target.host })
      .kind,
    'server',
  );
});

test('connection dropped mid-stream: network failure, the text that arrived is kept', async () => {
  fake.reset();
  fake.script({ kind: 'drop', afterChunks: 3 });
  const deltas: string[] = [];
  const e = await failure(call({ onText: (d) => deltas.push(d) }));
  assert.equal(e.failure.type, 'network');
  assert.equal(e.failure.type === 'network' && e.failure.midStream, true);
  assert.equal(deltas.length, 3);
  assert.equal(e.text, deltas.join(''));
  assert.ok(e.text.startsWith('Answer 1:'));
});

test('connection dropped before any response: network failure, not mid-stream', async () => {
  fake.reset();
  fake.script({ kind: 'drop-before-response' });
  const e = await failure(call());
  assert.equal(e.failure.type, 'network');
  assert.equal(e.failure.type === 'network' && e.failure.midStream, false);
  assert.equal(e.text, '');
});

test('timeouts: a stall mid-stream (idle) keeps the partial; a server that never answers (headers)', async () => {
  fake.reset();
  fake.script({ kind: 'stall', afterChunks: 2 });
  const idle = await failure(call({ timeouts: { idleMs: 250 } }));
  assert.deepEqual(idle.failure, { type: 'timeout', phase: 'idle', ms: 250 });
  assert.ok(idle.text.length > 0);
  fake.script({ kind: 'stall' });
  const head = await failure(call({ timeouts: { headersMs: 200 } }));
  assert.deepEqual(head.failure, { type: 'timeout', phase: 'headers', ms: 200 });
  // The server saw the client go away.
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(fake.chatRequests.every((r) => r.aborted));
});

test("content filter: Azure's 400 error, and a stream that finishes with content_filter", async () => {
  fake.reset();
  fake.script({ kind: 'content-filter' }, { kind: 'content-filter-finish', text: 'The patient has a ' });
  const e = await failure(call());
  assert.equal(e.failure.type, 'http');
  const err = classifyFailure(e.failure, {
    endpointId: 'az',
    endpointKind: 'azure-openai',
    host: 'x.openai.azure.com',
  });
  assert.equal(err.kind, 'content-filter');
  assert.match(err.message, /flagged: sexual \(medium\)/);
  assert.match(err.message, /anatomical/);
  const fin = await failure(call());
  assert.deepEqual(fin.failure, { type: 'content-filter-finish' });
  assert.equal(fin.text, 'The patient has a ');
});

test('context-length error and 401 (which echoes the key) are typed; the classified message has no key', async () => {
  fake.reset();
  fake.script({ kind: 'context-length', limit: 4096 }, { kind: 'auth' });
  const ctx = { endpointId: 'local', endpointKind: 'openai-compatible', host: target.host, secrets: [KEY] };
  const overflow = await failure(call());
  assert.equal(classifyFailure(overflow.failure, ctx).kind, 'context-overflow');
  const auth = await failure(call());
  assert.equal(auth.failure.type === 'http' && auth.failure.status, 401);
  assert.ok(
    auth.failure.type === 'http' && auth.failure.message?.includes(KEY),
    'the fake echoes the key like OpenAI',
  );
  const err = classifyFailure(auth.failure, ctx);
  assert.equal(err.kind, 'auth');
  assert.equal(JSON.stringify(err).includes(KEY), false);
});

test('cancel mid-stream: stops the request, keeps the partial', async () => {
  fake.reset();
  fake.script({
    kind: 'ok',
    chunks: chunkText('one two three four five six seven eight nine ten eleven twelve', 4),
    chunkDelayMs: 40,
  });
  const ac = new AbortController();
  const deltas: string[] = [];
  const e = await failure(
    call({
      signal: ac.signal,
      onText: (d) => {
        deltas.push(d);
        if (deltas.length === 2) ac.abort();
      },
    }),
  );
  assert.deepEqual(e.failure, { type: 'cancelled' });
  assert.equal(e.text, deltas.join(''));
  assert.ok(deltas.length >= 2 && deltas.length < 6, String(deltas.length));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(fake.chatRequests[0].aborted, true);
  // Already cancelled: nothing is sent.
  const before = fake.requests.length;
  const pre = await failure(call({ signal: AbortSignal.abort() }));
  assert.deepEqual(pre.failure, { type: 'cancelled' });
  assert.equal(fake.requests.length, before);
});

test('guardedFetch: only the approved origin, never a redirect', async () => {
  const seen: { url: string; redirect?: RequestInit['redirect'] }[] = [];
  const spy = (input: string | URL | Request, init?: RequestInit) => {
    seen.push({ url: urlOf(input), redirect: init?.redirect });
    return Promise.resolve(new Response('{}'));
  };
  const f = guardedFetch('http://127.0.0.1:8000', spy);
  await f('http://127.0.0.1:8000/v1/chat/completions', { method: 'POST' });
  await assert.rejects(f('http://127.0.0.1:8001/v1/chat/completions'), /outside the approved origin/);
  await assert.rejects(f('https://api.openai.com/v1/chat/completions'), /outside the approved origin/);
  await assert.rejects(f('not a url'), /invalid request URL/);
  assert.deepEqual(seen, [{ url: 'http://127.0.0.1:8000/v1/chat/completions', redirect: 'manual' }]);
  // A redirect handed back by the transport is refused, naming the origin it pointed to.
  const redirecting = guardedFetch('http://127.0.0.1:8000', () =>
    Promise.resolve(new Response(null, { status: 308, headers: { location: 'https://x.invalid/a?b=c' } })),
  );
  await assert.rejects(redirecting('http://127.0.0.1:8000/v1/chat/completions'), (err: unknown) => {
    assert.ok(err instanceof RedirectRefusedError);
    assert.equal(err.status, 308);
    assert.equal(err.location, 'https://x.invalid');
    return true;
  });
});

test('a redirect from a local server to another origin is not followed', async () => {
  const other = await FakeOpenAI.start();
  try {
    fake.reset();
    fake.script({
      kind: 'status',
      status: 307,
      headers: { location: `${other.baseUrl}/chat/completions` },
      body: {},
    });
    const e = await failure(call());
    assert.deepEqual(e.failure, { type: 'redirect', status: 307, location: other.origin });
    assert.equal(fake.chatRequests.length, 1);
    assert.equal(other.requests.length, 0);
  } finally {
    await other.close();
  }
});

test('GET /v1/models lists models', async () => {
  const r = await fetch(`${fake.baseUrl}/models`);
  const body = (await r.json()) as { data: { id: string }[] };
  assert.deepEqual(
    body.data.map((m) => m.id),
    ['fake-model'],
  );
});
