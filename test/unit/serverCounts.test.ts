/**
 * `tokenizer: server` in the core, with an injected counter standing in for the endpoint's
 * `/tokenize` (the JSON-RPC and CLI tests use a real one): the content-hash cache (each distinct
 * text asked once, refusals never cached), the concurrency limit, and packing, the preview, the
 * timeline and the context hover counting with the server's numbers, or saying estimate and why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServerCountCache, countWithServer, mapLimit } from '../../engine/src/core/tokens/serverCounts';
import type { ServerTokenize } from '../../engine/src/core/tokens/serverCounts';
import { withServerCounts } from '../../engine/src/core/features/serverPack';
import { packRequest, resolveRunSettings } from '../../engine/src/core/features/runSettings';
import { parseInstruction } from '../../engine/src/core/format/parse';
import { MemFs } from '../helpers/memfs';
import { makeWorkspace, publicSampleXml, validInstruction } from '../helpers/fixtures';

/**
 * A config whose endpoint serves model `served`. Counts are kept per endpoint (URL and model) for the
 * whole process, as a server counts the same text the same way: each test has its own endpoint.
 */
const config = (served: string) =>
  JSON.stringify({
    recordsFolder: 'records',
    defaults: { model: 'srv', context: '8k', strategy: 'recent', template: 'templates/medalign.prompt' },
    endpoints: [
      {
        id: 'srv',
        kind: 'openai-compatible',
        baseUrl: 'http://127.0.0.1:9/v1',
        model: served,
        tokenizer: 'server',
      },
    ],
  });
let projects = 0;

/** An injected server: one "token" per character, so a count is checkable by hand. */
function charServer(): ServerTokenize & { calls: string[][] } {
  const calls: string[][] = [];
  const f = ((_id: string, texts: string[]) => {
    calls.push(texts);
    return Promise.resolve({
      ok: true as const,
      counts: texts.map((t) => t.length),
      url: 'http://127.0.0.1:9/tokenize',
    });
  }) as ServerTokenize & { calls: string[][] };
  f.calls = calls;
  return f;
}

test('countWithServer asks each distinct text once and then answers from the content-hash cache', async () => {
  const cache = new ServerCountCache();
  const ask = charServer();
  const a = await countWithServer(cache, 'k', 'srv', ['alpha', 'beta', 'alpha'], ask);
  assert.deepEqual(a, { ok: true, counts: [5, 4, 5], url: 'http://127.0.0.1:9/tokenize', asked: 2 });
  assert.deepEqual(ask.calls, [['alpha', 'beta']]);
  const b = await countWithServer(cache, 'k', 'srv', ['beta', 'alpha'], ask);
  assert.equal(b.ok && b.asked, 0);
  assert.equal(ask.calls.length, 1, 'nothing asked the second time');
  // Another endpoint key is another cache.
  await countWithServer(cache, 'other', 'srv', ['beta'], ask);
  assert.equal(ask.calls.length, 2);
});

test('countWithServer: a refusal or a malformed answer is returned and nothing is cached', async () => {
  const cache = new ServerCountCache();
  const refuse: ServerTokenize = () =>
    Promise.resolve({
      ok: false,
      reason: 'not-approved',
      message: 'not approved',
      approval: { endpointId: 'srv', origin: 'http://10.0.0.2:8000', host: '10.0.0.2:8000' },
    });
  const r = await countWithServer(cache, 'k', 'srv', ['x'], refuse);
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.reason, 'not-approved');
  assert.equal(cache.size, 0);
  const short: ServerTokenize = () => Promise.resolve({ ok: true, counts: [], url: 'u' });
  const s = await countWithServer(cache, 'k', 'srv', ['x'], short);
  assert.deepEqual(s, {
    ok: false,
    reason: 'failed',
    message: "The server's /tokenize answer was not a count per text.",
  });
  assert.equal(cache.size, 0);
});

