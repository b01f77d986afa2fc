/**
 * End-to-end: token counts of a record on hover (counted in the server's worker thread) and the
 * prompt preview, in a real VS Code through the `vscode` API.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { hoverText, requestScreenshot, screenshotsAvailable, waitFor, workspaceFile } from './util';

const INSTRUCTION = 'instructions/2000002-bp-2020.medalign';

describe('MedAlign records and prompts', () => {
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('hovering the patient shows the record’s exact token count and what fits', async () => {
    const doc = await vscode.workspace.openTextDocument(workspaceFile(INSTRUCTION));
    const editor = await vscode.window.showTextDocument(doc, { preview: false });
    const line = doc
      .getText()
      .split('\n')
      .findIndex((l) => l.startsWith('patient:'));
    assert.ok(line >= 0);
    const pos = new vscode.Position(line, 'patient: '.length + 2);
    // The first hover waits up to 1.5 s for the count; on a loaded machine it may still say "Counting tokens…".
    const text = await waitFor(
      'a hover with the token count',
      async () => {
        const t = hoverText(
          await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, pos),
        );
        return /\*\*[\d,]+ tokens\*\*/.test(t) && t;
      },
      60_000,
    );
    assert.match(text, /\*\*[\d,]{6,} tokens\*\* \(o200k_base · model gpt-4o\)/);
    assert.match(text, /\d{3} visits · [\d,]+ events · /);
    assert.match(text, /\| 16k ◀ \| [\d,]+ · \d+(\.\d)?% · \d+ visits?(, one cut)? \| \d{4}-\d\d-\d\d \|/);

    if (screenshotsAvailable()) {
      editor.selection = new vscode.Selection(pos, pos);
      await vscode.commands.executeCommand('editor.action.showHover');
      const shot = await requestScreenshot('record-hover', { waitFor: ['.monaco-hover:has-text("tokens")'] });
      assert.ok(fs.statSync(shot.path).size > 20_000);
    }
  });

  it('"Preview Prompt as Text" opens the exact prompt with its budget, read-only', async () => {
    const source = workspaceFile(INSTRUCTION);
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>(
      'vscode.executeCodeLensProvider',
      source,
    );
    const lens = lenses.find((l) => l.command?.command === 'medalign.previewPrompt');
    assert.ok(lens, 'a Preview prompt code lens');
    assert.equal(lens.command?.title, 'Preview prompt');
    const doc = await vscode.commands.executeCommand<vscode.TextDocument>(
      'medalign.previewPromptAsText',
      source,
    );
    assert.equal(doc.uri.scheme, 'medalign-preview');
    const text = doc.getText();
    assert.match(text, /^MedAlign prompt preview — instructions\/2000002-bp-2020\.medalign/);
    assert.match(text, /Budget at 16k \(recent; o200k_base · model gpt-4o\)/);
    assert.match(
      text,
      /════════ user ════════\nInstruction: Answer the following question based on the EHR:\n\nEHR: <record>/,
    );
    assert.match(text, /Question: List the blood pressures recorded at outpatient visits in 2020\./);
  });
});
