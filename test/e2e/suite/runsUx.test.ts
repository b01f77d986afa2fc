/**
 * End-to-end: what a user meets around runs (issue 9, "Runs"), in a real VS Code: a local server
 * that refuses the connection (a closed port on 127.0.0.1) fails at once with a sentence and buttons,
 * a refused endpoint offers Approve… in the panel, Compare with gold is a word diff of the latest
 * complete run, the status bar shows a run in flight and cancels it, failed runs are cleared in
 * bulk, runs are kept apart by file when two files share an id, and a file that cannot run says why.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { FakeOpenAI, chunkText, closedPort } from '../../helpers/fakeOpenAI';
import type { MedAlignApi } from '../../../client/src/extension';
import type { RunTestHooks } from '../../../client/src/run';
import type { RunResult } from '../../../client/src/run/runCommands';
import type { GoldComparison } from '../../../client/src/run/goldDiff';
import type { RenderedColumn } from '../../../client/src/run/panelMessages';
import { requestScreenshot, screenshotsAvailable, waitFor, workspaceFile } from './util';

const EXTENSION_ID = 'medalign-studio.medalign-studio';
const INSTRUCTION = 'instructions/2000002-bp-2020.medalign';
const ANSWER =
  'Outpatient blood pressures in 2020: 01/07 128/77, 01/29 143/77, 02/13 131/88, 03/06 131/83. ' +
  'Only two readings are under 130/80, so he is not at goal (<b>"target" & plan</b>).';

function titles(lenses: vscode.CodeLens[]): string[] {
  return lenses.map((l) => l.command?.title ?? '');
}

async function lensesOf(uri: vscode.Uri): Promise<vscode.CodeLens[]> {
  // The lens provider runs on documents VS Code has loaded.
  await vscode.workspace.openTextDocument(uri);
  return vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
}

function runsOfStatus(root: string, id: string, status: string): string[] {
  const dir = path.join(root, '.medalign', 'runs', id);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
    .map((n) => path.join(dir, n))
    .filter((f) => (JSON.parse(fs.readFileSync(f, 'utf8')) as { status: string }).status === status);
}

async function shot(name: string, waitForSelectors: string[]): Promise<void> {
  if (!screenshotsAvailable()) return;
  const s = await requestScreenshot(name, { waitFor: waitForSelectors });
  assert.ok(s.bytes > 10_000, `${name}: a real screenshot`);
}

describe('MedAlign runs UX', function () {
  this.timeout(120_000);
  let hooks: RunTestHooks;
  let fake: FakeOpenAI;
  let root: string;
  let uri: vscode.Uri;
  let port: number;
  let configText: string;

  async function shownColumn(what: string, ok: (c: RenderedColumn) => boolean): Promise<RenderedColumn> {
    return waitFor(`the response panel to show ${what}`, async () => {
      const c = (await hooks.panelSnapshot(1000))?.columns[0];
      return c && ok(c) ? c : undefined;
    });
  }

  before(async () => {
    const ext = vscode.extensions.getExtension<MedAlignApi>(EXTENSION_ID);
    assert.ok(ext);
    const api = await ext.activate();
    assert.ok(api.run.test);
    hooks = api.run.test;
    root = workspaceFile('').fsPath;
    uri = workspaceFile(INSTRUCTION);
    fake = await FakeOpenAI.start();
    port = await closedPort();
    const configUri = workspaceFile('medalign.config.json');
    configText = fs.readFileSync(configUri.fsPath, 'utf8');
    const config = JSON.parse(configText) as { endpoints: unknown[] };
    config.endpoints.push(
      { id: 'fake-local', kind: 'openai-compatible', baseUrl: fake.baseUrl, model: 'fake-model' },
      { id: 'dead-local', kind: 'openai-compatible', baseUrl: `http://127.0.0.1:${port}/v1`, model: 'm' },
      {
        id: 'phi-remote',
        kind: 'openai-compatible',
        baseUrl: `http://phi-test.invalid:${fake.port}/v1`,
        model: 'fake-model',
      },
    );
    fs.writeFileSync(configUri.fsPath, JSON.stringify(config, null, 2));
    fs.rmSync(path.join(root, '.medalign'), { recursive: true, force: true });
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), {
      viewColumn: vscode.ViewColumn.One,
      preview: false,
    });
  });

  after(async () => {
    fs.writeFileSync(workspaceFile('medalign.config.json').fsPath, configText);
    fs.rmSync(path.join(root, '.medalign'), { recursive: true, force: true });
    await fake?.close();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('a local server that refuses the connection: one attempt, a sentence with the next step, and buttons', async () => {
    const host = `127.0.0.1:${port}`;
    const r = await vscode.commands.executeCommand<RunResult>('medalign.run', uri, { model: 'dead-local' });
    assert.equal(r.status, 'error');
    assert.equal(r.error?.kind, 'network');
    assert.equal(
      r.error?.message,
      `Nothing is listening at ${host}: 'dead-local' refused the connection. Start your server at ${host}, or choose another model.`,
    );
    // Not retried: the saved run made one attempt (no 1-2-4 s backoff).
    const saved = JSON.parse(fs.readFileSync(r.file!, 'utf8')) as { timings: { attempts: number } };
    assert.equal(saved.timings.attempts, 1);
    const shown = await shownColumn('the sentence and its buttons', (c) => c.fixes.length > 0);
    assert.equal(shown.message, r.error?.message);
    assert.deepEqual(shown.fixes, ['Retry', 'Choose model…', 'Open config']);
    await shot('runs-refused-connection', ['iframe.webview.ready']);

    // Retry in the panel runs it again (a second saved run, again one attempt).
    const before = runsOfStatus(root, '90000000204', 'error').length;
    hooks.panelPress(0, 'Retry');
    await waitFor('the retried run', () => runsOfStatus(root, '90000000204', 'error').length === before + 1);
  });

  it('a refused (unapproved) endpoint shows Approve… in the response panel itself', async () => {
    fake.reset();
    const r = await vscode.commands.executeCommand<RunResult>('medalign.run', uri, { model: 'phi-remote' });
    assert.equal(r.status, 'refused');
    const shown = await shownColumn('Approve…', (c) => c.status === 'refused' && c.fixes.length > 0);
    assert.deepEqual(shown.fixes, ['Approve…']);
    assert.match(shown.message, /not on this machine and you have not approved it/);
    assert.equal(fake.requests.length, 0);
    await shot('runs-approve-in-panel', ['iframe.webview.ready']);
  });

  it('Compare with gold: a word diff of the latest complete run, not offered for failed runs', async () => {
    // Only failed runs so far: no Compare with gold.
    const noCompare = titles(await lensesOf(uri));
    assert.ok(noCompare.includes('Last run'), noCompare.join(', '));
    assert.ok(!noCompare.includes('Compare with gold'), noCompare.join(', '));

    fake.reset();
    fake.script({ kind: 'ok', text: ANSWER });
    const good = await vscode.commands.executeCommand<RunResult>('medalign.run', uri, {
      model: 'fake-local',
    });
    assert.equal(good.status, 'complete', good.error?.message);
    // A newer failed run does not hide it: the latest *complete* run is compared.
    fake.script({ kind: 'auth' });
    const bad = await vscode.commands.executeCommand<RunResult>('medalign.run', uri, { model: 'fake-local' });
    assert.equal(bad.status, 'error');
    await shownColumn('the failed run', (c) => c.status === 'error');
    await waitFor('Compare with gold in the lens', async () =>
      titles(await lensesOf(uri)).includes('Compare with gold'),
    );

    const c = await vscode.commands.executeCommand<GoldComparison | undefined>(
      'medalign.compareWithGold',
      uri,
    );
    assert.ok(c);
    assert.equal(c.runFile, good.file);
    assert.ok(c.diff.equal > 10 && c.diff.deleted > 0 && c.diff.inserted > 0);
    assert.equal(
      c.diff.parts
        .filter((p) => p.op !== 'delete')
        .map((p) => p.text)
        .join(''),
      ANSWER,
    );
    assert.ok(c.diff.parts.some((p) => p.op === 'equal' && p.text.includes('01/29 143/77')));
    await waitFor('the word diff webview', () => hooks.goldDiff().visible);
    // No script, a strict CSP, and the answer's markup shown as text.
    const html = hooks.goldDiff().html ?? '';
    assert.match(
      html,
      /content="default-src 'none'; style-src 'nonce-[0-9a-f]{32}'; script-src 'none'; img-src 'none'/,
    );
    assert.doesNotMatch(html, /<script|<b>/);
    assert.match(html, /&lt;b&gt;&quot;target&quot; &amp; plan&lt;\/b&gt;/);
    // A failed run given explicitly is refused, not diffed.
    assert.equal(await vscode.commands.executeCommand('medalign.compareWithGold', uri, bad.file), undefined);
    await shot('runs-gold-word-diff', ['iframe.webview.ready']);
  });

  it('shows a run in flight in the status bar (spinner, elapsed time) and cancels it on click', async () => {
    fake.reset();
    const long = Array.from({ length: 300 }, (_v, i) => `reading ${i + 1}, `).join('');
    fake.script({ kind: 'ok', chunks: chunkText(long, 10), chunkDelayMs: 100 });
    const running = vscode.commands.executeCommand<RunResult>('medalign.run', uri, { model: 'fake-local' });
    const text = await waitFor('the in-flight status bar item', () => hooks.runningText());
    assert.match(text, /^\$\(sync~spin\) 90000000204 on fake-local · \S+ · \d+ s$/);
    await waitFor('the answer to stream', async () => (await hooks.panelSnapshot(1000))?.columns[0]?.text);
    await shot('runs-status-bar-in-flight', ['.statusbar .codicon-modifier-spin']);
    // The item's command is what a click runs.
    assert.ok(await vscode.commands.executeCommand<number>('medalign.cancelRuns'));
    const r = await running;
    assert.equal(r.status, 'cancelled');
    await waitFor('the item to go', () => hooks.runningText() === undefined);
  });

  it('clears failed runs in bulk from the Runs view, keeping the others', async () => {
    const failed = runsOfStatus(root, '90000000204', 'error');
    assert.ok(failed.length >= 3);
    const kept = [
      ...runsOfStatus(root, '90000000204', 'complete'),
      ...runsOfStatus(root, '90000000204', 'cancelled'),
    ];
    await vscode.commands.executeCommand('medalign.runs.focus');
    const deleted = await vscode.commands.executeCommand<number>('medalign.runs.clearFailed', {
      skipConfirmation: true,
    });
    assert.equal(deleted, failed.length);
    assert.deepEqual(runsOfStatus(root, '90000000204', 'error'), []);
    assert.ok(kept.every((f) => fs.existsSync(f)));
    await waitFor('the Runs view to drop them', async () => {
      const nodes = (await hooks.runsTree.getChildren()) as { kind: string; runs: { status: string }[] }[];
      const n = nodes.find((x) => x.runs.length > 0);
      return n && n.runs.every((r) => r.status !== 'error');
    });
    await shot('runs-view-cleared', ['.part.sidebar .pane-header:has-text("Runs")']);
  });

  it('keeps runs apart by file when two files share an id', async () => {
    const a = workspaceFile('instructions/zz-dup-a.medalign');
    const b = workspaceFile('instructions/zz-dup-b.medalign');
    const text = (q: string) =>
      `---\nid: 8199999999\npatient: 2000002\nmodel: baseline\ncontext: 8k\n---\n\n## Instruction\n${q}\n`;
    fs.writeFileSync(a.fsPath, text('List the blood pressures in 2020.'));
    fs.writeFileSync(b.fsPath, text('Any COPD exacerbations?'));
    try {
      const r = await vscode.commands.executeCommand<RunResult>('medalign.run', a);
      assert.equal(r.status, 'complete', r.error?.message);
      await waitFor('Last run on the file that ran', async () =>
        titles(await lensesOf(a)).some((t) => t.endsWith('Last run')),
      );
      const other = titles(await lensesOf(b));
      assert.ok(
        !other.some((t) => t.endsWith('Last run')),
        `no Last run on the other file: ${other.join(', ')}`,
      );
      const last = await vscode.commands.executeCommand<RunResult>('medalign.showLastRun', b);
      assert.equal(last.status, 'not-run');
    } finally {
      fs.rmSync(a.fsPath, { force: true });
      fs.rmSync(b.fsPath, { force: true });
    }
  });

  it('does not offer ▶ Run on a file that cannot run: the lens says why and goes to the problem', async () => {
    const broken = workspaceFile('instructions/broken-front-matter.medalign');
    const lenses = await waitFor('the cannot-run lens', async () => {
      const ls = await lensesOf(broken);
      return ls.some((l) => l.command?.title.startsWith('$(warning) Cannot run:')) && ls;
    });
    assert.ok(!titles(lenses).some((t) => t.startsWith('▶ Run')));
    assert.ok(
      titles(lenses).some((t) => /^\$\(warning\) Cannot run: The front matter is broken: /.test(t)),
      titles(lenses).join(', '),
    );

    const bad = workspaceFile('instructions/zz-bad-context.medalign');
    const badText = '---\nid: 8199999998\npatient: 2000002\ncontext: 32x\n---\n\n## Instruction\nAny BP?\n';
    fs.writeFileSync(bad.fsPath, badText);
    try {
      const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(bad), {
        viewColumn: vscode.ViewColumn.One,
        preview: false,
      });
      const lens = await waitFor('the lens on an invalid context', async () =>
        (await lensesOf(bad)).find((l) => l.command?.title.startsWith('$(warning) Cannot run: Context')),
      );
      assert.ok(!titles(await lensesOf(bad)).some((t) => t.startsWith('▶ Run')));
      await shot('runs-lens-cannot-run', ['.codelens-decoration:has-text("Cannot run")']);
      // A click goes to the value that is wrong.
      await vscode.commands.executeCommand(
        lens.command!.command,
        ...((lens.command!.arguments ?? []) as unknown[]),
      );
      await waitFor('the selection on the context value', () => {
        const e = vscode.window.activeTextEditor;
        return e?.document.uri.toString() === bad.toString() && e.document.getText(e.selection) === '32x';
      });
      assert.ok(editor);
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
      fs.rmSync(bad.fsPath, { force: true });
    }
  });
});
