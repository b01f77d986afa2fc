/**
 * `strategy: refine` through the CLI as a process (dist/cli.js) against the local fake OpenAI server:
 * `pack --json` prints the steps in send order; `run` killed mid-way (SIGKILL) keeps its finished
 * steps and `run --resume` continues from the last one; Ctrl-C cancels; `batch export` says refine
 * needs live runs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { FakeOpenAI } from '../helpers/fakeOpenAI';
import { makeProjectDir, validInstruction } from '../helpers/fixtures';
import { CLI, runCliProcess } from '../helpers/cliProcess';
import { generateRecord } from '../fixtures/recordGenerator';
import { parseRunRecord } from '../../engine/src/core/run/runRecord';
import type { RunRecord } from '../../engine/src/core/run/runRecord';
import { getTokenizer } from '../../engine/src/core/tokens/encodings';

let fake: FakeOpenAI;
let dir: string;
const REL = 'instructions/r.medalign';

before(async () => {
  fake = await FakeOpenAI.start({ chunkDelayMs: 15 });
  dir = makeProjectDir('refinecli', {
    'medalign.config.json': JSON.stringify({
      recordsFolder: 'records',
      defaults: { model: 'local', context: '32k', strategy: 'recent', template: 'templates/medalign.prompt' },
      endpoints: [
        {
          id: 'local',
          kind: 'openai-compatible',
          baseUrl: fake.baseUrl,
          model: 'fake',
          contextWindow: 32768,
        },
      ],
    }),
    'records/1234555.xml': generateRecord({ seed: 9, targetChars: 150_000 }),
    [REL]: validInstruction(5151)
      .replace(/model: baseline\n|context: 32k\n|strategy: recent\n/g, '')
      .replace('tags:', 'strategy: refine\ncontext: 8k\nrefine: { maxSteps: 5 }\ntags:'),
  });
});

after(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

function runs(): RunRecord[] {
  const d = path.join(dir, '.medalign/runs/5151');
  return readdirSync(d)
    .sort()
    .map((n) => parseRunRecord(readFileSync(path.join(d, n), 'utf8'))!);
}

/** `medalign run` as a process; `until(stderr)` true → the signal is sent. */
function runUntil(
  args: string[],
  until: (stderr: string) => boolean,
  signal: NodeJS.Signals,
): Promise<{ status: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'run', REL, '--trust', ...args], { cwd: dir });
    let stderr = '';
    let stdout = '';
    let sent = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (!sent && until(stderr)) {
        sent = true;
        child.kill(signal);
      }
    });
    child.on('close', (status) => resolve({ status, stderr, stdout }));
  });
}

test('CLI: pack --strategy refine --context 8k --json prints the steps in the order they are sent', async () => {
  const r = await runCliProcess(dir, ['pack', REL, '--strategy', 'refine', '--context', '8k', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    strategy: string;
    order: string;
    tokens: { limit: number };
    steps: {
      step: number;
      prompt: { role: string; content: string }[];
      tokens: number;
      answerReserve: number;
      from: string;
      to: string;
    }[];
    warnings: string[];
  };
  assert.equal(out.strategy, 'refine');
  assert.equal(out.order, 'oldest-first');
  assert.equal(out.steps.length, 5);
  assert.match(out.warnings.join('\n'), /the step limit is 5: the oldest \d+ chunks are not sent/);
  const tok = getTokenizer('cl100k_base');
  out.steps.forEach((s, k) => {
    assert.equal(s.step, k + 1);
    assert.equal(s.prompt[0].role, 'user');
    assert.ok(s.prompt[0].content.includes('<record'));
    // The previous answer's place is shown, and its room counted against the limit.
    assert.equal(s.prompt[0].content.includes('{{answer}}'), k > 0);
    // As the API counts a chat (the endpoint's model is unknown: OpenAI's rule): 3 tokens per message
    // plus its role, and 3 to prime the reply.
    const counted =
      s.prompt.reduce(
        (n, m) => n + 3 + tok.count(m.role) + tok.count(m.content.replace('{{answer}}', '')),
        0,
      ) + 3;
    assert.equal(counted, s.tokens);
    assert.ok(s.tokens + s.answerReserve <= out.tokens.limit);
    if (k > 0) assert.ok(s.from >= out.steps[k - 1].to, 'oldest first');
  });
});

test('CLI: a refine run killed mid-way keeps its finished steps; --resume continues from the last one', async () => {
  fake.reset();
  const killed = await runUntil([], (e) => e.includes('refine step 3 of 5'), 'SIGKILL');
  assert.ok(killed.stderr.includes('refine step 2 of 5'));
  const sentBefore = fake.chatRequests.length;
  assert.ok(sentBefore >= 2 && sentBefore <= 3, `${sentBefore} requests`);
  const [interrupted] = runs();
  assert.equal(interrupted.status, 'error');
  assert.match(
    interrupted.error!.message,
    /stopped after step 2 of 5 before it finished: run it again with resume to continue from step 3/,
  );
  assert.equal(interrupted.refine!.steps.length, 2);

  fake.reset();
  const resumed = await runCliProcess(dir, ['run', REL, '--resume']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.equal(fake.chatRequests.length, 3, 'steps 3 to 5 only');
  assert.match(resumed.stderr, /Resuming 5151 from step 3 of 5/);
  const last = runs().at(-1)!;
  assert.equal(last.status, 'complete');
  assert.equal(last.refine!.resumedFrom, interrupted.id);
  assert.deepEqual(
    last.refine!.steps.map((s) => s.resumed === true),
    [true, true, false, false, false],
  );
  assert.equal(resumed.stdout.trim(), last.response.trim(), 'the final answer on stdout');

  // Complete now: --resume runs nothing.
  fake.reset();
  const again = await runCliProcess(dir, ['run', REL, '--resume']);
  assert.equal(again.status, 0);
  assert.equal(fake.chatRequests.length, 0);
});

test('CLI: Ctrl-C during a refine run cancels it and keeps the finished steps', async () => {
  fake.reset();
  const r = await runUntil([], (e) => e.includes('refine step 2 of 5'), 'SIGINT');
  assert.notEqual(r.status, 0);
  const last = runs().at(-1)!;
  assert.equal(last.status, 'cancelled');
  assert.ok(last.refine!.steps.length >= 1 && last.refine!.steps[0].status === 'complete');
  assert.ok(fake.chatRequests.length <= 2);
});

test('CLI: batch export of a refine instruction says refine needs live runs', async () => {
  const r = await runCliProcess(dir, ['batch', 'export', REL, '--out', path.join(dir, 'b.jsonl')]);
  assert.notEqual(r.status, 0);
  assert.match(
    r.stderr,
    /instructions\/r\.medalign: strategy refine sends 5 steps one after the other, each with the previous step's answer: the steps are not independent requests, so refine needs live runs \(medalign run\), not a batch\./,
  );
});
