/**
 * The runner end to end: a workspace on disk, the local fake OpenAI server over real HTTP, runs
 * saved under .medalign/runs/, the audit log, the PHI guard, retries, partials, the batch runner.
 * A non-loopback endpoint uses a `.invalid` host: the guard must refuse before any connection, and
 * where a test approves it, the transport is redirected to the local server (nothing leaves 127.0.0.1).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  mkdtempSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FakeOpenAI, chunkText, urlOf } from '../helpers/fakeOpenAI';
import { TEMPLATE, publicSampleXml, validInstruction } from '../helpers/fixtures';
import { RunPreparer } from '../../engine/src/host/prepare';
import type { PreparedRun, RunJob } from '../../engine/src/host/prepare';
import type { ExecuteOptions, RunEvent } from '../../engine/src/run/runner';
import { executeRun } from '../../engine/src/run/runner';
import { runMany } from '../../engine/src/run/runMany';
import { RunStore } from '../../engine/src/run/store';
import { readAudit } from '../../engine/src/run/audit';
import { FileApprovals, cliApprovalChecker } from '../../engine/src/run/approvals';
import type { ApprovalQuery } from '../../engine/src/core/run/guard';
import { parseRunRecord } from '../../engine/src/core/run/runRecord';
import { BASELINE_LABEL } from '../../engine/src/core/run/baseline';
import { parseRecord } from '../../engine/src/core/record/parse';
import { countTokens } from '../../engine/src/host/countTokens';

const KEY = 'sk-test-RUNNER-91b2c3d4e5f6-never-in-a-file';
const REMOTE = 'https://phi-test.invalid/v1';
let fake: FakeOpenAI;
let root: string;
let approvalsDir: string;
const captured: string[] = [];
const preparer = new RunPreparer();

function writeWorkspace(dir: string, baseUrl: string): void {
  mkdirSync(path.join(dir, 'records'), { recursive: true });
  mkdirSync(path.join(dir, 'templates'), { recursive: true });
  mkdirSync(path.join(dir, 'instructions'), { recursive: true });
  writeFileSync(
    path.join(dir, 'medalign.config.json'),
    JSON.stringify({
      recordsFolder: 'records',
      defaults: {
        model: 'local',
        context: '8k',
        strategy: 'recent',
        template: 'templates/medalign.prompt',
        generationReserve: 128,
      },
      endpoints: [
        { id: 'local', kind: 'openai-compatible', baseUrl, model: 'fake-llama', apiKeyEnv: 'FAKE_KEY' },
        {
          id: 'cloud',
          kind: 'openai',
          baseUrl: REMOTE,
          model: 'gpt-4o',
          apiKeyEnv: 'CLOUD_KEY',
          encoding: 'o200k_base',
        },
        {
          id: 'azure',
          kind: 'azure-openai',
          baseUrl: baseUrl.replace(/\/v1$/, ''),
          model: 'gpt4o-deploy',
          apiVersion: '2024-10-21',
        },
      ],
    }),
  );
  writeFileSync(path.join(dir, 'records/1234555.xml'), publicSampleXml);
  writeFileSync(path.join(dir, 'templates/medalign.prompt'), TEMPLATE);
  for (let i = 1; i <= 6; i++) {
    writeFileSync(
      path.join(dir, `instructions/i${i}.medalign`),
      validInstruction(1000 + i).replace('model: baseline\n', ''),
    );
  }
}

before(async () => {
  fake = await FakeOpenAI.start();
  root = mkdtempSync(path.join(os.tmpdir(), 'medalign-runner-'));
  approvalsDir = mkdtempSync(path.join(os.tmpdir(), 'medalign-approvals-'));
  writeWorkspace(root, fake.baseUrl);
});
after(async () => {
  await fake.close();
  rmSync(root, { recursive: true, force: true });
  rmSync(approvalsDir, { recursive: true, force: true });
});

const file = (i = 1) => path.join(root, `instructions/i${i}.medalign`);

async function prepare(job: Partial<RunJob> = {}): Promise<PreparedRun> {
  const r = await preparer.prepare({ file: file(), ...job });
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  return r.run;
}

const never = () => false;

function opts(over: Partial<ExecuteOptions> = {}): ExecuteOptions {
  const events: RunEvent[] = [];
  return {
    apiKey: KEY,
    approval: never,
    countTokens,
    retry: { baseDelayMs: 20 },
    timeouts: { headersMs: 2000, idleMs: 2000 },
    onEvent: (e) => {
      events.push(e);
      captured.push(JSON.stringify(e));
    },
    ...over,
  };
}

function savedRun(file: string) {
  const run = parseRunRecord(readFileSync(file, 'utf8'));
  assert.ok(run, `${file} is a run record`);
  return run;
}

test('a streamed answer arrives in order and is stored with everything about the run', async () => {
  fake.reset();
  const chunks = ['Labetalol ', '5 mg IV ', 'was given ', 'once.'];
  fake.script({ kind: 'ok', chunks, chunkDelayMs: 5 });
  const p = await prepare();
  const deltas: string[] = [];
  const texts: string[] = [];
  const out = await executeRun(p, opts({ onText: (d, t) => (deltas.push(d), texts.push(t)) }));
  captured.push(...deltas);
  assert.equal(out.status, 'complete');
  assert.deepEqual(deltas, chunks);
  assert.equal(texts.at(-1), chunks.join(''));
  assert.ok(out.file && existsSync(out.file));
  assert.ok(out.file.startsWith(path.join(root, '.medalign', 'runs', '1001') + path.sep));
  const run = savedRun(out.file);
  assert.equal(run.response, chunks.join(''));
  assert.equal(run.status, 'complete');
  assert.equal(run.partial, false);
  assert.equal(run.finishReason, 'stop');
  assert.equal(run.instruction.id, '1001');
  assert.equal(run.instruction.file, 'instructions/i1.medalign');
  assert.equal(run.record.file, 'records/1234555.xml');
  assert.match(run.record.hash, /^[0-9a-f]{64}$/);
  assert.equal(run.template.file, 'templates/medalign.prompt');
  assert.deepEqual(run.endpoint, {
    id: 'local',
    kind: 'openai-compatible',
    model: 'fake-llama',
    origin: fake.origin,
  });
  assert.equal(run.context, 32768);
  assert.equal(run.contextLabel, '32k');
  assert.equal(run.reserve, 128);
  assert.equal(run.tokens.prompt, p.pack.budget.prompt);
  assert.ok(run.tokens.recordKept > 0);
  // The days of the record the prompt kept (the run matrix's "kept record" column).
  assert.equal(run.record.keptFrom, p.pack.kept.firstDate?.iso.slice(0, 10));
  assert.equal(run.record.keptTo, p.pack.kept.lastDate?.iso.slice(0, 10));
  assert.match(run.record.keptFrom ?? '', /^\d{4}-\d\d-\d\d$/);
  assert.equal(run.timings.attempts, 1);
  assert.ok(run.timings.firstTokenMs !== undefined);
  assert.deepEqual(run.prompt, p.pack.messages);
  // What the server received is exactly the stored prompt.
  assert.deepEqual((fake.chatRequests[0].body as { messages: unknown }).messages, run.prompt);
  assert.equal((fake.chatRequests[0].body as { max_tokens: number }).max_tokens, 128);
  // .medalign/.gitignore keeps runs and the audit log out of git.
  assert.match(readFileSync(path.join(root, '.medalign/.gitignore'), 'utf8'), /^\*$/m);
  const audit = await readAudit(root);
  assert.equal(audit.length, 1);
  assert.deepEqual(Object.keys(audit[0]), [
    'time',
    'endpoint',
    'host',
    'instruction',
    'record',
    'tokens',
    'attempt',
    'run',
  ]);
  assert.equal(audit[0].endpoint, 'local');
  assert.equal(audit[0].host, `127.0.0.1:${fake.port}`);
  assert.equal(audit[0].instruction, '1001');
  assert.equal(audit[0].record, run.record.hash);
  assert.equal(audit[0].tokens, run.tokens.prompt);
  assert.equal(audit[0].run, run.id);
  // The run is listed, newest first, and is the latest for its instruction.
  const store = new RunStore(root);
  const list = await store.list({ instructionId: '1001' });
  assert.equal(list[0].file, out.file);
  assert.equal((await store.latest('1001'))?.run.id, run.id);
});

test('prompt storage off: the prompt is not in the file, its hash is', async () => {
  fake.reset();
  const p = await prepare();
  const out = await executeRun(p, opts({ storePrompt: false }));
  const text = readFileSync(out.file!, 'utf8');
  const run = savedRun(out.file!);
  assert.equal(run.promptStored, false);
  assert.equal(run.prompt, undefined);
  assert.equal(run.promptHash, p.draft.promptHash);
  assert.equal(text.includes('Which antihypertensives were given in the ED?\n\nAnswer:'), false);
});

test('cancel mid-stream keeps the partial and saves it', async () => {
  fake.reset();
  fake.script({
    kind: 'ok',
    chunks: chunkText('one two three four five six seven eight nine ten eleven twelve', 4),
    chunkDelayMs: 40,
  });
  const ac = new AbortController();
  let n = 0;
  const out = await executeRun(
    await prepare(),
    opts({
      signal: ac.signal,
      onText: () => {
        if (++n === 3) ac.abort();
      },
    }),
  );
  assert.equal(out.status, 'cancelled');
  const run = savedRun(out.file!);
  assert.equal(run.status, 'cancelled');
  assert.equal(run.partial, true);
  assert.equal(run.error?.kind, 'cancelled');
  assert.ok(
    run.response.length > 0 &&
      'one two three four five six seven eight nine ten eleven twelve'.startsWith(run.response),
  );
  assert.equal(fake.chatRequests.length, 1);
});

test('429 with Retry-After, then success: waits as asked, one audit line per request', async () => {
  fake.reset();
  fake.script({ kind: 'rate-limit', retryAfter: '1' }, { kind: 'ok' });
  const auditBefore = (await readAudit(root)).length;
  const events: RunEvent[] = [];
  const out = await executeRun(
    await prepare(),
    opts({ retry: { baseDelayMs: 5 }, onEvent: (e) => events.push(e) }),
  );
  assert.equal(out.status, 'complete');
  const [a, b] = fake.chatRequests;
  assert.ok(b.receivedAt - a.receivedAt >= 950, `waited ${b.receivedAt - a.receivedAt} ms`);
  const retry = events.find((e) => e.type === 'retrying');
  assert.ok(
    retry && retry.type === 'retrying' && retry.delayMs === 1000 && retry.error.kind === 'rate-limited',
  );
  const run = savedRun(out.file!);
  assert.equal(run.timings.attempts, 2);
  assert.ok(run.timings.retryWaitMs >= 950);
  assert.match(run.response, /^Answer 2:/);
  const audit = (await readAudit(root)).slice(auditBefore);
  assert.deepEqual(
    audit.map((l) => l.attempt),
    [1, 2],
  );
});

test('500 then success: retried with backoff', async () => {
  fake.reset();
  fake.script({ kind: 'server-error' }, { kind: 'server-error', status: 503 }, { kind: 'ok' });
  const out = await executeRun(await prepare(), opts());
  assert.equal(out.status, 'complete');
  assert.equal(fake.chatRequests.length, 3);
  assert.equal(savedRun(out.file!).timings.attempts, 3);
});

test('500 every time: gives up after the policy attempts and saves the error', async () => {
  fake.reset();
  fake.script(...Array.from({ length: 5 }, () => ({ kind: 'server-error' as const })));
  const out = await executeRun(await prepare(), opts({ retry: { baseDelayMs: 5, maxAttempts: 3 } }));
  assert.equal(out.status, 'error');
  assert.equal(out.error?.kind, 'server');
  assert.equal(fake.chatRequests.length, 3);
  assert.equal(savedRun(out.file!).partial, true);
});

test('a connection dropped mid-stream: the partial is saved with a network error, not retried', async () => {
  fake.reset();
  fake.script({ kind: 'drop', afterChunks: 3 });
  const out = await executeRun(await prepare(), opts());
  assert.equal(out.status, 'error');
  const run = savedRun(out.file!);
  assert.equal(run.error?.kind, 'network');
  assert.match(run.error.message, /broke off in the middle/);
  assert.equal(run.partial, true);
  assert.ok(run.response.startsWith('Answer 1:'));
  assert.equal(fake.chatRequests.length, 1);
});

test('a drop before any answer is retried', async () => {
  fake.reset();
  fake.script({ kind: 'drop-before-response' }, { kind: 'ok' });
  const out = await executeRun(await prepare(), opts());
  assert.equal(out.status, 'complete');
  assert.equal(fake.chatRequests.length, 2);
});

test('a timeout: a stalled stream ends as a saved partial with a timeout error', async () => {
  fake.reset();
  fake.script({ kind: 'stall', afterChunks: 2 });
  const out = await executeRun(await prepare(), opts({ timeouts: { idleMs: 300 } }));
  assert.equal(out.status, 'error');
  const run = savedRun(out.file!);
  assert.equal(run.error?.kind, 'timeout');
  assert.ok(run.response.length > 0);
  assert.equal(fake.chatRequests.length, 1);
});

test('a content-filter error (Azure): saved with the message about anatomical terms, not retried', async () => {
  fake.reset();
  fake.script({ kind: 'content-filter' });
  const out = await executeRun(await prepare({ model: 'azure' }), opts());
  assert.equal(out.status, 'error');
  assert.equal(out.error?.kind, 'content-filter');
  assert.match(out.error.message, /anatomical/);
  assert.match(out.error.message, /Azure/);
  assert.equal(fake.chatRequests.length, 1);
  assert.equal(fake.chatRequests[0].headers['api-key'], KEY);
});

test('a context overflow reported by the server, and a refused key (the server echoes it)', async () => {
  fake.reset();
  fake.script({ kind: 'context-length', limit: 2048 }, { kind: 'auth' });
  const overflow = await executeRun(await prepare(), opts());
  assert.equal(overflow.error?.kind, 'context-overflow');
  assert.match(overflow.error.message, /maximum context length is 2048/);
  const auth = await executeRun(await prepare(), opts({ keySource: 'the environment variable FAKE_KEY' }));
  assert.equal(auth.error?.kind, 'auth');
  assert.match(auth.error.message, /FAKE_KEY/);
  captured.push(JSON.stringify(overflow), JSON.stringify(auth));
  assert.equal(readFileSync(auth.file!, 'utf8').includes(KEY), false);
});

test('no key for an endpoint that needs one: nothing is sent, nothing saved', async () => {
  fake.reset();
  const { apiKey: _k, ...noKey } = opts();
  const out = await executeRun(await prepare(), noKey);
  assert.equal(out.status, 'error');
  assert.equal(out.error?.kind, 'no-key');
  assert.match(out.error.message, /FAKE_KEY/);
  assert.equal(out.file, undefined);
  assert.equal(fake.requests.length, 0);
});

test('a non-approved remote endpoint is refused before any connection: no request, no run, no audit line', async () => {
  fake.reset();
  const calls: string[] = [];
  const spy = (input: string | URL | Request) => {
    calls.push(urlOf(input));
    return Promise.reject(new Error('must not be called'));
  };
  const asked: ApprovalQuery[] = [];
  const runsBefore = (await new RunStore(root).list()).length;
  const auditBefore = (await readAudit(root)).length;
  const out = await executeRun(
    await prepare({ model: 'cloud' }),
    opts({ fetch: spy, approval: (q) => (asked.push(q), false) }),
  );
  assert.equal(out.status, 'refused');
  assert.equal(out.error?.kind, 'refused');
  assert.match(out.error.message, /phi-test\.invalid/);
  assert.match(out.error.message, /Nothing was sent/);
  assert.deepEqual(out.approval, {
    endpointId: 'cloud',
    kind: 'openai',
    origin: 'https://phi-test.invalid',
    host: 'phi-test.invalid',
  });
  assert.deepEqual(asked, [out.approval]);
  assert.deepEqual(calls, []);
  assert.equal(fake.requests.length, 0);
  assert.equal(out.file, undefined);
  assert.equal((await new RunStore(root).list()).length, runsBefore);
  assert.equal((await readAudit(root)).length, auditBefore);
  // An approval checker that throws is a no.
  const thrown = await executeRun(
    await prepare({ model: 'cloud' }),
    opts({ fetch: spy, approval: () => Promise.reject(new Error('x')) }),
  );
  assert.equal(thrown.status, 'refused');
  assert.deepEqual(calls, []);
});

test('a workspace file claiming approval is ignored', async () => {
  fake.reset();
  const claim = JSON.stringify({
    format: 'medalign-phi-approvals',
    version: 1,
    approvals: [
      { endpointId: 'cloud', origin: 'https://phi-test.invalid', approvedAt: '2025-01-01T00:00:00Z' },
    ],
  });
  writeFileSync(path.join(root, 'phi-approvals.json'), claim);
  mkdirSync(path.join(root, '.medalign'), { recursive: true });
  writeFileSync(path.join(root, '.medalign/phi-approvals.json'), claim);
  mkdirSync(path.join(root, '.vscode'), { recursive: true });
  writeFileSync(
    path.join(root, '.vscode/settings.json'),
    JSON.stringify({ 'medalign.approvedEndpoints': ['cloud'] }),
  );
  // Even when the approvals path is pointed into the workspace, it is not trusted.
  const inWorkspace = new FileApprovals(path.join(root, 'phi-approvals.json'), [root]);
  assert.equal(inWorkspace.trusted, false);
  assert.deepEqual(await inWorkspace.entries(), []);
  await assert.rejects(inWorkspace.add(out0()), /inside a workspace/);
  const userFile = new FileApprovals(path.join(approvalsDir, 'phi-approvals.json'), [root]);
  const calls: string[] = [];
  const spy = (input: string | URL | Request) => (calls.push(urlOf(input)), Promise.reject(new Error('no')));
  for (const checker of [cliApprovalChecker([], inWorkspace), cliApprovalChecker([], userFile)]) {
    const out = await executeRun(await prepare({ model: 'cloud' }), opts({ fetch: spy, approval: checker }));
    assert.equal(out.status, 'refused');
  }
  assert.deepEqual(calls, []);
  assert.equal(fake.requests.length, 0);
});

function out0(): ApprovalQuery {
  return {
    endpointId: 'cloud',
    kind: 'openai',
    origin: 'https://phi-test.invalid',
    host: 'phi-test.invalid',
  };
}

test("the user's approval lets a remote run through (transport redirected to the local server); audit names the remote host", async () => {
  fake.reset();
  const userFile = new FileApprovals(path.join(approvalsDir, 'phi-approvals.json'), [root]);
  await userFile.add(out0());
  const seen: string[] = [];
  const toLocal = (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(urlOf(input));
    seen.push(url.origin);
    return fetch(`${fake.origin}${url.pathname}${url.search}`, init);
  };
  const out = await executeRun(
    await prepare({ model: 'cloud' }),
    opts({ fetch: toLocal, approval: cliApprovalChecker([], userFile) }),
  );
  assert.equal(out.status, 'complete', out.error?.message);
  assert.deepEqual(seen, ['https://phi-test.invalid']);
  assert.equal(fake.chatRequests.length, 1);
  assert.equal(fake.chatRequests[0].headers['authorization'], `Bearer ${KEY}`);
  const audit = await readAudit(root);
  assert.equal(audit.at(-1)!.host, 'phi-test.invalid');
  assert.equal(savedRun(out.file!).endpoint.origin, 'https://phi-test.invalid');
  // --allow-phi-endpoint for one command works the same (id at origin); another id, or the same id
  // at another origin, is still refused.
  fake.reset();
  const allow = cliApprovalChecker(
    [{ endpointId: 'cloud', origin: 'https://phi-test.invalid' }],
    new FileApprovals(path.join(approvalsDir, 'none.json')),
  );
  assert.equal(await allow(out0()), true);
  assert.equal(await allow({ ...out0(), endpointId: 'other' }), false);
  assert.equal(await allow({ ...out0(), origin: 'https://elsewhere.invalid' }), false);
});

test('baseline: no key, no network, a labelled extractive answer, saved like any run', async () => {
  fake.reset();
  const p = await prepare({ model: 'baseline' });
  const deltas: string[] = [];
  const out = await executeRun(p, { countTokens, approval: never, onText: (d) => deltas.push(d) });
  assert.equal(out.status, 'complete');
  assert.equal(fake.requests.length, 0);
  const run = savedRun(out.file!);
  assert.ok(run.response.startsWith(BASELINE_LABEL));
  assert.equal(deltas.join(''), run.response);
  assert.ok(deltas.length > 1, 'delivered in pieces');
  assert.deepEqual(run.endpoint, { id: 'baseline', kind: 'baseline', model: 'baseline' });
  assert.ok(run.baseline && run.baseline.passages > 0);
  assert.equal(run.tokens.completionSource, 'counted');
});

test('strategy none that does not fit: a pack error, nothing sent', async () => {
  fake.reset();
  const r = await preparer.prepare({ file: file(), strategy: 'none', context: 2048 });
  assert.ok(r.ok);
  const out = await executeRun(r.run, opts());
  assert.equal(out.status, 'error');
  assert.equal(out.error?.kind, 'pack');
  assert.equal(fake.requests.length, 0);
});

test('prepare: overrides, context labels, a missing record or an unknown model are clear errors', async () => {
  const p = await prepare({ model: 'local', context: '2k', strategy: 'bm25' });
  assert.equal(p.settings.context, 2048);
  assert.equal(p.settings.contextLabel, '2k');
  assert.equal(p.settings.strategy, 'bm25');
  assert.ok(p.pack.budget.prompt <= 2048 - 128);
  assert.equal(parseRecord(p.pack.ehr).ok, true);
  const unknown = await preparer.prepare({ file: file(), model: 'nope' });
  assert.ok(!unknown.ok);
  assert.match(unknown.error.message, /neither 'baseline' nor an endpoint/);
  writeFileSync(
    path.join(root, 'instructions/orphan.medalign'),
    validInstruction(2000).replace('patient: 1234555', 'patient: 999'),
  );
  const orphan = await preparer.prepare({ file: path.join(root, 'instructions/orphan.medalign') });
  assert.ok(!orphan.ok);
  assert.match(orphan.error.message, /records\/999\.xml does not exist/);
  rmSync(path.join(root, 'instructions/orphan.medalign'));
  // The same inputs give the same key; another context another key.
  const a = await preparer.plan({ file: file(), context: '4k' });
  const b = await preparer.plan({ file: file(), context: '4k' });
  const c = await preparer.plan({ file: file(), context: '8k' });
  assert.ok(a.ok && b.ok && c.ok);
  assert.equal(a.plan.key, b.plan.key);
  assert.notEqual(a.plan.key, c.plan.key);
  // A changed medalign.config.json is read again (the editor keeps one preparer for a session).
  const configFile = path.join(root, 'medalign.config.json');
  const original = readFileSync(configFile, 'utf8');
  try {
    writeFileSync(configFile, original.replace('"generationReserve":128', '"generationReserve":1024'));
    const d = await preparer.plan({ file: file(), context: '4k' });
    assert.ok(d.ok);
    assert.equal(d.plan.settings.reserve, 1024);
    assert.notEqual(d.plan.key, a.plan.key);
  } finally {
    writeFileSync(configFile, original);
  }
  const e = await preparer.plan({ file: file(), context: '4k' });
  assert.ok(e.ok);
  assert.equal(e.plan.settings.reserve, 128);
});

test('runMany: a matrix at concurrency 3 really overlaps; resume skips what is done; results in job order', async () => {
  fake.reset();
  fake.options.latencyMs = 150;
  try {
    const jobs: RunJob[] = [];
    for (const i of [2, 3, 4])
      for (const context of ['2k', '4k']) jobs.push({ file: file(i), model: 'local', context });
    jobs.push({ file: file(5), model: 'baseline' });
    let maxRunning = 0;
    const progress: number[] = [];
    const results = await runMany(jobs, {
      countTokens,
      preparer,
      concurrency: 3,
      approval: never,
      apiKeyFor: () => KEY,
      onProgress: (p) => {
        progress.push(p.done);
        maxRunning = Math.max(maxRunning, p.running + 1);
      },
    });
    assert.deepEqual(
      results.map((r) => r.status),
      Array(7).fill('complete'),
    );
    assert.deepEqual(
      results.map((r) => r.job),
      jobs,
    );
    assert.deepEqual(progress, [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(fake.chatRequests.length, 6);
    // How much the runs overlap is timed in the bench (npm run bench: "runMany: 6 x 150 ms requests at
    // concurrency 3", against the sequential time and the ideal floor).
    assert.ok(maxRunning <= 3);

    fake.reset();
    const again = await runMany(jobs, {
      countTokens,
      preparer,
      concurrency: 3,
      resume: true,
      approval: never,
      apiKeyFor: () => KEY,
    });
    assert.deepEqual(
      again.map((r) => r.status),
      Array(7).fill('skipped'),
    );
    assert.deepEqual(
      again.map((r) => r.file),
      results.map((r) => r.file),
    );
    assert.equal(fake.requests.length, 0);

    // A changed instruction file is a new job: resume runs it again.
    writeFileSync(file(2), validInstruction(1002, 'author: someone\n').replace('model: baseline\n', ''));
    const changed = await runMany(jobs.slice(0, 2), {
      countTokens,
      preparer,
      resume: true,
      approval: never,
      apiKeyFor: () => KEY,
    });
    assert.deepEqual(
      changed.map((r) => r.status),
      ['complete', 'complete'],
    );
  } finally {
    fake.options.latencyMs = 0;
  }
});

test('runMany: cancel saves runs in flight as partial and does not start the rest; one approval question per endpoint', async () => {
  fake.reset();
  fake.options.chunkDelayMs = 30;
  try {
    const ac = new AbortController();
    const jobs: RunJob[] = [1, 2, 3, 4, 5, 6].map((i) => ({ file: file(i), model: 'local' }));
    const results = await runMany(jobs, {
      countTokens,
      preparer,
      concurrency: 2,
      approval: never,
      apiKeyFor: () => KEY,
      signal: ac.signal,
      onText: () => ac.abort(),
    });
    assert.deepEqual(
      results.map((r) => r.status),
      Array(6).fill('cancelled'),
    );
    const saved = results.filter((r) => r.file !== undefined);
    assert.equal(saved.length, 2, 'the two in flight were saved');
    for (const r of saved) assert.equal(savedRun(r.file!).partial, true);
    assert.ok(fake.chatRequests.length <= 2);
  } finally {
    fake.options.chunkDelayMs = 0;
  }
  fake.reset();
  let asked = 0;
  const refused = await runMany(
    [1, 2, 3].map((i) => ({ file: file(i), model: 'cloud' })),
    { countTokens, preparer, concurrency: 3, approval: () => (asked++, false), apiKeyFor: () => KEY },
  );
  assert.deepEqual(
    refused.map((r) => r.status),
    ['refused', 'refused', 'refused'],
  );
  assert.deepEqual(refused[0].approval, out0());
  assert.equal(asked, 1);
  assert.equal(fake.requests.length, 0);
});

test('the store: atomic files only (no temporaries left), delete stays inside the runs folder', async () => {
  const store = new RunStore(root);
  const all = await store.list();
  assert.ok(all.length > 10);
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)],
    );
  const files = walk(store.runsDir);
  assert.ok(
    files.every((f) => f.endsWith('.json') && !path.basename(f).startsWith('.')),
    files.join('\n'),
  );
  assert.equal(await store.delete(path.join(root, 'medalign.config.json')), false);
  assert.ok(existsSync(path.join(root, 'medalign.config.json')));
  assert.equal(await store.delete(all[0].file), true);
  assert.equal(existsSync(all[0].file), false);
  assert.equal((statSync(all[1].file).mode & 0o077) === 0, true, 'run files are private to the user');
});

test('after all of it, no file in the workspace and nothing captured contains the key', () => {
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)],
    );
  const files = [...walk(root), ...walk(approvalsDir)];
  assert.ok(files.length > 20);
  for (const f of files) assert.equal(readFileSync(f, 'utf8').includes(KEY), false, f);
  assert.ok(captured.length > 0);
  for (const c of captured) assert.equal(c.includes(KEY), false, c);
});
