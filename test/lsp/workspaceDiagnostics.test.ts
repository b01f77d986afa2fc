/**
 * Issue 9 over JSON-RPC: problems of files that were never opened (the whole workspace, as
 * `medalign check` reports it), kept current as files change on disk, and a quick fix for every
 * mistake of samples/instructions/mistakes.medalign, each applied and re-validated by the server.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  cpSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
  mkdirSync,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  CodeActionRequest,
  CompletionRequest,
  DidChangeWatchedFilesNotification,
  DidCloseTextDocumentNotification,
  FileChangeType,
} from 'vscode-languageserver-protocol/node';
import type {
  CodeAction,
  CompletionList,
  Diagnostic,
  PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol/node';
import { startServer } from '../helpers/lspClient';
import type { LspSession } from '../helpers/lspClient';
import { makeProjectDir, repoRoot, validInstruction } from '../helpers/fixtures';
import { checkFiles } from '../../engine/src/cli/check';
import { generateRecord } from '../fixtures/recordGenerator';

let dir: string;
let session: LspSession;
const uriOf = (rel: string) => pathToFileURL(path.join(dir, rel)).toString();
const codes = (p: PublishDiagnosticsParams) => p.diagnostics.map((d) => String(d.code)).sort();
/** Errors and warnings, in file order. */
const problems = (ds: Diagnostic[]) =>
  ds
    .filter((d) => d.severity === 1 || d.severity === 2)
    .sort((a, b) => a.range.start.line - b.range.start.line);

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'medalign-wsdiag-'));
  cpSync(path.join(repoRoot, 'samples'), dir, { recursive: true });
  // XML that is not a MedAlign record, outside the records folder: not ours, never reported.
  mkdirSync(path.join(dir, 'build'));
  writeFileSync(path.join(dir, 'build/pom.xml'), '<project><broken></project>');
  session = await startServer(pathToFileURL(dir).toString(), process.env, { watchesFiles: true });
});

after(async () => {
  assert.equal(await session.close(), 0);
  rmSync(dir, { recursive: true, force: true });
});

test('files never opened: the same problems as `medalign check`, for instructions, templates and records', async () => {
  const expected = await checkFiles([], dir);
  const byFile = new Map<string, string[]>();
  for (const d of expected) byFile.set(d.file, [...(byFile.get(d.file) ?? []), String(d.code)]);
  assert.ok(byFile.size >= 6, JSON.stringify([...byFile.keys()]));
  for (const rel of [
    'records/broken.xml',
    'records/not-a-record.xml',
    'instructions/broken-front-matter.medalign',
    'instructions/broken-record.medalign',
    'instructions/mistakes.medalign',
  ])
    assert.ok(byFile.has(rel), `check reports ${rel}`);
  for (const [rel, want] of byFile) {
    const p = await session.diagnostics(uriOf(rel), (x) => codes(x).join() === want.sort().join());
    assert.equal(p.version, undefined, 'a closed file has no editor version');
  }
  // The records folder's last file is validated after build/pom.xml (one file at a time, sorted):
  // by now the pom has been looked at, and nothing was published for it.
  await session.diagnostics(uriOf('records/not-a-record.xml'), (p) => p.diagnostics.length > 0);
  await assert.rejects(
    session.diagnostics(uriOf('build/pom.xml'), () => true, 1),
    /no matching/,
  );
});

test('"same id here" points at the other file\'s id line', async () => {
  const p = await session.diagnostics(uriOf('instructions/mistakes.medalign'), (x) =>
    x.diagnostics.some((d) => d.code === 'duplicate-id'),
  );
  const related = p.diagnostics.find((d) => d.code === 'duplicate-id')!.relatedInformation!;
  assert.equal(related[0].location.uri, uriOf('instructions/broken-record.medalign'));
  assert.deepEqual(related[0].location.range.start, { line: 1, character: 4 });
});

