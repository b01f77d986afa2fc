/**
 * `medalign experiment` as a process (dist/cli.js) against the local fake OpenAI server: a template
 * that makes the fake answer better (the verdict must find it), one that changes nothing (the
 * verdict must not), reuse of identical runs (nothing sent twice), and the --json / --csv / --html
 * forms. Hermetic: the only endpoint is 127.0.0.1; the project is made here from the sample records.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { FakeOpenAI } from '../helpers/fakeOpenAI';
import type { LoggedRequest } from '../helpers/fakeOpenAI';
import { repoRoot } from '../helpers/fixtures';
import { TempDirs, runCliProcess } from '../helpers/cliProcess';

const temps = new TempDirs();
let fake: FakeOpenAI;
const MARKER = 'Answer carefully, quoting the record.';

/** Ten instructions over the three sample patients, each with its own question and gold response. */
const QUESTIONS = Array.from({ length: 10 }, (_, i) => ({
  id: `exp-${i + 1}`,
  patient: ['1234555', '2000001', '2000002'][i % 3],
  question: `Question number ${i + 1}: what does the record say about item ${i + 1}?`,
  gold: `Item ${i + 1} was recorded on visit ${i + 2}; the value was ${10 + i * 3} units and it ${
    i % 2 ? 'improved' : 'stayed stable'
  } over the following ${i + 1} months according to the clinic notes.`,
}));

function body(req: LoggedRequest): string {
  const b = req.body as { messages?: { content: string }[] } | undefined;
  return (b?.messages ?? []).map((m) => m.content).join('\n');
}

/** The fake model: with the marker it answers part of the gold response (more for later items). */
function answer(req: LoggedRequest): string {
  const text = body(req);
  const q = QUESTIONS.find((x) => text.includes(x.question));
  if (!q) return 'I cannot tell.';
  if (!text.includes(MARKER)) return 'The record does not say.';
  const words = q.gold.split(' ');
  return words
    .slice(0, Math.max(4, Math.round(words.length * (0.4 + 0.05 * Number(q.id.slice(4))))))
    .join(' ');
}

function project(): string {
  const dir = temps.make('medalign-experiment-');
  cpSync(path.join(repoRoot, 'samples', 'records'), path.join(dir, 'records'), { recursive: true });
  mkdirSync(path.join(dir, 'instructions'));
  mkdirSync(path.join(dir, 'templates'));
  mkdirSync(path.join(dir, 'experiments'));
  writeFileSync(
    path.join(dir, 'medalign.config.json'),
    JSON.stringify({
      recordsFolder: 'records',
      defaults: { model: 'baseline', context: '4k', strategy: 'recent' },
      endpoints: [
        {
          id: 'local',
          kind: 'openai-compatible',
          baseUrl: fake.baseUrl,
          model: 'fake-llama',
          apiKeyEnv: 'FAKE_KEY',
        },
      ],
    }),
  );
  for (const q of QUESTIONS) {
    writeFileSync(
      path.join(dir, 'instructions', `${q.id}.medalign`),
      `---\nid: ${q.id}\npatient: ${q.patient}\ntags: [${Number(q.id.slice(4)) <= 4 ? 'early' : 'late'}]\n---\n\n## Instruction\n${q.question}\n\n## Gold response\n${q.gold}\n`,
    );
  }
  const template = (extra: string) =>
    `---\nname: t\n---\n## user\n${extra}Instruction: Answer the question based on the EHR.\n\nEHR: {{ehr}}\n\nQuestion: {{instruction}}\n\nAnswer:\n`;
  writeFileSync(path.join(dir, 'templates', 'better.prompt'), template(`${MARKER}\n`));
  writeFileSync(path.join(dir, 'templates', 'same.prompt'), template('Be brief.\n'));
  writeFileSync(
    path.join(dir, 'experiments', 'templates.experiment.json'),
    JSON.stringify({
      instructions: '../instructions',
      model: ['local'],
      template: ['builtin', '../templates/better.prompt', '../templates/same.prompt'],
      metrics: ['rougeL', 'chrf'],
      resamples: 500,
      seed: 7,
    }),
  );
  return dir;
}

