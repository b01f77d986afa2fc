/**
 * `tokenizer: server` in a real VS Code: the language server asks the extension (`medalign/tokenize`),
 * which sends the record to the endpoint's `/tokenize` only once the endpoint is approved for
 * patient records. The endpoint is at `0.0.0.0` (not loopback for the PHI guard, yet it reaches the
 * local fake server, test/helpers/fakeOpenAI.ts, whose `/tokenize` runs the Rust tokenizer). Before
 * the approval the hover says estimate and sends nothing; after it, the hover shows the server's
 * count, and a second hover sends nothing more (cached by content).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Tokenizer as RustTokenizer } from 'tokenizers';
import { FakeOpenAI } from '../../helpers/fakeOpenAI';
import {
  hoverText,
  requestScreenshot,
  screenshotsAvailable,
  waitFor,
  workspaceFile,
  writeWorkspaceFile,
} from './util';

/** The extension's folder (this file is out/test/e2e/suite/serverTokenizer.test.js). */
const repo = path.resolve(__dirname, '../../../..');
const PROJECT = 'server-tokenizer-project';
const MEDBPE = path.join(repo, 'test/fixtures/tokenizers/medbpe/tokenizer.json');

const INSTRUCTION = `---
id: 9100002
patient: 1234555
category: retrieve medication information
model: lan-tok
context: 8k
strategy: recent
---

## Instruction
Which antihypertensives were given in the ED?
`;

const write = (relative: string, data: string | Uint8Array): Promise<void> =>
  writeWorkspaceFile(`${PROJECT}/${relative}`, data);

describe('tokenizer: server (issue 13)', function () {
  this.timeout(120_000);
  let fake: FakeOpenAI;
  let recordText: string;

  before(async () => {
    fake = await FakeOpenAI.start({ tokenizer: { file: MEDBPE } });
    recordText = fs.readFileSync(path.join(repo, 'samples/records/1234555.xml'), 'utf8');
    await write('records/1234555.xml', recordText);
    await write(
      'medalign.config.json',
      JSON.stringify(
        {
          recordsFolder: 'records',
          defaults: { model: 'lan-tok', context: '8k', strategy: 'recent' },
          endpoints: [
            {
              id: 'lan-tok',
              kind: 'openai-compatible',
              baseUrl: `http://0.0.0.0:${fake.port}/v1`,
              model: 'med',
              tokenizer: 'server',
            },
          ],
        },
        null,
        2,
      ),
    );
    await write('instructions/srv.medalign', INSTRUCTION);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.workspace.fs.delete(workspaceFile(PROJECT), { recursive: true });
    await fake.close();
  });

  it('hovers the patient with an estimate before approval and the server’s count after (screenshots)', async function () {
    const doc = await vscode.workspace.openTextDocument(
      workspaceFile(`${PROJECT}/instructions/srv.medalign`),
    );
    const editor = await vscode.window.showTextDocument(doc, { preview: false });
    const line = doc
      .getText()
      .split('\n')
      .findIndex((l) => l.startsWith('patient:'));
    const pos = new vscode.Position(line, 11);
    const hover = async () =>
      hoverText(
        await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, pos),
      );
    let last = '';
    const before = await waitFor(
      'a hover that says estimate',
      async () => {
        last = await hover();
        return /estimate with cl100k_base/.test(last) && last;
      },
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last hover:\n${last || '(none)'}`);
    });
    assert.match(before, /\*\*≈[\d,]+ tokens\*\* \(estimate with cl100k_base · model lan-tok\)/);
    assert.match(before, /not approved for patient records, so nothing was sent/);
    assert.match(before, /\[Approve lan-tok for patient records…\]\(command:medalign\.approveEndpoint\?/);
    assert.equal(fake.requests.length, 0, 'nothing was sent before the approval');
    if (screenshotsAvailable()) {
      editor.selection = new vscode.Selection(pos, pos);
      await vscode.commands.executeCommand('editor.action.showHover');
      const shot = await requestScreenshot('server-tokenizer-hover-estimate', {
        waitFor: ['.monaco-hover:has-text("Approve lan-tok")'],
      });
      assert.ok(shot.bytes > 20_000, `a real screenshot (${shot.bytes} bytes)`);
      await vscode.commands.executeCommand('editor.action.hideHover');
    }

    // The link's argument is what the approval command takes (the modal is skipped in test mode).
    const arg = JSON.parse(
      decodeURIComponent(/command:medalign\.approveEndpoint\?([^)]+)\)/.exec(before)![1]),
    ) as unknown[];
    assert.equal(
      await vscode.commands.executeCommand('medalign.approveEndpoint', arg[0], { skipConfirmation: true }),
      true,
    );

    const rust = RustTokenizer.fromFile(MEDBPE);
    const exact = (await rust.encode(recordText, null, { addSpecialTokens: false })).getIds().length;
    const after = await waitFor(
      'a hover with the server’s count',
      async () => {
        last = await hover();
        return /the server's \/tokenize/.test(last) && last;
      },
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last hover:\n${last || '(none)'}`);
    });
    assert.match(
      after,
      new RegExp(
        `\\*\\*${exact.toLocaleString('en-US')} tokens\\*\\* \\(the server's /tokenize · endpoint lan-tok · model lan-tok\\)`,
      ),
    );
    // The whole record, then the parts the "what fits" table packs, each text once.
    const tokenize = fake.requests.filter((r) => r.path === '/tokenize');
    const sent = tokenize.map((r) => (r.body as { prompt: string }).prompt);
    assert.equal(sent[0], recordText, 'the whole record first, as on disk');
    assert.equal(new Set(sent).size, sent.length, 'each text sent once');
    assert.ok(tokenize.every((r) => r.headers['host'] === `0.0.0.0:${fake.port}`));
    assert.match(after, /What fits below is packed with the server's counts/);
    // Hovering again sends nothing: every count is cached by content.
    assert.equal(await hover(), after);
    assert.equal(fake.requests.filter((r) => r.path === '/tokenize').length, tokenize.length);
    if (screenshotsAvailable()) {
      editor.selection = new vscode.Selection(pos, pos);
      await vscode.commands.executeCommand('editor.action.showHover');
      const shot = await requestScreenshot('server-tokenizer-hover-exact', {
        waitFor: ['.monaco-hover:has-text("the server\'s /tokenize")'],
      });
      assert.ok(shot.bytes > 20_000, `a real screenshot (${shot.bytes} bytes)`);
    }
  });
});
