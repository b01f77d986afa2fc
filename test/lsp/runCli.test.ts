/**
 * `medalign run`, `medalign runs` and `medalign batch` as processes (dist/cli.js), against copies of
 * samples/ and the local fake OpenAI server. Hermetic: the only endpoints are 127.0.0.1 and 0.0.0.0
 * (which Linux connects locally; the guard treats it as not loopback, so it stands in for a remote
 * endpoint that needs approval), and `.invalid` hosts that are refused before any connection.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { FakeOpenAI } from '../helpers/fakeOpenAI';
import { repoRoot, withoutRuns } from '../helpers/fixtures';
import { TempDirs, runCliProcess } from '../helpers/cliProcess';
import type { CliResult } from '../helpers/cliProcess';
import { parseRunRecord } from '../../engine/src/core/run/runRecord';
import { parseCsv, EXPORT_COLUMNS } from '../../engine/src/core/run/export';
import { BASELINE_LABEL } from '../../engine/src/core/run/baseline';

const KEY = 'sk-test-CLI-0a1b2c3d4e5f-not-for-files';
let fake: FakeOpenAI;
const temps = new TempDirs();
const outputs: string[] = [];

/** Runs the CLI without blocking this process (the fake server answers from here). */
async function runCli(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
  onStdout?: (s: string, kill: () => void) => void,
): Promise<CliResult> {
  const r = await runCliProcess(cwd, args, { env, ...(onStdout ? { onStdout } : {}) });
  outputs.push(r.stdout, r.stderr);
  return r;
}

function tempDir(prefix: string): string {
  return temps.make(prefix);
}

/** A copy of samples/ with extra endpoints pointing at the fake server. */
function samplesCopy(): string {
  const dir = tempDir('medalign-cli-run-');
  cpSync(path.join(repoRoot, 'samples'), dir, { recursive: true, filter: withoutRuns });
  const configFile = path.join(dir, 'medalign.config.json');
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as { endpoints: unknown[] };
  config.endpoints.push(
    {
      id: 'local',
      kind: 'openai-compatible',
      baseUrl: fake.baseUrl,
      model: 'fake-llama',
      apiKeyEnv: 'FAKE_KEY',
    },
    {
      id: 'lan',
      kind: 'openai-compatible',
      baseUrl: `http://0.0.0.0:${fake.port}/v1`,
      model: 'fake-llama',
      apiKeyEnv: 'FAKE_KEY',
    },
    {
      id: 'cloud',
      kind: 'openai',
      baseUrl: 'https://phi-test.invalid/v1',
      model: 'gpt-4o',
      apiKeyEnv: 'FAKE_KEY',
    },
  );
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

const ED = 'instructions/1234555-ed-antihypertensives.medalign';

before(async () => {
  fake = await FakeOpenAI.start();
});
after(async () => {
  await fake.close();
  for (const d of temps.all) rmSync(d, { recursive: true, force: true });
});

test('medalign run --model baseline: no key, no network, prints the labelled answer and writes a run file', async () => {
  // Exactly the command from the issue, run from a folder holding a copy of samples/.
  const parent = tempDir('medalign-cli-parent-');
  const dir = path.join(parent, 'samples');
  cpSync(path.join(repoRoot, 'samples'), dir, { recursive: true, filter: withoutRuns });
  fake.reset();
  const r = await runCli(parent, ['run', `samples/${ED}`, '--model', 'baseline']);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.stdout.startsWith(BASELINE_LABEL), r.stdout);
  assert.match(r.stdout, /labetalol/i);
  assert.match(
    r.stderr,
    /complete \(stop\) · prompt [\d,]+ tokens, completion [\d,]+ · .* · saved samples\/\.medalign\/runs\/90000000931\/.*_baseline_32k_[0-9a-f]{16}\.json/,
  );
  const files = runFiles(dir);
  assert.equal(files.length, 1);
  const run = parseRunRecord(readFileSync(files[0], 'utf8'));
  assert.equal(run?.status, 'complete');
  assert.equal(run?.endpoint.id, 'baseline');
  assert.equal(run?.instruction.file, ED);
  assert.equal(fake.requests.length, 0);
  assert.equal(
    existsSync(path.join(dir, '.medalign/audit.log')),
    false,
    'baseline sends nothing, so nothing to audit',
  );
  assert.equal(readFileSync(path.join(dir, '.medalign/.gitignore'), 'utf8').includes('\n*\n'), true);

  // medalign runs: the workspace's runs, and one instruction's, as a table and as JSON.
  const list = await runCli(dir, ['runs']);
  assert.equal(list.status, 0);
  assert.match(list.stdout, /created\s+instruction\s+model\s+context\s+status/);
  assert.match(list.stdout, /90000000931\s+baseline\s+32k\s+complete/);
  assert.match(list.stdout, /1 run\(s\)\./);
  const json = await runCli(path.join(dir, 'instructions'), ['runs', '--json', path.basename(ED)]);
  const arr = JSON.parse(json.stdout) as { instructionId: string; file: string; status: string }[];
  assert.equal(arr.length, 1);
  assert.equal(arr[0].instructionId, '90000000931');
  assert.equal(
    path.dirname(path.resolve(dir, 'instructions', arr[0].file)),
    path.join(dir, '.medalign/runs/90000000931'),
  );
  const other = await runCli(dir, ['runs', 'instructions/1234555-chads-vasc.medalign']);
  assert.equal(other.stdout, 'No runs yet.\n');
});

