/**
 * Issue 7: a hostile workspace (a dataset repository someone else wrote) must not make `medalign run`
 * send a record anywhere the user did not approve. Each test is the attack as the attacker would
 * stage it: a workspace on disk (a copy of samples/ with the attacker's medalign.config.json), the real
 * CLI as a process (dist/cli.js), the local fake OpenAI server on 127.0.0.1 (or ::1).
 *
 * Hermetic: the CLI runs with test/helpers/dnsSpy.js preloaded, which answers every DNS lookup with
 * 127.0.0.1 (never asking a real resolver) and logs the names asked. It plays the attacker's
 * resolver: a name the guard wrongly trusts reaches the fake server, where the requests are counted.
 * `0.0.0.0` (which Linux connects locally) stands in for an attacker's host; `.invalid` names are
 * never connected to.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { FakeOpenAI } from '../helpers/fakeOpenAI';
import { repoRoot, withoutRuns } from '../helpers/fixtures';
import dns from 'node:dns';
import { parseRunRecord } from '../../engine/src/core/run/runRecord';
import { localhostFetch, localhostLookup } from '../../engine/src/run/localhostFetch';
import { ModelCallError, callChat } from '../../engine/src/run/modelClient';
import { endpointTarget } from '../../engine/src/core/run/guard';
import type { EndpointConfig } from '../../engine/src/core/workspace/config';
import type { LookupAddress } from 'node:dns';
import { TempDirs, runCliProcess } from '../helpers/cliProcess';

const dnsSpy = path.join(repoRoot, 'out', 'test', 'helpers', 'dnsSpy.js');
const KEY = 'sk-test-HOSTILE-5e6f7a8b9c0d-not-for-files';
const ED = 'instructions/1234555-ed-antihypertensives.medalign';
let fake: FakeOpenAI;
/** A fake server on ::1, when this machine has IPv6 loopback. */
let fake6: FakeOpenAI | undefined;
let noIpv6Reason = '';
const temps = new TempDirs();

interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The names the process asked DNS for. */
  dns: string[];
}

function tempDir(prefix: string): string {
  return temps.make(prefix);
}

/** Runs the CLI with the DNS spy, which logs every name the process asks DNS for. */
async function runCli(cwd: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const dnsLog = path.join(tempDir('medalign-dns-'), 'lookups.txt');
  const r = await runCliProcess(cwd, args, {
    nodeArgs: ['--require', dnsSpy],
    drop: 'DNS_SPY_LOG|NODE_OPTIONS',
    env: {
      MEDALIGN_APPROVALS_FILE: path.join(tempDir('medalign-home-'), 'phi-approvals.json'),
      ...env,
      DNS_SPY_LOG: dnsLog,
    },
  });
  const dns = existsSync(dnsLog) ? readFileSync(dnsLog, 'utf8').split('\n').filter(Boolean) : [];
  return { ...r, dns };
}

/** The attacker's workspace: a copy of samples/ whose config has these endpoints (and the sample ones). */
function hostileWorkspace(endpoints: Record<string, unknown>[]): string {
  const dir = tempDir('medalign-hostile-');
  cpSync(path.join(repoRoot, 'samples'), dir, { recursive: true, filter: withoutRuns });
  const configFile = path.join(dir, 'medalign.config.json');
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as { endpoints: { id: string }[] };
  const ids = new Set(endpoints.map((e) => e['id']));
  config.endpoints = [...config.endpoints.filter((e) => !ids.has(e.id)), ...(endpoints as { id: string }[])];
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  return dir;
}

function runFiles(dir: string): string[] {
  const runs = path.join(dir, '.medalign', 'runs');
  if (!existsSync(runs)) return [];
  return readdirSync(runs, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => readdirSync(path.join(runs, e.name)).map((n) => path.join(runs, e.name, n)));
}

const compatible = (id: string, baseUrl: string) => ({
  id,
  kind: 'openai-compatible',
  baseUrl,
  model: 'fake-llama',
  apiKeyEnv: 'FAKE_KEY',
});

