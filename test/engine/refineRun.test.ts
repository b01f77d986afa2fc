/**
 * `strategy: refine` run end to end in-process: a workspace on disk, the local fake OpenAI server
 * over real HTTP. Every step is sent in order with the previous answer, streamed, kept in the run
 * record (prompt hash, answer, usage); cancel within a step and between steps; a failed run resumed
 * from its last finished step; a server's context-length error mapped to the typed error.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { FakeOpenAI, chunkText } from '../helpers/fakeOpenAI';
import { makeRefineProject, prepareRefine } from '../helpers/refineProject';
import { RunPreparer } from '../../engine/src/host/prepare';
import type { PreparedRun } from '../../engine/src/host/prepare';
import type { ExecuteOptions, RunEvent } from '../../engine/src/run/runner';
import { executeRun } from '../../engine/src/run/runner';
import { parseRunRecord, promptHash } from '../../engine/src/core/run/runRecord';
import type { RefineStepRecord } from '../../engine/src/core/run/runRecord';
import type { ChatMessage } from '../../engine/src/core/template/template';
import { countTokens } from '../../engine/src/host/countTokens';

let fake: FakeOpenAI;
let root: string;
const preparer = new RunPreparer();

before(async () => {
  fake = await FakeOpenAI.start();
  root = makeRefineProject(fake, {
    prefix: 'medalign-refine-',
    maxSteps: 6,
    recordSeed: 5,
    instructionSeed: 4242,
  });
});

after(async () => {
  await fake.close();
  rmSync(root, { recursive: true, force: true });
});

function prepare(): Promise<PreparedRun> {
  return prepareRefine(preparer, root);
}

function opts(events: RunEvent[], over: Partial<ExecuteOptions> = {}): ExecuteOptions {
  return {
    approval: () => false,
    countTokens,
    retry: { baseDelayMs: 10, maxAttempts: 1 },
    timeouts: { headersMs: 3000, idleMs: 3000 },
    onEvent: (e) => events.push(e),
    ...over,
  };
}

const sentMessages = (n: number) => (fake.chatRequests[n].body as { messages: ChatMessage[] }).messages;

test('refine: every step sent in order with the previous answer; the record keeps each step', async () => {
  fake.reset();
  const p = await prepare();
  const steps = p.pack.refine!.steps;
  assert.equal(steps.length, 6, 'the step limit of the config');
  const events: RunEvent[] = [];
  const streamed: string[] = [];
  const out = await executeRun(p, opts(events, { onText: (d) => streamed.push(d) }));
  assert.equal(out.status, 'complete', JSON.stringify(out.error));
  assert.equal(fake.chatRequests.length, 6);
  assert.deepEqual(
    events.filter((e) => e.type === 'step').map((e) => (e.type === 'step' ? `${e.step}/${e.of}` : '')),
    ['1/6', '2/6', '3/6', '4/6', '5/6', '6/6'],
  );
  const run = parseRunRecord(readFileSync(out.file!, 'utf8'))!;
  assert.equal(run.strategy, 'refine');
  assert.equal(run.refine?.planned, 6);
  assert.equal(run.refine?.steps.length, 6);
  for (let k = 0; k < 6; k++) {
    const sent = sentMessages(k);
    const rec: RefineStepRecord = run.refine.steps[k];
    assert.equal(rec.step, k + 1);
    assert.equal(rec.status, 'complete');
    assert.equal(rec.promptHash, promptHash(sent), `step ${k + 1}: the hash of what was sent`);
    assert.match(rec.response, new RegExp(`^Answer ${k + 1}:`));
    assert.ok(rec.tokens.completion > 0 && rec.tokens.prompt > 0);
    // The chunk as planned, and the previous answer in the refine prompt.
    const text = sent.map((m) => m.content).join('\n');
    const ehr = steps[k].messages.map((m) => m.content).join('\n');
    assert.ok(text.startsWith(ehr.slice(0, 200)));
    if (k > 0) assert.ok(text.includes(`Existing answer: ${run.refine.steps[k - 1].response}`));
    else assert.ok(!text.includes('Existing answer:'));
  }
  assert.equal(run.response, run.refine.steps[5].response, 'the final answer is the last step');
  assert.ok(
    streamed.join('').includes('Answer 1:') && streamed.join('').includes('Answer 6:'),
    'every step streams',
  );
});

test('refine: cancel within a step keeps the finished steps and what arrived; nothing more is sent', async () => {
  fake.reset();
  fake.script(
    { kind: 'ok' },
    {
      kind: 'ok',
      chunks: chunkText('one two three four five six seven eight nine ten', 4),
      chunkDelayMs: 30,
    },
  );
  const ac = new AbortController();
  let step = 0;
  let n = 0;
  const events: RunEvent[] = [];
  const out = await executeRun(
    await prepare(),
    opts(events, {
      signal: ac.signal,
      onEvent: (e) => {
        if (e.type === 'step') step = e.step;
      },
      onText: () => {
        if (step === 2 && ++n === 2) ac.abort();
      },
    }),
  );
  assert.equal(out.status, 'cancelled');
  assert.equal(fake.chatRequests.length, 2);
  const run = parseRunRecord(readFileSync(out.file!, 'utf8'))!;
  assert.deepEqual(
    run.refine!.steps.map((s) => s.status),
    ['complete', 'cancelled'],
  );
  assert.ok('one two three four five six seven eight nine ten'.startsWith(run.response));
  assert.equal(run.partial, true);
});

test('refine: cancel between steps sends nothing more; the last finished answer is kept', async () => {
  fake.reset();
  const ac = new AbortController();
  const out = await executeRun(
    await prepare(),
    opts([], {
      signal: ac.signal,
      // Cancelled as step 4 is about to be sent.
      onEvent: (e) => {
        if (e.type === 'step' && e.step === 4) ac.abort();
      },
    }),
  );
  assert.equal(out.status, 'cancelled');
  assert.equal(fake.chatRequests.length, 3);
  const run = parseRunRecord(readFileSync(out.file!, 'utf8'))!;
  assert.deepEqual(
    run.refine!.steps.map((s) => s.status),
    ['complete', 'complete', 'complete'],
  );
  assert.equal(run.error?.kind, 'cancelled');
  assert.equal(run.response, run.refine!.steps[2].response);
});

test('refine: a failed run is resumed from its last finished step; finished steps are not sent again', async () => {
  fake.reset();
  fake.script({ kind: 'ok' }, { kind: 'ok' }, { kind: 'ok' }, { kind: 'server-error' });
  const failed = await executeRun(await prepare(), opts([]));
  assert.equal(failed.status, 'error');
  assert.equal(fake.chatRequests.length, 4);
  const first = parseRunRecord(readFileSync(failed.file!, 'utf8'))!;
  assert.deepEqual(
    first.refine!.steps.map((s) => s.status),
    ['complete', 'complete', 'complete', 'error'],
  );
  fake.reset();
  const events: RunEvent[] = [];
  const resumed = await executeRun(await prepare(), opts(events, { resume: true }));
  assert.equal(resumed.status, 'complete', JSON.stringify(resumed.error));
  assert.equal(fake.chatRequests.length, 3, 'steps 4 to 6 only');
  const run = parseRunRecord(readFileSync(resumed.file!, 'utf8'))!;
  assert.equal(run.refine!.resumedFrom, first.id);
  assert.deepEqual(
    run.refine!.steps.map((s) => [s.step, s.resumed === true]),
    [
      [1, true],
      [2, true],
      [3, true],
      [4, false],
      [5, false],
      [6, false],
    ],
  );
  // Step 4 was sent with step 3's stored answer.
  assert.ok(
    sentMessages(0).some((m) => m.content.includes(`Existing answer: ${first.refine!.steps[2].response}`)),
  );
  assert.ok(events.some((e) => e.type === 'notice' && /Resuming 4242 from step 4 of 6/.test(e.message)));
});

test("refine: a server's context-length error in a step is the typed context-overflow error", async () => {
  fake.reset();
  fake.script({ kind: 'ok' }, { kind: 'context-length', limit: 2048 });
  const out = await executeRun(await prepare(), opts([]));
  assert.equal(out.status, 'error');
  assert.equal(out.error?.kind, 'context-overflow');
  const run = parseRunRecord(readFileSync(out.file!, 'utf8'))!;
  assert.equal(run.refine!.steps[1].status, 'error');
  assert.equal(fake.chatRequests.length, 2);
});