test('mapLimit runs at most `limit` at once and keeps the order', async () => {
  let running = 0;
  let most = 0;
  const release: (() => void)[] = [];
  const p = mapLimit([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
    running++;
    most = Math.max(most, running);
    await new Promise<void>((r) => release.push(r));
    running--;
    return n * 10;
  });
  // Let the workers start, then release them one by one.
  while (release.length > 0 || running > 0) {
    await Promise.resolve();
    const r = release.shift();
    if (r) r();
    await new Promise((r2) => setImmediate(r2));
  }
  assert.deepEqual(await p, [10, 20, 30, 40, 50, 60, 70]);
  assert.equal(most, 3);
  await assert.rejects(
    mapLimit([1, 2], 2, (n) =>
      n === 2 ? Promise.reject(new Error('429 Too Many Requests')) : Promise.resolve(n),
    ),
    /429/,
  );
});

async function project(instructionText: string) {
  const w = await makeWorkspace({ 'medalign.config.json': config(`m${++projects}`) });
  await w.ws.loadConfig();
  const uri = MemFs.uri('instructions/a.medalign');
  const file = parseInstruction(instructionText);
  const s = await resolveRunSettings(file, uri, w.ws, w.fs);
  return { ...w, uri, s, text: instructionText };
}

const INSTRUCTION = validInstruction(5)
  .replace('model: baseline', 'model: srv')
  .replace('context: 32k', 'context: 8k');

test('packing with tokenizer: server counts every element with the server: one token a character here', async () => {
  const { ws, s } = await project(INSTRUCTION);
  assert.equal(s.tokenizer.server, true);
  assert.equal(s.tokenizer.estimated, true, 'before asking, the local count is an estimate');
  const ask = charServer();
  ws.serverTokenize = ask;
  const uri = MemFs.uri('records/1234555.xml');
  const info = await ws.records.get(uri);
  const r = await withServerCounts(ws, s, (s2) => ws.engine.pack(uri, info.key!, packRequest(s2)));
  assert.equal(r.status?.exact, true);
  assert.equal(r.tokenizer.estimated, false);
  assert.equal(r.tokenizer.label, "the server's /tokenize · endpoint srv");
  const pack = r.value!;
  assert.equal(pack.estimated, false);
  assert.equal(pack.budget.instruction, 'Which antihypertensives were given in the ED?'.length);
  // The record (10.6 KB) does not fit in 8k "tokens" of one character: packing cut it with these counts.
  assert.ok(pack.cut.tokens > 0);
  assert.equal(pack.kept.tokens, pack.budget.record);
  const sent = ask.calls.flat();
  assert.equal(new Set(sent).size, sent.length, 'each distinct text sent once');
  // The record's elements are among them (the packer also counts roles, the template and the prompt).
  assert.ok(sent.filter((t) => publicSampleXml.includes(t) && t.includes('<visit')).length >= 2);
  assert.ok(pack.budget.prompt <= pack.budget.limit);
  // The same pack again: nothing is asked.
  const before = ask.calls.length;
  const again = await withServerCounts(ws, s, (s2) => ws.engine.pack(uri, info.key!, packRequest(s2)));
  assert.equal(ask.calls.length, before);
  assert.equal(again.status?.asked, 0);
  assert.deepEqual(again.value!.budget, pack.budget);
});

test('the whole record at 32k: the record part is its character count, as the server counted its elements', async () => {
  const { ws, s } = await project(INSTRUCTION.replace('context: 8k', 'context: 32k'));
  ws.serverTokenize = charServer();
  const uri = MemFs.uri('records/1234555.xml');
  const info = await ws.records.get(uri);
  const r = await withServerCounts(ws, s, (s2) => ws.engine.fit(uri, info.key!, packRequest(s2), true));
  const fit = r.value;
  assert.ok(fit !== undefined && fit !== 'pending');
  assert.equal(fit.estimated, false);
  assert.equal(fit.total, publicSampleXml.length);
});