test('mistakes.medalign: each of the 7 mistakes has a quick fix; applying each leaves no error for it', async () => {
  const uri = uriOf('instructions/mistakes.medalign');
  let text = readFileSync(path.join(dir, 'instructions/mistakes.medalign'), 'utf8');
  await session.open(uri, text);
  let version = 1;
  let p = await session.diagnostics(uri, (x) => x.version === version);
  const initial = problems(p.diagnostics);
  assert.deepEqual(initial.map((d) => String(d.code)).sort(), [
    'duplicate-id',
    'record-not-found',
    'schema-enum',
    'schema-type',
    'schema-type',
    'schema-unknown-key',
    'section-unknown',
  ]);
  const applied: string[] = [];
  // One mistake at a time, in file order, each against the server's current diagnostics.
  for (let i = 0; i < initial.length; i++) {
    const diag = problems(p.diagnostics)[0];
    const line = text.split('\n')[diag.range.start.line];
    const actions = (await session.connection.sendRequest(CodeActionRequest.type, {
      textDocument: { uri },
      range: diag.range,
      context: { diagnostics: [diag] },
    })) as CodeAction[];
    assert.ok(actions.length > 0, `a quick fix for ${String(diag.code)} on "${line}"`);
    const fix = actions[0];
    const doc = TextDocument.create(uri, 'medalign', version, text);
    text = TextDocument.applyEdits(doc, fix.edit!.changes![uri]);
    applied.push(`${fix.title} → ${text.split('\n')[diag.range.start.line]}`);
    await session.change(uri, ++version, text);
    p = await session.diagnostics(uri, (x) => x.version === version);
    assert.ok(
      !p.diagnostics.some((d) => d.code === diag.code && d.range.start.line === diag.range.start.line),
      `${fix.title}: ${JSON.stringify(p.diagnostics)}`,
    );
  }
  assert.deepEqual(p.diagnostics, [], applied.join('\n'));
  assert.deepEqual(
    applied.map((a) => a.replace(/\d{10}/, '<new id>')),
    [
      'Generate a unique id → id: <new id>',
      'Change to patient 1234555 (nearest id) → patient: 1234555',
      "Change to 'category' → category: retrieve medication information",
      "Change to '32k' → context: 32k",
      "Change to 'recent' → strategy: recent",
      "Change to '[stroke]' → tags: [stroke]",
      "Change to 'Gold response' → ## Gold response",
    ],
  );
  // The other holder of the id is no longer a duplicate (it is closed: validated from disk).
  await session.diagnostics(uriOf('instructions/broken-record.medalign'), (x) =>
    x.diagnostics.every((d) => d.code !== 'duplicate-id'),
  );
  // Closed without saving: the file is reported as it is on disk again, not cleared.
  await session.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
  await session.diagnostics(uri, (x) => x.version === undefined && problems(x.diagnostics).length === 7);
});

test('files changed on disk: a record created, a record deleted, a template broken, an id changed', async () => {
  const changed = (rel: string, type: FileChangeType) =>
    session.connection.sendNotification(DidChangeWatchedFilesNotification.type, {
      changes: [{ uri: uriOf(rel), type }],
    });
  const mistakes = uriOf('instructions/mistakes.medalign');
  await session.diagnostics(mistakes, (x) => x.diagnostics.some((d) => d.code === 'record-not-found'));

  // A record appears for patient 9999999: the closed instruction that names it is re-validated.
  writeFileSync(path.join(dir, 'records/9999999.xml'), readFileSync(path.join(dir, 'records/1234555.xml')));
  await changed('records/9999999.xml', FileChangeType.Created);
  await session.diagnostics(mistakes, (x) => !x.diagnostics.some((d) => d.code === 'record-not-found'));

  // The broken record is deleted: its own problems go, and the instruction naming it says so.
  unlinkSync(path.join(dir, 'records/broken.xml'));
  await changed('records/broken.xml', FileChangeType.Deleted);
  await session.diagnostics(uriOf('records/broken.xml'), (x) => x.diagnostics.length === 0);
  await session.diagnostics(uriOf('instructions/broken-record.medalign'), (x) =>
    x.diagnostics.some((d) => d.code === 'record-not-found'),
  );

  // The id of the other holder changes on disk: neither file is a duplicate any more.
  const other = 'instructions/broken-record.medalign';
  const text = readFileSync(path.join(dir, other), 'utf8').replace('id: 90000000302', 'id: 90000000399');
  writeFileSync(path.join(dir, other), text);
  await changed(other, FileChangeType.Changed);
  await session.diagnostics(uriOf(other), (x) => x.diagnostics.every((d) => d.code !== 'duplicate-id'));
  await session.diagnostics(mistakes, (x) => x.diagnostics.every((d) => d.code !== 'duplicate-id'));

  // A template on disk gets a problem: reported without being opened.
  const tpl = 'templates/clinician-system.prompt';
  writeFileSync(
    path.join(dir, tpl),
    readFileSync(path.join(dir, tpl), 'utf8') + '\n{{ nonsense_variable }}\n',
  );
  await changed(tpl, FileChangeType.Changed);
  await session.diagnostics(uriOf(tpl), (x) => x.diagnostics.length > 0);

  // A link in the workspace to a file outside it is not read (a cloned dataset can hold one): the
  // broken instruction it points at gets no problems, while a broken file inside does.
  const outsideDir = mkdtempSync(path.join(os.tmpdir(), 'medalign-outside-'));
  try {
    const broken = '---\nid: [unclosed\n---\n\n## Instruction\nx\n';
    writeFileSync(path.join(outsideDir, 'secret.medalign'), broken);
    symlinkSync(path.join(outsideDir, 'secret.medalign'), path.join(dir, 'instructions/linked.medalign'));
    writeFileSync(path.join(dir, 'instructions/inside-broken.medalign'), broken);
    await changed('instructions/linked.medalign', FileChangeType.Created);
    await changed('instructions/inside-broken.medalign', FileChangeType.Created);
    await session.diagnostics(uriOf('instructions/inside-broken.medalign'), (x) => x.diagnostics.length > 0);
    await assert.rejects(session.diagnostics(uriOf('instructions/linked.medalign'), () => true, 1000));
  } finally {
    rmSync(outsideDir, { recursive: true, force: true });
  }
});

