/**
 * Issue 7: a hostile workspace (a dataset repository someone else wrote, cloned and run) cannot make
 * `medalign` write outside the workspace, run code, commit patient data or leak a key, and two
 * identical `--resume` batches do not send the same record twice. Each test builds the attacker's
 * workspace on disk and runs the real CLI (dist/cli.js) as a process, or the real engine, against the
 * fake OpenAI server on 127.0.0.1. The "home" a link points into is a temp folder, never the real one.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FakeOpenAI } from '../helpers/fakeOpenAI';
import { repoRoot, withoutRuns } from '../helpers/fixtures';
import { parseRunRecord, MEDALIGN_GITIGNORE } from '../../engine/src/core/run/runRecord';
import { RunPreparer } from '../../engine/src/host/prepare';
import { runMany } from '../../engine/src/run/runMany';
import { executeRun } from '../../engine/src/run/runner';
import { RunStore } from '../../engine/src/run/store';
import { FileApprovals } from '../../engine/src/run/approvals';
import { countTokens } from '../../engine/src/host/countTokens';
import { TempDirs, runCliProcess } from '../helpers/cliProcess';

/** Azure-style: no `sk-` prefix, so only knowing the key (not its shape) can redact it. */
const KEY = '5f1c9a7e3b2d4c6a8e0f1a2b3c4d5e6f';
const ED = 'instructions/1234555-ed-antihypertensives.medalign';
let fake: FakeOpenAI;
const temps = new TempDirs();

interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

function runCli(cwd: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCliProcess(cwd, args, {
    env: { MEDALIGN_APPROVALS_FILE: path.join(tempDir('medalign-appr-'), 'a.json'), ...env },
  });
}

function tempDir(prefix: string): string {
  return temps.make(prefix);
}

/** A copy of samples/ with a `local` endpoint on the fake server (plus `extra` endpoints). */
function workspace(extra: unknown[] = []): string {
  const dir = tempDir('medalign-hostile-');
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
    ...extra,
  );
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  return dir;
}

/** A stand-in for the user's home folder, with a `.bashrc`. */
function fakeHome(): { home: string; bashrc: string; before: string } {
  const home = tempDir('medalign-home-');
  const bashrc = path.join(home, '.bashrc');
  const before = '# the user bashrc\nexport PS1="$ "\n';
  writeFileSync(bashrc, before);
  return { home, bashrc, before };
}

function walk(d: string): string[] {
  if (!existsSync(d)) return [];
  return readdirSync(d, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)],
  );
}

function runFiles(dir: string): string[] {
  return walk(path.join(dir, '.medalign', 'runs')).filter((f) => f.endsWith('.json'));
}

/** Every substring of `key` of 8 characters (any longer fragment contains one). */
function fragmentsOf(key: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 8 <= key.length; i++) out.push(key.slice(i, i + 8));
  return out;
}

function assertNoKey(what: string, text: string): void {
  for (const f of fragmentsOf(KEY)) assert.equal(text.includes(f), false, `${what} holds '${f}':\n${text}`);
}

before(async () => {
  fake = await FakeOpenAI.start();
});
after(async () => {
  await fake.close();
  for (const d of temps.all) rmSync(d, { recursive: true, force: true });
});

test('item 1: an endpoint id with a shell command and .medalign/audit.log linked to ~/.bashrc: nothing is written there and nothing is sent', async () => {
  const { home, bashrc, before: original } = fakeHome();
  const pwned = path.join(home, 'pwned');
  const evil = `x$(touch ${pwned})`;
  const dir = workspace([{ id: evil, kind: 'openai-compatible', baseUrl: fake.baseUrl, model: 'm' }]);
  mkdirSync(path.join(dir, '.medalign'));
  symlinkSync(bashrc, path.join(dir, '.medalign', 'audit.log'));
  fake.reset();

  // The config breaks its own schema (the id pattern): refused before anything, with the violation.
  const r = await runCli(dir, ['run', ED, '--model', evil]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /medalign\.config\.json does not match its schema/);
  assert.match(r.stderr, /\/endpoints\/3\/id.*must match pattern/);
  assert.match(r.stderr, /Nothing was (run|sent)/);
  assert.equal(readFileSync(bashrc, 'utf8'), original);
  assert.equal(fake.chatRequests.length, 0);

  // With a valid config, the linked audit log is refused, named, and still nothing is sent.
  const configFile = path.join(dir, 'medalign.config.json');
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as { endpoints: { id: string }[] };
  config.endpoints = config.endpoints.filter((e) => e.id !== evil);
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const r2 = await runCli(dir, ['run', ED, '--model', 'local']);
  assert.equal(r2.status, 1, r2.stderr);
  assert.match(r2.stderr, /\.medalign\/audit\.log is a symbolic link/);
  assert.match(r2.stderr, /Nothing was sent/);
  assert.equal(readFileSync(bashrc, 'utf8'), original);
  assert.equal(fake.chatRequests.length, 0);
  assert.equal(existsSync(pwned), false);
  assert.equal(lstatSync(path.join(dir, '.medalign', 'audit.log')).isSymbolicLink(), true, 'left as found');
});