before(async () => {
  fake = await FakeOpenAI.start();
  try {
    fake6 = await FakeOpenAI.start({ host: '::1' });
  } catch (err) {
    noIpv6Reason = `this machine cannot listen on ::1 (${(err as Error).message})`;
  }
});
after(async () => {
  await fake.close();
  await fake6?.close();
  for (const d of temps.all) rmSync(d, { recursive: true, force: true });
});

test('item 2: `localhost.`, `LocalHost.` and `localhost.example.com` go to DNS, so they are not loopback: refused before any lookup or connection', async () => {
  for (const host of ['localhost.', 'LocalHost.', 'localhost.example.com']) {
    const dir = hostileWorkspace([compatible('evil', `http://${host}:${fake.port}/v1`)]);
    fake.reset();
    const r = await runCli(dir, ['run', ED, '--model', 'evil'], { FAKE_KEY: KEY });
    assert.equal(r.status, 1, `${host}: ${r.stderr}`);
    assert.match(r.stderr, /Endpoint 'evil' .* is not on this machine/, host);
    assert.match(r.stderr, /Nothing was sent/, host);
    assert.equal(fake.requests.length, 0, `${host}: the resolver's address received nothing`);
    assert.deepEqual(r.dns, [], `${host}: DNS was not even asked`);
    assert.deepEqual(runFiles(dir), [], host);
  }
});

test('item 2: `localhost` is loopback and connects to a loopback address without asking DNS; the Host header is kept', async () => {
  const dir = hostileWorkspace([compatible('local', `http://localhost:${fake.port}/v1`)]);
  fake.reset();
  fake.script({ kind: 'ok', text: 'Local answer.' });
  const r = await runCli(dir, ['run', ED, '--model', 'local'], { FAKE_KEY: KEY });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'Local answer.\n');
  assert.equal(fake.chatRequests.length, 1, 'reached the server on 127.0.0.1');
  assert.equal(fake.chatRequests[0].headers['host'], `localhost:${fake.port}`);
  assert.deepEqual(
    r.dns.filter((n) => /localhost/i.test(n)),
    [],
    'localhost was never looked up',
  );
});

test('item 2: the localhost transport answers `localhost` with loopback itself and connects to 127.0.0.1; DNS (a spy) is never asked', async () => {
  const lookup = (name: string, options: dns.LookupOptions) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: string | LookupAddress[] }>((resolve) =>
      localhostLookup(name, options, (err, address) => resolve({ err, address })),
    );
  assert.deepEqual((await lookup('localhost', { all: true })).address, [
    { address: '127.0.0.1', family: 4 },
    { address: '::1', family: 6 },
  ]);
  assert.equal((await lookup('LOCALHOST', {})).address, '127.0.0.1');
  assert.equal((await lookup('localhost', { family: 6 })).address, '::1');
  for (const name of ['localhost.', 'localhost.example.com', 'api.openai.com']) {
    assert.equal((await lookup(name, { all: true })).err?.code, 'ENOTFOUND', name);
  }

  const asked: string[] = [];
  const real = dns.lookup;
  (dns as { lookup: unknown }).lookup = (name: string) => {
    asked.push(name);
    throw new Error(`DNS must not be asked for ${name}`);
  };
  try {
    fake.reset();
    const r = await localhostFetch(`http://localhost:${fake.port}/v1/models`);
    assert.equal(r.status, 200);
    assert.deepEqual(((await r.json()) as { data: { id: string }[] }).data[0].id, 'fake-model');
    assert.equal(fake.requests.length, 1, 'reached the server listening on 127.0.0.1 only');
    assert.equal(fake.requests[0].headers['host'], `localhost:${fake.port}`);
    const posted = await localhostFetch(`http://localhost:${fake.port}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'Question: hi' }] }),
    });
    assert.match(await posted.text(), /you asked \\"hi\\"/);
    for (const url of [`http://localhost.:${fake.port}/v1/models`, `${fake.baseUrl}/models`]) {
      await assert.rejects(localhostFetch(url), /only connects to localhost/, url);
    }
    assert.equal(fake.requests.length, 2);
  } finally {
    (dns as { lookup: unknown }).lookup = real;
  }
  assert.deepEqual(asked, []);
});

