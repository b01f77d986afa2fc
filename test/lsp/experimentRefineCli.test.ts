/**
 * `medalign experiment` with `strategy: refine`'s settings as dimensions, as a process (dist/cli.js)
 * against the local fake OpenAI server: a refine prompt that makes the fake's last answer better
 * (the verdict must find it), a chunk order that changes nothing (it must not), `recent` compared
 * with each refine cell, nothing sent twice, and the --json / --csv / --html forms naming the
 * settings. Hermetic: the only endpoint is 127.0.0.1; the records are generated here.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { FakeOpenAI } from '../helpers/fakeOpenAI';
import type { LoggedRequest } from '../helpers/fakeOpenAI';
import { makeProjectDir } from '../helpers/fixtures';
import { runCliProcess } from '../helpers/cliProcess';
import { generateRecord } from '../fixtures/recordGenerator';

let fake: FakeOpenAI;
let dir: string;
const MARKER = 'Refine carefully, quoting the record.';
const ENV = { FAKE_KEY: 'sk-fake-refine-experiment-key' };

const QUESTIONS = Array.from({ length: 6 }, (_, i) => ({
  id: `rx-${i + 1}`,
  question: `Refine question ${i + 1}: what does the record say about finding ${i + 1}?`,
  gold: `Finding ${i + 1} was noted at visit ${i + 3}; it measured ${20 + i * 4} units and ${
    i % 2 ? 'resolved' : 'persisted'
  } over ${i + 2} months per the clinic notes and the discharge summary.`,
}));

function body(req: LoggedRequest): string {
  const b = req.body as { messages?: { content: string }[] } | undefined;
  return (b?.messages ?? []).map((m) => m.content).join('\n');
}

/** With the marker (only the better refine prompt has it) the fake answers part of the gold. */
function answer(req: LoggedRequest): string {
  const text = body(req);
  const q = QUESTIONS.find((x) => text.includes(x.question));
  if (!q || !text.includes(MARKER)) return 'The record does not say.';
  const words = q.gold.split(' ');
  return words.slice(0, Math.round(words.length * (0.5 + 0.05 * Number(q.id.slice(3))))).join(' ');
}

const refinePrompt = (extra: string) =>
  `---\nname: r\n---\n## user\n${extra}Question: {{instruction}}\n\nSo far: {{answer}}\n\nMore of the record: {{ehr}}\n\nImprove the answer:\n`;

before(async () => {
  fake = await FakeOpenAI.start({ respond: (req) => ({ kind: 'ok', text: answer(req) }) });
  const files: Record<string, string> = {
    'medalign.config.json': JSON.stringify({
      recordsFolder: 'records',
      defaults: { model: 'local', context: '8k', strategy: 'refine', refine: { maxSteps: 3 } },
      endpoints: [
        {
          id: 'local',
          kind: 'openai-compatible',
          baseUrl: fake.baseUrl,
          model: 'fake',
          contextWindow: 32768,
          apiKeyEnv: 'FAKE_KEY',
        },
      ],
    }),
    'records/1234555.xml': generateRecord({ seed: 21, targetChars: 60_000 }),
    'templates/better-refine.prompt': refinePrompt(`${MARKER}\n`),
    'experiments/refine.experiment.json': JSON.stringify({
      instructions: '../instructions',
      strategy: ['recent', 'refine'],
      refine: {
        order: ['oldest-first', 'newest-first'],
        template: ['builtin', '../templates/better-refine.prompt'],
      },
      metrics: ['rougeL'],
      resamples: 500,
      seed: 3,
    }),
  };
  for (const q of QUESTIONS) {
    files[`instructions/${q.id}.medalign`] =
      `---\nid: ${q.id}\npatient: 1234555\n---\n\n## Instruction\n${q.question}\n\n## Gold response\n${q.gold}\n`;
  }
  dir = makeProjectDir('experiment-refine', files);
});