test('item 1/5: .medalign, .medalign/runs or .medalign/runs/<id> as a link: refused, named, nothing written outside', async () => {
  for (const linked of ['.medalign', '.medalign/runs', '.medalign/runs/90000000931']) {
    const outside = tempDir('medalign-outside-');
    const dir = workspace();
    mkdirSync(path.dirname(path.join(dir, linked)), { recursive: true });
    symlinkSync(outside, path.join(dir, linked));
    fake.reset();
    for (const model of ['local', 'baseline']) {
      const r = await runCli(dir, ['run', ED, '--model', model], { FAKE_KEY: KEY });
      assert.equal(r.status, 1, `${linked} ${model}: ${r.stderr}`);
      assert.ok(
        r.stderr.includes(`${linked} is a symbolic link`),
        `${linked} ${model}: the message names the path: ${r.stderr}`,
      );
      assert.deepEqual(walk(outside), [], `${linked} ${model}: nothing written through the link`);
    }
    assert.equal(fake.chatRequests.length, 0, linked);
  }
});

test('item 1: the engine refuses a config that breaks its schema (the path the editor uses)', async () => {
  const dir = workspace([{ id: 'bad id!', kind: 'openai-compatible', baseUrl: fake.baseUrl, model: 'm' }]);
  const preparer = new RunPreparer();
  const p = await preparer.prepare({ file: path.join(dir, ED), model: 'local' });
  assert.equal(p.ok, false);
  if (p.ok) return;
  assert.equal(p.error.kind, 'config');
  assert.match(p.error.message, /medalign\.config\.json does not match its schema/);
  assert.match(p.error.message, /\/endpoints\/3\/id/);
  preparer.reset();
});

test('item 1: the engine checks again before sending: a link made after the run was prepared is refused, nothing sent', async () => {
  const outside = tempDir('medalign-outside-');
  const dir = workspace();
  const preparer = new RunPreparer();
  const p = await preparer.prepare({ file: path.join(dir, ED), model: 'local' });
  assert.ok(p.ok);
  if (!p.ok) return;
  mkdirSync(path.join(dir, '.medalign', 'runs'), { recursive: true });
  symlinkSync(outside, path.join(dir, '.medalign', 'runs', '90000000931'));
  fake.reset();
  const out = await executeRun(p.run, { countTokens, approval: () => false, apiKey: KEY });
  assert.equal(out.status, 'error');
  assert.equal(out.error?.kind, 'config');
  assert.match(
    out.error?.message ?? '',
    /\.medalign\/runs\/90000000931 is a symbolic link .*Nothing was sent\./,
  );
  assert.equal(fake.chatRequests.length, 0);
  assert.deepEqual(walk(outside), []);
  preparer.reset();
});

