/**
 * Prompt experiments in a real VS Code (issue 14): the CodeLens with the size before anything is
 * sent, diagnostics (the schema's through the JSON support, ours through the language server), a run
 * of the sample experiment (baseline at 2k and 32k), the results view with its verdict, chart and
 * side-by-side, and a screenshot. Named to run last: its runs land in the shared workspace copy.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ExperimentDescription, ExperimentRunResult } from '../../../client/src/experiment';
import { requestScreenshot, screenshotsAvailable, waitFor, workspaceFile } from './util';

const FILE = 'experiments/context-window.experiment.json';

describe('Experiments', () => {
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('shows ▶ Run experiment · N runs, and problems in the file', async () => {
    const uri = workspaceFile(FILE);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: false });
    const titles = await waitFor('the experiment CodeLens', async () => {
      const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>(
        'vscode.executeCodeLensProvider',
        uri,
        10,
      );
      const t = lenses.map((l) => l.command?.title ?? '');
      return t.some((x) => x.startsWith('▶ Run experiment')) && t;
    });
    // 17 sample instructions match its globs (suites before this one may add files).
    const runs = Number(
      /^▶ Run experiment · (\d+) runs$/.exec(titles.find((t) => t.startsWith('▶')) ?? '')?.[1],
    );
    const n = Number(/^(\d+) instructions × 2 cells$/.exec(titles.find((t) => / cells$/.test(t)) ?? '')?.[1]);
    assert.ok(n >= 17, titles.join(' | '));
    assert.equal(runs, 2 * n, titles.join(' | '));

    const bad = workspaceFile('experiments/bad.experiment.json');
    const write = (o: unknown) => vscode.workspace.fs.writeFile(bad, Buffer.from(JSON.stringify(o, null, 2)));
    await write({ instructions: '../instructions', model: ['gpt-5'] });
    const doc = await vscode.workspace.openTextDocument(bad);
    await vscode.window.showTextDocument(doc, { preview: false });
    const ours = await waitFor('the server to flag the unknown model', () =>
      vscode.languages.getDiagnostics(bad).find((x) => x.source === 'medalign'),
    );
    assert.match(ours.message, /Model 'gpt-5' is neither 'baseline' nor an endpoint id/);
    assert.equal(doc.getText(ours.range), '"gpt-5"');
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>(
      'vscode.executeCodeLensProvider',
      bad,
      10,
    );
    assert.match(lenses[0]?.command?.title ?? '', /^⚠ Cannot run: Model 'gpt-5'/);
    // The schema, through VS Code's JSON support: strategies come from the instruction schema.
    const edit = new vscode.WorkspaceEdit();
    edit.replace(
      bad,
      new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)),
      JSON.stringify({ instructions: '../instructions', strategy: ['sideways'] }, null, 2),
    );
    assert.ok(await vscode.workspace.applyEdit(edit));
    const schema = await waitFor(
      'the JSON schema to flag the strategy',
      () =>
        vscode.languages.getDiagnostics(bad).find((x) => x.source !== 'medalign' && /"bm25"/.test(x.message)),
      30_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; diagnostics: ${JSON.stringify(vscode.languages.getDiagnostics(bad))}`);
    });
    assert.match(schema.message, /"recent"/);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await vscode.workspace.fs.delete(bad);
  });

  it('runs the experiment and shows the verdict, a chart and a side-by-side', async () => {
    const uri = workspaceFile(FILE);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: false });
    const run = await vscode.commands.executeCommand<ExperimentRunResult>('medalign.runExperiment', uri);
    const n = Number(/^(\d+) instructions × 2 cells = \d+ runs$/.exec(run.size)?.[1]);
    assert.ok(n >= 17, run.size);
    assert.equal(run.results.length, 2 * n);
    assert.ok(run.results.filter((r) => r.status === 'complete').length >= 30, JSON.stringify(run.results));
    const describe = (o?: unknown) =>
      vscode.commands.executeCommand<ExperimentDescription>('medalign.experiment.describe', o);
    const snap = await waitFor('the verdict, its chart and table', async () => {
      const d = await describe();
      return d.snapshot && d.snapshot.table.rows.length === 2 && (d.snapshot.chart?.points.length ?? 0) > 0
        ? d.snapshot
        : undefined;
    });
    assert.equal(snap.title, 'Experiment context-window');
    assert.equal(snap.message, '');
    assert.match(
      snap.summary,
      /^\d+ instructions × 2 cells = \d+ runs · \d+ instructions with runs · 95% paired-bootstrap intervals, 2000 resamples, seed 1$/,
    );
    assert.equal(snap.sentences.length, 1);
    assert.match(snap.sentences[0], /^32k vs 2k \(model baseline\): /);
    assert.match(snap.sentences[0], /ROUGE-L F/);
    assert.deepEqual(snap.table.head.slice(0, 4), ['cell', 'runs', 'failed', 'mean prompt tokens']);
    assert.deepEqual(
      snap.table.rows.map((r) => r[0]),
      ['baseline · 2k', 'baseline · 32k'],
    );
    assert.equal(snap.chart?.metric, 'rougeL');
    assert.match(snap.chart?.points[0].label ?? '', /^32k − 2k \(baseline\)$/);
    assert.ok(snap.svgElements > 5);
    assert.ok(snap.changed.length > 0, 'answers that changed are listed');
    if (screenshotsAvailable()) {
      // The results group alone, as wide as the window, for the picture.
      await vscode.commands
        .executeCommand('workbench.action.toggleMaximizeEditorGroup')
        .then(undefined, () => undefined);
      const s = await requestScreenshot('experiment-verdict', { waitFor: ['iframe.webview.ready'] });
      assert.ok(s.bytes > 10_000, 'a real screenshot');
    }
    const opened = await waitFor('the side-by-side', async () => {
      const d = await describe({ open: { pair: 0, row: 0 } });
      return d.snapshot?.side;
    });
    assert.deepEqual(opened.headings, ['baseline · 2k', 'baseline · 32k', 'gold']);
    assert.equal(opened.texts.length, 3);
    assert.ok(opened.texts[0] !== opened.texts[1], 'the most changed answers differ');
    if (screenshotsAvailable()) {
      const s = await requestScreenshot('experiment-side-by-side', { waitFor: ['iframe.webview.ready'] });
      assert.ok(s.bytes > 10_000, 'a real screenshot');
    }

    // Again: every run is reused, nothing is sent.
    const again = await vscode.commands.executeCommand<ExperimentRunResult>('medalign.runExperiment', uri);
    assert.equal(again.results.filter((r) => r.status === 'complete').length, 0);
    assert.equal(
      again.results.filter((r) => r.status === 'skipped').length,
      // Runs an earlier suite made with identical inputs were already reused the first time.
      run.results.filter((r) => r.status === 'complete' || r.status === 'skipped').length,
    );
  });
});
