/**
 * End-to-end: `strategy: helm` chosen in an instruction's front matter (offered by completion);
 * the prompt preview shows HELM's exact request text and says where it differs from `recent`.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { MedAlignApi } from '../../../client/src/extension';
import { requestScreenshot, screenshotsAvailable, waitFor, workspaceFile } from './util';

const EXTENSION_ID = 'medalign-studio.medalign-studio';
const INSTRUCTION = 'instructions/1234555-ed-antihypertensives.medalign';

describe('strategy helm', () => {
  let original: string | undefined;

  after(async () => {
    // Leave the sample as it was (buffer and disk) for the suites that follow.
    if (original !== undefined) {
      const doc = await vscode.workspace.openTextDocument(workspaceFile(INSTRUCTION));
      const we = new vscode.WorkspaceEdit();
      we.replace(
        doc.uri,
        new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)),
        original,
      );
      await vscode.workspace.applyEdit(we);
      await doc.save();
      assert.equal(doc.getText(), original);
    }
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('offered for strategy:, and the preview shows HELM’s request text and how it differs from recent', async () => {
    const ext = vscode.extensions.getExtension<MedAlignApi>(EXTENSION_ID);
    assert.ok(ext, 'the extension');
    const api = await ext.activate();
    await api.ready;
    const uri = workspaceFile(INSTRUCTION);
    const doc = await vscode.workspace.openTextDocument(uri);
    original = doc.getText();
    const editor = await vscode.window.showTextDocument(doc, { preview: false });
    const lines = doc.getText().split('\n');
    const sLine = lines.findIndex((l) => l.startsWith('strategy: '));
    const cLine = lines.findIndex((l) => l.startsWith('context: '));
    assert.ok(sLine > 0 && cLine > 0);

    const completion = await waitFor('strategy completions', async () => {
      const list = await vscode.commands.executeCommand<vscode.CompletionList>(
        'vscode.executeCompletionItemProvider',
        uri,
        new vscode.Position(sLine, 'strategy: '.length),
      );
      return list.items.length > 0 && list;
    });
    const labels = completion.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
    assert.ok(labels.includes('helm'), `helm offered: ${labels.join(', ')}`);

    await editor.edit((e) => {
      e.replace(doc.lineAt(sLine).range, 'strategy: helm');
      e.replace(doc.lineAt(cLine).range, 'context: 2k');
    });

    const text = await waitFor('the helm preview', async () => {
      const d = await vscode.commands.executeCommand<vscode.TextDocument>(
        'medalign.previewPromptAsText',
        uri,
      );
      const t = d.getText();
      return /strategy helm/.test(t) && t;
    });
    assert.match(text, /Budget at 2k \(helm; cl100k_base, as HELM counts\)/);
    assert.match(text, /template 25 \+ instruction \d+ \+ record 1,\d{3} \+ reserve 256 = 2,048 of 2,048/);
    assert.match(text, /HELM keeps the last 1,\d{3} of 2,949 record tokens, cut at line \d+, column \d+/);
    assert.match(text, /Compared with recent:/);
    assert.match(text, /Well-formed XML: helm no \(starts mid-record\) · recent yes\./);
    // The request text: one user message, "\nQuestion: " + HELM's prompt + "\n", the EHR cut mid-record.
    assert.match(
      text,
      /════════ user ════════\n\nQuestion: Instruction: Answer the following question based on the EHR:\n\nEHR: (?!<record>)/,
    );
    assert.match(text, /\n\nAnswer:\n\n$/);

    await vscode.commands.executeCommand('medalign.previewPrompt', uri);
    const snap = await waitFor('the preview to render', async () => {
      const s = await api.preview.snapshot(uri, 1000);
      return s && s.header.some((l) => l.includes('Compared with recent')) && s;
    });
    assert.equal(snap.messages.length, 1);
    assert.equal(snap.messages[0].role, 'user');
    assert.ok(snap.messages[0].content.startsWith('\nQuestion: Instruction: '));
    if (screenshotsAvailable()) {
      const shot = await requestScreenshot('helm-preview', { waitFor: ['iframe.webview.ready'] });
      assert.ok(shot.bytes > 20_000);
    }
  });
});
