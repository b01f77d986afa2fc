/**
 * The endpoint's context window and the one resolution of an instruction's settings, over JSON-RPC
 * (dist/server.js) and the CLI as a process: the `context-window` diagnostic with its quick fix, and
 * the same sentence from the preview, the run-lens (instructionInfo), prepareRun, `medalign pack`,
 * `medalign run` and `medalign batch export` — for a context above the window and for an invalid
 * `context:` (the issue's `context: huge`, which the preview once packed silently at 32,768).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CodeActionRequest } from 'vscode-languageserver-protocol/node';
import type { CodeAction } from 'vscode-languageserver-protocol/node';
import { startServer } from '../helpers/lspClient';
import type { LspSession } from '../helpers/lspClient';
import { makeProjectDir, validInstruction } from '../helpers/fixtures';
import { runCliProcess } from '../helpers/cliProcess';
import type { InstructionInfoResult, PreviewPromptResult } from '../../server/src/protocol';
import type { PrepareResult } from '../../engine/src/core/run/prepared';

let dir: string;
let session: LspSession;
const uriOf = (rel: string) => pathToFileURL(path.join(dir, rel)).toString();

const WINDOW_64K =
  "Context 64k (65,536 tokens) is larger than the context window of 'local-vllm' (32,768 tokens, contextWindow in medalign.config.json): use 32k or less.";
const HUGE =
  "Context 'huge' is not a context size: use 2k, 4k, 8k, 16k, 32k, 64k, 128k, or a token count from 256 to 10000000.";

const CONFIG = JSON.stringify({
  recordsFolder: 'records',
  defaults: { model: 'baseline', context: '64k', strategy: 'recent', template: 'templates/medalign.prompt' },
  endpoints: [
    {
      id: 'local-vllm',
      kind: 'openai-compatible',
      baseUrl: 'http://127.0.0.1:9/v1',
      model: 'llama',
      contextWindow: 32768,
    },
  ],
});

function instruction(id: number, context: string | undefined): string {
  const base = validInstruction(id).replace('model: baseline', 'model: local-vllm');
  return context === undefined
    ? base.replace('context: 32k\n', '')
    : base.replace('context: 32k', `context: ${context}`);
}

before(async () => {
  dir = makeProjectDir('ctxwin', { 'medalign.config.json': CONFIG });
  writeFileSync(path.join(dir, 'instructions/big.medalign'), instruction(11, '64k'));
  writeFileSync(path.join(dir, 'instructions/huge.medalign'), instruction(12, 'huge'));
  writeFileSync(path.join(dir, 'instructions/default.medalign'), instruction(13, undefined));
  session = await startServer(pathToFileURL(dir).toString());
});

after(async () => {
  await session.close();
  rmSync(dir, { recursive: true, force: true });
});

async function fixesFor(uri: string, text: string): Promise<{ message: string; actions: CodeAction[] }> {
  await session.open(uri, text);
  const p = await session.diagnostics(uri, (d) => d.diagnostics.some((x) => x.code === 'context-window'));
  const diag = p.diagnostics.find((x) => x.code === 'context-window')!;
  const actions = (await session.connection.sendRequest(CodeActionRequest.type, {
    textDocument: { uri },
    range: diag.range,
    context: { diagnostics: [diag] },
  })) as CodeAction[];
  return { message: typeof diag.message === 'string' ? diag.message : diag.message.value, actions };
}

test('LSP: a context above the endpoint window is an error on `context:`, fixed to the largest size that fits', async () => {
  const uri = uriOf('instructions/big.medalign');
  const text = instruction(11, '64k');
  const { message, actions } = await fixesFor(uri, text);
  assert.equal(message, WINDOW_64K);
  const fix = actions.find((a) => a.title === "Change to '32k'");
  assert.ok(fix, JSON.stringify(actions));
  assert.equal(fix.isPreferred, true);
  const edit = fix.edit!.changes![uri][0];
  assert.equal(edit.newText, '32k');
  const line = text.split('\n').indexOf('context: 64k');
  assert.deepEqual(edit.range, { start: { line, character: 9 }, end: { line, character: 12 } });
});

test('LSP: the config default above the window: the error on `model:`, the fix adds `context: 32k`', async () => {
  const uri = uriOf('instructions/default.medalign');
  const { message, actions } = await fixesFor(uri, instruction(13, undefined));
  assert.equal(message, `${WINDOW_64K} (The context is the default of medalign.config.json.)`);
  const fix = actions.find((a) => a.title === "Add 'context: 32k'");
  assert.ok(fix, JSON.stringify(actions));
  assert.equal(fix.edit!.changes![uri][0].newText, 'context: 32k\n');
});

for (const [name, file, sentence] of [
  ['a context above the window', 'big', WINDOW_64K],
  ['an invalid context (`context: huge`)', 'huge', HUGE],
] as const) {
  test(`one resolution: ${name} is refused in the same words by preview, run-lens, prepareRun, pack, run and batch export`, async () => {
    const uri = uriOf(`instructions/${file}.medalign`);
    const preview = await session.connection.sendRequest<PreviewPromptResult>('medalign/previewPrompt', {
      uri,
    });
    assert.equal(preview.ok, false);
    assert.equal(preview.error, sentence);
    assert.deepEqual(preview.messages, [], 'nothing packed');
    const info = await session.connection.sendRequest<InstructionInfoResult | null>(
      'medalign/instructionInfo',
      {
        uri,
        overrides: {},
      },
    );
    assert.equal(info?.blocker?.message, sentence);
    const prepared = await session.connection.sendRequest<PrepareResult>('medalign/prepareRun', { uri });
    assert.equal(prepared.ok, false);
    assert.ok(
      !prepared.ok && prepared.error.message === `${file}.medalign: ${sentence}`,
      JSON.stringify(prepared),
    );

    const rel = `instructions/${file}.medalign`;
    const pack = await runCliProcess(dir, ['pack', rel, '--json']);
    assert.equal(pack.status, 1);
    assert.equal((JSON.parse(pack.stdout) as { error: string }).error, sentence);
    const run = await runCliProcess(dir, ['run', rel]);
    assert.equal(run.status, 1);
    assert.ok(run.stderr.includes(`${file}.medalign: ${sentence}`), run.stderr);
    const batch = await runCliProcess(dir, ['batch', 'export', rel, '--out', path.join(dir, 'b.jsonl')]);
    assert.notEqual(batch.status, 0);
    assert.ok(batch.stderr.includes(`${file}.medalign: ${sentence}`), batch.stderr);
  });
}

test('one resolution: a --context flag above the window is refused by pack and run in the same words', async () => {
  const rel = 'instructions/default.medalign';
  const pack = await runCliProcess(dir, ['pack', rel, '--context', '128k', '--json']);
  assert.equal(pack.status, 1);
  const sentence =
    "Context 128k (131,072 tokens) is larger than the context window of 'local-vllm' (32,768 tokens, contextWindow in medalign.config.json): use 32k or less.";
  assert.equal((JSON.parse(pack.stdout) as { error: string }).error, sentence);
  const run = await runCliProcess(dir, ['run', rel, '--context', '128k']);
  assert.ok(run.stderr.includes(sentence), run.stderr);
});
