import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  HoverRequest,
  CompletionRequest,
  DefinitionRequest,
  CodeActionRequest,
  DocumentSymbolRequest,
  FoldingRangeRequest,
  DidChangeWatchedFilesNotification,
  FileChangeType,
} from 'vscode-languageserver-protocol/node';
import type {
  CompletionList,
  MarkupContent,
  Location,
  CodeAction,
  DocumentSymbol,
} from 'vscode-languageserver-protocol/node';
import { startServer } from '../helpers/lspClient';
import type { LspSession } from '../helpers/lspClient';
import { makeProjectDir, publicSampleXml, validInstruction } from '../helpers/fixtures';

let dir: string;
let session: LspSession;
const uriOf = (rel: string) => pathToFileURL(path.join(dir, rel)).toString();

before(async () => {
  dir = makeProjectDir('lsp', { 'instructions/on-disk.medalign': validInstruction(100) });
  session = await startServer(pathToFileURL(dir).toString());
});

after(async () => {
  const code = await session.close();
  assert.equal(code, 0, 'server exits cleanly after shutdown/exit');
  rmSync(dir, { recursive: true, force: true });
});

test('initialize advertises the features', () => {
  const caps = session.initializeResult.capabilities;
  assert.ok(caps.hoverProvider);
  assert.ok(caps.completionProvider);
  assert.ok(caps.definitionProvider);
  assert.ok(caps.codeActionProvider);
  assert.ok(caps.documentSymbolProvider);
  assert.ok(caps.foldingRangeProvider);
  assert.equal(session.initializeResult.serverInfo?.name, 'medalign-language-server');
});

test('diagnostics on open, updated on change', async () => {
  const uri = uriOf('instructions/a.medalign');
  await session.open(uri, validInstruction(1).replace('category:', 'cateogry:'));
  const p = await session.diagnostics(uri, (d) => d.diagnostics.length > 0);
  const unknown = p.diagnostics.find((d) => d.code === 'schema-unknown-key');
  assert.ok(unknown, JSON.stringify(p.diagnostics));
  assert.equal(unknown.source, 'medalign');
  assert.equal(unknown.range.start.line, 3);
  await session.change(uri, 2, validInstruction(1));
  const fixed = await session.diagnostics(uri, (d) => d.version === 2);
  assert.deepEqual(fixed.diagnostics, []);
});

test('hover, completion, definition, symbols, folding over JSON-RPC', async () => {
  const uri = uriOf('instructions/b.medalign');
  const text = validInstruction(2);
  await session.open(uri, text);
  await session.diagnostics(uri);
  const lines = text.split('\n');
  const line = (needle: string) => lines.findIndex((l) => l.includes(needle));

  const hover = await session.connection.sendRequest(HoverRequest.type, {
    textDocument: { uri },
    position: { line: line('patient:'), character: 12 },
  });
  assert.match((hover!.contents as MarkupContent).value, /\b3 visits · 30 events · 5 notes · /);

  const completion = (await session.connection.sendRequest(CompletionRequest.type, {
    textDocument: { uri },
    position: { line: line('strategy:'), character: 'strategy: '.length },
  })) as CompletionList;
  assert.deepEqual(completion.items.map((i) => i.label).sort(), ['bm25', 'helm', 'none', 'recent', 'refine']);

  const def = (await session.connection.sendRequest(DefinitionRequest.type, {
    textDocument: { uri },
    position: { line: line('template:'), character: 14 },
  })) as Location[];
  assert.equal(def[0].uri, uriOf('templates/medalign.prompt'));

  const symbols = (await session.connection.sendRequest(DocumentSymbolRequest.type, {
    textDocument: { uri },
  })) as DocumentSymbol[];
  assert.deepEqual(
    symbols.map((s) => s.name),
    ['id: 2', 'Instruction', 'Gold response'],
  );
  const folds = await session.connection.sendRequest(FoldingRangeRequest.type, { textDocument: { uri } });
  assert.equal(folds?.length, 3);
});

test('code action applies a did-you-mean', async () => {
  const uri = uriOf('instructions/c.medalign');
  await session.open(uri, validInstruction(3).replace('strategy: recent', 'strategy: recnt'));
  const p = await session.diagnostics(uri, (d) => d.diagnostics.some((x) => x.code === 'schema-enum'));
  const diag = p.diagnostics.find((x) => x.code === 'schema-enum')!;
  const actions = (await session.connection.sendRequest(CodeActionRequest.type, {
    textDocument: { uri },
    range: diag.range,
    context: { diagnostics: [diag] },
  })) as CodeAction[];
  const fix = actions.find((a) => a.title === "Change to 'recent'");
  assert.ok(fix, JSON.stringify(actions));
  assert.equal(fix.edit!.changes![uri][0].newText, 'recent');
});

test('duplicate id with a file on disk, kept current as files change on disk', async () => {
  const uri = uriOf('instructions/d.medalign');
  await session.open(uri, validInstruction(100));
  const dup = await session.diagnostics(uri, (d) => d.diagnostics.some((x) => x.code === 'duplicate-id'));
  assert.match(
    JSON.stringify(dup.diagnostics.find((x) => x.code === 'duplicate-id')!.message),
    /instructions\/on-disk\.medalign/,
  );
  // The closed file on disk is flagged too.
  const disk = uriOf('instructions/on-disk.medalign');
  await session.diagnostics(disk, (d) => d.diagnostics.some((x) => x.code === 'duplicate-id'));

  // The other file changes on disk: the duplicate goes away in both.
  writeFileSync(path.join(dir, 'instructions/on-disk.medalign'), validInstruction(101));
  await session.connection.sendNotification(DidChangeWatchedFilesNotification.type, {
    changes: [{ uri: disk, type: FileChangeType.Changed }],
  });
  await session.diagnostics(uri, (d) => !d.diagnostics.some((x) => x.code === 'duplicate-id'));
  await session.diagnostics(disk, (d) => d.diagnostics.length === 0);
});

test('a record created on disk resolves after the watcher reports it', async () => {
  const uri = uriOf('instructions/e.medalign');
  await session.open(uri, validInstruction(5).replace('1234555', '555'));
  await session.diagnostics(uri, (d) => d.diagnostics.some((x) => x.code === 'record-not-found'));
  writeFileSync(path.join(dir, 'records/555.xml'), publicSampleXml);
  await session.connection.sendNotification(DidChangeWatchedFilesNotification.type, {
    changes: [{ uri: uriOf('records/555.xml'), type: FileChangeType.Created }],
  });
  await session.diagnostics(uri, (d) => d.diagnostics.length === 0);
});

test('the server registers file watchers and logs the index', () => {
  assert.ok(session.registrations.length > 0);
  assert.ok(
    session.logs.some((l) => /Indexed \d+ instruction files/.test(l)),
    session.logs.join('\n'),
  );
  assert.equal(session.stderr(), '');
});
