/**
 * The response panel's view of a `strategy: refine` run, from a real run in-process (a workspace on
 * disk, the local fake OpenAI server over HTTP): the column state the run's events build while it
 * streams (the same functions runJobs calls), and the column a saved run gives (refineOfRun) after a
 * cancel within a step and after Resume.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { FakeOpenAI, chunkText } from '../helpers/fakeOpenAI';
import { makeRefineProject, prepareRefine } from '../helpers/refineProject';
import { RunPreparer } from '../../engine/src/host/prepare';
import type { PreparedRun } from '../../engine/src/host/prepare';
import type { ExecuteOptions } from '../../engine/src/run/runner';
import { executeRun } from '../../engine/src/run/runner';
import { parseRunRecord } from '../../engine/src/core/run/runRecord';
import { countTokens } from '../../engine/src/host/countTokens';
import type { PanelRefine } from '../../client/src/run/panelMessages';
import {
  refineLine,
  refineOfRun,
  refinePlanned,
  refineStepStarted,
  refineStoppedMessage,
  refineStreaming,
} from '../../client/src/run/refineColumn';

let fake: FakeOpenAI;
let root: string;
const preparer = new RunPreparer();

before(async () => {
  fake = await FakeOpenAI.start();
  root = makeRefineProject(fake, {
    prefix: 'medalign-refine-panel-',
    maxSteps: 4,
    recordSeed: 6,
    instructionSeed: 4343,
  });
});

after(async () => {
  await fake.close();
  rmSync(root, { recursive: true, force: true });
});

function prepare(): Promise<PreparedRun> {
  return prepareRefine(preparer, root);
}

/** A column as runJobs keeps it: the text streams, `refine` follows the run's step events. */
interface Column {
  text: string;
  refine: PanelRefine;
  lines: string[];
}

function follow(p: PreparedRun, column: Column, o: Partial<ExecuteOptions> = {}): ExecuteOptions {
  column.refine = refinePlanned(p.pack.refine!.steps.length);
  column.lines.push(column.refine.line);
  return {
    approval: () => false,
    countTokens,
    retry: { baseDelayMs: 10, maxAttempts: 1 },
    timeouts: { headersMs: 3000, idleMs: 3000 },
    ...o,
    onEvent: (e) => {
      if (e.type === 'step') {
        column.refine = refineStepStarted(column.refine, column.text, e.step, e.of);
        column.text = '';
        column.lines.push(column.refine.line);
      }
      o.onEvent?.(e);
    },
    onText: (d, t) => {
      column.text = t;
      column.refine = refineStreaming(column.refine);
      if (column.lines.at(-1) !== column.refine.line) column.lines.push(column.refine.line);
      o.onText?.(d, t);
    },
  };
}

test('panel: a refine run cancelled within step 3 keeps steps 1–2 above the partial answer; Resume goes on from step 3', async () => {
  fake.reset();
  const long = 'alpha beta gamma delta epsilon zeta eta theta iota kappa';
  fake.script({ kind: 'ok' }, { kind: 'ok' }, { kind: 'ok', chunks: chunkText(long, 4), chunkDelayMs: 30 });
  const p = await prepare();
  assert.equal(p.pack.refine!.steps.length, 4);
  const ac = new AbortController();
  const column: Column = { text: '', refine: refinePlanned(0), lines: [] };
  let chunks = 0;
  const out = await executeRun(
    p,
    follow(p, column, {
      signal: ac.signal,
      onText: () => {
        if (column.refine.current === 3 && ++chunks === 2) ac.abort();
      },
    }),
  );
  assert.equal(out.status, 'cancelled');
  const run = parseRunRecord(readFileSync(out.file!, 'utf8'))!;
  // While it streamed: planned, then each step sending and streaming, in order.
  assert.deepEqual(column.lines, [
    'Refine · 4 steps planned',
    'Step 1 of 4 · sending…',
    'Step 1 of 4 · streaming…',
    'Step 2 of 4 · sending…',
    'Step 2 of 4 · streaming…',
    'Step 3 of 4 · sending…',
    'Step 3 of 4 · streaming…',
  ]);
  // The finished steps the panel collected are the run record's answers; the text is step 3's part.
  assert.deepEqual(
    column.refine.earlier.map((s) => [s.step, s.text]),
    run.refine!.steps.slice(0, 2).map((s) => [s.step, s.response]),
  );
  assert.equal(column.text, run.response);
  assert.ok(long.startsWith(run.response) && run.response.length < long.length);

  // The saved run, as the panel shows it (Show last run, or the end of the run).
  const saved = refineOfRun(run)!;
  assert.deepEqual(
    saved.earlier.map((s) => [s.step, s.status, s.text]),
    run.refine!.steps.slice(0, 2).map((s) => [s.step, 'complete', s.response]),
  );
  assert.ok(saved.earlier.every((s) => /^prompt [\d,]+ tokens · answer [\d,]+$/.test(s.meta)));
  assert.equal(saved.current, 3);
  assert.equal(saved.line, 'Answer of step 3 of 4 as far as it came (cancelled) · not the final answer');
  assert.equal(saved.resumeFrom, 3);
  assert.equal(
    refineStoppedMessage(run),
    'Cancelled in step 3 of 4: steps 1–2 finished and are kept in the run file. Resume from step 3 sends only the steps after them.',
  );

  // Resume (the panel's button runs with resume): steps 3 and 4 only.
  fake.reset();
  const column2: Column = { text: '', refine: refinePlanned(0), lines: [] };
  const p2 = await prepare();
  const resumed = await executeRun(p2, follow(p2, column2, { resume: true }));
  assert.equal(resumed.status, 'complete', JSON.stringify(resumed.error));
  assert.equal(fake.chatRequests.length, 2);
  const done = parseRunRecord(readFileSync(resumed.file!, 'utf8'))!;
  const view = refineOfRun(done)!;
  assert.deepEqual(
    view.earlier.map((s) => [s.step, s.resumed === true]),
    [
      [1, true],
      [2, true],
      [3, false],
    ],
  );
  assert.equal(view.current, 4);
  assert.equal(view.line, 'Final answer · step 4 of 4');
  assert.equal(view.resumeFrom, undefined);
  assert.equal(refineStoppedMessage(done), undefined);
  assert.equal(column2.text, done.response, 'the final answer is the answer');
});

test('panel: a refine run cancelled between steps shows the last finished answer, not as the final one', async () => {
  fake.reset();
  const ac = new AbortController();
  const p = await prepare();
  const column: Column = { text: '', refine: refinePlanned(0), lines: [] };
  const out = await executeRun(
    p,
    follow(p, column, {
      signal: ac.signal,
      onEvent: (e) => {
        if (e.type === 'step' && e.step === 3) ac.abort();
      },
    }),
  );
  assert.equal(out.status, 'cancelled');
  const run = parseRunRecord(readFileSync(out.file!, 'utf8'))!;
  const saved = refineOfRun(run)!;
  assert.equal(saved.current, 2);
  assert.equal(saved.line, 'Answer of step 2 of 4, the last finished · not the final answer');
  assert.equal(saved.resumeFrom, 3);
  assert.match(refineStoppedMessage(run)!, /^Cancelled before step 3 of 4: steps 1–2 finished/);
  assert.equal(refineLine(4, 4, 'complete'), 'Final answer · step 4 of 4');
});