const ENV = { FAKE_KEY: 'sk-fake-experiment-key' };

before(async () => {
  fake = await FakeOpenAI.start({ respond: (req) => ({ kind: 'ok', text: answer(req) }) });
});
after(async () => {
  await fake.close();
  for (const d of temps.all) rmSync(d, { recursive: true, force: true });
});

interface JsonVerdict {
  cells: {
    template: string;
    values: Record<string, string>;
    runs: number;
    failed: number;
    metrics: Record<string, number>;
  }[];
  comparisons: {
    dimension: string;
    a: string;
    b: string;
    metric: string;
    n: number;
    mean: number;
    low: number;
    high: number;
    better: string;
    sentence: string;
  }[];
}

test('medalign experiment: the better template wins, the one that changes nothing does not; nothing is sent twice', async () => {
  const dir = project();
  const exp = 'experiments/templates.experiment.json';
  fake.reset();

  const dry = await runCliProcess(dir, ['experiment', exp, '--dry-run'], { env: ENV });
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /10 instructions × 3 cells = 30 runs/);
  assert.equal(fake.chatRequests.length, 0, 'a dry run sends nothing');

  const r = await runCliProcess(dir, ['experiment', exp, '--json', '--trust'], { env: ENV });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(fake.chatRequests.length, 30, 'every run sent once');
  assert.match(r.stderr, /30 sent, 0 reused/);
  const v = JSON.parse(r.stdout) as JsonVerdict;
  assert.deepEqual(
    v.cells.map((c) => [c.template, c.runs, c.failed]),
    [
      ['builtin', 10, 0],
      ['../templates/better.prompt', 10, 0],
      ['../templates/same.prompt', 10, 0],
    ],
  );
  for (const c of v.cells) assert.equal(typeof c.metrics['rougeL'], 'number');
  const find = (a: string, b: string, metric: string) =>
    v.comparisons.find((c) => c.a === a && c.b === b && c.metric === metric)!;

  const better = find('builtin', '../templates/better.prompt', 'rougeL');
  assert.equal(better.dimension, 'template');
  assert.equal(better.n, 10);
  assert.ok(better.mean > 0.3, `a clear gain: ${better.mean}`);
  assert.ok(better.low > 0 && better.low <= better.mean && better.mean <= better.high);
  assert.equal(better.better, 'b');
  assert.match(
    better.sentence,
    /^\.\.\/templates\/better\.prompt beats builtin on ROUGE-L F by 0\.\d{3} \[0\.\d{3}, 0\.\d{3}\] over 10 instructions$/,
  );

  const same = find('builtin', '../templates/same.prompt', 'rougeL');
  assert.equal(same.n, 10);
  assert.equal(same.mean, 0);
  assert.deepEqual([same.low, same.high], [0, 0]);
  assert.equal(same.better, 'unclear');
  assert.match(
    same.sentence,
    /^on ROUGE-L F the difference is not clear \(0\.000 \[0\.000, 0\.000\] over 10 instructions\)$/,
  );
  assert.equal(find('builtin', '../templates/same.prompt', 'chrf').better, 'unclear');
  // Better against the one that changes nothing: the better one still wins (a is the earlier value).
  assert.equal(find('../templates/better.prompt', '../templates/same.prompt', 'rougeL').better, 'a');

  // Again: every run is reused (identical inputs), the verdict is the same (seeded).
  const again = await runCliProcess(dir, ['experiment', exp, '--json', '--trust', '--resume'], { env: ENV });
  assert.equal(again.status, 0, again.stderr);
  assert.equal(fake.chatRequests.length, 30, 'nothing sent again');
  assert.match(again.stderr, /0 sent, 30 reused/);
  assert.deepEqual(JSON.parse(again.stdout), v);

  // Text: the sentences.
  const text = await runCliProcess(dir, ['experiment', exp, '--trust'], { env: ENV });
  assert.equal(text.status, 0, text.stderr);
  assert.match(
    text.stdout,
    /better\.prompt vs builtin \(model local\): \.\.\/templates\/better\.prompt beats builtin on ROUGE-L F by/,
  );
  assert.match(
    text.stdout,
    /same\.prompt vs builtin \(model local\): On ROUGE-L F the difference is not clear/,
  );

  // CSV: one tidy table.
  const csv = await runCliProcess(dir, ['experiment', exp, '--csv', '--trust'], { env: ENV });
  const lines = csv.stdout.trim().split(/\r\n/);
  assert.equal(
    lines[0],
    'kind,template,model,context,strategy,refine.order,refine.template,refine.maxSteps,dimension,a,b,metric,n,mean,low,high,runs,failed,prompt_tokens',
  );
  assert.equal(lines.filter((l) => l.startsWith('cell,')).length, 3 * 2);
  assert.equal(lines.filter((l) => l.startsWith('comparison,')).length, 3 * 2);

  // HTML: a self-contained page with a chart, no script.
  const html = await runCliProcess(dir, ['experiment', exp, '--html', 'out/verdict.html', '--trust'], {
    env: ENV,
  });
  assert.equal(html.status, 0, html.stderr);
  const page = readFileSync(path.join(dir, 'out', 'verdict.html'), 'utf8');
  assert.match(page, /script-src 'none'/);
  assert.ok(!/<script/i.test(page));
  assert.match(page, /<svg class="chart"/);
  assert.match(page, /<details><summary>exp-\d+/);
});

