/**
 * Issue 13 in a real VS Code: a project whose endpoint names a Hugging Face tokenizer
 * (`tokenizer: hf:models/med`) shows exact counts in that tokenizer on hovers (the language server's
 * record worker counts with it). The project is made inside the workspace copy for this test (a
 * nested medalign.config.json) and removed at the end.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  hoverText,
  requestScreenshot,
  screenshotsAvailable,
  waitFor,
  workspaceFile,
  writeWorkspaceFile,
} from './util';

/** The extension's folder (this file is out/test/e2e/suite/hfTokenizer.test.js). */
const repo = path.resolve(__dirname, '../../../..');
const PROJECT = 'hf-project';

const INSTRUCTION = `---
id: 9100001
patient: 1234555
category: retrieve medication information
model: med
context: 8k
strategy: recent
---

## Instruction
Which antihypertensives were given in the ED?
`;

const write = (relative: string, data: string | Uint8Array): Promise<void> =>
  writeWorkspaceFile(`${PROJECT}/${relative}`, data);

describe('Hugging Face tokenizers (issue 13)', function () {
  this.timeout(120_000);

  before(async () => {
    const med = path.join(repo, 'test/fixtures/tokenizers/medbpe');
    await write('models/med/tokenizer.json', fs.readFileSync(path.join(med, 'tokenizer.json')));
    await write('models/med/tokenizer_config.json', fs.readFileSync(path.join(med, 'tokenizer_config.json')));
    await write('records/1234555.xml', fs.readFileSync(path.join(repo, 'samples/records/1234555.xml')));
    await write(
      'medalign.config.json',
      JSON.stringify(
        {
          recordsFolder: 'records',
          defaults: { model: 'med', context: '8k', strategy: 'recent' },
          endpoints: [
            {
              id: 'med',
              kind: 'openai-compatible',
              baseUrl: 'http://127.0.0.1:8000/v1',
              model: 'med',
              tokenizer: 'hf:models/med',
            },
          ],
        },
        null,
        2,
      ),
    );
    await write('instructions/hf.medalign', INSTRUCTION);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.workspace.fs.delete(workspaceFile(PROJECT), { recursive: true });
  });

  it('hovers the patient with the exact count in the hf tokenizer (screenshot)', async function () {
    const doc = await vscode.workspace.openTextDocument(workspaceFile(`${PROJECT}/instructions/hf.medalign`));
    const editor = await vscode.window.showTextDocument(doc, { preview: false });
    const line = doc
      .getText()
      .split('\n')
      .findIndex((l) => l.startsWith('patient:'));
    const pos = new vscode.Position(line, 11);
    let last = '';
    const text = await waitFor(
      'a hover with the count in hf:models/med',
      async () => {
        last = hoverText(
          await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, pos),
        );
        return /\*\*[\d,]+ tokens\*\* \(hf:models\/med · model med\)/.test(last) && last;
      },
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last hover:\n${last || '(none)'}`);
    });
    assert.doesNotMatch(text, /≈|estimated/);
    // The count is the trained tokenizer's (the unit and JSON-RPC tests check it against the Rust
    // implementation); it is not cl100k_base's 2,949 for this record.
    const n = Number(/\*\*([\d,]+) tokens\*\* \(hf:/.exec(text)![1].replace(/,/g, ''));
    assert.ok(n > 1000 && n !== 2949, `count ${n}`);
    if (!screenshotsAvailable()) return;
    editor.selection = new vscode.Selection(pos, pos);
    await vscode.commands.executeCommand('editor.action.showHover');
    const shot = await requestScreenshot('hf-tokenizer-hover', {
      waitFor: ['.monaco-hover:has-text("hf:models/med")'],
    });
    const png = fs.readFileSync(shot.path);
    assert.deepEqual([...png.subarray(1, 4)], [...Buffer.from('PNG')], 'a PNG file');
    assert.ok(shot.bytes > 20_000, `a real screenshot (${shot.bytes} bytes)`);
  });
});