after(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

interface JsonVerdict {
  dimensions: string[];
  cells: { label: string; values: Record<string, string>; runs: number; failed: number }[];
  comparisons: {
    dimension: string;
    a: string;
    b: string;
    fixed: Record<string, string>;
    metric: string;
    n: number;
    mean: number;
    low: number;
    high: number;
    better: string;
    sentence: string;
  }[];
}

test('medalign experiment: refine order and refine prompt as dimensions; the better prompt wins, the order changes nothing', async () => {
  const exp = 'experiments/refine.experiment.json';
  const dry = await runCliProcess(dir, ['experiment', exp, '--dry-run'], { env: ENV });
  assert.equal(dry.status, 0, dry.stderr);
  // recent once, refine × 2 orders × 2 prompts
  assert.match(dry.stdout, /6 instructions × 5 cells = 30 runs/);
  assert.match(dry.stdout, /cell 1: strategy recent\n/);
  assert.match(
    dry.stdout,
    /cell 5: strategy refine, refine\.order newest-first, refine\.template \.\.\/templates\/better-refine\.prompt\n/,
  );
  assert.equal(fake.chatRequests.length, 0);

  const r = await runCliProcess(dir, ['experiment', exp, '--json', '--trust'], { env: ENV });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /30 sent, 0 reused/);
  const sent = fake.chatRequests.length;
  // Each refine run is several steps (requests): the record does not fit one 8k step.
  assert.ok(sent > 6 + 24, `refine runs take more than one step each (${sent} requests)`);
  // Every later step of the better prompt's cells carries the marker; no step of the others does.
  const marked = fake.chatRequests.filter((q) => body(q).includes(MARKER)).length;
  assert.ok(marked > 0 && marked < sent);

  const v = JSON.parse(r.stdout) as JsonVerdict;
  assert.deepEqual(v.dimensions, ['strategy', 'refine.order', 'refine.template']);
  assert.deepEqual(
    v.cells.map((c) => [c.label, c.runs, c.failed]),
    [
      ['recent', 6, 0],
      ['refine · oldest-first · refine builtin', 6, 0],
      ['refine · oldest-first · refine ../templates/better-refine.prompt', 6, 0],
      ['refine · newest-first · refine builtin', 6, 0],
      ['refine · newest-first · refine ../templates/better-refine.prompt', 6, 0],
    ],
  );
  const find = (dimension: string, a: string, b: string, fixed: Record<string, string>) =>
    v.comparisons.filter(
      (c) =>
        c.dimension === dimension &&
        c.a === a &&
        c.b === b &&
        Object.entries(fixed).every(([k, x]) => c.fixed[k] === x),
    );

  // The refine prompt with the marker: a clear gain in both orders.
  for (const order of ['oldest-first', 'newest-first']) {
    const [better] = find('refine.template', 'builtin', '../templates/better-refine.prompt', {
      'refine.order': order,
    });
    assert.equal(better.n, 6);
    assert.equal(better.better, 'b');
    assert.ok(better.low > 0, `${better.low}`);
    assert.match(
      better.sentence,
      /^refine prompt \.\.\/templates\/better-refine\.prompt beats the built-in refine prompt on ROUGE-L F by 0\.\d{3} \[0\.\d{3}, 0\.\d{3}\] over 6 instructions$/,
    );
  }
  // The order: the fake answers the same either way, so no difference is called.
  const orders = find('refine.order', 'oldest-first', 'newest-first', {});
  assert.equal(orders.length, 2);
  for (const o of orders) {
    assert.deepEqual([o.mean, o.low, o.high, o.better], [0, 0, 0, 'unclear']);
    assert.match(
      o.sentence,
      /^on ROUGE-L F the difference is not clear \(0\.000 \[0\.000, 0\.000\] over 6 instructions\)$/,
    );
  }
  // recent against each refine cell, on the strategy.
  const strat = v.comparisons.filter((c) => c.dimension === 'strategy');
  assert.equal(strat.length, 4);
  assert.equal(
    strat.find((c) => c.fixed['refine.template'] === '../templates/better-refine.prompt')?.better,
    'b',
  );

  // Again: identical inputs, nothing sent; the same verdict.
  const again = await runCliProcess(dir, ['experiment', exp, '--json', '--trust'], { env: ENV });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /0 sent, 30 reused/);
  assert.equal(fake.chatRequests.length, sent);
  assert.deepEqual(JSON.parse(again.stdout), v);

  const text = await runCliProcess(dir, ['experiment', exp, '--trust'], { env: ENV });
  assert.equal(text.status, 0, text.stderr);
  assert.match(
    text.stdout,
    /- refine prompt \.\.\/templates\/better-refine\.prompt vs the built-in refine prompt \(strategy refine, refine order oldest-first\): Refine prompt \.\.\/templates\/better-refine\.prompt beats the built-in refine prompt on ROUGE-L F by/,
  );
  assert.match(
    text.stdout,
    /- newest-first vs oldest-first \(strategy refine, the built-in refine prompt\): On ROUGE-L F the difference is not clear/,
  );

  const csv = await runCliProcess(dir, ['experiment', exp, '--csv', '--trust'], { env: ENV });
  assert.equal(csv.status, 0, csv.stderr);
  const lines = csv.stdout.trim().split(/\r\n/);
  assert.match(
    lines[0],
    /^kind,template,model,context,strategy,refine\.order,refine\.template,refine\.maxSteps,/,
  );
  // A refine cell's row: its strategy and settings in their columns, the mean over its 6 runs.
  assert.equal(
    lines.filter((l) =>
      l.startsWith('cell,,,,refine,newest-first,../templates/better-refine.prompt,,,,,rougeL,6,0.'),
    ).length,
    1,
  );
  assert.equal(lines.filter((l) => l.startsWith('comparison,') && l.includes(',refine.order,')).length, 2);

  const html = await runCliProcess(dir, ['experiment', exp, '--html', 'out/refine.html', '--trust'], {
    env: ENV,
  });
  assert.equal(html.status, 0, html.stderr);
  const page = readFileSync(path.join(dir, 'out', 'refine.html'), 'utf8');
  assert.ok(!/<script/i.test(page));
  assert.match(page, /refine prompt \.\.\/templates\/better-refine\.prompt beats the built-in refine prompt/);
  assert.match(page, /<svg class="chart"/);
});
