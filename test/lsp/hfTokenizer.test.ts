/**
 * Issue 13 at the process level: the language server (its record worker gets the hf tokenizer's
 * files) shows exact counts on hovers for an endpoint with `tokenizer: hf:...`, and the preview
 * the templated text; `medalign count --verify` compares our count with the fake server's
 * `/tokenize` (the Rust implementation) and says agree or disagree; the PHI guard holds.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { HoverRequest } from 'vscode-languageserver-protocol/node';
import type { MarkupContent, Position } from 'vscode-languageserver-protocol/node';
import { Tokenizer as RustTokenizer } from 'tokenizers';
import { PreviewPromptRequest, TEMPLATED_TITLE } from '../../server/src/protocol';
import { startServer } from '../helpers/lspClient';
import type { LspSession } from '../helpers/lspClient';
import { makeProjectDir, publicSampleXml, repoRoot, validInstruction } from '../helpers/fixtures';
import { FakeOpenAI } from '../helpers/fakeOpenAI';
import { runCliProcess } from '../helpers/cliProcess';
import { generateRecord } from '../fixtures/recordGenerator';

const MEDBPE = path.join(repoRoot, 'test/fixtures/tokenizers/medbpe');
const rust = RustTokenizer.fromFile(path.join(MEDBPE, 'tokenizer.json'));
const rustCount = async (text: string) =>
  (await rust.encode(text, null, { addSpecialTokens: false })).getIds().length;
const chatConfig = JSON.parse(readFileSync(path.join(MEDBPE, 'tokenizer_config.json'), 'utf8')) as {
  chat_template: string;
  bos_token: string;
};

let dir: string;
let session: LspSession;
let server: FakeOpenAI;
let skewed: FakeOpenAI;
const uriOf = (rel: string) => pathToFileURL(path.join(dir, rel)).toString();

function writeConfig(endpoints: object[]): void {
  writeFileSync(
    path.join(dir, 'medalign.config.json'),
    JSON.stringify({
      recordsFolder: 'records',
      defaults: { model: 'med', context: '8k', strategy: 'recent', template: 'templates/medalign.prompt' },
      endpoints,
    }),
  );
}

before(async () => {
  const tokenizer = {
    file: path.join(MEDBPE, 'tokenizer.json'),
    chatTemplate: chatConfig.chat_template,
    bosToken: chatConfig.bos_token,
  };
  server = await FakeOpenAI.start({ tokenizer });
  skewed = await FakeOpenAI.start({ tokenizer: { ...tokenizer, skew: 7 } });
  dir = makeProjectDir('lsp-hftok', {
    'records/r60k.xml': generateRecord({ seed: 71, targetChars: 60_000 }),
  });
  cpSync(MEDBPE, path.join(dir, 'models/med'), { recursive: true });
  writeConfig([
    {
      id: 'med',
      kind: 'openai-compatible',
      baseUrl: server.baseUrl,
      model: 'med',
      tokenizer: 'hf:models/med',
    },
    {
      id: 'skewed',
      kind: 'openai-compatible',
      baseUrl: skewed.baseUrl,
      model: 'med',
      tokenizer: 'hf:models/med',
    },
    { id: 'srv', kind: 'openai-compatible', baseUrl: server.baseUrl, model: 'med', tokenizer: 'server' },
    {
      id: 'remote',
      kind: 'openai-compatible',
      baseUrl: 'https://models.example.com/v1',
      model: 'med',
      tokenizer: 'hf:models/med',
    },
  ]);
  session = await startServer(pathToFileURL(dir).toString());
});

after(async () => {
  assert.equal(await session.close(), 0);
  await server.close();
  await skewed.close();
  rmSync(dir, { recursive: true, force: true });
});

async function hoverText(uri: string, position: Position): Promise<string> {
  const h = await session.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position });
  return h ? (h.contents as MarkupContent).value : '';
}

test('JSON-RPC: a hover on an instruction whose endpoint has tokenizer hf:… shows the exact count', async () => {
  const uri = uriOf('instructions/hf.medalign');
  const text = validInstruction(1)
    .replace('model: baseline', 'model: med')
    .replace('context: 32k', 'context: 8k');
  await session.open(uri, text);
  await session.diagnostics(uri);
  const line = text.split('\n').findIndex((l) => l.startsWith('patient:'));
  let hover = await hoverText(uri, { line, character: 11 });
  for (let i = 0; i < 400 && /Counting tokens/.test(hover); i++) {
    await new Promise((r) => setTimeout(r, 50));
    hover = await hoverText(uri, { line, character: 11 });
  }
  const total = await rustCount(publicSampleXml);
  assert.match(
    hover,
    new RegExp(`\\*\\*${total.toLocaleString('en-US')} tokens\\*\\* \\(hf:models/med · model med\\)`),
  );
  assert.doesNotMatch(hover, /≈/);
  const pv = await session.connection.sendRequest(PreviewPromptRequest.type, { uri });
  assert.ok(pv.ok, pv.error);
  assert.ok(pv.templated?.startsWith('<s><|im_start|>user\n'));
  assert.equal(pv.promptTokens, await rustCount(pv.templated ?? ''));
  assert.match(pv.text, new RegExp(`════════ ${TEMPLATED_TITLE} ════════`));
});

test('count --verify: our count and the server’s /tokenize agree (vLLM shape), exit 0', async () => {
  server.reset();
  const r = await runCliProcess(dir, ['count', 'records/r60k.xml', '--verify', 'med', '--trust']);
  assert.equal(r.status, 0, r.stderr);
  const n = await rustCount(readFileSync(path.join(dir, 'records/r60k.xml'), 'utf8'));
  assert.match(
    r.stdout,
    new RegExp(
      `records/r60k.xml: agree: ${n.toLocaleString('en-US')} tokens \\(hf:models/med\\) = ${n.toLocaleString('en-US')} from http://127\\.0\\.0\\.1:\\d+/tokenize`,
    ),
  );
  assert.equal(server.requests.length, 1);
  assert.deepEqual(Object.keys(server.requests[0].body as object).sort(), [
    'add_special_tokens',
    'model',
    'prompt',
  ]);
  const j = await runCliProcess(dir, ['count', 'records/r60k.xml', '--verify', 'med', '--trust', '--json']);
  const parsed = JSON.parse(j.stdout) as {
    tokens: number;
    server: number;
    agree: boolean;
    maxModelLen: number;
  };
  assert.deepEqual([parsed.tokens, parsed.server, parsed.agree, parsed.maxModelLen], [n, n, true, 8192]);
});

test('count --verify: a server that counts differently is reported as disagree, exit 1', async () => {
  const r = await runCliProcess(dir, ['count', 'records/r60k.xml', '--verify', 'skewed', '--trust']);
  assert.equal(r.status, 1);
  assert.match(
    r.stdout,
    /records\/r60k\.xml: disagree: ours [\d,]+ tokens \(hf:models\/med\), the server [\d,]+ \(\+7, 0\.\d%\)/,
  );
});

test('count --verify refuses a non-local endpoint that is not approved, and sends nothing', async () => {
  const r = await runCliProcess(dir, ['count', 'records/r60k.xml', '--verify', 'remote', '--trust']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /is not on this machine and you have not approved it/);
  assert.match(r.stderr, /--allow-phi-endpoint remote@https:\/\/models\.example\.com/);
  assert.doesNotMatch(r.stdout, /agree/);
});

test('count --verify needs a trusted folder; count --model counts locally and sends nothing', async () => {
  server.reset();
  const untrusted = await runCliProcess(dir, ['count', 'records/r60k.xml', '--verify', 'med'], {
    env: { HOME: dir, XDG_CONFIG_HOME: path.join(dir, '.cfg') },
  });
  assert.equal(untrusted.status, 1);
  assert.match(untrusted.stderr, /is not a trusted folder/);
  const local = await runCliProcess(dir, ['count', 'records/1234555.xml', '--model', 'med']);
  assert.equal(local.status, 0, local.stderr);
  const n = await rustCount(publicSampleXml);
  assert.equal(
    local.stdout,
    `records/1234555.xml: ${n.toLocaleString('en-US')} tokens (hf:models/med, endpoint med)\n`,
  );
  assert.equal(server.requests.length, 0);
  const bad = await runCliProcess(dir, ['count', 'records/1234555.xml', '--model', 'nope']);
  assert.equal(bad.status, 2);
  assert.match(
    bad.stderr,
    /no endpoint 'nope' in medalign\.config\.json \(endpoints: med, skewed, srv, remote\)/,
  );
});

test('tokenizer: server — count --model asks the endpoint’s /tokenize (trusted folder, PHI guard)', async () => {
  server.reset();
  const r = await runCliProcess(dir, ['count', 'records/r60k.xml', '--model', 'srv', '--trust']);
  assert.equal(r.status, 0, r.stderr);
  const n = await rustCount(readFileSync(path.join(dir, 'records/r60k.xml'), 'utf8'));
  assert.match(
    r.stdout,
    new RegExp(
      `^records/r60k\\.xml: ${n.toLocaleString('en-US')} tokens \\(server \\(http://127\\.0\\.0\\.1:\\d+/tokenize\\), endpoint srv\\)\n$`,
    ),
  );
  assert.equal(server.requests.length, 1);
  const untrusted = await runCliProcess(dir, ['count', 'records/r60k.xml', '--model', 'srv'], {
    env: { HOME: dir, XDG_CONFIG_HOME: path.join(dir, '.cfg') },
  });
  assert.equal(untrusted.status, 1);
  assert.match(untrusted.stderr, /is not a trusted folder/);
  assert.equal(server.requests.length, 1, 'nothing sent without trust');
});