test('item 2: the model client over the localhost transport streams answers, times out a stall and honours a cancel', async () => {
  const endpoint: EndpointConfig = {
    id: 'local',
    kind: 'openai-compatible',
    baseUrl: `http://localhost:${fake.port}/v1`,
    model: 'fake-llama',
  };
  const t = endpointTarget(endpoint);
  assert.ok(t.ok && t.target.loopback && t.target.hostname === 'localhost');
  const base = {
    endpoint,
    target: t.target,
    messages: [{ role: 'user' as const, content: 'Question: which drug?' }],
    maxTokens: 32,
  };
  fake.reset();
  fake.script({ kind: 'ok', chunks: ['Labetalol ', '5 mg ', 'IV.'] });
  const deltas: string[] = [];
  const ok = await callChat({ ...base, onText: (d) => deltas.push(d) });
  assert.equal(ok.text, 'Labetalol 5 mg IV.');
  assert.deepEqual(deltas, ['Labetalol ', '5 mg ', 'IV.']);
  assert.equal(fake.chatRequests[0].headers['authorization'], undefined, 'no key, no Authorization header');

  const fails = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      assert.ok(err instanceof ModelCallError, String(err));
      return err;
    }
    return assert.fail('expected the call to fail');
  };
  fake.script({ kind: 'stall', afterChunks: 2 });
  const stalled = await fails(callChat({ ...base, timeouts: { idleMs: 300 } }));
  assert.deepEqual(stalled.failure, { type: 'timeout', phase: 'idle', ms: 300 });
  assert.ok(stalled.text.length > 0, 'the partial is kept');

  fake.script({ kind: 'stall' });
  const ac = new AbortController();
  const cancelled = callChat({ ...base, signal: ac.signal });
  // Cancel once the request is in flight (bounded: a request that never arrives fails the test).
  for (let i = 0; i < 2000 && fake.chatRequests.length < 3; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(fake.chatRequests.length, 3, 'the stalled request reached the server');
  ac.abort();
  assert.deepEqual((await fails(cancelled)).failure, { type: 'cancelled' });
});

test('item 4: --allow-phi-endpoint approves an id at one origin; a workspace that re-points the id cannot ride on the flag', async () => {
  // The attacker re-points the familiar `gpt-4o` at their host (0.0.0.0 stands in for it).
  const evilOrigin = `http://0.0.0.0:${fake.port}`;
  const dir = hostileWorkspace([
    { id: 'gpt-4o', kind: 'openai', baseUrl: `${evilOrigin}/v1`, model: 'gpt-4o', apiKeyEnv: 'FAKE_KEY' },
  ]);
  const home = tempDir('medalign-home-');
  const approvals = path.join(home, 'phi-approvals.json');
  const env = { FAKE_KEY: KEY, MEDALIGN_APPROVALS_FILE: approvals };
  fake.reset();

  // The habit `--allow-phi-endpoint gpt-4o` no longer works: a usage error that prints the exact
  // id@origin to pass, taken from the config, so the user sees where records would go.
  const bare = await runCli(dir, ['run', ED, '--model', 'gpt-4o', '--allow-phi-endpoint', 'gpt-4o'], env);
  assert.equal(bare.status, 2, bare.stderr);
  assert.ok(bare.stderr.includes(`--allow-phi-endpoint gpt-4o@${evilOrigin}`), bare.stderr);
  assert.equal(fake.requests.length, 0);
  assert.deepEqual(runFiles(dir), []);

  // Approving the origin the user believes in does not approve the attacker's; the refusal names it.
  const meant = await runCli(
    dir,
    ['run', ED, '--model', 'gpt-4o', '--allow-phi-endpoint', 'gpt-4o@https://api.openai.com'],
    env,
  );
  assert.equal(meant.status, 1, meant.stderr);
  assert.ok(
    meant.stderr.includes(`not approved it for patient records (PHI) at ${evilOrigin}`),
    meant.stderr,
  );
  assert.ok(meant.stderr.includes(`--allow-phi-endpoint gpt-4o@${evilOrigin}`), meant.stderr);
  assert.equal(fake.requests.length, 0);

  // Malformed approvals are usage errors, not approvals.
  for (const bad of [
    'gpt-4o@',
    '@https://api.openai.com',
    'gpt-4o@ftp://h.example',
    'gpt-4o@https://a.example/v1',
  ]) {
    const r = await runCli(dir, ['run', ED, '--model', 'gpt-4o', '--allow-phi-endpoint', bad], env);
    assert.equal(r.status, 2, `${bad}: ${r.stderr}`);
    assert.match(r.stderr, /--allow-phi-endpoint/);
  }
  assert.equal(fake.requests.length, 0);

  // The user consciously approves that origin: it runs, and --remember-approval stores id at origin.
  const ok = await runCli(
    dir,
    ['run', ED, '--model', 'gpt-4o', '--allow-phi-endpoint', `GPT-4O@${evilOrigin}`],
    env,
  );
  assert.equal(ok.status, 1, 'ids are exact');
  const approved = await runCli(
    dir,
    ['run', ED, '--model', 'gpt-4o', '--allow-phi-endpoint', `gpt-4o@${evilOrigin}/`, '--remember-approval'],
    env,
  );
  assert.equal(approved.status, 0, approved.stderr);
  assert.equal(fake.chatRequests.length, 1);
  const saved = JSON.parse(readFileSync(approvals, 'utf8')) as {
    approvals: { endpointId: string; origin: string }[];
  };
  assert.deepEqual(
    saved.approvals.map((a) => [a.endpointId, a.origin]),
    [['gpt-4o', evilOrigin]],
  );
});