test('not approved: the estimate with the fallback encoding, flagged, with the approval to offer', async () => {
  const { ws, s, service, doc, text } = await project(INSTRUCTION);
  ws.serverTokenize = () =>
    Promise.resolve({
      ok: false,
      reason: 'not-approved',
      message: 'not approved',
      approval: { endpointId: 'srv', origin: 'http://10.0.0.2:8000', host: '10.0.0.2:8000' },
    });
  const uri = MemFs.uri('records/1234555.xml');
  const info = await ws.records.get(uri);
  const r = await withServerCounts(ws, s, (s2) => ws.engine.pack(uri, info.key!, packRequest(s2)));
  assert.equal(r.status?.exact, false);
  assert.equal(r.value!.estimated, true);
  assert.equal(r.tokenizer.label, 'estimate with cl100k_base');
  assert.deepEqual(r.status?.approval, {
    endpointId: 'srv',
    origin: 'http://10.0.0.2:8000',
    host: '10.0.0.2:8000',
  });
  // The preview says so in its warnings and header.
  const pv = await service.buildPreview(doc('instructions/a.medalign', text), ws);
  assert.equal(pv.settings.tokenizer.estimated, true);
  assert.ok(
    pv.pack!.warnings.includes(
      "Token counts are estimates with cl100k_base: endpoint 'srv' is not approved for patient records, so nothing was sent to its /tokenize.",
    ),
  );
  assert.match(pv.text, /estimate with cl100k_base/);
});

test('the preview and the timeline count with the server once it answers; a failure says why', async () => {
  const { ws, service, doc, text } = await project(INSTRUCTION);
  ws.serverTokenize = charServer();
  const d = doc('instructions/a.medalign', text);
  const pv = await service.buildPreview(d, ws);
  assert.equal(pv.ok, true, pv.error);
  assert.equal(pv.settings.tokenizer.estimated, false);
  assert.equal(pv.pack!.budget.instruction, 'Which antihypertensives were given in the ED?'.length);
  assert.match(pv.text, /the server's \/tokenize · endpoint srv/);
  const tl = await service.timeline(d, ws);
  assert.equal(tl.estimated, false);
  assert.equal(tl.tokens, publicSampleXml.length);
  assert.equal(tl.encoding, "the server's /tokenize · endpoint srv");

  const failing = await project(INSTRUCTION);
  failing.ws.serverTokenize = () =>
    Promise.resolve({
      ok: false,
      reason: 'failed',
      message: 'http://127.0.0.1:9/tokenize gave no token count (vllm: HTTP 429).',
    });
  const tl2 = await failing.service.timeline(failing.doc('instructions/a.medalign', text), failing.ws);
  assert.equal(tl2.estimated, true);
  assert.ok(
    tl2.problems.some((p) =>
      p.includes(
        "the server's /tokenize did not count: http://127.0.0.1:9/tokenize gave no token count (vllm: HTTP 429).",
      ),
    ),
    tl2.problems.join('\n'),
  );
});

test("the Context… picker's rows count with the server once it answers; refused, they say estimate and why", async () => {
  const { ws, service, doc, text } = await project(INSTRUCTION.replace('context: 8k', 'context: 32k'));
  ws.serverTokenize = charServer();
  const fit = await service.contextFit(doc('instructions/a.medalign', text), ws);
  assert.equal(fit.ok, true, fit.message);
  assert.equal(fit.warning, undefined);
  // One "token" a character: the whole record is its character count, and fits whole from 16k up.
  assert.equal(fit.totalTokens, publicSampleXml.length.toLocaleString('en-US'));
  assert.deepEqual(
    fit.rows.filter((r) => r.fitsWhole).map((r) => r.label),
    ['16k', '32k', '64k', '128k'],
  );

  const refused = await project(INSTRUCTION);
  refused.ws.serverTokenize = () =>
    Promise.resolve({
      ok: false,
      reason: 'not-approved',
      message: 'not approved',
      approval: { endpointId: 'srv', origin: 'http://10.0.0.2:8000', host: '10.0.0.2:8000' },
    });
  const est = await refused.service.contextFit(refused.doc('instructions/a.medalign', text), refused.ws);
  assert.equal(est.ok, true, est.message);
  assert.match(est.totalTokens ?? '', /^≈/);
  assert.match(
    est.warning ?? '',
    /^Token counts are estimates with cl100k_base: endpoint 'srv' is not approved/,
  );
});
