/**
 * End-to-end: the Record Timeline's progressive first paint (issue 10, speed) in a real VS Code. A
 * big record never counted is painted at once as its structure, with "Counting tokens…" where the
 * token figures and cut lines go and no cut line or count drawn; the counted model follows and
 * repaints keeping the zoom and the selection. (The counted model is held back by the view's test
 * hook until the counting stage is looked at and screenshotted; it is the server's real answer.)
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { MedAlignApi } from '../../../client/src/extension';
import type { TimelineDescribe } from '../../../client/src/timeline/messages';
import { denseRecord } from '../../bench/timelineBench';
import { requestScreenshot, screenshotsAvailable, waitFor, workspaceFile } from './util';

const EXTENSION_ID = 'medalign-studio.medalign-studio';
const RECORD = 'records/first-paint-16k.xml';
const INSTRUCTION = 'instructions/first-paint-16k.medalign';

describe('MedAlign record timeline: progressive first paint', function () {
  this.timeout(240_000);
  let api: MedAlignApi;

  const describeView = () => vscode.commands.executeCommand<TimelineDescribe>('medalign.timeline.describe');
  const viewShows = (what: string, ok: (d: TimelineDescribe) => boolean) =>
    waitFor(
      `the timeline to show ${what}`,
      async () => {
        const d = await describeView();
        return ok(d) ? d : undefined;
      },
      120_000,
    );

  async function shot(name: string): Promise<void> {
    if (!screenshotsAvailable()) return;
    const s = await requestScreenshot(name, { waitFor: ['iframe.webview.ready'] });
    assert.ok(s.bytes > 20_000, `${name} is a real screenshot`);
  }

  before(async () => {
    const ext = vscode.extensions.getExtension<MedAlignApi>(EXTENSION_ID);
    assert.ok(ext, 'the extension is installed');
    api = await ext.activate();
    await api.ready;
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  after(async () => {
    api.timeline.view.holdCounted = undefined;
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    fs.rmSync(workspaceFile(RECORD).fsPath, { force: true });
    fs.rmSync(workspaceFile(INSTRUCTION).fsPath, { force: true });
  });

  it('a big record never counted: its structure at once with “Counting tokens…”, then the counted model, zoom and selection kept', async () => {
    // A 2 MB record (16k events) that nothing has counted yet.
    fs.writeFileSync(workspaceFile(RECORD).fsPath, denseRecord(16_000, 21));
    fs.writeFileSync(
      workspaceFile(INSTRUCTION).fsPath,
      '---\nid: first-paint-16k\nrecord: ../records/first-paint-16k.xml\nmodel: baseline\ncontext: 32k\nstrategy: recent\n---\n\n## Instruction\nWhat was the most recent glucose?\n',
    );
    let release!: () => void;
    api.timeline.view.holdCounted = new Promise<void>((r) => (release = r));
    await vscode.window.showTextDocument(
      await vscode.workspace.openTextDocument(workspaceFile(INSTRUCTION)),
      { preview: false, viewColumn: vscode.ViewColumn.One },
    );
    await vscode.commands.executeCommand('medalign.timeline.focus');
    const counting = await viewShows(
      'the record’s structure while its tokens are counted',
      (x) => x.state === 'model' && x.record === RECORD && x.stage === 'counting',
    );
    // The structure: every visit and event, placed on the time axis; no count and no cut line.
    assert.equal(counting.counts?.events, 16_000);
    assert.ok((counting.counts?.visits ?? 0) > 100);
    assert.equal(counting.tokens, undefined);
    assert.deepEqual(counting.cuts, []);
    assert.match(counting.countingText ?? '', /^Counting tokens… What 32k keeps and the cut lines follow\.$/);
    assert.ok(!(counting.detailsText ?? '').match(/\d tokens/), counting.detailsText);
    // Zoom in and select an event while counting.
    for (let k = 0; k < 3; k++) api.timeline.view.act({ kind: 'zoom', factor: 1.6 });
    await viewShows('zoomed in', (x) => (x.visibleRange?.zoom ?? 1) > 3);
    const event = 15_990;
    api.timeline.view.act({ kind: 'clickEvent', id: event });
    const selected = await viewShows(
      'the event selected',
      (x) => x.selection?.what === 'event' && x.selection.id === event,
    );
    assert.match(selected.detailsText ?? '', /tokens being counted/);
    assert.doesNotMatch(selected.detailsText ?? '', /· (kept|cut)\b/);
    await shot('timeline-first-paint-counting');

    release();
    const counted = await viewShows(
      'the counted model',
      (x) => x.state === 'model' && x.record === RECORD && x.stage === 'counted',
    );
    assert.ok((counted.tokens ?? 0) > 100_000, `${counted.tokens} tokens`);
    assert.equal(counted.counts?.events, 16_000);
    assert.deepEqual(
      counted.cuts?.map((c) => c.label),
      ['2k', '4k', '8k', '16k', '32k', '64k', '128k'],
    );
    const own = counted.cuts?.find((c) => c.own);
    assert.equal(own?.label, '32k');
    assert.ok((own?.keptTokens ?? 0) > 20_000 && (own?.keptTokens ?? 0) <= 32_768, `${own?.keptTokens}`);
    assert.equal(counted.countingText, undefined);
    // The repaint kept the view: the same zoom, the same selected event, now with its count.
    assert.deepEqual(counted.visibleRange, selected.visibleRange);
    assert.equal(counted.selection?.id, event);
    assert.match(counted.detailsText ?? '', /· \d+ tokens · (kept|cut)/);
    // The page painted the structure first, then the counted model.
    const stages = counted.perf.paintedStage ?? [];
    const last = stages.lastIndexOf('counting');
    assert.ok(last >= 0 && stages.slice(last + 1).includes('counted'), stages.join(','));
    // Both came gzipped (each model's columns are hundreds of KB of JSON): a few hundred KB at most.
    const gz = counted.perf.paintedGzipBytes ?? [];
    for (const i of [last, stages.indexOf('counted', last + 1)])
      assert.ok(gz[i] > 10_000 && gz[i] < 400_000, `painted ${stages[i]} from ${gz[i]} gzipped bytes`);
    await shot('timeline-first-paint-counted');
  });
});