test('item 5: a shipped .medalign/.gitignore that un-ignores everything is restored, and the CLI says so', async () => {
  const { bashrc, before: original } = fakeHome();
  for (const shipped of ['!*\n', 'link']) {
    const dir = workspace();
    mkdirSync(path.join(dir, '.medalign'));
    const gi = path.join(dir, '.medalign', '.gitignore');
    if (shipped === 'link') symlinkSync(bashrc, gi);
    else writeFileSync(gi, shipped);
    const r = await runCli(dir, ['run', ED, '--model', 'baseline']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /restored \.medalign\/\.gitignore/);
    assert.equal(lstatSync(gi).isFile(), true);
    assert.equal(readFileSync(gi, 'utf8'), MEDALIGN_GITIGNORE);
    assert.equal(readFileSync(bashrc, 'utf8'), original);
    assert.equal(runFiles(dir).length, 1);
    // What the attacker wanted: `git add -A` staging the run file.
    const git = spawnSync('git', ['init', '-q'], { cwd: dir });
    if (git.status === 0) {
      const add = spawnSync('git', ['add', '-A', '--dry-run'], { cwd: dir, encoding: 'utf8' });
      assert.equal(add.status, 0, add.stderr);
      assert.doesNotMatch(add.stdout, /\.medalign\//);
    }
    // Once restored, a second run says nothing about it.
    const again = await runCli(dir, ['run', ED, '--model', 'baseline']);
    assert.doesNotMatch(again.stderr, /gitignore/);
  }
});

test('item 8: a key (and fragments of it) echoed in answers and in a 500 body reach no output or file', async () => {
  const dir = workspace();
  const key = KEY;
  // The answer splits the key across chunks and quotes fragments of it.
  const answer = [
    'Your key is ',
    key.slice(0, 10),
    key.slice(10),
    `; again: ${key.slice(3, 14)} and `,
    key.slice(20, 24),
    key.slice(24, 29),
    '. Labetalol.',
  ];
  fake.reset();
  fake.options.respond = () => ({ kind: 'ok', chunks: answer });
  const exports = path.join(dir, 'out');
  const one = await runCli(dir, ['run', ED, '--model', 'local', '--export', 'out/one.csv'], {
    FAKE_KEY: KEY,
  });
  assert.equal(one.status, 0, one.stderr);
  assert.match(one.stdout, /Your key is \[redacted\]/);
  assert.match(one.stdout, /Labetalol\./);
  const many = await runCli(
    dir,
    [
      'run',
      ED,
      'instructions/1234555-demographics.medalign',
      '--model',
      'local',
      '--context',
      '2k,8k',
      '--export',
      'out/many.jsonl',
    ],
    { FAKE_KEY: KEY },
  );
  assert.equal(many.status, 0, many.stderr);

  // A 500 whose body echoes fragments of the key (retried at once, then kept as the error).
  const body = {
    error: {
      message: `upstream rejected token ${key.slice(2, 12)} (${key.slice(16, 30)})`,
      type: 'server_error',
    },
  };
  fake.options.respond = () => ({ kind: 'status', status: 500, body, headers: { 'retry-after-ms': '1' } });
  const failed = await runCli(
    dir,
    ['run', ED, '--model', 'local', '--context', '4k', '--export', 'out/err.jsonl'],
    {
      FAKE_KEY: KEY,
    },
  );
  assert.equal(failed.status, 1);
  assert.match(failed.stderr, /server error \(HTTP 500\)/);
  assert.ok(fake.chatRequests.length >= 6);

  // batch import of results that echo the key.
  fake.options.respond = undefined;
  const exp = await runCli(dir, ['batch', 'export', ED, '--model', 'local', '--out', 'batch/req.jsonl']);
  assert.equal(exp.status, 0, exp.stderr);
  const line = JSON.parse(readFileSync(path.join(dir, 'batch/req.jsonl'), 'utf8').trim()) as {
    custom_id: string;
  };
  writeFileSync(
    path.join(dir, 'batch/res.jsonl'),
    JSON.stringify({
      custom_id: line.custom_id,
      response: {
        status_code: 200,
        body: {
          choices: [
            {
              message: { role: 'assistant', content: `echo ${key} / ${key.slice(5, 17)}` },
              finish_reason: 'stop',
            },
          ],
        },
      },
      error: null,
    }) + '\n',
  );
  const imp = await runCli(dir, ['batch', 'import', 'batch/res.jsonl', '--requests', 'batch/req.jsonl'], {
    FAKE_KEY: KEY,
  });
  assert.equal(imp.status, 0, imp.stderr);

  for (const [what, r] of Object.entries({ one, many, failed, exp, imp })) {
    assertNoKey(`${what} stdout`, r.stdout);
    assertNoKey(`${what} stderr`, r.stderr);
  }
  const files = walk(path.join(dir, '.medalign')).concat(walk(exports));
  assert.ok(files.filter((f) => f.endsWith('.json')).length >= 7, files.join('\n'));
  assert.ok(existsSync(path.join(exports, 'one.csv')) && existsSync(path.join(exports, 'many.jsonl')));
  for (const f of files) assertNoKey(f, readFileSync(f, 'utf8'));
  const imported = runFiles(dir)
    .map((f) => parseRunRecord(readFileSync(f, 'utf8'))!)
    .find((r) => r.source === 'batch-import');
  assert.match(imported?.response ?? '', /^echo \[redacted\]/);
});

test('item 1: approvals, batch files and deletions do not go through links either', async () => {
  const { home, bashrc, before: original } = fakeHome();
  // The approvals file as a link to a file of the user's: replaced by a file, the target untouched.
  const approvals = path.join(home, 'phi-approvals.json');
  symlinkSync(bashrc, approvals);
  await new FileApprovals(approvals).add({
    endpointId: 'gpt-4o',
    kind: 'openai',
    origin: 'https://api.openai.com',
    host: 'api.openai.com',
  });
  assert.equal(lstatSync(approvals).isFile(), true);
  assert.match(readFileSync(approvals, 'utf8'), /gpt-4o/);
  assert.equal(readFileSync(bashrc, 'utf8'), original);

  // `batch export` into a linked .medalign/batch: refused, named, nothing written outside.
  const outside = tempDir('medalign-outside-');
  const dir = workspace();
  mkdirSync(path.join(dir, '.medalign'));
  symlinkSync(outside, path.join(dir, '.medalign', 'batch'));
  const exp = await runCli(dir, ['batch', 'export', ED, '--model', 'local']);
  assert.equal(exp.status, 2);
  assert.match(exp.stderr, /\.medalign\/batch is a symbolic link/);
  assert.deepEqual(walk(outside), []);

  // Deleting a run through a linked runs/<id> folder: refused, the file behind the link kept.
  const victim = tempDir('medalign-victim-');
  writeFileSync(path.join(victim, 'notes.json'), '{}');
  mkdirSync(path.join(dir, '.medalign', 'runs'));
  symlinkSync(victim, path.join(dir, '.medalign', 'runs', '90000000931'));
  const store = new RunStore(dir);
  assert.equal(await store.delete(path.join(store.runsDir, '90000000931', 'notes.json')), false);
  assert.equal(existsSync(path.join(victim, 'notes.json')), true);
});

/** `n` copies of the ED instruction with distinct ids, in a fresh workspace. */
function manyInstructions(n: number): string {
  const dir = workspace();
  const src = readFileSync(path.join(dir, ED), 'utf8');
  rmSync(path.join(dir, 'instructions'), { recursive: true });
  mkdirSync(path.join(dir, 'batchset'));
  for (let i = 0; i < n; i++) {
    writeFileSync(
      path.join(dir, 'batchset', `q${String(i).padStart(2, '0')}.medalign`),
      src.replace('id: 90000000931', `id: 90000000${String(i).padStart(2, '0')}`),
    );
  }
  return dir;
}

test('item 13: two identical --resume batches started together send each run key once', async () => {
  const n = 24;
  const dir = manyInstructions(n);
  fake.reset();
  fake.options.latencyMs = 40;
  try {
    const args = ['run', 'batchset', '--model', 'local', '--context', '2k', '--resume', '--concurrency', '4'];
    const [a, b] = await Promise.all([
      runCli(dir, args, { FAKE_KEY: KEY }),
      runCli(dir, args, { FAKE_KEY: KEY }),
    ]);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(b.status, 0, b.stderr);
    const runs = runFiles(dir).map((f) => parseRunRecord(readFileSync(f, 'utf8'))!);
    assert.equal(runs.length, n, 'one run file per job');
    assert.equal(new Set(runs.map((r) => r.key)).size, n);
    assert.equal(fake.chatRequests.length, n, 'each job sent once');
    assert.deepEqual(
      walk(path.join(dir, '.medalign', 'runs')).filter((f) => f.endsWith('.lock')),
      [],
      'no lock left behind',
    );
  } finally {
    fake.options.latencyMs = 0;
  }
});

test('item 13: a stale lock (dead process, or not refreshed for too long) is taken over', async () => {
  const dir = manyInstructions(2);
  const preparer = new RunPreparer();
  const dead = spawnSync(process.execPath, ['-e', 'process.pid'], { encoding: 'utf8' });
  assert.equal(dead.status, 0);
  const deadPid = dead.pid;
  const files = ['q00', 'q01'].map((q) => path.join(dir, 'batchset', `${q}.medalign`));
  const locks: string[] = [];
  for (const [i, file] of files.entries()) {
    const planned = await preparer.plan({ file, model: 'local', context: '2k' });
    assert.ok(planned.ok);
    if (!planned.ok) return;
    const lockDir = path.join(dir, '.medalign', 'runs', planned.plan.instruction.id);
    mkdirSync(lockDir, { recursive: true });
    const lock = path.join(lockDir, `.${planned.plan.key}.lock`);
    // q00: a process that no longer exists; q01: this (live) process, but not refreshed for an hour.
    writeFileSync(
      lock,
      JSON.stringify({ pid: i === 0 ? deadPid : process.pid, host: os.hostname(), nonce: 'x', time: '' }),
    );
    if (i === 1) utimesSync(lock, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    locks.push(lock);
  }
  fake.reset();
  const results = await runMany(
    files.map((file) => ({ file, model: 'local', context: '2k' })),
    { countTokens, preparer, resume: true, approval: () => false, apiKeyFor: () => KEY },
  );
  assert.deepEqual(
    results.map((r) => r.status),
    ['complete', 'complete'],
    JSON.stringify(results.map((r) => r.error)),
  );
  assert.equal(fake.chatRequests.length, 2);
  for (const l of locks) assert.equal(existsSync(l), false);
  preparer.reset();
});