test('item 12: a redirect (301, 302, 307, 308) is reported at once as a redirect, one request, no retries, never followed', async () => {
  const dir = hostileWorkspace([compatible('local', `${fake.baseUrl}`)]);
  for (const status of [301, 302, 307, 308]) {
    fake.reset();
    fake.script({ kind: 'redirect', status, location: 'https://phi-test.invalid/steal?x=1' });
    const r = await runCli(dir, ['run', ED, '--model', 'local'], { FAKE_KEY: KEY });
    assert.equal(r.status, 1, `${status}: ${r.stderr}`);
    assert.match(
      r.stderr,
      /the server redirected; redirects are not followed for patient data/i,
      String(status),
    );
    assert.ok(r.stderr.includes(`HTTP ${status}`), r.stderr);
    assert.ok(r.stderr.includes('to https://phi-test.invalid'), r.stderr);
    assert.ok(!r.stderr.includes('steal'), 'only the origin of the Location is shown');
    assert.doesNotMatch(r.stderr, /timed out|did not answer/i);
    assert.equal(fake.requests.length, 1, `${status}: one request only`);
    assert.deepEqual(r.dns, [], 'the Location was not looked up');
  }
  const files = runFiles(dir).filter((f) => f.endsWith('.json'));
  assert.equal(files.length, 4);
  for (const f of files) {
    const run = parseRunRecord(readFileSync(f, 'utf8'));
    assert.ok(run, f);
    assert.equal(run.status, 'error');
    assert.equal(run.error?.kind, 'redirect');
    assert.equal(run.timings.attempts, 1, 'not retried');
  }
});

test('item 14: http://[::1]:PORT/v1 is loopback: the run reaches the server on ::1 without approval', async (t) => {
  if (fake6 === undefined) {
    t.skip(noIpv6Reason);
    return;
  }
  const dir = hostileWorkspace([compatible('v6', `http://[::1]:${fake6.port}/v1`)]);
  fake6.reset();
  fake6.script({ kind: 'ok', text: 'From ::1.' });
  const r = await runCli(dir, ['run', ED, '--model', 'v6'], { FAKE_KEY: KEY });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'From ::1.\n');
  assert.equal(fake6.chatRequests.length, 1);
  assert.deepEqual(r.dns, []);
});
