import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  HoverRequest,
  CompletionRequest,
  DocumentSymbolRequest,
  CodeActionRequest,
  FoldingRangeRequest,
  DefinitionRequest,
} from 'vscode-languageserver-protocol/node';
import type { MarkupContent } from 'vscode-languageserver-protocol/node';
import { startServer } from '../helpers/lspClient';
import { CONFIG, publicSampleXml, validInstruction } from '../helpers/fixtures';
import { mulberry32, mutate } from '../helpers/mutate';

test('fuzz over JSON-RPC: 400 broken edits with requests in between; the server keeps answering', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medalign-fuzz-'));
  mkdirSync(path.join(dir, 'records'));
  writeFileSync(path.join(dir, 'medalign.config.json'), CONFIG);
  writeFileSync(path.join(dir, 'records/1234555.xml'), publicSampleXml);
  const session = await startServer(pathToFileURL(dir).toString());
  try {
    const uri = pathToFileURL(path.join(dir, 'fuzz.medalign')).toString();
    const base = validInstruction().replace('template: ../templates/medalign.prompt\n', '');
    await session.open(uri, base);
    const rnd = mulberry32(99);
    let version = 1;
    for (let i = 0; i < 400; i++) {
      const text = mutate(base, rnd);
      await session.change(uri, ++version, text);
      const lines = text.split('\n');
      const line = Math.floor(rnd() * lines.length);
      const position = { line, character: Math.floor(rnd() * ((lines[line]?.length ?? 0) + 1)) };
      const textDocument = { uri };
      const answers = await Promise.all([
        session.connection.sendRequest(HoverRequest.type, { textDocument, position }),
        session.connection.sendRequest(CompletionRequest.type, { textDocument, position }),
        session.connection.sendRequest(DefinitionRequest.type, { textDocument, position }),
        session.connection.sendRequest(DocumentSymbolRequest.type, { textDocument }),
        session.connection.sendRequest(FoldingRangeRequest.type, { textDocument }),
        session.connection.sendRequest(CodeActionRequest.type, {
          textDocument,
          range: { start: position, end: position },
          context: { diagnostics: [] },
        }),
      ]);
      assert.equal(answers.length, 6);
    }
    // Back to a valid file: diagnostics clear and hover still works.
    await session.change(uri, ++version, base);
    const final = await session.diagnostics(uri, (p) => p.version === version);
    assert.deepEqual(final.diagnostics, []);
    const hover = await session.connection.sendRequest(HoverRequest.type, {
      textDocument: { uri },
      position: { line: 2, character: 11 },
    });
    assert.match((hover!.contents as MarkupContent).value, /visits/);
    assert.equal(session.process.exitCode, null, 'the server is still running');
    const failures = session.logs.filter((l) => / failed: /.test(l));
    assert.deepEqual(failures, [], 'no handler threw (runSafe logs it when one does)');
  } finally {
    assert.equal(await session.close(), 0);
    rmSync(dir, { recursive: true, force: true });
  }
});
