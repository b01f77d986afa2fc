/**
 * End-to-end: `strategy: refine` in the Record Timeline and the response panel, in a real VS Code.
 * The timeline draws the chunks `medalign pack --strategy refine --json` plans (the CLI run as a
 * process on the same workspace), numbered in send order; a step's label shows its chunk and its
 * start in the record. A run against the local fake server (127.0.0.1) streams "step k of N" with
 * the finished steps kept above the answer; Stop within a step keeps them, Resume sends only the
 * rest, and Show last run shows the stored steps. Every figure is read from the webviews' DOM.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { FakeOpenAI, chunkText } from '../../helpers/fakeOpenAI';
import type { MedAlignApi } from '../../../client/src/extension';
import type { RunResult } from '../../../client/src/run/runCommands';
import type { RunTestHooks } from '../../../client/src/run';
import type { PanelSnapshot } from '../../../client/src/run/panelMessages';
import type { TimelineDescribe } from '../../../client/src/timeline/messages';
import type { TimelineModel } from '../../../client/src/timeline/model';
import { addFakeEndpoint, requestScreenshot, screenshotsAvailable, waitFor, workspaceFile } from './util';

const EXTENSION_ID = 'medalign-studio.medalign-studio';
const FILE = 'instructions/zz-e2e-refineview.medalign';
const ID = 'e2e-refineview-1';
const RECORD = 'records/2000002.xml';

interface PackStep {
  step: number;
  tokens: number;
  recordTokens: number;
  from: string | null;
  to: string | null;
}

describe('MedAlign refine view: timeline chunks and panel steps', function () {
  this.timeout(420_000);
  let fake: FakeOpenAI;
  let configText: string;
  let hooks: RunTestHooks;
  let api: MedAlignApi;
  let cli: string;
  let root: string;
  let uri: vscode.Uri;
  /** The side bar was widened for the timeline (restored by the test, or in `after` when it failed). */
  let widened = false;

  const describeView = () => vscode.commands.executeCommand<TimelineDescribe>('medalign.timeline.describe');
  const runCli = (args: string[]): string =>
    execFileSync(process.execPath, [cli, ...args], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
  /** The panel's DOM once `ok` holds for it (on a timeout: what it last showed, and the state sent). */
  async function panelShows(
    what: string,
    ok: (s: PanelSnapshot) => boolean,
    timeoutMs = 30_000,
  ): Promise<PanelSnapshot> {
    let last: PanelSnapshot | undefined;
    try {
      return await waitFor(
        `the panel to show ${what}`,
        async () => {
          const snap = await hooks.panelSnapshot(1000);
          if (snap !== undefined) last = snap;
          return snap !== undefined && ok(snap) ? snap : undefined;
        },
        timeoutMs,
      );
    } catch (e) {
      const state = hooks.panelState();
      throw new Error(
        `${(e as Error).message}; last shown: ${JSON.stringify(last?.columns)}; state: ${JSON.stringify(
          state.columns.map((c) => ({ status: c.status, text: c.text.slice(0, 80), refine: c.refine })),
        )}; visible: ${hooks.panelVisible()}; requests: ${fake.chatRequests.length}`,
      );
    }
  }
  async function shot(name: string, waitForSel: string[] = ['iframe.webview.ready']): Promise<void> {
    if (!screenshotsAvailable()) return;
    const s = await requestScreenshot(name, { waitFor: waitForSel });
    assert.ok(s.bytes > 20_000, `${name} is a real screenshot`);
  }

  before(async () => {
    const ext = vscode.extensions.getExtension<MedAlignApi>(EXTENSION_ID);
    assert.ok(ext);
    api = await ext.activate();
    await api.ready;
    assert.ok(api.run.test, 'the run-lens test hooks exist in test mode');
    hooks = api.run.test;
    cli = path.join(ext.extensionPath, 'dist', 'cli.js');
    root = workspaceFile('').fsPath;
    fake = await FakeOpenAI.start();
    configText = addFakeEndpoint('fake-refineview', fake.baseUrl);
    uri = workspaceFile(FILE);
    fs.writeFileSync(
      uri.fsPath,
      `---\nid: ${ID}\npatient: 2000002\nmodel: fake-refineview\ncontext: 8k\nstrategy: refine\nrefine: { maxSteps: 4 }\n---\n\n## Instruction\nList the blood pressures recorded at outpatient visits in 2020.\n`,
    );
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), {
      viewColumn: vscode.ViewColumn.One,
      preview: false,
    });
  });

  after(async () => {
    if (widened) {
      await vscode.commands.executeCommand('medalign.timeline.focus');
      for (let i = 0; i < 4; i++) await vscode.commands.executeCommand('workbench.action.decreaseViewSize');
    }
    fs.writeFileSync(workspaceFile('medalign.config.json').fsPath, configText);
    fs.rmSync(uri.fsPath, { force: true });
    fs.rmSync(path.join(root, '.medalign', 'runs', ID), { recursive: true, force: true });
    await fake?.close();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('the timeline draws the refine chunks medalign pack plans, numbered in send order', async () => {
    await vscode.commands.executeCommand('medalign.timeline.show', uri);
    const d = await waitFor(
      'the timeline to draw 4 chunks',
      async () => {
        const x = await describeView();
        return x.state === 'model' && x.strategy === 'refine' && x.refine?.length === 4 ? x : undefined;
      },
      60_000,
    );
    assert.equal(d.record, RECORD);
    const pack = JSON.parse(runCli(['pack', FILE, '--json'])) as { steps: PackStep[] };
    assert.deepEqual(
      d.refine!.map((c) => [c.step, c.tokens, c.recordTokens, c.from?.slice(0, 10), c.to?.slice(0, 10)]),
      pack.steps.map((s) => [s.step, s.tokens, s.recordTokens, s.from, s.to]),
      'the chunks are the pack’s steps',
    );
    // Every step is in the table; on the plot, once the kept part (the chunks) fills the view, each
    // chunk is drawn with its numbered label.
    await vscode.commands.executeCommand('medalign.timeline.focus');
    for (let i = 0; i < 4; i++) await vscode.commands.executeCommand('workbench.action.increaseViewSize');
    widened = true;
    api.timeline.view.act({ kind: 'fit', what: 'kept' });
    const fitted = await waitFor('every chunk labelled', async () => {
      const x = await describeView();
      return x.refine?.every((c) => c.visible && c.labelled) === true ? x : undefined;
    });
    for (const c of fitted.refine!) {
      assert.match(c.label, new RegExp(`^Step ${c.step} of 4: visits? \\d+`));
    }
    assert.deepEqual(d.inert, { globals: [], elements: [] });
    await shot('timeline-refine-chunks');

    // Step 2's label: its chunk fills the view, and the record opens at the chunk's start.
    const model = JSON.parse(runCli(['timeline', FILE, '--json'])) as TimelineModel;
    api.timeline.view.act({ kind: 'clickStep', step: 2 });
    const after = await waitFor('step 2 shown', async () => {
      const x = await describeView();
      return x.step === 2 ? x : undefined;
    });
    const two = model.refine![1];
    assert.ok(
      after.visibleRange!.from <= two.from!.slice(0, 10) && after.visibleRange!.to >= two.to!.slice(0, 10),
    );
    assert.ok(after.visibleRange!.zoom > 1, 'zoomed in on the chunk');
    assert.match(after.detailsText ?? '', /Refine step 2 of 4/);
    const editor = await waitFor('the record at step 2’s start', () =>
      vscode.window.visibleTextEditors.find(
        (e) =>
          e.document.uri.fsPath.endsWith(path.join('records', '2000002.xml')) &&
          e.selection.start.line === two.range[0],
      ),
    );
    assert.match(editor.document.lineAt(two.range[0]).text.slice(two.range[1]), /^</);
    await shot('timeline-refine-step2');
    await vscode.commands.executeCommand('medalign.timeline.focus');
    for (let i = 0; i < 4; i++) await vscode.commands.executeCommand('workbench.action.decreaseViewSize');
    widened = false;
  });

  it('a refine run streams step k of N with finished steps kept; Stop keeps them; Resume sends the rest', async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), {
      viewColumn: vscode.ViewColumn.One,
      preview: false,
    });
    fake.reset();
    const slow =
      'Step two reads the 2020 outpatient blood pressures one by one: 128/82, 134/86, 141/88, 126/80 and more.';
    fake.script({ kind: 'ok' }, { kind: 'ok', chunks: chunkText(slow, 1), chunkDelayMs: 2500 });
    const running = vscode.commands.executeCommand<RunResult>('medalign.run', uri.toString());
    const streaming = await panelShows(
      'step 2 streaming with step 1 kept',
      (s) => s.columns[0]?.stepLine === 'Step 2 of 4 · streaming…' && s.columns[0].steps.length === 1,
      60_000,
    );
    assert.match(streaming.columns[0].steps[0].label, /^Step 1 of 4 · complete/);
    assert.match(streaming.columns[0].steps[0].text, /^Answer 1:/);
    assert.ok(streaming.columns[0].actions.includes('Stop'));
    hooks.panelCollapseStep(0, 1, false);
    await panelShows('step 1 open', (s) => s.columns[0]?.steps[0]?.collapsed === false);
    await shot('refine-panel-streaming');

    hooks.panelPress(0, 'Stop');
    const result = await running;
    assert.equal(result.status, 'cancelled');
    assert.equal(fake.chatRequests.length, 2, 'nothing sent after Stop');
    const stopped = await panelShows('the stopped run', (s) => s.columns[0]?.status === 'cancelled');
    const col = stopped.columns[0];
    assert.match(
      col.message,
      /^Cancelled in step 2 of 4: step 1 finished and is kept in the run file\. Resume from step 2/,
    );
    assert.ok(col.actions.includes('Resume from step 2'), col.actions.join(', '));
    assert.ok(slow.startsWith(col.text) && col.text.length > 0, 'what arrived of step 2');
    assert.match(col.stepLine, /^Answer of step 2 of 4 as far as it came \(cancelled\)/);
    const saved = JSON.parse(fs.readFileSync(result.file!, 'utf8')) as {
      refine: { steps: { step: number; status: string; response: string }[] };
    };
    assert.deepEqual(
      saved.refine.steps.map((s) => s.status),
      ['complete', 'cancelled'],
    );
    assert.equal(col.steps[0].text, saved.refine.steps[0].response);

    fake.reset();
    hooks.panelPress(0, 'Resume from step 2');
    const done = await panelShows(
      'the final answer after Resume',
      (s) => s.columns[0]?.status === 'complete' && s.columns[0].stepLine === 'Final answer · step 4 of 4',
      60_000,
    );
    assert.equal(fake.chatRequests.length, 3, 'steps 2 to 4 only');
    const final = done.columns[0];
    assert.deepEqual(
      final.steps.map((s) => s.label.replace(/ · prompt.*?answer [\d,]+/, '')),
      ['Step 1 of 4 · complete · from an earlier run', 'Step 2 of 4 · complete', 'Step 3 of 4 · complete'],
    );
    assert.match(final.text, /^Answer \d:/);
    assert.ok(!final.actions.some((a) => a.startsWith('Resume')));
    assert.match(final.meta, /refine 4\/4 steps/);
    await shot('refine-panel-final');

    // Show last run: the stored steps, the same way.
    await vscode.commands.executeCommand('medalign.showLastRun', uri);
    const last = await panelShows('the saved run', (s) => s.detail.startsWith('Saved run of'));
    assert.deepEqual(
      last.columns[0].steps.map((s) => s.text),
      final.steps.map((s) => s.text),
    );
    assert.equal(last.columns[0].text, final.text);
    assert.equal(last.columns[0].stepLine, 'Final answer · step 4 of 4');
  });
});
