/**
 * End-to-end: a `strategy: refine` instruction in a real VS Code. The run-lens says how many steps
 * the packer plans before running; Run sends them one after the other to the local fake server
 * (127.0.0.1, started in the suite) and saves every step in the run record.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { FakeOpenAI } from '../../helpers/fakeOpenAI';
import type { MedAlignApi } from '../../../client/src/extension';
import type { RunResult } from '../../../client/src/run/runCommands';
import type { RunTestHooks } from '../../../client/src/run';
import { addFakeEndpoint, requestScreenshot, screenshotsAvailable, waitFor, workspaceFile } from './util';

const EXTENSION_ID = 'medalign-studio.medalign-studio';
const FILE = 'instructions/zz-e2e-refine.medalign';
const ID = 'e2e-refine-1';

describe('MedAlign strategy refine', function () {
  this.timeout(120_000);
  let fake: FakeOpenAI;
  let configText: string;
  let hooks: RunTestHooks;

  before(async () => {
    const ext = vscode.extensions.getExtension<MedAlignApi>(EXTENSION_ID);
    assert.ok(ext);
    const api = await ext.activate();
    assert.ok(api.run.test, 'the run-lens test hooks exist in test mode');
    hooks = api.run.test;
    fake = await FakeOpenAI.start();
    configText = addFakeEndpoint('fake-refine', fake.baseUrl);
    fs.writeFileSync(
      workspaceFile(FILE).fsPath,
      `---\nid: ${ID}\npatient: 2000002\nmodel: fake-refine\ncontext: 8k\nstrategy: refine\nrefine: { maxSteps: 4 }\n---\n\n## Instruction\nList the blood pressures recorded at outpatient visits in 2020.\n`,
    );
  });

  after(async () => {
    fs.writeFileSync(workspaceFile('medalign.config.json').fsPath, configText);
    fs.rmSync(workspaceFile(FILE).fsPath, { force: true });
    fs.rmSync(path.join(workspaceFile('').fsPath, '.medalign', 'runs', ID), { recursive: true, force: true });
    await fake?.close();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('shows "refine · 4 steps" on the run-lens, runs every step and keeps them in the run record', async () => {
    const uri = workspaceFile(FILE);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), {
      viewColumn: vscode.ViewColumn.One,
      preview: false,
    });
    const title = '▶ Run · fake-refine · 8k · refine · 4 steps';
    await waitFor('the refine run-lens', async () => {
      const ls = await vscode.commands.executeCommand<vscode.CodeLens[]>(
        'vscode.executeCodeLensProvider',
        uri,
      );
      return ls.some((l) => l.command?.title === title);
    });
    fake.reset();
    const result = await vscode.commands.executeCommand<RunResult>('medalign.run', uri.toString());
    assert.equal(result.status, 'complete', result.error?.message);
    assert.equal(fake.chatRequests.length, 4);
    assert.match(result.response ?? '', /^Answer 4:/);
    const run = JSON.parse(fs.readFileSync(result.file!, 'utf8')) as {
      strategy: string;
      refine: { planned: number; steps: { step: number; promptHash: string; response: string }[] };
    };
    assert.equal(run.strategy, 'refine');
    assert.deepEqual(
      run.refine.steps.map((s) => s.step),
      [1, 2, 3, 4],
    );
    // Step 2 was asked with step 1's answer.
    const second = fake.chatRequests[1].body as { messages: { content: string }[] };
    assert.ok(second.messages.some((m) => m.content.includes(run.refine.steps[0].response)));
    // The response panel shows the final answer (the last step's).
    await waitFor('the panel to show the final answer', async () => {
      const snap = await hooks.panelSnapshot(1000);
      return snap?.columns[0]?.status === 'complete' && snap.columns[0].text === result.response;
    });
    if (screenshotsAvailable()) {
      const shot = await requestScreenshot('refine-lens-panel', { waitFor: ['iframe.webview.ready'] });
      assert.ok(shot.bytes > 20_000);
    }
  });
});