test('a matrix against the local server: progress on stderr, a table, CSV export, resume skips everything', async () => {
  const dir = samplesCopy();
  fake.reset();
  const files = [
    'instructions/1234555-ed-antihypertensives.medalign',
    'instructions/1234555-demographics.medalign',
  ];
  const r = await runCli(
    dir,
    [
      'run',
      ...files,
      '--model',
      'local,baseline',
      '--context',
      '2k,4k',
      '--concurrency',
      '3',
      '--export',
      'out/results.csv',
    ],
    { FAKE_KEY: KEY },
  );
  assert.equal(r.status, 0, r.stderr);
  const progress = r.stderr.split('\n').filter((l) => /^\[\d+\/8\] complete /.test(l));
  assert.equal(progress.length, 8, r.stderr);
  assert.match(r.stderr, /\[8\/8\]/);
  assert.match(r.stdout, /^status\s+instruction\s+model\s+context\s+prompt\s+completion\s+time\s+run file/);
  assert.equal(r.stdout.trim().split('\n').length, 9);
  assert.equal(fake.chatRequests.length, 4);
  for (const req of fake.chatRequests) assert.equal(req.headers['authorization'], `Bearer ${KEY}`);
  const table = parseCsv(readFileSync(path.join(dir, 'out/results.csv'), 'utf8'));
  assert.deepEqual(table[0], [...EXPORT_COLUMNS]);
  assert.equal(table.length, 9);
  const col = (name: string) => EXPORT_COLUMNS.indexOf(name as (typeof EXPORT_COLUMNS)[number]);
  assert.deepEqual(
    new Set(table.slice(1).map((row) => `${row[col('model')]}/${row[col('context')]}`)),
    new Set(['local/2048', 'local/4096', 'baseline/2048', 'baseline/4096']),
  );
  assert.ok(table.slice(1).every((row) => row[col('status')] === 'complete'));
  assert.ok(table.slice(1).some((row) => /Labetalol 5 mg IV/.test(row[col('gold')])));
  assert.equal(new Set(table.slice(1).map((row) => row[col('instruction_file')])).size, 2);
  assert.equal(runFiles(dir).length, 8);
  const audit = readFileSync(path.join(dir, '.medalign/audit.log'), 'utf8').trim().split('\n');
  assert.equal(audit.length, 4);

  fake.reset();
  const again = await runCli(
    dir,
    [
      'run',
      ...files,
      '--model',
      'local,baseline',
      '--context',
      '2k,4k',
      '--resume',
      '--export',
      'out/again.jsonl',
    ],
    { FAKE_KEY: KEY },
  );
  assert.equal(again.status, 0, again.stderr);
  assert.equal(again.stderr.split('\n').filter((l) => /^\[\d+\/8\] skipped /.test(l)).length, 8);
  assert.equal(fake.requests.length, 0);
  assert.equal(runFiles(dir).length, 8);
  assert.equal(readFileSync(path.join(dir, 'out/again.jsonl'), 'utf8').trim().split('\n').length, 8);
});