test('a deleted folder: one event for the folder clears the problems of the files that were in it', async () => {
  const folder = path.join(dir, 'instructions/imported');
  mkdirSync(folder, { recursive: true });
  const broken = path.join(folder, 'broken.medalign');
  writeFileSync(broken, '---\nid: 8100000777\n---\n\n## Instruction\nWhich patient?\n');
  const uri = pathToFileURL(broken).toString();
  await session.connection.sendNotification(DidChangeWatchedFilesNotification.type, {
    changes: [{ uri, type: FileChangeType.Created }],
  });
  await session.diagnostics(uri, (x) => x.diagnostics.some((d) => d.code === 'schema-required'));
  // VS Code reports a deleted folder as one event, for the folder itself.
  rmSync(folder, { recursive: true, force: true });
  await session.connection.sendNotification(DidChangeWatchedFilesNotification.type, {
    changes: [{ uri: pathToFileURL(folder).toString(), type: FileChangeType.Deleted }],
  });
  await session.diagnostics(uri, (x) => x.diagnostics.length === 0);
});

test('many files: 276 instructions and records never opened are all reported, and completion answers meanwhile', async () => {
  const N = 276;
  const files: Record<string, string> = {};
  for (let i = 0; i < N; i++) {
    const patient = String(3_000_000 + i);
    files[`records/${patient}.xml`] = generateRecord({ seed: 900 + i, targetChars: 8_000 });
    // Every file has one deliberate mistake, so every file gets a publish.
    files[`instructions/p${patient}.medalign`] = validInstruction(5_000_000 + i)
      .replace('patient: 1234555', `patient: ${patient}`)
      .replace('strategy: recent', 'strategy: recnt');
  }
  const big = makeProjectDir('wsdiag-many', files);
  const s = await startServer(pathToFileURL(big).toString());
  try {
    const uris = Object.keys(files)
      .filter((f) => f.endsWith('.medalign'))
      .map((f) => pathToFileURL(path.join(big, f)).toString());
    let published = 0;
    const all = Promise.all(
      uris.map((u) =>
        s.diagnostics(u, (x) => codes(x).join() === 'schema-enum', 120_000).then(() => void published++),
      ),
    );
    // A request while the background validation is still going: answered before it ends.
    const open = pathToFileURL(path.join(big, 'instructions/open.medalign')).toString();
    await s.open(open, validInstruction(42).replace('strategy: recent', 'strategy: '));
    const list = (await s.connection.sendRequest(CompletionRequest.type, {
      textDocument: { uri: open },
      position: { line: 6, character: 'strategy: '.length },
    })) as CompletionList;
    const publishedAtCompletion = published;
    assert.deepEqual(list.items.map((i) => i.label).sort(), ['bm25', 'helm', 'none', 'recent', 'refine']);
    await all;
    assert.equal(published, N);
    assert.ok(publishedAtCompletion < N, `completion answered after all ${N} files were validated`);
    assert.equal(s.stderr(), '');
  } finally {
    await s.close();
    rmSync(big, { recursive: true, force: true });
  }
});
