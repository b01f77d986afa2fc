/**
 * Failing fast over real HTTP on 127.0.0.1: a local server that refuses the connection (a closed
 * port) fails on the first attempt with a sentence and the next step, while a remote endpoint that
 * refuses keeps its retry policy. Attempts are counted (audit lines and the run record), not timed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { closedPort, urlOf } from '../helpers/fakeOpenAI';
import { TEMPLATE, publicSampleXml, validInstruction } from '../helpers/fixtures';
import { RunPreparer } from '../../engine/src/host/prepare';
import { executeRun } from '../../engine/src/run/runner';
import type { RunEvent } from '../../engine/src/run/runner';
import { FileApprovals, cliApprovalChecker } from '../../engine/src/run/approvals';
import { readAudit } from '../../engine/src/run/audit';
import { runErrorActions } from '../../engine/src/core/run/errors';
import { countTokens } from '../../engine/src/host/countTokens';

let root: string;
let port: number;
const preparer = new RunPreparer();

before(async () => {
  port = await closedPort();
  root = mkdtempSync(path.join(os.tmpdir(), 'medalign-failfast-'));
  for (const d of ['records', 'templates', 'instructions'])
    mkdirSync(path.join(root, d), { recursive: true });
  writeFileSync(
    path.join(root, 'medalign.config.json'),
    JSON.stringify({
      recordsFolder: 'records',
      defaults: {
        model: 'local',
        context: '8k',
        template: 'templates/medalign.prompt',
        generationReserve: 64,
      },
      endpoints: [
        { id: 'local', kind: 'openai-compatible', baseUrl: `http://127.0.0.1:${port}/v1`, model: 'm' },
        { id: 'cloud', kind: 'openai', baseUrl: 'https://phi-test.invalid/v1', model: 'gpt-4o' },
      ],
    }),
  );
  writeFileSync(path.join(root, 'records/1234555.xml'), publicSampleXml);
  writeFileSync(path.join(root, 'templates/medalign.prompt'), TEMPLATE);
  writeFileSync(
    path.join(root, 'instructions/a.medalign'),
    validInstruction(4242).replace('model: baseline\n', ''),
  );
});
after(() => rmSync(root, { recursive: true, force: true }));

async function prepare(model: string) {
  const r = await preparer.prepare({ file: path.join(root, 'instructions/a.medalign'), model });
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  return r.run;
}

test('a refused connection to a server on 127.0.0.1 fails on the first attempt, with the next step', async () => {
  const events: RunEvent[] = [];
  const out = await executeRun(await prepare('local'), {
    approval: () => false,
    countTokens,
    // The default policy (4 attempts, 1 s backoff): fail-fast must not depend on a test setting.
    onEvent: (e) => events.push(e),
  });
  assert.equal(out.status, 'error');
  assert.equal(out.error?.kind, 'network');
  assert.equal(out.error?.code, 'ECONNREFUSED');
  const host = `127.0.0.1:${port}`;
  assert.equal(
    out.error?.message,
    `Nothing is listening at ${host}: 'local' refused the connection. Start your server at ${host}, or choose another model.`,
  );
  // The raw cause is kept for the log, not shown as the message.
  assert.match(out.error?.detail ?? '', /ECONNREFUSED/);
  assert.doesNotMatch(out.error?.message ?? '', /fetch failed|Connection error/);
  assert.deepEqual(runErrorActions(out.error), ['retry', 'choose-model', 'open-config']);
  // One attempt: no retry event, one audit line, one attempt in the saved run.
  assert.equal(events.filter((e) => e.type === 'retrying').length, 0);
  assert.equal(events.filter((e) => e.type === 'sending').length, 1);
  assert.equal(out.run?.timings.attempts, 1);
  assert.equal(out.run?.timings.retryWaitMs, 0);
  assert.equal((await readAudit(root)).filter((a) => a.endpoint === 'local').length, 1);
});

test('a remote endpoint that refuses the connection keeps its retry policy', async () => {
  const approvals = new FileApprovals(path.join(root, 'none.json'));
  const seen: string[] = [];
  // The approved remote endpoint's transport goes to the closed local port (nothing leaves 127.0.0.1).
  const toClosed = (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(urlOf(input));
    seen.push(url.origin);
    return fetch(`http://127.0.0.1:${port}${url.pathname}`, init);
  };
  const out = await executeRun(await prepare('cloud'), {
    apiKey: 'sk-failfast-test',
    approval: cliApprovalChecker([{ endpointId: 'cloud', origin: 'https://phi-test.invalid' }], approvals),
    countTokens,
    fetch: toClosed,
    retry: { baseDelayMs: 1, maxAttempts: 3 },
  });
  assert.equal(out.status, 'error');
  assert.equal(out.error?.kind, 'network');
  assert.equal(out.run?.timings.attempts, 3);
  assert.deepEqual(seen, Array(3).fill('https://phi-test.invalid'));
  assert.match(
    out.error?.message ?? '',
    /^phi-test\.invalid refused the connection to 'cloud'\. Check the endpoint's baseUrl/,
  );
});