test('one run against the local server streams the answer to stdout; a missing key is named and nothing is sent', async () => {
  const dir = samplesCopy();
  fake.reset();
  fake.script({ kind: 'ok', chunks: ['Labetalol ', '5 mg ', 'IV.'] });
  const r = await runCli(dir, ['run', ED, '--model', 'local'], { FAKE_KEY: KEY });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'Labetalol 5 mg IV.\n');
  // --resume with a complete run: nothing is sent, the earlier answer is shown.
  fake.reset();
  const skipped = await runCli(dir, ['run', ED, '--model', 'local', '--resume'], { FAKE_KEY: KEY });
  assert.equal(skipped.status, 0, skipped.stderr);
  assert.equal(skipped.stdout, 'Labetalol 5 mg IV.\n');
  assert.match(skipped.stderr, /skipped · .* · already ran: \.medalign\/runs\/90000000931\//);
  assert.equal(fake.requests.length, 0);
  fake.reset();
  const nokey = await runCli(dir, ['run', ED, '--model', 'local']);
  assert.equal(nokey.status, 1);
  assert.match(
    nokey.stderr,
    /needs an API key and none is set \(the environment variable FAKE_KEY\)\. Nothing was sent\./,
  );
  assert.equal(fake.requests.length, 0);
});

test('a non-loopback endpoint is refused without approval; --allow-phi-endpoint, --remember-approval and the home file approve it; a workspace file does not', async () => {
  const dir = samplesCopy();
  const home = tempDir('medalign-cli-home-');
  const approvals = path.join(home, 'phi-approvals.json');
  fake.reset();
  const refused = await runCli(dir, ['run', ED, '--model', 'lan'], {
    FAKE_KEY: KEY,
    MEDALIGN_APPROVALS_FILE: approvals,
  });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /Endpoint 'lan' \(0\.0\.0\.0:\d+\) is not on this machine/);
  assert.match(refused.stderr, /Nothing was sent/);
  assert.ok(refused.stderr.includes(`--allow-phi-endpoint lan@http://0.0.0.0:${fake.port}`), refused.stderr);
  assert.ok(refused.stderr.includes(approvals));
  assert.equal(fake.requests.length, 0);
  assert.deepEqual(runFiles(dir), []);

  // A workspace file claiming approval (even named by the env var) is ignored.
  const claim = JSON.stringify({
    format: 'medalign-phi-approvals',
    version: 1,
    approvals: [
      { endpointId: 'lan', origin: `http://0.0.0.0:${fake.port}`, approvedAt: '2025-01-01T00:00:00Z' },
    ],
  });
  writeFileSync(path.join(dir, 'phi-approvals.json'), claim);
  const inWs = await runCli(dir, ['run', ED, '--model', 'lan'], {
    FAKE_KEY: KEY,
    MEDALIGN_APPROVALS_FILE: path.join(dir, 'phi-approvals.json'),
  });
  assert.equal(inWs.status, 1);
  assert.match(inWs.stderr, /ignoring the approvals file .* inside a workspace/);
  assert.equal(fake.requests.length, 0);

  const allowed = await runCli(
    dir,
    [
      'run',
      ED,
      '--model',
      'lan',
      '--allow-phi-endpoint',
      `lan@http://0.0.0.0:${fake.port}`,
      '--remember-approval',
    ],
    { FAKE_KEY: KEY, MEDALIGN_APPROVALS_FILE: approvals },
  );
  assert.equal(allowed.status, 0, allowed.stderr);
  assert.equal(fake.chatRequests.length, 1);
  assert.match(allowed.stderr, /approved 'lan' at http:\/\/0\.0\.0\.0:\d+ for your user account/);
  const saved = JSON.parse(readFileSync(approvals, 'utf8')) as {
    approvals: { endpointId: string; origin: string }[];
  };
  assert.deepEqual(
    saved.approvals.map((a) => [a.endpointId, a.origin]),
    [['lan', `http://0.0.0.0:${fake.port}`]],
  );

  // Remembered: no flag needed now. The `.invalid` endpoint is still refused.
  const remembered = await runCli(dir, ['run', ED, '--model', 'lan'], {
    FAKE_KEY: KEY,
    MEDALIGN_APPROVALS_FILE: approvals,
  });
  assert.equal(remembered.status, 0, remembered.stderr);
  assert.equal(fake.chatRequests.length, 2);
  const cloud = await runCli(dir, ['run', ED, '--model', 'cloud'], {
    FAKE_KEY: KEY,
    MEDALIGN_APPROVALS_FILE: approvals,
  });
  assert.equal(cloud.status, 1);
  assert.match(cloud.stderr, /phi-test\.invalid/);
  const audit = readFileSync(path.join(dir, '.medalign/audit.log'), 'utf8').trim().split('\n');
  assert.equal(audit.length, 2);
  assert.ok(audit.every((l) => (JSON.parse(l) as { host: string }).host === `0.0.0.0:${fake.port}`));
});

