/**
 * End-to-end, issue 9 ("the main job"): the Getting Started walkthrough, the MedAlign view container
 * and the keybindings in a real VS Code. The walkthrough is opened as a user opens it
 * (`workbench.action.openWalkthrough` with its id) and each step's command is run in order on the
 * workspace copy of samples/, checking that it did what the step says.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { MedAlignApi } from '../../../client/src/extension';
import type { GoldComparison } from '../../../client/src/run/goldDiff';
import type { RunResult } from '../../../client/src/run/runCommands';
import { requestScreenshot, screenshotsAvailable, waitFor, workspaceFile } from './util';

const EXTENSION_ID = 'medalign-studio.medalign-studio';
const WALKTHROUGH = `${EXTENSION_ID}#gettingStarted`;
const SAMPLE = 'instructions/1234555-ed-antihypertensives.medalign';
const SAMPLE_ID = '90000000931';

interface Manifest {
  contributes: {
    commands: { command: string }[];
    keybindings: { command: string; key: string }[];
    walkthroughs: { id: string; steps: { id: string; description: string }[] }[];
  };
}

function runFiles(id: string): string[] {
  const dir = path.join(workspaceFile('.medalign/runs').fsPath, id);
  return fs.existsSync(dir)
    ? fs.readdirSync(dir).filter((n) => n.endsWith('.json') && !n.startsWith('.'))
    : [];
}

const activeFile = (): string | undefined => vscode.window.activeTextEditor?.document.uri.fsPath;

describe('MedAlign getting started', function () {
  this.timeout(120_000);
  let manifest: Manifest;
  let api: MedAlignApi;

  before(async () => {
    const ext = vscode.extensions.getExtension<MedAlignApi>(EXTENSION_ID);
    assert.ok(ext, 'the extension is installed');
    api = await ext.activate();
    await api.ready;
    manifest = ext.packageJSON as Manifest;
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('registers every command package.json declares, and the view container', async () => {
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = manifest.contributes.commands.map((c) => c.command).filter((id) => !registered.has(id));
    assert.deepEqual(missing, []);
    // VS Code registers a command per view container and a focus command per view.
    assert.ok(registered.has('workbench.view.extension.medalign'), 'the MedAlign container is registered');
    assert.ok(registered.has('medalign.runs.focus'), 'the Runs view is registered');
  });

  it('opens the walkthrough (workbench.action.openWalkthrough with its id)', async () => {
    const steps = manifest.contributes.walkthroughs[0].steps.map((s) => s.id);
    assert.deepEqual(steps, [
      'openSample',
      'hoverPatient',
      'previewPrompt',
      'runBaseline',
      'compareWithGold',
      'endpoint',
    ]);
    await vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH, false);
    if (screenshotsAvailable()) {
      const shot = await requestScreenshot('walkthrough', {
        waitFor: [
          '.gettingStartedContainer:has-text("Get Started with MedAlign Studio")',
          '.getting-started-step:has-text("Hover the patient")',
        ],
      });
      assert.ok(shot.bytes > 10_000, `screenshot ${shot.path}`);
    }
  });

  it('step 1, open a sample: the sample instruction, beside the walkthrough', async () => {
    const opened = await vscode.commands.executeCommand<vscode.Uri>('medalign.walkthrough.openSample');
    assert.equal(opened?.fsPath, workspaceFile(SAMPLE).fsPath);
    assert.equal(activeFile(), workspaceFile(SAMPLE).fsPath);
  });

  it("step 2, hover the patient: the caret on `patient: 1234555`, the record's hover shown", async () => {
    const pos = await vscode.commands.executeCommand<vscode.Position>('medalign.walkthrough.hoverPatient');
    assert.ok(pos, 'a position');
    const line = vscode.window.activeTextEditor!.document.lineAt(pos.line).text;
    assert.match(line, /^patient: 1234555/);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      workspaceFile(SAMPLE),
      pos,
    );
    const hoverText = hovers
      .flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value)))
      .join('\n');
    assert.match(hoverText, /tokens/);
    if (screenshotsAvailable()) {
      const shot = await requestScreenshot('walkthrough-hover', {
        waitFor: ['.monaco-hover:has-text("tokens")'],
      });
      assert.ok(shot.bytes > 10_000, `screenshot ${shot.path}`);
    }
  });

  it('step 3, preview the prompt: the packed prompt of the sample, its messages with their roles', async () => {
    const source = await vscode.commands.executeCommand<vscode.Uri>('medalign.walkthrough.previewPrompt');
    assert.ok(source, 'a preview was opened');
    assert.match(source.path, /1234555-ed-antihypertensives\.medalign$/);
    const snap = await waitFor('the prompt preview', async () => {
      const v = await api.preview.snapshot(source, 1000);
      return v && v.messages.length > 0 && v;
    });
    const user = snap.messages.find((m) => m.role === 'user');
    assert.ok(user, 'a user message');
    assert.match(user.content, /Which antihypertensives/);
    assert.match(user.content, /<record>/);
  });

  it("step 4, run the baseline: a complete run, saved in the workspace's runs folder", async () => {
    const before = runFiles(SAMPLE_ID).length;
    const result = await vscode.commands.executeCommand<RunResult>('medalign.walkthrough.runBaseline');
    assert.equal(result?.status, 'complete', JSON.stringify(result?.error));
    assert.equal(result.model, 'baseline');
    assert.equal(runFiles(SAMPLE_ID).length, before + 1);
  });

  it("step 5, compare with gold: a word diff of the gold response and that run's answer", async () => {
    const c = await vscode.commands.executeCommand<GoldComparison>('medalign.walkthrough.compareWithGold');
    assert.ok(c, 'a comparison was opened');
    const gold = c.diff.parts
      .filter((p) => p.op !== 'insert')
      .map((p) => p.text)
      .join('');
    assert.match(gold, /Labetalol 5 mg IV/);
    // The answer is the diff's parts without the gold-only words.
    const answer = c.diff.parts
      .filter((p) => p.op !== 'delete')
      .map((p) => p.text)
      .join('');
    assert.ok(answer.trim().length > 0, 'the run has an answer');
    const hooks = api.run.test;
    assert.ok(hooks, 'the test hooks');
    await waitFor('the word diff view', () => hooks.goldDiff().visible);
  });

  it('step 6, set up an endpoint and a key: the config opened at `endpoints`, a key stored and removed', async () => {
    const config = await vscode.commands.executeCommand<vscode.Uri>('medalign.walkthrough.openConfig');
    assert.equal(config?.fsPath, workspaceFile('medalign.config.json').fsPath);
    const editor = vscode.window.activeTextEditor!;
    assert.equal(editor.document.uri.fsPath, config.fsPath);
    assert.match(editor.document.lineAt(editor.selection.active.line).text, /"endpoints"/);
    const key = `sk-walkthrough-${randomBytes(8).toString('hex')}`;
    assert.equal(
      await vscode.commands.executeCommand<boolean>('medalign.setApiKey', 'local-vllm', key),
      true,
    );
    await vscode.commands.executeCommand('medalign.clearApiKey', 'local-vllm');
  });

  it('MedAlign: Get Started shows the walkthrough again', async () => {
    await vscode.commands.executeCommand('medalign.showGettingStarted');
    if (screenshotsAvailable()) {
      const shot = await requestScreenshot('walkthrough-done', {
        waitFor: ['.gettingStartedContainer:has-text("Set up an endpoint and a key")'],
      });
      assert.ok(shot.bytes > 10_000, `screenshot ${shot.path}`);
    }
  });

  it('shows the Runs view in the MedAlign container of the activity bar', async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('workbench.view.extension.medalign');
    await vscode.commands.executeCommand('medalign.runs.focus');
    if (!screenshotsAvailable()) return;
    const shot = await requestScreenshot('runs-view-container', {
      waitFor: [
        '.activitybar [aria-label^="MedAlign"]',
        // Two views in the container (Record Timeline, Runs): each under a header of its own.
        '.part.sidebar .composite.title:has-text("MedAlign")',
        '.part.sidebar .pane-header:has-text("Runs")',
        `.part.sidebar .monaco-list-row:has-text("${SAMPLE_ID}")`,
      ],
    });
    assert.ok(shot.bytes > 10_000, `screenshot ${shot.path}`);
  });

  it('runs and previews from the keyboard (Ctrl+Alt+R, Ctrl+K V)', async function () {
    if (!screenshotsAvailable()) this.skip(); // keys are pressed by the runner's browser
    const keys = new Map(manifest.contributes.keybindings.map((k) => [k.command, k.key]));
    assert.equal(keys.get('medalign.run'), 'ctrl+alt+r');
    assert.equal(keys.get('medalign.previewPrompt'), 'ctrl+k v');
    assert.equal(keys.get('medalign.cancelRuns'), 'ctrl+alt+k');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.window.showTextDocument(workspaceFile(SAMPLE), { preview: false });
    const before = runFiles(SAMPLE_ID).length;
    await requestScreenshot('keybinding-run', { press: ['Control+Alt+r'] });
    await waitFor('a run started from Ctrl+Alt+R', () => runFiles(SAMPLE_ID).length > before);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.window.showTextDocument(workspaceFile(SAMPLE), { preview: false });
    await requestScreenshot('keybinding-preview-pressed', {
      press: ['Control+k', 'v'],
      waitFor: ['.tab:has-text("Prompt: 1234555-ed-antihypertensives.medalign")'],
    });
    await waitFor('the prompt preview from Ctrl+K V', async () => {
      const v = await api.preview.snapshot(workspaceFile(SAMPLE), 1000);
      return v && v.messages.length > 0;
    });
    // Once the messages are drawn: what the user sees after Ctrl+K V.
    await requestScreenshot('keybinding-preview', { waitFor: ['iframe.webview.ready'] });
  });
});
