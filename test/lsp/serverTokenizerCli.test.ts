/**
 * `tokenizer: server` in the CLI: `medalign pack` packs with the endpoint's own `/tokenize` counts
 * (the local fake server, whose `/tokenize` runs the Rust tokenizer), sent under the same trust
 * and PHI rule as a run; not approved, untrusted or a server without `/tokenize` → the estimate,
 * flagged, with the reason in the warnings, never a crash or a hang.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Tokenizer as RustTokenizer } from 'tokenizers';
import { FakeOpenAI } from '../helpers/fakeOpenAI';
import { runCliProcess } from '../helpers/cliProcess';
import { makeProjectDir, publicSampleXml, repoRoot, validInstruction } from '../helpers/fixtures';

const MEDBPE = path.join(repoRoot, 'test/fixtures/tokenizers/medbpe/tokenizer.json');
const rust = RustTokenizer.fromFile(MEDBPE);
const rustCount = async (text: string) =>
  (await rust.encode(text, null, { addSpecialTokens: false })).getIds().length;

let dir: string;
let server: FakeOpenAI;
let bare: FakeOpenAI;

interface PackJson {
  estimated: boolean;
  encoding: string;
  tokens: { template: number; instruction: number; record: number; total: number; limit: number };
  warnings: string[];
  kept: { visits: number; events: number };
}

function instruction(model: string, context: string): string {
  return validInstruction(7)
    .replace('model: baseline', `model: ${model}`)
    .replace('context: 32k', `context: ${context}`);
}

before(async () => {
  server = await FakeOpenAI.start({ tokenizer: { file: MEDBPE } });
  bare = await FakeOpenAI.start();
  dir = makeProjectDir('cli-srvtok', {
    'instructions/whole.medalign': instruction('srv', '8k'),
    'instructions/cut.medalign': instruction('srv', '2k'),
    'instructions/lan.medalign': instruction('lan', '2k'),
    'instructions/bare.medalign': instruction('bare', '2k'),
    'instructions/cl100k.medalign': instruction('cl', '2k'),
  });
  writeFileSync(
    path.join(dir, 'medalign.config.json'),
    JSON.stringify({
      recordsFolder: 'records',
      defaults: { model: 'srv', context: '8k', strategy: 'recent' },
      endpoints: [
        { id: 'srv', kind: 'openai-compatible', baseUrl: server.baseUrl, model: 'med', tokenizer: 'server' },
        {
          id: 'lan',
          kind: 'openai-compatible',
          baseUrl: `http://0.0.0.0:${server.port}/v1`,
          model: 'med',
          tokenizer: 'server',
        },
        { id: 'bare', kind: 'openai-compatible', baseUrl: bare.baseUrl, model: 'med', tokenizer: 'server' },
        {
          id: 'cl',
          kind: 'openai-compatible',
          baseUrl: bare.baseUrl,
          model: 'med',
          tokenizer: 'cl100k_base',
        },
      ],
    }),
  );
});

after(async () => {
  await server.close();
  await bare.close();
  rmSync(dir, { recursive: true, force: true });
});

const tokenizeCalls = (s: FakeOpenAI) => s.requests.filter((r) => r.path === '/tokenize');

async function pack(
  file: string,
  ...flags: string[]
): Promise<{ status: number | null; json: PackJson; stderr: string }> {
  const r = await runCliProcess(dir, ['pack', `instructions/${file}.medalign`, '--json', ...flags]);
  return { status: r.status, json: JSON.parse(r.stdout) as PackJson, stderr: r.stderr };
}

test('pack: a record that fits whole is counted by the server: the record part is its /tokenize count', async () => {
  server.reset();
  const r = await pack('whole', '--trust');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.json.estimated, false);
  assert.deepEqual(
    r.json.warnings.filter((w) => /estimate/i.test(w)),
    [],
  );
  const calls = tokenizeCalls(server);
  assert.ok(calls.length > 0);
  // Each distinct text is sent once.
  const texts = calls.map((c) => (c.body as { prompt: string }).prompt);
  assert.equal(new Set(texts).size, texts.length);
  // The record's elements, counted by the server, add up to the server's count of the record.
  assert.equal(r.json.tokens.record, await rustCount(publicSampleXml));
  assert.equal(r.json.tokens.instruction, await rustCount('Which antihypertensives were given in the ED?'));
});

test('pack: a record cut at 2k is packed with the server’s counts (not cl100k_base’s)', async () => {
  server.reset();
  const exact = await pack('cut', '--trust');
  assert.equal(exact.status, 0, exact.stderr);
  assert.equal(exact.json.estimated, false);
  assert.ok(exact.json.tokens.total <= exact.json.tokens.limit);
  const cl = await pack('cl100k');
  assert.equal(cl.json.estimated, false);
  assert.notDeepEqual(exact.json.tokens, cl.json.tokens, 'a different tokenizer gives different counts');
  assert.equal(
    exact.json.tokens.instruction,
    await rustCount('Which antihypertensives were given in the ED?'),
  );
});

test('pack: an endpoint off this machine that is not approved is packed with the estimate, and nothing is sent', async () => {
  server.reset();
  const r = await pack('lan', '--trust');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.json.estimated, true);
  assert.ok(
    r.json.warnings.some((w) =>
      /^Token counts are estimates with cl100k_base: endpoint 'lan' is not approved for patient records/.test(
        w,
      ),
    ),
    r.json.warnings.join('\n'),
  );
  assert.match(r.stderr, new RegExp(`--allow-phi-endpoint lan@http://0\\.0\\.0\\.0:${server.port}`));
  assert.equal(tokenizeCalls(server).length, 0, 'nothing was sent');
  // Approved for this command: the server counts.
  const ok = await pack('lan', '--trust', '--allow-phi-endpoint', `lan@http://0.0.0.0:${server.port}`);
  assert.equal(ok.json.estimated, false, ok.stderr);
  assert.ok(tokenizeCalls(server).length > 0);
});

test('pack: untrusted folder → the estimate and why; a server without /tokenize → the estimate and the 404', async () => {
  server.reset();
  const untrusted = await pack('cut');
  assert.equal(untrusted.status, 0);
  assert.equal(untrusted.json.estimated, true);
  assert.ok(untrusted.json.warnings.some((w) => /not a trusted folder/.test(w)));
  assert.match(untrusted.stderr, /add --trust/);
  assert.equal(tokenizeCalls(server).length, 0);

  const r = await pack('bare', '--trust');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.json.estimated, true);
  assert.ok(
    r.json.warnings.some((w) =>
      /the server's \/tokenize did not count: .*HTTP 404.*needs a \/tokenize route/.test(w),
    ),
    r.json.warnings.join('\n'),
  );
});

test('timeline: counted by the server as pack counts (trusted); untrusted → the estimate and why, nothing sent', async () => {
  server.reset();
  const r = await runCliProcess(dir, ['timeline', 'instructions/whole.medalign', '--json', '--trust']);
  assert.equal(r.status, 0, r.stderr);
  const m = JSON.parse(r.stdout) as {
    tokens: number;
    estimated?: boolean;
    encoding: string;
    problems: string[];
  };
  assert.equal(m.estimated, false, m.problems.join('\n'));
  assert.equal(m.encoding, "the server's /tokenize · endpoint srv");
  // The events, counted by the server, add up to the server's count of the record.
  assert.equal(m.tokens, await rustCount(publicSampleXml));
  assert.ok(tokenizeCalls(server).length > 0);

  server.reset();
  const u = await runCliProcess(dir, ['timeline', 'instructions/whole.medalign', '--json']);
  assert.equal(u.status, 0, u.stderr);
  const e = JSON.parse(u.stdout) as { estimated?: boolean; problems: string[] };
  assert.equal(e.estimated, true);
  assert.ok(
    e.problems.some((p) => /not a trusted folder/.test(p)),
    e.problems.join('\n'),
  );
  assert.equal(tokenizeCalls(server).length, 0, 'nothing was sent');
});

test('run: the run record names the server tokenizer the same way in every run and process (no internal counter)', async () => {
  const names: string[] = [];
  for (let i = 0; i < 2; i++) {
    server.reset();
    const r = await runCliProcess(dir, ['run', 'instructions/whole.medalign']);
    assert.equal(r.status, 0, r.stderr);
    const saved = /saved (\S+\.json)/.exec(r.stdout + r.stderr)?.[1];
    assert.ok(saved, r.stdout + r.stderr);
    const run = JSON.parse(readFileSync(path.resolve(dir, saved), 'utf8')) as {
      encoding: string;
      estimated: boolean;
      tokens: { prompt: number };
    };
    assert.equal(run.estimated, false);
    assert.match(run.encoding, /^server:cl100k_base:[^@]+$/);
    names.push(run.encoding);
  }
  assert.equal(names[0], names[1]);
});
