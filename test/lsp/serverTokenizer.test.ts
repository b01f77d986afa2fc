/**
 * `tokenizer: server` at the process level: the language server does no HTTP and no approvals, so
 * for a hover it asks the client with `medalign/tokenize`. This test is the client: it answers with
 * the Rust tokenizer's count (an implementation independent of ours), or refuses as the extension
 * does for an endpoint that is not approved, or fails as a dead server does. Counts are cached by
 * content: hovering twice asks once.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { HoverRequest } from 'vscode-languageserver-protocol/node';
import type { MarkupContent, Position } from 'vscode-languageserver-protocol/node';
import { Tokenizer as RustTokenizer } from 'tokenizers';
import { TokenizeRequest } from '../../server/src/protocol';
import type { TokenizeParams } from '../../server/src/protocol';
import type { ServerTokenizeAnswer } from '../../engine/src/core/tokens/serverCounts';
import { startServer } from '../helpers/lspClient';
import type { LspSession } from '../helpers/lspClient';
import { makeProjectDir, publicSampleXml, repoRoot, validInstruction } from '../helpers/fixtures';

const rust = RustTokenizer.fromFile(path.join(repoRoot, 'test/fixtures/tokenizers/medbpe/tokenizer.json'));
const rustCount = async (text: string) =>
  (await rust.encode(text, null, { addSpecialTokens: false })).getIds().length;

let dir: string;
let session: LspSession;
const asked: TokenizeParams[] = [];
/** What the test client answers for each endpoint id. */
const behaviour = new Map<string, 'count' | 'refuse' | 'fail'>([
  ['srv', 'count'],
  ['lan', 'refuse'],
  ['down', 'fail'],
]);
const uriOf = (rel: string) => pathToFileURL(path.join(dir, rel)).toString();

before(async () => {
  dir = makeProjectDir('lsp-srvtok');
  writeFileSync(
    path.join(dir, 'medalign.config.json'),
    JSON.stringify({
      recordsFolder: 'records',
      defaults: { model: 'srv', context: '8k', strategy: 'recent', template: 'templates/medalign.prompt' },
      endpoints: [
        {
          id: 'srv',
          kind: 'openai-compatible',
          baseUrl: 'http://127.0.0.1:9/v1',
          model: 'med',
          tokenizer: 'server',
        },
        {
          id: 'lan',
          kind: 'openai-compatible',
          baseUrl: 'http://0.0.0.0:9/v1',
          model: 'med',
          tokenizer: 'server',
        },
        {
          id: 'down',
          kind: 'openai-compatible',
          baseUrl: 'http://127.0.0.1:9/v1',
          model: 'x',
          tokenizer: 'server',
        },
      ],
    }),
  );
  session = await startServer(pathToFileURL(dir).toString(), process.env, { serverTokenize: true });
  session.connection.onRequest(TokenizeRequest.type, async (p): Promise<ServerTokenizeAnswer> => {
    asked.push(p);
    const how = behaviour.get(p.endpoint.id);
    if (how === 'refuse') {
      return {
        ok: false,
        reason: 'not-approved',
        message: `Endpoint '${p.endpoint.id}' is not approved.`,
        approval: { endpointId: p.endpoint.id, origin: 'http://0.0.0.0:9', host: '0.0.0.0:9' },
      };
    }
    if (how === 'fail') {
      return {
        ok: false,
        reason: 'failed',
        message: 'http://127.0.0.1:9/tokenize could not be reached: ECONNREFUSED',
      };
    }
    return {
      ok: true,
      counts: await Promise.all(p.texts.map(rustCount)),
      url: 'http://127.0.0.1:9/tokenize',
    };
  });
});

after(async () => {
  assert.equal(await session.close(), 0);
  rmSync(dir, { recursive: true, force: true });
});

async function hoverText(uri: string, position: Position): Promise<string> {
  let value = '';
  for (let i = 0; i < 400; i++) {
    const h = await session.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position });
    value = h ? (h.contents as MarkupContent).value : '';
    if (!/Counting tokens/.test(value)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return value;
}