test('medalign experiment: a tag filter, a bad strategy and an unknown model are refused before anything is sent', async () => {
  const dir = project();
  fake.reset();
  const file = path.join(dir, 'experiments', 'bad.experiment.json');
  writeFileSync(
    file,
    JSON.stringify({
      instructions: ['../instructions', 'tag:early'],
      model: ['nope'],
      strategy: ['sideways'],
    }),
  );
  const bad = await runCliProcess(dir, ['experiment', 'experiments/bad.experiment.json', '--trust'], {
    env: ENV,
  });
  assert.equal(bad.status, 1);
  assert.match(
    bad.stderr,
    /error: "sideways" is not one of recent, bm25, none, helm, refine\. \(strategy\.0\)/,
  );
  assert.match(bad.stderr, /nothing was sent/);
  writeFileSync(file, JSON.stringify({ instructions: ['../instructions', 'tag:early'], model: ['nope'] }));
  const unknown = await runCliProcess(dir, ['experiment', 'experiments/bad.experiment.json', '--trust'], {
    env: ENV,
  });
  assert.equal(unknown.status, 1);
  assert.match(
    unknown.stderr,
    /Model 'nope' is neither 'baseline' nor an endpoint id in medalign\.config\.json \(local\)\. \(model\.0\)/,
  );
  assert.equal(fake.chatRequests.length, 0);

  writeFileSync(file, JSON.stringify({ instructions: 'tag:early', context: ['4k', '8k'], model: ['local'] }));
  const dry = await runCliProcess(dir, ['experiment', 'experiments/bad.experiment.json', '--dry-run'], {
    env: ENV,
  });
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /4 instructions × 2 cells = 8 runs/);

  writeFileSync(file, '{ "instructions": ');
  const broken = await runCliProcess(dir, ['experiment', 'experiments/bad.experiment.json'], { env: ENV });
  assert.equal(broken.status, 1);
  assert.match(broken.stderr, /not valid JSON/);
  assert.ok(existsSync(file));
});

test('medalign run --template a,b: one run per template', async () => {
  const dir = project();
  fake.reset();
  const r = await runCliProcess(
    dir,
    [
      'run',
      'instructions/exp-1.medalign',
      '--model',
      'local',
      '--template',
      'builtin,templates/better.prompt',
      '--trust',
    ],
    { env: ENV },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(fake.chatRequests.length, 2);
  assert.ok(body(fake.chatRequests[1]).includes(MARKER) !== body(fake.chatRequests[0]).includes(MARKER));
  assert.match(r.stdout, /builtin/);
  assert.match(r.stdout, /templates\/better\.prompt/);
  const missing = await runCliProcess(dir, ['run', 'instructions', '--template', 'nope.prompt', '--trust'], {
    env: ENV,
  });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--template nope\.prompt: no such file/);
});