test('Ctrl-C cancels: the partial is saved and the exit code is 130', async () => {
  const dir = samplesCopy();
  fake.reset();
  fake.script({ kind: 'ok', chunks: Array.from({ length: 40 }, (_, i) => `part${i} `), chunkDelayMs: 50 });
  let sent = false;
  const r = await runCli(dir, ['run', ED, '--model', 'local'], { FAKE_KEY: KEY }, (out, kill) => {
    if (!sent && out.includes('part2 ')) {
      sent = true;
      kill();
    }
  });
  assert.equal(r.status, 130, r.stderr);
  assert.match(r.stderr, /cancelling; runs in flight are saved as partial/);
  const [file] = runFiles(dir);
  const run = parseRunRecord(readFileSync(file, 'utf8'));
  assert.equal(run?.status, 'cancelled');
  assert.equal(run?.partial, true);
  assert.match(run.response, /^part0 part1 part2 /);
  assert.ok(!run.response.includes('part39'));
});

test('batch export → (results from the local server) → batch import round trip', async () => {
  const dir = samplesCopy();
  fake.reset();
  const exp = await runCli(dir, [
    'batch',
    'export',
    'instructions/1234555-ed-antihypertensives.medalign',
    'instructions/1234555-demographics.medalign',
    '--model',
    'local',
    '--context',
    '2k,8k',
    '--out',
    'batch/requests.jsonl',
  ]);
  assert.equal(exp.status, 0, exp.stderr);
  assert.match(exp.stderr, /wrote 4 request\(s\)/);
  assert.match(exp.stderr, /patient records \(PHI\)/);
  assert.equal(fake.requests.length, 0, 'export sends nothing');
  const lines = readFileSync(path.join(dir, 'batch/requests.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map(
      (l) =>
        JSON.parse(l) as {
          custom_id: string;
          method: string;
          url: string;
          body: { model: string; messages: unknown[]; max_tokens: number };
        },
    );
  assert.equal(lines.length, 4);
  for (const l of lines) {
    assert.deepEqual(Object.keys(l), ['custom_id', 'method', 'url', 'body']);
    assert.equal(l.url, '/v1/chat/completions');
    assert.equal(l.body.model, 'fake-llama');
    assert.equal(l.body.max_tokens, 256);
  }
  assert.equal(new Set(lines.map((l) => l.custom_id)).size, 4);
  assert.ok(existsSync(path.join(dir, 'batch/requests.manifest.json')));

  // What OpenAI's Batch API / vLLM run-batch would do: each body sent, answers in their output shape.
  const results: string[] = [];
  for (const l of lines) {
    const res = await fetch(`${fake.origin}${l.url}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(l.body),
    });
    results.push(
      JSON.stringify({
        id: `batch_req_${results.length}`,
        custom_id: l.custom_id,
        response: { status_code: res.status, request_id: 'r', body: await res.json() },
        error: null,
      }),
    );
  }
  writeFileSync(path.join(dir, 'batch/results.jsonl'), results.reverse().join('\n') + '\n');
  const imp = await runCli(dir, [
    'batch',
    'import',
    'batch/results.jsonl',
    '--requests',
    'batch/requests.jsonl',
  ]);
  assert.equal(imp.status, 0, imp.stderr);
  assert.match(imp.stdout, /Imported 4 run\(s\) into \.medalign\/runs: 4 complete, 0 failed\./);
  const runs = runFiles(dir).map((f) => parseRunRecord(readFileSync(f, 'utf8'))!);
  assert.equal(runs.length, 4);
  for (const run of runs) {
    assert.equal(run.source, 'batch-import');
    assert.equal(run.status, 'complete');
    assert.match(run.response, /^Answer \d: you asked "/);
    const line = lines.find((l) => l.custom_id.endsWith(run.key))!;
    assert.deepEqual(run.prompt, line.body.messages);
    assert.equal(run.endpoint.id, 'local');
  }
  assert.deepEqual(new Set(runs.map((r) => r.contextLabel)), new Set(['2k', '8k']));
  // The imported runs count for --resume: running the same matrix sends nothing.
  fake.reset();
  const resume = await runCli(
    dir,
    [
      'run',
      'instructions/1234555-ed-antihypertensives.medalign',
      'instructions/1234555-demographics.medalign',
      '--model',
      'local',
      '--context',
      '2k,8k',
      '--resume',
    ],
    { FAKE_KEY: KEY },
  );
  assert.equal(resume.status, 0, resume.stderr);
  assert.equal(fake.requests.length, 0);
  // A result file with an unknown id and a broken line is reported.
  writeFileSync(
    path.join(dir, 'batch/bad.jsonl'),
    '{"custom_id":"nope","response":{"status_code":200,"body":{}}}\nnot json\n',
  );
  const bad = await runCli(dir, ['batch', 'import', 'batch/bad.jsonl', '--requests', 'batch/requests.jsonl']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /custom_id nope is not in the manifest/);
  assert.match(bad.stderr, /line 2: not JSON/);
});

test('usage errors exit 2', async () => {
  const dir = samplesCopy();
  for (const args of [
    ['run'],
    ['run', ED, '--context', 'huge'],
    ['run', ED, '--concurrency', '0'],
    ['run', ED, '--bogus'],
    ['run', ED, '--export', 'out.txt'],
    ['run', 'no/such.medalign'],
    ['batch'],
    ['batch', 'export', ED, '--model', 'baseline'],
    ['batch', 'import', 'x.jsonl'],
  ]) {
    const r = await runCli(dir, args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^medalign/);
  }
  const help = await runCli(dir, ['--help']);
  assert.match(help.stdout, /medalign run <paths\.\.\.>/);
  assert.match(help.stdout, /medalign runs \[paths\.\.\.\]/);
  assert.match(help.stdout, /medalign batch export/);
});

test('no output and no file in any workspace contains the key', () => {
  assert.ok(outputs.length > 10);
  for (const o of outputs) assert.equal(o.includes(KEY), false, o);
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)],
    );
  let n = 0;
  for (const t of temps.all) {
    for (const f of walk(t)) {
      n++;
      assert.equal(readFileSync(f, 'utf8').includes(KEY), false, f);
    }
  }
  assert.ok(n > 50);
});
