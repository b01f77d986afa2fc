/**
 * End-to-end tests of the language features in a real VS Code, through the `vscode` API only.
 * The workspace is a throw-away copy of samples/ (see runInCodeServer.ts / runInDesktop.ts).
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { waitFor, workspaceFile } from './util';

const EXTENSION_ID = 'medalign-studio.medalign-studio';

describe('MedAlign language support', () => {
  it('activates on a .medalign workspace and reports its activation time', async () => {
    const doc = await vscode.workspace.openTextDocument(workspaceFile('instructions/mistakes.medalign'));
    await vscode.window.showTextDocument(doc);
    assert.equal(doc.languageId, 'medalign');
    const ext = vscode.extensions.getExtension<{ activationMs: unknown }>(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is not installed`);
    await waitFor('the extension to be active', () => ext.isActive);
    assert.equal(typeof ext.exports.activationMs, 'number');
  });
});
