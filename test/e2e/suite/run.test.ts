/**
 * End-to-end: the run-lens in a real VS Code, through the `vscode` API. A local OpenAI-compatible
 * fake server (test/helpers/fakeOpenAI.ts, 127.0.0.1) is started inside the suite and written into
 * the temp workspace's medalign.config.json as `fake-local` (loopback: no approval needed), plus two
 * endpoints that are not loopback: `phi-remote` at an unresolvable name (`phi-test.invalid`, never
 * contacted) and `lan-box` at `0.0.0.0` (not loopback for the guard, yet it reaches the fake server
 * on this machine once the user approved it). Nothing real is ever contacted.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { FakeOpenAI, chunkText } from '../../helpers/fakeOpenAI';
import type { MedAlignApi } from '../../../client/src/extension';
import type { RunTestHooks } from '../../../client/src/run';
import type { RunResult } from '../../../client/src/run/runCommands';
import type { BatchSummary } from '../../../client/src/run/runAll';
import type { InstructionNode, RunNode } from '../../../client/src/run/runsView';
import type { GoldComparison } from '../../../client/src/run/goldDiff';
import { ARTIFACTS_ENV } from './protocol';
import { requestScreenshot, screenshotsAvailable, waitFor, workspaceFile } from './util';

const EXTENSION_ID = 'medalign-studio.medalign-studio';
const INSTRUCTION = 'instructions/2000002-bp-2020.medalign';
const INSTRUCTION_ID = '90000000204';
const QUESTION = 'List the blood pressures recorded at outpatient visits in 2020.';
const KEY = `sk-e2e-${randomBytes(16).toString('hex')}`;
const ANSWER =
  'Outpatient blood pressures in 2020: 01/07 128/77, 01/29 143/77, 02/13 131/88, 03/06 131/83, ' +
  '03/29 123/82, 04/22 127/69, 06/16 134/86. Only two readings are under 130/80, so he is not at goal.';

function titles(lenses: vscode.CodeLens[]): string[] {
  return lenses.map((l) => l.command?.title ?? '');
}

async function lensesOf(uri: vscode.Uri): Promise<vscode.CodeLens[]> {
  return vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
}

function walk(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile()) out.push(p);
  }
  return out;
}

function runFiles(root: string, id = INSTRUCTION_ID): string[] {
  const dir = path.join(root, '.medalign', 'runs', id);
  return fs.existsSync(dir)
    ? fs.readdirSync(dir).filter((n) => n.endsWith('.json') && !n.startsWith('.'))
    : [];
}

describe('MedAlign run-lens', function () {
  this.timeout(120_000);
  let hooks: RunTestHooks;
  let fake: FakeOpenAI;
  let root: string;
  let uri: vscode.Uri;
  let configText: string;

  /** The first panel column as the webview shows it, once `ok` holds. */
  async function shownColumn(
    what: string,
    ok: (c: { title: string; status: string; text: string; message: string; meta: string }) => boolean,
    index = 0,
  ) {
    return waitFor(`the response panel to show ${what}`, async () => {
      const snap = await hooks.panelSnapshot(1000);
      const c = snap?.columns[index];
      return c && ok(c) ? c : undefined;
    });
  }

  before(async () => {
    const ext = vscode.extensions.getExtension<MedAlignApi>(EXTENSION_ID);
    assert.ok(ext, 'the extension is installed');
    const api = await ext.activate();
    assert.ok(api.run.test, 'the run-lens test hooks exist in test mode');
    hooks = api.run.test;
    root = workspaceFile('').fsPath;
    uri = workspaceFile(INSTRUCTION);
    fake = await FakeOpenAI.start();
    const configUri = workspaceFile('medalign.config.json');
    configText = fs.readFileSync(configUri.fsPath, 'utf8');
    const config = JSON.parse(configText) as { endpoints: unknown[] };
    config.endpoints.push(
      {
        id: 'fake-local',
        kind: 'openai-compatible',
        baseUrl: fake.baseUrl,
        model: 'fake-model',
        contextWindow: 32768,
        encoding: 'cl100k_base',
      },
      {
        id: 'phi-remote',
        kind: 'openai-compatible',
        baseUrl: `http://phi-test.invalid:${fake.port}/v1`,
        model: 'fake-model',
      },
      {
        id: 'lan-box',
        kind: 'openai-compatible',
        baseUrl: `http://0.0.0.0:${fake.port}/v1`,
        model: 'fake-model',
      },
    );
    fs.writeFileSync(configUri.fsPath, JSON.stringify(config, null, 2));
  });

  after(async () => {
    fs.writeFileSync(workspaceFile('medalign.config.json').fsPath, configText);
    fs.rmSync(path.join(root, '.medalign'), { recursive: true, force: true });
    await fake?.close();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('puts ▶ Run · <model> · <context>, Model…, Context… and Strategy… above ## Instruction and the choice in the status bar', async () => {
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { preview: false });
    const headingLine = doc
      .getText()
      .split('\n')
      .findIndex((l) => l.startsWith('## Instruction'));
    const lenses = await waitFor('the run lens', async () => {
      const ls = await lensesOf(uri);
      return titles(ls).includes('▶ Run · gpt-4o · 16k') && titles(ls).includes('Preview prompt') && ls;
    });
    const ours = lenses.filter(
      (l) =>
        l.command?.command !== 'medalign.previewPrompt' && l.command?.command !== 'medalign.timeline.show',
    );
    assert.deepEqual(
      titles(ours),
      ['▶ Run · gpt-4o · 16k', 'Model…', 'Context…', 'Strategy…'],
      'no Last run before a run',
    );
    assert.ok(ours.every((l) => l.range.start.line === headingLine));
    assert.equal(ours[0].command?.command, 'medalign.run');
    await waitFor('the status bar item', () => hooks.statusBarText() === '$(beaker) gpt-4o · 16k');

    // Chosen for this window: the lens and the status bar follow, the file does not change.
    assert.equal(
      await vscode.commands.executeCommand('medalign.pickModel', uri, 'fake-local', 'window'),
      true,
    );
    assert.equal(await vscode.commands.executeCommand('medalign.pickContext', uri, '8k', 'window'), true);
    await waitFor('the lens to follow the choice', async () =>
      titles(await lensesOf(uri)).includes('▶ Run · fake-local · 8k'),
    );
    await waitFor('the status bar to follow', () => hooks.statusBarText() === '$(beaker) fake-local · 8k');
    assert.match(doc.getText(), /^model: gpt-4o$/m);
    assert.ok(!doc.isDirty);
  });

  it('writes a model or context into the front matter on request', async () => {
    const other = workspaceFile('instructions/2000002-copd-exacerbations.medalign');
    const before = fs.readFileSync(other.fsPath, 'utf8');
    try {
      assert.equal(await vscode.commands.executeCommand('medalign.pickContext', other, '4k', 'file'), true);
      assert.equal(
        await vscode.commands.executeCommand('medalign.pickModel', other, 'baseline', 'file'),
        true,
      );
      const text = fs.readFileSync(other.fsPath, 'utf8');
      assert.match(text, /^context: 4k$/m);
      assert.match(text, /^model: baseline$/m);
      assert.equal(
        text.replace('context: 4k', 'context: 32k').replace('model: baseline', 'model: local-vllm'),
        before,
      );
      await waitFor('the lens to read the file', async () =>
        titles(await lensesOf(other)).includes('▶ Run · baseline · 4k'),
      );
    } finally {
      fs.writeFileSync(other.fsPath, before);
      const d = vscode.workspace.textDocuments.find((x) => x.uri.toString() === other.toString());
      if (d) await waitFor('the editor to reload the file', () => d.getText() === before);
    }

    // A key the front matter does not have yet is added before the closing fence.
    const bare = workspaceFile('instructions/zz-e2e-bare.medalign');
    fs.writeFileSync(bare.fsPath, '---\nid: e2e-bare-1\npatient: 2000002\n---\n\n## Instruction\nAny BP?\n');
    try {
      assert.equal(
        await vscode.commands.executeCommand('medalign.pickModel', bare, 'fake-local', 'file'),
        true,
      );
      assert.equal(
        fs.readFileSync(bare.fsPath, 'utf8'),
        '---\nid: e2e-bare-1\npatient: 2000002\nmodel: fake-local\n---\n\n## Instruction\nAny BP?\n',
      );
    } finally {
      const tabs = vscode.window.tabGroups.all
        .flatMap((g) => g.tabs)
        .filter((t) => t.input instanceof vscode.TabInputText && t.input.uri.toString() === bare.toString());
      await vscode.window.tabGroups.close(tabs);
      fs.rmSync(bare.fsPath, { force: true });
    }
  });

  it('keeps an API key set with "Set API Key" in secret storage and sends it', async () => {
    assert.equal(await vscode.commands.executeCommand('medalign.setApiKey', 'fake-local', KEY), true);
    const settings = JSON.stringify(vscode.workspace.getConfiguration('medalign'));
    assert.ok(!settings.includes(KEY), 'the key is not in the settings');
  });

  it('streams the answer into the response panel beside the editor and saves the full run', async () => {
    const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), {
      viewColumn: vscode.ViewColumn.One,
      preview: false,
    });
    fake.reset();
    // Slow enough that the panel (a new webview) is up while the answer still streams.
    fake.script({ kind: 'ok', chunks: chunkText(ANSWER, 4), chunkDelayMs: 200 });
    const running = vscode.commands.executeCommand<RunResult>('medalign.run', uri.toString());
    const partial = await shownColumn(
      'part of the answer while it streams',
      (c) => c.status === 'streaming…' && c.text.length > 0 && c.text.length < ANSWER.length,
    );
    assert.ok(ANSWER.startsWith(partial.text), 'the streamed text is a prefix of the answer');
    assert.equal(partial.title, 'fake-local · 8k');

    const result = await running;
    assert.equal(result.status, 'complete', result.error?.message);
    assert.equal(result.response, ANSWER);
    const shown = await shownColumn('the whole answer', (c) => c.status === 'complete' && c.text === ANSWER);
    // The run file by a short reference (the random part of its name), not a five-line path.
    const ref = / · run ([a-z0-9]+)$/.exec(shown.meta)?.[1];
    assert.ok(ref, shown.meta);
    const snap = await hooks.panelSnapshot();
    assert.match(snap?.heading ?? '', new RegExp(`^${INSTRUCTION_ID} · 2000002-bp-2020\\.medalign`));

    // The run file holds the full response and the prompt that was sent.
    assert.ok(result.file?.startsWith(path.join(root, '.medalign', 'runs', INSTRUCTION_ID) + path.sep));
    assert.ok(path.basename(result.file!).includes(`-${ref}_`), `${ref} names ${result.file}`);
    const run = JSON.parse(fs.readFileSync(result.file!, 'utf8')) as {
      response: string;
      status: string;
      endpoint: { id: string; origin: string };
      contextLabel: string;
      prompt: { role: string; content: string }[];
    };
    assert.equal(run.response, ANSWER);
    assert.equal(run.status, 'complete');
    assert.equal(run.endpoint.id, 'fake-local');
    assert.equal(run.endpoint.origin, fake.origin);
    assert.equal(run.contextLabel, '8k');
    assert.ok(run.prompt.some((m) => m.content.includes(QUESTION)));
    assert.ok(fs.existsSync(path.join(root, '.medalign', '.gitignore')));

    // What the fake server received: one streamed request with the question, and the key.
    assert.equal(fake.chatRequests.length, 1);
    const req = fake.chatRequests[0];
    const body = req.body as { model: string; stream: boolean; messages: { content: string }[] };
    assert.equal(body.model, 'fake-model');
    assert.equal(body.stream, true);
    assert.ok(body.messages.some((m) => m.content.includes(QUESTION)));
    assert.equal(req.headers['authorization'], `Bearer ${KEY}`);

    // The panel is a webview beside the editor, which stays visible (and keeps the focus).
    const editorColumn = editor.viewColumn;
    assert.ok(vscode.window.visibleTextEditors.some((e) => e.document.uri.toString() === uri.toString()));
    assert.equal(vscode.window.activeTextEditor?.document.uri.toString(), uri.toString());
    const panelTab = vscode.window.tabGroups.all
      .flatMap((g) => g.tabs.map((t) => ({ t, g })))
      .find(
        ({ t }) =>
          t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('medalign.response'),
      );
    assert.ok(panelTab, 'the response panel is open');
    assert.notEqual(panelTab.g.viewColumn, editorColumn, 'beside the editor, not over it');
    assert.ok(hooks.panelVisible());

    if (screenshotsAvailable()) {
      const shot = await requestScreenshot('run-response-panel', { waitFor: ['iframe.webview.ready'] });
      assert.ok(shot.bytes > 20_000);
    }
  });

  it('offers Compare with gold and Last run once a run exists', async () => {
    const lenses = await waitFor('the lenses of an instruction with runs', async () => {
      const t = titles(await lensesOf(uri));
      return t.includes('Compare with gold') && t.includes('Last run') && t;
    });
    assert.deepEqual(
      lenses.filter((t) => t !== 'Preview prompt' && t !== 'Timeline'),
      ['▶ Run · fake-local · 8k', 'Model…', 'Context…', 'Strategy…', 'Compare with gold', 'Last run'],
    );
    const diff = await vscode.commands.executeCommand<GoldComparison | undefined>(
      'medalign.compareWithGold',
      uri.toString(),
    );
    assert.ok(diff);
    // A word diff: the answer side is the answer, word for word; the gold's readings are in common.
    const answerSide = diff.diff.parts
      .filter((p) => p.op !== 'delete')
      .map((p) => p.text)
      .join('');
    assert.equal(answerSide, ANSWER);
    assert.ok(diff.diff.parts.some((p) => p.op === 'equal' && p.text.includes('128/77')));
    await waitFor('the word diff beside the editor', () => hooks.goldDiff().visible);

    const last = await vscode.commands.executeCommand<RunResult>('medalign.showLastRun', uri);
    assert.equal(last.response, ANSWER);
    await shownColumn('the last run', (c) => c.text === ANSWER && c.title === 'fake-local · 8k');
  });

  it('runs baseline out of the box: no key, no network', async () => {
    fake.reset();
    const result = await vscode.commands.executeCommand<RunResult>('medalign.run', uri, {
      model: 'baseline',
      context: '8k',
    });
    assert.equal(result.status, 'complete', result.error?.message);
    assert.ok((result.response ?? '').length > 20);
    assert.equal(fake.requests.length, 0, 'nothing was sent');
    const run = JSON.parse(fs.readFileSync(result.file!, 'utf8')) as {
      endpoint: { id: string; origin?: string };
    };
    assert.equal(run.endpoint.id, 'baseline');
    assert.equal(run.endpoint.origin, undefined);
    await shownColumn('the baseline answer', (c) => c.title === 'baseline · 8k' && c.status === 'complete');
  });

  it('refuses an endpoint that is not on this machine until the user approves it; nothing is sent before', async () => {
    fake.reset();
    const before = runFiles(root).length;
    const refused = await vscode.commands.executeCommand<RunResult>('medalign.run', uri, {
      model: 'phi-remote',
    });
    assert.equal(refused.status, 'refused');
    assert.equal(refused.error?.kind, 'refused');
    assert.match(
      refused.error?.message ?? '',
      /'phi-remote' \(phi-test\.invalid:\d+\) is not on this machine/,
    );
    assert.deepEqual(
      { id: refused.approval?.endpointId, host: refused.approval?.host },
      { id: 'phi-remote', host: `phi-test.invalid:${fake.port}` },
    );
    const shown = await shownColumn('the refusal', (c) => c.status === 'refused');
    assert.match(shown.message, /not on this machine and you have not approved it/);
    assert.equal(shown.text, '');

    // lan-box (0.0.0.0) is not loopback either: refused the same way.
    const lan = await vscode.commands.executeCommand<RunResult>('medalign.run', uri, { model: 'lan-box' });
    assert.equal(lan.status, 'refused');
    assert.equal(fake.requests.length, 0, 'the server saw nothing');
    assert.equal(runFiles(root).length, before, 'a refused run saves nothing');
    const audit = path.join(root, '.medalign', 'audit.log');
    const auditText = fs.existsSync(audit) ? fs.readFileSync(audit, 'utf8') : '';
    assert.ok(!/phi-remote|lan-box/.test(auditText), 'and the audit log has no request to them');
    assert.ok(!hooks.approvals().some((a) => a.endpointId === 'lan-box'));

    // The user approves lan-box (the modal is skipped only in the extension's test mode).
    assert.ok(lan.approval);
    assert.equal(
      await vscode.commands.executeCommand('medalign.approveEndpoint', lan.approval, {
        skipConfirmation: true,
      }),
      true,
    );
    const entry = hooks.approvals().find((a) => a.endpointId === 'lan-box');
    assert.equal(entry?.origin, `http://0.0.0.0:${fake.port}`, 'stored in user-level state, id at origin');
    assert.ok(!fs.existsSync(path.join(root, '.vscode', 'settings.json')), 'nothing in workspace settings');

    fake.script({ kind: 'ok', text: 'Approved endpoint answer.' });
    const passed = await vscode.commands.executeCommand<RunResult>('medalign.run', uri, { model: 'lan-box' });
    assert.equal(passed.status, 'complete', passed.error?.message);
    assert.equal(passed.response, 'Approved endpoint answer.');
    assert.equal(fake.chatRequests.length, 1);
    assert.equal(fake.chatRequests[0].headers['host'], `0.0.0.0:${fake.port}`);

    // The approval covers lan-box only.
    const still = await vscode.commands.executeCommand<RunResult>('medalign.run', uri, {
      model: 'phi-remote',
    });
    assert.equal(still.status, 'refused');
    assert.equal(fake.requests.length, 1);
  });

  it('says why a run failed: context overflow, content filter, refused key', async () => {
    const cases: { script: Parameters<FakeOpenAI['script']>[0]; kind: string; message: RegExp }[] = [
      {
        script: { kind: 'context-length', limit: 4096 },
        kind: 'context-overflow',
        message: /says the prompt is longer than the model's context \(HTTP 400\)/,
      },
      {
        script: { kind: 'content-filter' },
        kind: 'content-filter',
        message: /content filter of 'fake-local'/,
      },
      { script: { kind: 'auth' }, kind: 'auth', message: /'fake-local' refused the API key \(HTTP 401\)/ },
    ];
    for (const c of cases) {
      fake.reset();
      fake.script(c.script);
      const r = await vscode.commands.executeCommand<RunResult>('medalign.run', uri);
      assert.equal(r.status, 'error');
      assert.equal(r.error?.kind, c.kind);
      assert.match(r.error?.message ?? '', c.message);
      assert.ok(!(r.error?.message ?? '').includes(KEY));
      const shown = await shownColumn(
        `the ${c.kind} message`,
        (x) => x.status === 'error' && c.message.test(x.message),
      );
      assert.ok(!shown.message.includes(KEY));
    }
  });

  it('Cancel aborts the request and keeps the part of the answer that arrived', async () => {
    fake.reset();
    const long = Array.from({ length: 200 }, (_v, i) => `reading ${i + 1}, `).join('');
    fake.script({ kind: 'ok', chunks: chunkText(long, 10), chunkDelayMs: 50 });
    const running = vscode.commands.executeCommand<RunResult>('medalign.run', uri);
    await shownColumn('some streamed text', (c) => c.status === 'streaming…' && c.text.length > 0);
    assert.ok((await vscode.commands.executeCommand<number>('medalign.cancelRuns')) >= 1);
    const r = await running;
    assert.equal(r.status, 'cancelled');
    const run = JSON.parse(fs.readFileSync(r.file!, 'utf8')) as { partial: boolean; response: string };
    assert.equal(run.partial, true);
    assert.ok(run.response.length > 0 && run.response.length < long.length && long.startsWith(run.response));
    await waitFor('the server to see the request aborted', () => fake.chatRequests[0]?.aborted === true);
    await shownColumn('the cancelled run', (c) => c.status === 'cancelled');
  });

  it('runs a matrix of models and contexts side by side, one column each', async () => {
    fake.reset();
    const results = await vscode.commands.executeCommand<RunResult[]>('medalign.runMatrix', uri, {
      models: ['baseline', 'fake-local'],
      contexts: ['4k', '8k'],
    });
    assert.deepEqual(
      results.map((r) => [r.model, r.context, r.status]),
      [
        ['baseline', '4k', 'complete'],
        ['baseline', '8k', 'complete'],
        ['fake-local', '4k', 'complete'],
        ['fake-local', '8k', 'complete'],
      ],
    );
    assert.equal(fake.chatRequests.length, 2);
    const snap = await waitFor('four columns', async () => {
      const s = await hooks.panelSnapshot(1000);
      return s && s.columns.length === 4 && s.columns.every((c) => c.status === 'complete') && s;
    });
    assert.deepEqual(
      snap.columns.map((c) => c.title),
      ['baseline · 4k', 'baseline · 8k', 'fake-local · 4k', 'fake-local · 8k'],
    );
    assert.ok(snap.columns.every((c) => c.text.length > 0));
    assert.match(snap.columns[2].text, /^Answer \d+: you asked/);
    if (screenshotsAvailable()) {
      const shot = await requestScreenshot('run-matrix-panel', { waitFor: ['iframe.webview.ready'] });
      assert.ok(shot.bytes > 20_000);
    }
  });

  it('lists runs per instruction in the Runs view; opens one and deletes one', async () => {
    const tree = hooks.runsTree;
    const node = await waitFor('the instruction in the Runs view', async () =>
      ((await tree.getChildren()) as InstructionNode[]).find((n) => n.id === INSTRUCTION_ID),
    );
    const runs = (await tree.getChildren(node)) as RunNode[];
    assert.equal(runs.length, runFiles(root).length);
    const item = tree.getTreeItem(runs[0]);
    assert.match(typeof item.label === 'string' ? item.label : (item.label?.label ?? ''), / · (4k|8k)$/);
    assert.equal(item.command?.command, 'medalign.runs.open');

    const fakeRun = runs.find(
      (r) => r.summary.endpointId === 'fake-local' && r.summary.status === 'complete',
    )!;
    const opened = await vscode.commands.executeCommand<RunResult>('medalign.runs.open', fakeRun);
    assert.equal(opened.file, fakeRun.summary.file);
    await shownColumn('the opened run', (c) => c.text === opened.response);

    assert.equal(
      await vscode.commands.executeCommand('medalign.runs.delete', fakeRun, { skipConfirmation: true }),
      true,
    );
    assert.ok(!fs.existsSync(fakeRun.summary.file));
    await waitFor('the view to drop the run', async () => {
      const n = ((await tree.getChildren()) as InstructionNode[]).find((x) => x.id === INSTRUCTION_ID);
      return n && n.runs.length === runs.length - 1;
    });
  });

  it('runs every instruction of a folder as a batch, resuming by default', async () => {
    const folder = workspaceFile('instructions');
    const count = fs.readdirSync(folder.fsPath).filter((n) => n.endsWith('.medalign')).length;
    const first = await vscode.commands.executeCommand<BatchSummary>('medalign.runAll', folder, {
      models: ['baseline'],
      contexts: ['2k'],
    });
    assert.equal(first.total, count);
    assert.equal(first.complete + first.failed, count);
    // The deliberately broken samples fail with the engine's reason; so does `strategy: none` at 2k.
    const failed = first.results.filter((x) => x.status === 'error');
    assert.deepEqual(failed.map((x) => path.basename(x.file)).sort(), [
      '1234555-head-imaging.medalign',
      'broken-front-matter.medalign',
      'broken-record.medalign',
      'mistakes.medalign',
    ]);
    for (const r of failed) assert.ok(r.error, `${r.file} says why`);
    assert.match(
      failed.find((x) => x.file.endsWith('head-imaging.medalign'))?.error ?? '',
      /use strategy recent or bm25/,
    );
    assert.ok(
      first.results
        .filter((x) => x.status === 'complete')
        .every((x) => x.runFile && fs.existsSync(x.runFile)),
    );

    const again = await vscode.commands.executeCommand<BatchSummary>('medalign.runAll', folder, {
      models: ['baseline'],
      contexts: ['2k'],
    });
    assert.equal(again.skipped, first.complete, 'complete runs are not run again');
    assert.equal(again.complete, 0);
  });

  it('never writes the API key to a file in the workspace or to a log', () => {
    const files = walk(root);
    assert.ok(files.some((f) => f.includes(`${path.sep}.medalign${path.sep}runs${path.sep}`)));
    for (const f of files) assert.ok(!fs.readFileSync(f, 'utf8').includes(KEY), `${f} holds the key`);

    // This window's logs (extension host, output channels) and the runner's.
    const logRoot = path.dirname(path.dirname(hooks.logUri.fsPath));
    const logs = walk(logRoot);
    const artifacts = process.env[ARTIFACTS_ENV];
    if (artifacts && fs.existsSync(artifacts))
      logs.push(...walk(artifacts).filter((f) => /\.(log|json)$/.test(f)));
    const texts = logs.map((f) => ({ f, t: fs.readFileSync(f, 'utf8') }));
    assert.ok(
      texts.some(({ t }) => t.includes(`run ${INSTRUCTION_ID} on fake-local`)),
      `the run log is among the ${logs.length} files checked`,
    );
    for (const { f, t } of texts) assert.ok(!t.includes(KEY), `${f} holds the key`);
  });
});
