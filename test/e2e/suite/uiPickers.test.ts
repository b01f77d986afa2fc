/**
 * End-to-end: pickers and previews in a real VS Code (issue 9): multi-step pickers (step n of m,
 * Back, the current value preselected, titles naming the file), the Context picker's "what fits"
 * from the server, the run matrix's summary grid with collapsible columns, the prompt preview with
 * role-labelled messages under a sticky budget header, and the response panel beside the
 * instruction (lens not cut off, no placeholder flash, buttons in light, dark and high contrast).
 * A fake OpenAI-compatible server on 127.0.0.1 stands in for a model; nothing else is contacted.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { FakeOpenAI } from '../../helpers/fakeOpenAI';
import type { MedAlignApi } from '../../../client/src/extension';
import type { RunTestHooks } from '../../../client/src/run';
import type { QuickInputState } from '../../../client/src/run/quickInput';
import type { RunResult } from '../../../client/src/run/runCommands';
import { EDITOR_SHARE } from '../../../client/src/run/responsePanel';
import {
  addFakeEndpoint,
  chooseInPicker,
  quickInputShowing,
  requestScreenshot,
  screenshotsAvailable,
  waitFor,
  workspaceFile,
} from './util';

const EXTENSION_ID = 'medalign-studio.medalign-studio';
const INSTRUCTION = 'instructions/2000002-bp-2020.medalign';
const FILE_NAME = '2000002-bp-2020.medalign';

describe('MedAlign pickers and previews', function () {
  this.timeout(180_000);
  let api: MedAlignApi;
  let hooks: RunTestHooks;
  let fake: FakeOpenAI;
  let root: string;
  let uri: vscode.Uri;
  let configText: string;

  const quickInput = (what: string, ok: (q: QuickInputState) => boolean) =>
    quickInputShowing(hooks, what, ok);
  const choose = (labels: string[]) => chooseInPicker(hooks, labels);

  async function shot(name: string, waitForSelectors: string[]): Promise<void> {
    if (!screenshotsAvailable()) return;
    const s = await requestScreenshot(name, { waitFor: waitForSelectors });
    assert.ok(s.bytes > 20_000, `${name} is a real screenshot`);
  }

  async function setTheme(theme: string | undefined): Promise<void> {
    await vscode.workspace
      .getConfiguration('workbench')
      .update('colorTheme', theme, vscode.ConfigurationTarget.Global);
    if (theme) await waitFor(`the theme ${theme}`, () => vscode.window.activeColorTheme && true);
  }

  before(async () => {
    const ext = vscode.extensions.getExtension<MedAlignApi>(EXTENSION_ID);
    assert.ok(ext, 'the extension is installed');
    api = await ext.activate();
    assert.ok(api.run.test, 'the run-lens test hooks exist in test mode');
    hooks = api.run.test;
    await api.ready;
    root = workspaceFile('').fsPath;
    uri = workspaceFile(INSTRUCTION);
    fake = await FakeOpenAI.start();
    configText = addFakeEndpoint('fake-ui', fake.baseUrl);
    // Once the server reads the new config, fake-ui can be chosen; then back to the front matter
    // (earlier suites may have left a choice for this window).
    await waitFor('the server to know fake-ui', async () =>
      vscode.commands.executeCommand<boolean>('medalign.pickModel', uri, 'fake-ui', 'window'),
    );
    hooks.clearChoice(uri);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: false });
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    await setTheme(undefined);
    fs.writeFileSync(workspaceFile('medalign.config.json').fsPath, configText);
    fs.rmSync(path.join(root, '.medalign'), { recursive: true, force: true });
    await fake?.close();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('Context…: step 1 of 2 says what fits at each size, the current size active; Back from step 2', async () => {
    const done = vscode.commands.executeCommand<boolean>('medalign.pickContext', uri);
    const s1 = await quickInput('what fits', (q) => q.kind === 'pick' && !q.busy && q.step === 1);
    assert.equal(s1.title, `MedAlign: context for ${FILE_NAME}`);
    assert.deepEqual([s1.step, s1.totalSteps, s1.back], [1, 2, false]);
    assert.deepEqual(s1.active, ['16k'], 'the front matter’s context is preselected');
    const item = (label: string) => s1.items.find((i) => i.label === label)!;
    assert.deepEqual(
      s1.items.map((i) => i.label),
      ['2k', '4k', '8k', '16k', '32k', '64k', '128k', '$(edit) Custom…'],
    );
    assert.match(item('16k').description, /^16,384 tokens · current \(front matter\)$/);
    // The server's fit table, in the hover's words: tokens kept, share, visits, back to which day.
    for (const label of ['2k', '4k', '8k', '16k']) {
      assert.match(
        item(label).detail,
        /^[\d,]+ · \d+(\.\d)?% · \d+ visits?(, one cut)? · back to \d{4}-\d\d-\d\d$/,
        `${label}: ${item(label).detail}`,
      );
    }
    const day = (label: string) => /back to (\S+)$/.exec(item(label).detail)?.[1] ?? '';
    assert.ok(day('16k') < day('2k'), 'a bigger context goes further back');
    await shot('picker-context-fit', ['.quick-input-widget:has-text("back to")']);

    await choose(['8k']);
    const s2 = await quickInput('step 2', (q) => q.step === 2);
    assert.equal(s2.title, `MedAlign: context for ${FILE_NAME}`);
    assert.deepEqual([s2.totalSteps, s2.back], [2, true]);
    assert.deepEqual(
      s2.items.map((i) => i.label),
      ['For this window', 'Write to the front matter'],
    );
    assert.equal(s2.items[1].description, 'context: 8k');
    assert.deepEqual(s2.active, ['Write to the front matter'], 'the context now lives in the front matter');
    await shot('picker-step-2-back', ['.quick-input-widget:has-text("Write to the front matter")']);

    await vscode.commands.executeCommand('workbench.action.quickInputBack');
    const again = await quickInput('step 1 again', (q) => q.step === 1 && !q.busy);
    assert.deepEqual(again.active, ['8k'], 'Back keeps the value chosen before');
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    assert.equal(await done, false);
    assert.equal(hooks.quickInput(), undefined);
    assert.match(fs.readFileSync(uri.fsPath, 'utf8'), /^context: 16k$/m, 'nothing was written');
  });

  it('Model…: the current model preselected; a custom context adds a step', async () => {
    const done = vscode.commands.executeCommand<boolean>('medalign.pickModel', uri);
    const m = await quickInput('the models', (q) => q.kind === 'pick' && q.step === 1);
    assert.equal(m.title, `MedAlign: model for ${FILE_NAME}`);
    assert.deepEqual(m.active, ['gpt-4o']);
    assert.match(m.items.find((i) => i.label === 'gpt-4o')!.description, /current \(front matter\)/);
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    assert.equal(await done, false);

    const ctx = vscode.commands.executeCommand<boolean>('medalign.pickContext', uri);
    await quickInput('the sizes', (q) => q.step === 1 && !q.busy);
    await choose(['$(edit) Custom…']);
    const box = await quickInput('the custom size box', (q) => q.kind === 'input');
    assert.deepEqual([box.step, box.totalSteps, box.back], [2, 3, true]);
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    assert.equal(await ctx, false);
  });

  it('Run matrix…: models step 1 of 3 (current checked), contexts 2 of 3, templates 3 of 3, with Back', async () => {
    const done = vscode.commands.executeCommand<RunResult[]>('medalign.runMatrix', uri);
    const s1 = await quickInput('the matrix models', (q) => q.step === 1);
    assert.equal(s1.title, `MedAlign: run matrix for ${FILE_NAME}`);
    assert.deepEqual([s1.totalSteps, s1.back], [3, false]);
    assert.deepEqual(s1.selected, ['gpt-4o']);
    await shot('picker-matrix-models', ['.quick-input-widget:has-text("run matrix")']);
    await choose(['baseline', 'fake-ui']);
    const s2 = await quickInput('the matrix contexts', (q) => q.step === 2 && !q.busy);
    assert.deepEqual([s2.totalSteps, s2.back], [3, true]);
    assert.deepEqual(s2.selected, ['16k']);
    assert.match(s2.items[0].detail, /back to \d{4}-\d\d-\d\d$/);
    await choose(['16k']);
    const s3 = await quickInput('the matrix templates', (q) => q.step === 3);
    assert.deepEqual([s3.totalSteps, s3.back], [3, true]);
    assert.deepEqual(s3.selected, ['As written in the file']);
    assert.deepEqual(
      s3.items.slice(0, 2).map((i) => i.label),
      ['As written in the file', 'builtin'],
    );
    assert.ok(s3.items.some((i) => i.label === 'templates/medalign.prompt'));
    await shot('picker-matrix-templates', ['.quick-input-widget:has-text("run matrix")']);
    await vscode.commands.executeCommand('workbench.action.quickInputBack');
    const back2 = await quickInput('the contexts again', (q) => q.step === 2 && !q.busy);
    assert.deepEqual(back2.selected, ['16k'], 'Back keeps the checked contexts');
    await vscode.commands.executeCommand('workbench.action.quickInputBack');
    const back = await quickInput('the models again', (q) => q.step === 1);
    assert.deepEqual(back.selected, ['baseline', 'fake-ui'], 'Back keeps the checked models');
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    assert.deepEqual(await done, []);
  });

  it('Run All…: step 1 of 3 models, 2 of 3 contexts, 3 of 3 resume, each with Back', async () => {
    const done = vscode.commands.executeCommand('medalign.runAll', workspaceFile('instructions'));
    const s1 = await quickInput('the batch models', (q) => q.step === 1);
    assert.deepEqual([s1.totalSteps, s1.back], [3, false]);
    assert.match(s1.title, /^MedAlign: run \d+ instructions in instructions$/);
    assert.deepEqual(s1.selected, ['As written in each file']);
    await choose(['baseline']);
    const s2 = await quickInput('the batch contexts', (q) => q.step === 2);
    assert.equal(s2.back, true);
    await choose(['4k']);
    const s3 = await quickInput('resume or not', (q) => q.step === 3);
    assert.deepEqual(s3.active, ['Skip what already ran']);
    await vscode.commands.executeCommand('workbench.action.quickInputBack');
    const back = await quickInput('the contexts again', (q) => q.step === 2);
    assert.deepEqual(back.selected, ['4k']);
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    await done;
  });

  it('Preview prompt: role-labelled messages, wrapped, under a budget header that stays in view', async () => {
    const source = await vscode.commands.executeCommand<vscode.Uri>('medalign.previewPrompt', uri);
    assert.equal(source.toString(), uri.toString());
    const snap = await waitFor('the preview to render', async () => {
      const s = await api.preview.snapshot(uri, 1000);
      return s && s.messages.length > 0 && s;
    });
    assert.deepEqual(
      snap.messages.map((m) => m.role),
      ['system', 'user'].filter((r) => snap.messages.some((m) => m.role === r)),
    );
    const user = snap.messages.find((m) => m.role === 'user');
    assert.ok(user, 'a user message');
    assert.match(user.content, /EHR: <record>/);
    assert.match(user.content, /List the blood pressures recorded at outpatient visits in 2020\./);
    assert.ok(user.content.includes('\n'), 'the message keeps its lines');
    assert.ok(snap.header.some((l) => /^Budget at 16k \(recent; o200k_base · model gpt-4o\)$/.test(l)));
    assert.ok(snap.header.some((l) => /^prompt: [\d,]+ tokens, limit/.test(l)));
    assert.equal(snap.headerPosition, 'sticky');
    assert.equal(snap.contentWhiteSpace, 'pre-wrap');
    await shot('prompt-preview', ['iframe.webview.ready']);
    const doc = await vscode.commands.executeCommand<vscode.TextDocument>(
      'medalign.previewPromptAsText',
      uri,
    );
    assert.equal(doc.uri.scheme, 'medalign-preview');
    assert.ok(doc.getText().includes(user.content));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('Run matrix: a summary grid first, the shape in words, columns that collapse and expand', async () => {
    await vscode.commands.executeCommand('workbench.action.editorLayoutSingle');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: false });
    const results = await vscode.commands.executeCommand<RunResult[]>('medalign.runMatrix', uri, {
      models: ['baseline', 'fake-ui'],
      contexts: ['4k', '8k', '16k'],
    });
    assert.deepEqual(
      results.map((r) => r.status),
      Array<string>(6).fill('complete'),
    );
    const snap = await waitFor('six complete columns', async () => {
      const s = await hooks.panelSnapshot(1000);
      return s && s.columns.length === 6 && s.columns.every((c) => c.status === 'complete') && s;
    });
    assert.equal(snap.detail, 'Run matrix: 2 models × 3 context lengths (6 runs)');
    assert.deepEqual(snap.summary[0], [
      'Endpoint',
      'Context',
      'Status',
      'Prompt',
      'Kept record',
      'Answer',
      'Latency',
    ]);
    assert.deepEqual(
      snap.summary.slice(1).map((r) => r.slice(0, 3)),
      [
        ['baseline', '4k', 'complete'],
        ['baseline', '8k', 'complete'],
        ['baseline', '16k', 'complete'],
        ['fake-ui', '4k', 'complete'],
        ['fake-ui', '8k', 'complete'],
        ['fake-ui', '16k', 'complete'],
      ],
    );
    for (const row of snap.summary.slice(1)) {
      assert.match(row[3], /^≈?[\d,]+$/, `prompt tokens: ${row[3]}`);
      assert.match(row[4], /^\d{4}-\d\d-\d\d( → \d{4}-\d\d-\d\d)?$/, row[4]);
      assert.match(row[5], /^[\d,]+ tokens$/);
      assert.match(row[6], /^\d+(\.\d)? m?s/);
    }
    // A longer context keeps the record further back.
    assert.ok(snap.summary[3][4].slice(0, 10) < snap.summary[1][4].slice(0, 10), 'baseline 16k vs 4k');
    // Past three columns the rest start collapsed; the grid shows them all.
    assert.deepEqual(
      snap.columns.map((c) => c.collapsed),
      [false, false, false, true, true, true],
    );
    // Short file references, not paths.
    for (const c of snap.columns) {
      assert.match(c.meta, / · run [a-z0-9]+$/);
      assert.ok(!c.meta.includes('.medalign/runs'), c.meta);
    }
    await shot('matrix-summary', ['iframe.webview.ready']);
    hooks.panelCollapse('all', false);
    await waitFor('every column expanded', async () =>
      (await hooks.panelSnapshot(1000))?.columns.every((c) => !c.collapsed),
    );
    hooks.panelCollapse(0, true);
    const one = await waitFor('the first column collapsed', async () => {
      const s = await hooks.panelSnapshot(1000);
      return s?.columns[0].collapsed && s;
    });
    assert.deepEqual(
      one.columns.map((c) => c.collapsed),
      [true, false, false, false, false, false],
    );
    await shot('matrix-expanded', ['iframe.webview.ready']);
  });

  it('Run: the panel opens beside the instruction without squeezing it, with no placeholder flash', async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('workbench.action.editorLayoutSingle');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), {
      viewColumn: vscode.ViewColumn.One,
      preview: false,
    });
    assert.equal(vscode.window.tabGroups.all.length, 1);
    const seen: boolean[] = [];
    const running = vscode.commands.executeCommand<RunResult>('medalign.run', uri, { model: 'baseline' });
    // Read the panel from the moment it answers until the run shows as complete.
    await waitFor('the run to show in the panel', async () => {
      const s = await hooks.panelSnapshot(500);
      if (s) seen.push(s.placeholder);
      return s?.columns[0]?.status === 'complete';
    });
    const r = await running;
    assert.equal(r.status, 'complete');
    assert.ok(seen.length > 0, 'the panel was read while it loaded');
    assert.ok(!seen.includes(true), 'the "Run an instruction…" placeholder never showed');
    type Layout = { orientation: number; groups: { size?: number }[] };
    const layout = await waitFor('two groups, the instruction wider', async () => {
      const l = await vscode.commands.executeCommand<Layout>('vscode.getEditorLayout');
      const [a, b] = l.groups.map((g) => g.size ?? 0);
      return l.groups.length === 2 && a > b && l;
    });
    const [a, b] = layout.groups.map((g) => g.size ?? 0);
    assert.ok(Math.abs(a / (a + b) - EDITOR_SHARE) < 0.03, `instruction share ${a / (a + b)}`);
    await waitFor('the gold button', async () => (await hooks.panelSnapshot(1000))?.columns.length === 1);
    for (const [name, theme] of [
      ['response-light', 'Default Light Modern'],
      ['response-dark', 'Default Dark Modern'],
      ['response-high-contrast', 'Default High Contrast'],
    ] as const) {
      await setTheme(theme);
      await waitFor(`the ${theme} theme`, () =>
        theme === 'Default Light Modern'
          ? vscode.window.activeColorTheme.kind === vscode.ColorThemeKind.Light
          : theme === 'Default Dark Modern'
            ? vscode.window.activeColorTheme.kind === vscode.ColorThemeKind.Dark
            : vscode.window.activeColorTheme.kind === vscode.ColorThemeKind.HighContrast,
      );
      await shot(name, ['iframe.webview.ready']);
    }
  });
});