async function openInstruction(name: string, model: string): Promise<{ uri: string; line: number }> {
  const uri = uriOf(`instructions/${name}.medalign`);
  const text = validInstruction(name.length + 9100)
    .replace('model: baseline', `model: ${model}`)
    .replace('context: 32k', 'context: 8k');
  await session.open(uri, text);
  await session.diagnostics(uri);
  return { uri, line: text.split('\n').findIndex((l) => l.startsWith('patient:')) };
}

test('JSON-RPC: the patient hover shows the count the client got from the server, asked once for two hovers', async () => {
  const { uri, line } = await openInstruction('srv', 'srv');
  const before = asked.length;
  const hover = await hoverText(uri, { line, character: 11 });
  const exact = await rustCount(publicSampleXml);
  assert.match(
    hover,
    new RegExp(
      `\\*\\*${exact.toLocaleString('en-US')} tokens\\*\\* \\(the server's /tokenize · endpoint srv · model srv\\)`,
    ),
  );
  const mine = asked.slice(before);
  assert.ok(mine.length >= 2, 'the whole record, then the parts the fit table packs');
  assert.ok(mine.every((m) => m.endpoint.id === 'srv' && m.endpoint.baseUrl === 'http://127.0.0.1:9/v1'));
  assert.deepEqual(mine[0].texts, [publicSampleXml], 'the record as it is on disk');
  const texts = mine.slice(1).flatMap((m) => m.texts);
  assert.equal(new Set(texts).size, texts.length, 'each part asked once');
  assert.ok(
    texts.some((t) => t.includes('<visit')),
    `the record packed from its visits: ${JSON.stringify(texts.map((t) => t.slice(0, 30)))}`,
  );
  // The fit table is packed with the server's counts: the whole record fits at 8k or it does not,
  // as the server counts it.
  assert.match(hover, /What fits below is packed with the server's counts/);
  // Hovering again: every count is cached by content, nothing is asked.
  const n = asked.length;
  const again = await hoverText(uri, { line, character: 11 });
  assert.equal(again, hover);
  assert.equal(asked.length, n);
});

test('JSON-RPC: not approved → the hover says estimate with the fallback encoding and links the approval', async () => {
  const { uri, line } = await openInstruction('lan', 'lan');
  const hover = await hoverText(uri, { line, character: 11 });
  assert.match(hover, /\*\*≈[\d,]+ tokens\*\* \(estimate with cl100k_base · model lan\)/);
  assert.match(hover, /not approved for patient records, so nothing was sent/);
  const link = /\[Approve lan for patient records…\]\(command:medalign\.approveEndpoint\?([^)]+)\)/.exec(
    hover,
  );
  assert.ok(link, hover);
  assert.deepEqual(JSON.parse(decodeURIComponent(link[1])), [
    { endpointId: 'lan', origin: 'http://0.0.0.0:9', host: '0.0.0.0:9' },
  ]);
  // A refusal is not cached: once approved, the next hover asks again.
  const n = asked.length;
  behaviour.set('lan', 'count');
  const approved = await hoverText(uri, { line, character: 11 });
  assert.ok(asked.length > n, 'asked again once approved');
  assert.match(approved, /tokens\*\* \(the server's \/tokenize · endpoint lan/);
});

test('JSON-RPC: a server that cannot count → the estimate and the reason, no hang', async () => {
  const { uri, line } = await openInstruction('down', 'down');
  const hover = await hoverText(uri, { line, character: 11 });
  assert.match(hover, /\*\*≈[\d,]+ tokens\*\* \(estimate with cl100k_base · model down\)/);
  assert.match(
    hover,
    /The server's count is not available: http:\/\/127\.0\.0\.1:9\/tokenize could not be reached/,
  );
  // The instruction hover follows the same rule.
  const ins = await hoverText(uri, { line: 11, character: 4 });
  assert.match(ins, /## Instruction/);
  assert.match(ins, /estimate with cl100k_base · model down/);
});
