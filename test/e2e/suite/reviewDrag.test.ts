/**
 * End-to-end: ranking answers by dragging them with the mouse in the review panel (issue 11). The
 * runner (code-server + Chromium) does real mouse drags in the webview (Chromium's own pointer events
 * and HTML drag and drop, no synthetic DOM events); the panel's DOM and the submitted review file
 * show the ranks given. Needs the code-server runner: skipped under the desktop runner.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { MedAlignApi } from '../../../client/src/extension';
import type { ReviewTestHooks } from '../../../client/src/review';
import type { ReviewDescription } from '../../../client/src/review/reviewPanel';
import type { ReviewSnapshot } from '../../../client/src/review/reviewMessages';
import type { ReviewFile } from '../../../engine/src/core/review';
import { RunStore } from '../../../engine/src/run/store';
import { fakeRun } from '../../helpers/reviewFixtures';
import { requestScreenshot, screenshotsAvailable, waitFor, workspaceFile } from './util';

const EXTENSION_ID = 'medalign-studio.medalign-studio';
const REVIEWER = 'Dr Drag Reviewer';
const ITEM = { id: '90000000202', file: 'instructions/2000002-social-history.medalign' };
const ANSWERS: Record<string, string> = {
  'drag-a': 'Former smoker, quit in 2010; drinks alcohol socially.',
  'drag-b': 'Never smoker. No alcohol.',
  'drag-c': 'Lives with his wife; retired teacher.',
};

/** The chip of answer `label` in the ranking row (Playwright's :text-is matches its whole text). */
const chip = (label: string) => `#ranking .chip:text-is("${label}")`;
const bucket = (rank: number) => `#ranking .bucket[data-rank="${rank}"]`;

describe('MedAlign review drag', function () {
  this.timeout(120_000);
  let hooks: ReviewTestHooks;
  let root: string;

  async function shown(what: string, ok: (s: ReviewSnapshot) => boolean): Promise<ReviewSnapshot> {
    return waitFor(`the review panel to show ${what}`, async () => {
      const d = await vscode.commands.executeCommand<ReviewDescription>('medalign.review.describe');
      return d.snapshot && ok(d.snapshot) ? d.snapshot : undefined;
    });
  }

  before(async () => {
    const ext = vscode.extensions.getExtension<MedAlignApi>(EXTENSION_ID);
    assert.ok(ext);
    const api = await ext.activate();
    await api.ready;
    assert.ok(api.run.review.test, 'test hooks in test mode');
    hooks = api.run.review.test;
    // Nothing of an earlier suite (a quick pick, a dialog) may cover the panel the mouse drags in.
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    await hooks.setReviewer(REVIEWER);
    root = workspaceFile('').fsPath;
    const store = new RunStore(root);
    let n = 0;
    for (const [endpoint, response] of Object.entries(ANSWERS)) {
      const t = new Date(Date.UTC(2026, 10, 30, 10, 0, ++n));
      await store.save(
        fakeRun({
          id: `${t.toISOString().replace(/[-:.]/g, '')}-dr${String(n).padStart(4, '0')}`,
          createdAt: t.toISOString(),
          endpoint,
          response,
          instructionId: ITEM.id,
          instructionFile: ITEM.file,
        }),
      );
    }
    await vscode.commands.executeCommand('medalign.runs.refresh');
  });

  after(async () => {
    await hooks.setReviewer(undefined);
    fs.rmSync(path.join(root, 'reviews', ITEM.id), { recursive: true, force: true });
    fs.rmSync(path.join(root, '.medalign', 'runs', ITEM.id), { recursive: true, force: true });
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('ranks answers by dragging them with the mouse; the review file keeps the dragged ranks', async function () {
    if (!screenshotsAvailable()) this.skip(); // a real mouse needs the code-server runner
    await vscode.window.showTextDocument(workspaceFile(ITEM.file));
    await vscode.commands.executeCommand('medalign.reviewAnswers', workspaceFile(ITEM.file));
    const first = await shown(
      'three unranked answers',
      (s) => s.heading.startsWith(ITEM.id) && s.answers.length === 3,
    );
    assert.deepEqual(first.ranking, []);
    assert.deepEqual(
      first.answers.map((a) => a.rank),
      ['', '', ''],
    );

    // B to rank 1, then A to rank 1 beside it (a tie), then C to rank 2, then A on to rank 2.
    await requestScreenshot('review-drag-1', { drag: { from: chip('B'), to: bucket(1) } });
    await shown('B ranked first by the drag', (s) => s.ranking.length === 1 && s.ranking[0]?.join() === 'B');
    await requestScreenshot('review-drag-2', { drag: { from: chip('A'), to: bucket(1) } });
    await requestScreenshot('review-drag-3', { drag: { from: chip('C'), to: bucket(2) } });
    const tied = await shown('A and B tied first, C second', (s) => s.ranking.length === 2);
    assert.deepEqual(tied.ranking, [['A', 'B'], ['C']]);
    assert.deepEqual(
      tied.answers.map((a) => a.rank),
      ['1', '1', '2'],
    );
    const moved = await requestScreenshot('review-drag-4', {
      drag: { from: chip('A'), to: bucket(2) },
      waitFor: ['iframe.webview.ready'],
    });
    assert.ok(moved.bytes > 10_000, 'a real screenshot');
    const after = await shown('A moved to rank 2', (s) => s.answers[0]?.rank === '2');
    assert.deepEqual(after.ranking, [['B'], ['A', 'C']]);
    assert.equal(after.status, 'draft');

    // Labels with the keyboard, then submit: the file holds the ranks given by dragging.
    for (const k of ['c', 'ArrowRight', 'c', 'ArrowRight', 'x']) hooks.key(k);
    hooks.key('Enter', true);
    const submitted = await shown('the submitted review', (s) => s.status === 'submitted');
    const file = JSON.parse(
      fs.readFileSync(path.join(root, 'reviews', ITEM.id, 'Dr_Drag_Reviewer.json'), 'utf8'),
    ) as ReviewFile;
    for (const a of submitted.answers) {
      const endpoint = a.model.split(' · ')[0];
      const saved = file.answers.find((x) => x.endpoint === endpoint);
      assert.ok(saved, endpoint);
      assert.equal(String(saved.rank), a.rank, `${a.label} (${endpoint})`);
    }
    assert.deepEqual(file.answers.map((a) => a.rank).sort(), [1, 2, 2]);
  });
});
