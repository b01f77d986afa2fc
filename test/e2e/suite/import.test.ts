/**
 * End-to-end, issue 12: `MedAlign: Import Instructions…` in a real VS Code. The command imports the
 * public sample (a copy shipped as a test fixture) given as a URI, and again through its file picker
 * (the path typed into VS Code's own file dialog); the summary notification (with "Show problems")
 * is shown in the notification center and photographed; the imported files are read by the language
 * server like any instruction. Everything the suite writes is removed at the end.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ImportSummary } from '../../../engine/src';
import { requestScreenshot, screenshotsAvailable, waitFor, workspaceFile } from './util';

const EXTENSION_ID = 'medalign-studio.medalign-studio';
const COMMAND = 'medalign.importInstructions';

describe('MedAlign import', function () {
  this.timeout(120_000);
  let fixture: string;
  const created: string[] = [];

  before(async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, 'the extension is installed');
    await ext.activate();
    fixture = path.join(ext.extensionPath, 'test', 'fixtures', 'medalign-public', 'instructions-sample.csv');
    assert.ok(fs.existsSync(fixture), fixture);
  });

  afterEach(async () => {
    // A dialog left open by a failed step would cover the next suite's webviews.
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
  });

  after(() => {
    for (const p of created) fs.rmSync(p, { recursive: true, force: true });
  });

  it('imports a file given as a URI: one .medalign per instruction, read by the language server, and a summary notification', async () => {
    const src = workspaceFile('datasets-e2e/instructions-sample.csv');
    created.push(path.dirname(src.fsPath));
    fs.mkdirSync(path.dirname(src.fsPath), { recursive: true });
    // The public sample plus one malformed row, so the summary has a problem to show.
    fs.writeFileSync(src.fsPath, fs.readFileSync(fixture, 'utf8') + '\r\nnot an id,Q,other,table_s9\r\n');
    const into = workspaceFile('imported-e2e');
    created.push(into.fsPath);

    const summary = await vscode.commands.executeCommand<ImportSummary | undefined>(COMMAND, src, { into });
    assert.ok(summary, 'the command returns its summary');
    assert.equal(summary.instructions, 62);
    assert.equal(summary.actions.created, 62);
    assert.equal(summary.noPatient, 62);
    assert.deepEqual(
      summary.problems.filter((p) => p.severity === 'error').map((p) => [p.line, p.message]),
      [[64, "bad instruction_id 'not an id' (letters, digits, '_', '.', '-'): row skipped"]],
    );
    const file = vscode.Uri.joinPath(into, '8543650684.medalign');
    const text = fs.readFileSync(file.fsPath, 'utf8');
    assert.match(text, /^id: 8543650684\ncategory: retrieve appointment information\n/m);

    // The language server checks the imported file as any other: no patient yet, nothing else wrong.
    await vscode.workspace.openTextDocument(file);
    const diags = await waitFor('diagnostics of an imported file', () => {
      const ds = vscode.languages.getDiagnostics(file);
      return ds.length > 0 && ds;
    });
    assert.deepEqual(
      diags.filter((d) => d.severity === vscode.DiagnosticSeverity.Error).map((d) => d.code),
      ['schema-required'],
    );

    // A second import changes nothing.
    const again = await vscode.commands.executeCommand<ImportSummary | undefined>(COMMAND, src, { into });
    assert.equal(again?.actions.unchanged, 62);
    assert.equal(again?.actions.created, 0);

    if (screenshotsAvailable()) {
      // The test mode hides toasts: the summaries are in the notification center.
      await vscode.commands.executeCommand('notifications.showList');
      const s = await requestScreenshot('import-summary', {
        waitFor: ['.notifications-center', '.notifications-center .notification-list-item'],
      });
      assert.ok(s.bytes > 10_000, 'a real screenshot');
      await vscode.commands.executeCommand('notifications.hideList');
    }
  });

  it("imports through the file picker: the path typed into VS Code's file dialog", async function () {
    if (!screenshotsAvailable()) this.skip();
    const src = workspaceFile('datasets-e2e/picked.csv');
    fs.mkdirSync(path.dirname(src.fsPath), { recursive: true });
    fs.writeFileSync(
      src.fsPath,
      'instruction_id,question,human_assigned_subcategory_1,source\n9000001,Picked through the dialog?,other,e2e\n',
    );
    const instructions = workspaceFile('instructions/9000001.medalign');
    created.push(instructions.fsPath);

    // With an instruction in the active editor, VS Code's own default would be `instructions/`: the
    // dialog opens at the workspace root instead, where the datasets are.
    await vscode.window.showTextDocument(workspaceFile('instructions/1234555-chads-vasc.medalign'));
    const pending = vscode.commands.executeCommand<ImportSummary | undefined>(COMMAND);
    // The dialog has filled in its folder once it lists that folder's entries: only then does
    // Ctrl+A select the whole path (typed earlier, the path was appended to the folder's).
    const shown = await requestScreenshot('import-picker', {
      waitFor: [
        '.quick-input-widget .monaco-list-row:has-text("datasets-e2e")',
        '.quick-input-widget .monaco-list-row:has-text("medalign.config.json")',
      ],
      // The dialog lists the folder through the remote file system: slow on a loaded machine.
      timeoutMs: 30_000,
    });
    assert.ok(shown.bytes > 10_000);
    // Replace the dialog's path with the file's and accept it.
    await requestScreenshot('import-picker-typed', {
      press: ['Control+a', ...src.fsPath.split('')],
      waitFor: ['.quick-input-widget'],
    });
    // Accepted in a step of its own, once the dialog has caught up with the typed path (pressing
    // Enter in the same burst could accept the dialog's completion of a shorter prefix).
    await requestScreenshot('import-picker-accepted', { press: ['Enter'], waitFor: ['.monaco-workbench'] });
    const summary = await pending;
    assert.ok(summary, 'the picked file was imported');
    assert.equal(summary.instructions, 1);
    assert.ok(
      fs.existsSync(instructions.fsPath),
      "written to the workspace's instructions folder (medalign.config.json)",
    );
    assert.match(
      fs.readFileSync(instructions.fsPath, 'utf8'),
      /## Instruction\nPicked through the dialog\?\n/,
    );
  });
});
