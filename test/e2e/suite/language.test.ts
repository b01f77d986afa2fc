/**
 * End-to-end tests of the language features in a real VS Code, through the `vscode` API only.
 * The workspace is a throw-away copy of samples/ (see runInCodeServer.ts / runInDesktop.ts), so
 * tests may edit files; they still revert what they change so that later tests see the samples.
 *
 * Positions are found by searching the sample text (not hard-coded line numbers), so the samples can
 * be reworded without breaking the tests as long as the mistakes stay the same.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import * as path from 'node:path';
import { requestScreenshot, screenshotsAvailable, waitFor, workspaceFile } from './util';
import { ARTIFACTS_ENV } from './protocol';

const EXTENSION_ID = 'medalign-studio.medalign-studio';
const MISTAKES = 'instructions/mistakes.medalign';

/** The diagnostics mistakes.medalign must produce: code and the line (found by pattern) it starts on. */
const EXPECTED_MISTAKES: { code: string; line: RegExp; message?: RegExp }[] = [
  { code: 'schema-unknown-key', line: /^cateogry\s*:/, message: /Did you mean 'category'/ },
  { code: 'schema-enum', line: /^strategy\s*:\s*recnt\b/ },
  { code: 'schema-type', line: /^context\s*:\s*\[\s*32k\s*\]/ },
  { code: 'schema-type', line: /^tags\s*:\s*stroke\b/ },
  { code: 'record-not-found', line: /^(patient|record)\s*:/ },
  { code: 'section-unknown', line: /^##\s+Answer\b/ },
  { code: 'duplicate-id', line: /^id\s*:/ },
];

function codeOf(d: vscode.Diagnostic): string {
  return typeof d.code === 'object' ? String(d.code.value) : String(d.code);
}

function describeDiagnostics(ds: readonly vscode.Diagnostic[]): string {
  return ds
    .map((d) => `${codeOf(d)}@${d.range.start.line}:${d.range.start.character} ${d.message}`)
    .join('\n');
}

/** Index of the first line of `doc` matching `pattern`; fails the test when there is none. */
function lineOf(doc: vscode.TextDocument, pattern: RegExp): number {
  for (let i = 0; i < doc.lineCount; i++) if (pattern.test(doc.lineAt(i).text)) return i;
  assert.fail(`${vscode.workspace.asRelativePath(doc.uri)} has no line matching ${String(pattern)}`);
}

async function open(relative: string): Promise<{ doc: vscode.TextDocument; editor: vscode.TextEditor }> {
  const doc = await vscode.workspace.openTextDocument(workspaceFile(relative));
  const editor = await vscode.window.showTextDocument(doc, { preview: false });
  return { doc, editor };
}

/** Waits for medalign diagnostics on `uri` (the server publishes them after it analysed the file). */
async function medalignDiagnostics(
  uri: vscode.Uri,
  until: (ds: vscode.Diagnostic[]) => boolean = (ds) => ds.length > 0,
  timeoutMs = 30_000,
): Promise<vscode.Diagnostic[]> {
  let last: vscode.Diagnostic[] = [];
  try {
    return await waitFor(
      `diagnostics on ${vscode.workspace.asRelativePath(uri)}`,
      () => {
        last = vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'medalign');
        return until(last) && last;
      },
      timeoutMs,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; last seen:\n${describeDiagnostics(last) || '(none)'}`);
  }
}

function hoverText(hovers: vscode.Hover[] | undefined): string {
  return (hovers ?? [])
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : c.value))
    .join('\n---\n');
}

/** Polls the hover providers at `pos` until the hover text matches `expected`; returns that text. */
async function hoverAt(uri: vscode.Uri, pos: vscode.Position, expected: RegExp): Promise<string> {
  let text = '';
  try {
    await waitFor(`a hover matching ${String(expected)}`, async () => {
      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
        'vscode.executeHoverProvider',
        uri,
        pos,
      );
      text = hoverText(hovers);
      return expected.test(text);
    });
  } catch (err) {
    throw new Error(`${(err as Error).message}; last hover:\n${text || '(none)'}`);
  }
  return text;
}

async function completionLabels(uri: vscode.Uri, pos: vscode.Position): Promise<string[]> {
  const list = await vscode.commands.executeCommand<vscode.CompletionList>(
    'vscode.executeCompletionItemProvider',
    uri,
    pos,
  );
  return list.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
}

/** A valid sample instruction: the first one under instructions/ (sorted) other than the mistakes file. */
async function validSample(): Promise<string> {
  const files = await vscode.workspace.findFiles('instructions/**/*.medalign');
  const candidates = files
    .map((u) => vscode.workspace.asRelativePath(u, false))
    .filter((p) => p !== MISTAKES)
    .sort();
  for (const rel of candidates) {
    const text = fs.readFileSync(workspaceFile(rel).fsPath, 'utf8');
    if (/^category\s*:/m.test(text) && /^patient\s*:/m.test(text)) return rel;
  }
  assert.fail(`no valid sample with category and patient among: ${candidates.join(', ') || '(none)'}`);
}

async function revertActiveEditor(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.files.revert');
}

describe('MedAlign language support', () => {
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('activates on a .medalign workspace and reports its activation time', async () => {
    const { doc } = await open(MISTAKES);
    assert.equal(doc.languageId, 'medalign');
    const ext = vscode.extensions.getExtension<{ activationMs: unknown }>(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is not installed`);
    await waitFor('the extension to be active', () => ext.isActive);
    assert.equal(typeof ext.exports.activationMs, 'number');
    // Kept for `npm run bench`, which prints it.
    const artifacts = process.env[ARTIFACTS_ENV];
    if (artifacts) {
      fs.writeFileSync(
        path.join(artifacts, 'activation.json'),
        JSON.stringify({ activationMs: ext.exports.activationMs, vscode: vscode.version }),
      );
    }
  });

  it('reports each mistake in mistakes.medalign on the line that holds it', async () => {
    const { doc } = await open(MISTAKES);
    await medalignDiagnostics(doc.uri);
    // The server may publish in more than one pass (records and ids are resolved asynchronously).
    const wanted = new Set(EXPECTED_MISTAKES.map((e) => e.code));
    const diagnostics = await medalignDiagnostics(doc.uri, (ds) =>
      [...wanted].every((c) => ds.some((d) => codeOf(d) === c)),
    );
    for (const expected of EXPECTED_MISTAKES) {
      const line = lineOf(doc, expected.line);
      const match = diagnostics.find((d) => codeOf(d) === expected.code && d.range.start.line === line);
      assert.ok(
        match,
        `expected a '${expected.code}' diagnostic on line ${line + 1} (${doc.lineAt(line).text.trim()}); got:\n` +
          describeDiagnostics(diagnostics),
      );
      assert.equal(match.source, 'medalign');
      if (expected.message) assert.match(match.message, expected.message);
    }
  });

  it('hovers the category key with its schema description and the patient with the record summary', async () => {
    const { doc } = await open(await validSample());
    const categoryLine = lineOf(doc, /^category\s*:/);
    const keyText = await hoverAt(
      doc.uri,
      new vscode.Position(categoryLine, 2),
      /MedAlign instruction taxonomy/,
    );
    assert.match(keyText, /category/);

    const patientLine = lineOf(doc, /^patient\s*:/);
    const valueAt = doc.lineAt(patientLine).text.search(/:\s*\S/) + 1;
    const value = doc.lineAt(patientLine).text.slice(valueAt).trim();
    const valueChar = doc.lineAt(patientLine).text.indexOf(value, valueAt) + 1;
    const patientText = await hoverAt(doc.uri, new vscode.Position(patientLine, valueChar), /visits/);
    assert.match(patientText, /visits/);
  });

  it('completes front matter keys on an empty line and strategy values after `strategy: `', async () => {
    // A copy of a valid sample without `category` and `strategy` (the server omits keys already
    // present) and with a new id (so that it does not clash with the sample's).
    const source = fs.readFileSync(workspaceFile(await validSample()).fsPath, 'utf8');
    const lines = source.split(/\r?\n/);
    const close = lines.indexOf('---', 1);
    assert.ok(close > 0, 'the valid sample has a closed front matter');
    const front = lines
      .slice(1, close)
      .filter((l) => !/^(category|strategy)\s*:/.test(l))
      .map((l) => (/^id\s*:/.test(l) ? 'id: e2e-completion' : l));
    assert.ok(front.length >= 2, 'the valid sample has at least two other keys');
    const text = ['---', ...front, '---', ...lines.slice(close + 1)].join('\n');
    const uri = workspaceFile('instructions/e2e-completion.medalign');
    await vscode.workspace.fs.writeFile(uri, Buffer.from(text, 'utf8'));
    try {
      const doc = await vscode.workspace.openTextDocument(uri);
      const editor = await vscode.window.showTextDocument(doc, { preview: false });
      // Insert an empty line in the front matter (after the first key).
      const inserted = new vscode.WorkspaceEdit();
      inserted.insert(uri, new vscode.Position(2, 0), '\n');
      assert.ok(await vscode.workspace.applyEdit(inserted));
      const emptyLine = 2;
      assert.equal(doc.lineAt(emptyLine).text, '');

      let keys: string[] = [];
      await waitFor('key completions', async () => {
        keys = await completionLabels(uri, new vscode.Position(emptyLine, 0));
        return keys.includes('category');
      }).catch((err: Error) => assert.fail(`${err.message}; got: ${keys.join(', ')}`));
      for (const key of ['category', 'strategy'])
        assert.ok(keys.includes(key), `${key} in ${keys.join(', ')}`);

      await editor.edit((b) => b.insert(new vscode.Position(emptyLine, 0), 'strategy: '));
      const values = await completionLabels(uri, new vscode.Position(emptyLine, 'strategy: '.length));
      for (const v of ['recent', 'bm25', 'none'])
        assert.ok(values.includes(v), `${v} in ${values.join(', ')}`);
      await revertActiveEditor();
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
      await vscode.workspace.fs.delete(uri);
    }
  });

  it('shows a diagnostic with its hover in the editor (screenshot)', async function () {
    if (!screenshotsAvailable()) this.skip(); // the desktop runner has no page to photograph
    const { doc, editor } = await open(MISTAKES);
    const diagnostics = await medalignDiagnostics(doc.uri, (ds) =>
      ds.some((d) => codeOf(d) === 'schema-unknown-key'),
    );
    const typo = diagnostics.find((d) => codeOf(d) === 'schema-unknown-key')!;
    const at = typo.range.start.translate(0, 1);
    editor.selection = new vscode.Selection(at, at);
    editor.revealRange(typo.range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    await vscode.commands.executeCommand('editor.action.showHover');
    const shot = await requestScreenshot('diagnostic-hover', {
      waitFor: ['.monaco-editor .squiggly-error', '.monaco-hover:has-text("Did you mean \'category\'")'],
    });
    const png = fs.readFileSync(shot.path);
    assert.deepEqual([...png.subarray(1, 4)], [...Buffer.from('PNG')], 'a PNG file');
    assert.ok(shot.bytes > 20_000, `a real screenshot, not a blank page (${shot.bytes} bytes)`);
  });

  it('offers "Change to \'category\'" for the typo and the fix clears the diagnostic', async () => {
    const { doc } = await open(MISTAKES);
    const before = await medalignDiagnostics(doc.uri, (ds) =>
      ds.some((d) => codeOf(d) === 'schema-unknown-key'),
    );
    const typo = before.find((d) => codeOf(d) === 'schema-unknown-key')!;
    const typoLine = typo.range.start.line;
    const actions = await vscode.commands.executeCommand<(vscode.CodeAction | vscode.Command)[]>(
      'vscode.executeCodeActionProvider',
      doc.uri,
      typo.range,
    );
    const titles = actions.map((a) => a.title);
    const fix = actions.find(
      (a): a is vscode.CodeAction => /Change to 'category'/.test(a.title) && typeof a.command !== 'string',
    );
    assert.ok(fix, `a "Change to 'category'" quick fix among: ${titles.join(' | ') || '(none)'}`);
    assert.ok(fix.edit, 'the quick fix carries a workspace edit');
    try {
      assert.ok(await vscode.workspace.applyEdit(fix.edit));
      assert.match(doc.lineAt(typoLine).text, /^category\s*:/);
      assert.ok(!/^cateogry\s*:/m.test(doc.getText()), 'no `cateogry:` key is left');
      await medalignDiagnostics(
        doc.uri,
        (ds) => ds.length > 0 && !ds.some((d) => codeOf(d) === 'schema-unknown-key'),
      );
    } finally {
      await revertActiveEditor();
    }
  });
});
