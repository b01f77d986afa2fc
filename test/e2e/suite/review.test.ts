/**
 * End-to-end: reviewing answers (issue 11, "Reviewing") in a real VS Code. Runs are written through
 * the engine's run store (as a run would save them); the review panel shows them blinded (A, B, C…,
 * no model names), a reviewer labels and ranks two instructions with the keyboard, the review file
 * holds no answer text, an answer with script payloads stays text, the same reviewer sees the same
 * order again, and an answer that changed since is shown as stale.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { MedAlignApi } from '../../../client/src/extension';
import type { ReviewTestHooks } from '../../../client/src/review';
import type { ReviewDescription } from '../../../client/src/review/reviewPanel';
import type { ReviewSnapshot } from '../../../client/src/review/reviewMessages';
import { RunStore } from '../../../engine/src/run/store';
import type { ReviewFile } from '../../../engine/src/core/review';
import { fakeRun } from '../../helpers/reviewFixtures';
import { requestScreenshot, screenshotsAvailable, waitFor, workspaceFile } from './util';
import { ARTIFACTS_ENV } from './protocol';
import type { ReportSnapshot } from '../../../client/src/review/reportWebview';

const EXTENSION_ID = 'medalign-studio.medalign-studio';
const REVIEWER = 'Dr Test Reviewer';
const FIRST = { id: '90000000103', file: 'instructions/2000001-tsh-trend.medalign' };
const SECOND = { id: '90000000203', file: 'instructions/2000002-family-history.medalign' };
const PAYLOAD =
  'TSH 6.1 on 2019-03-02</script><script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2"> then 2.3.';
const ANSWERS_FIRST: Record<string, string> = {
  'review-a': 'TSH was 6.1 mIU/L in March 2019 and 2.3 mIU/L in June 2019 after levothyroxine.',
  'review-b': PAYLOAD,
  'review-c': 'No thyroid labs are on file.',
};
const ANSWERS_SECOND: Record<string, string> = {
  'review-a': 'Father: myocardial infarction at 52. Mother: type 2 diabetes.',
  'review-b': 'Family history is non-contributory.',
};

function stamp(i: number): { id: string; createdAt: string } {
  const t = new Date(Date.UTC(2026, 10, 30, 9, 0, i));
  return {
    id: `${t.toISOString().replace(/[-:.]/g, '')}-rv${String(i).padStart(4, '0')}`,
    createdAt: t.toISOString(),
  };
}

describe('MedAlign review', function () {
  this.timeout(120_000);
  let hooks: ReviewTestHooks;
  let root: string;
  let store: RunStore;
  let n = 0;

  async function saveRun(which: typeof FIRST, endpoint: string, response: string): Promise<void> {
    const s = stamp(++n);
    await store.save(
      fakeRun({
        ...s,
        endpoint,
        response,
        instructionId: which.id,
        instructionFile: which.file,
      }),
    );
  }

  async function describeNow(): Promise<ReviewDescription> {
    return vscode.commands.executeCommand<ReviewDescription>('medalign.review.describe');
  }

  async function shown(what: string, ok: (s: ReviewSnapshot) => boolean): Promise<ReviewSnapshot> {
    return waitFor(`the review panel to show ${what}`, async () => {
      const d = await describeNow();
      return d.snapshot && ok(d.snapshot) ? d.snapshot : undefined;
    });
  }

  function press(...keys: string[]): void {
    for (const k of keys) {
      if (k === 'Ctrl+Enter') hooks.key('Enter', true);
      else hooks.key(k);
    }
  }

  function reviewFile(which: typeof FIRST, reviewer = REVIEWER): string {
    return path.join(root, 'reviews', which.id, `${reviewer.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
  }

  before(async () => {
    const ext = vscode.extensions.getExtension<MedAlignApi>(EXTENSION_ID);
    assert.ok(ext);
    const api = await ext.activate();
    await api.ready;
    assert.ok(api.run.review.test, 'test hooks in test mode');
    hooks = api.run.review.test;
    await hooks.setReviewer(REVIEWER);
    root = workspaceFile('').fsPath;
    store = new RunStore(root);
    for (const [endpoint, text] of Object.entries(ANSWERS_FIRST)) await saveRun(FIRST, endpoint, text);
    for (const [endpoint, text] of Object.entries(ANSWERS_SECOND)) await saveRun(SECOND, endpoint, text);
    // A failed run is not reviewed.
    await store.save(
      fakeRun({
        ...stamp(++n),
        endpoint: 'review-d',
        status: 'error',
        response: 'half',
        instructionId: FIRST.id,
        instructionFile: FIRST.file,
      }),
    );
    await vscode.commands.executeCommand('medalign.runs.refresh');
  });

  after(async () => {
    await hooks.setReviewer(undefined);
    fs.rmSync(path.join(root, 'reviews'), { recursive: true, force: true });
    for (const w of [FIRST, SECOND]) {
      fs.rmSync(path.join(root, '.medalign', 'runs', w.id), { recursive: true, force: true });
    }
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('offers Review on an instruction with answers from two or more endpoint/context pairs', async () => {
    const uri = workspaceFile(FIRST.file);
    await vscode.workspace.openTextDocument(uri);
    const titles = await waitFor('the Review lens', async () => {
      const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>(
        'vscode.executeCodeLensProvider',
        uri,
      );
      const t = lenses.map((l) => l.command?.title ?? '');
      return t.includes('Review') ? t : undefined;
    });
    assert.ok(titles.includes('Compare with gold'));
    // An instruction with no runs has no Review lens.
    const other = workspaceFile('instructions/2000001-afib-start.medalign');
    await vscode.workspace.openTextDocument(other);
    const none = await vscode.commands.executeCommand<vscode.CodeLens[]>(
      'vscode.executeCodeLensProvider',
      other,
    );
    assert.ok(!none.map((l) => l.command?.title).includes('Review'));
  });

  it('reviews two instructions blinded with the keyboard; the file holds no answer text; payloads stay text', async () => {
    await vscode.window.showTextDocument(workspaceFile(FIRST.file));
    const opened = await vscode.commands.executeCommand<ReviewDescription>(
      'medalign.reviewAnswers',
      workspaceFile(FIRST.file),
    );
    assert.equal(opened.reviewer, REVIEWER);
    assert.equal(opened.reviewFile, reviewFile(FIRST));
    const first = await shown('three blinded answers', (s) => s.answers.length === 3 && s.session >= 1);
    assert.deepEqual(
      first.answers.map((a) => a.label),
      ['A', 'B', 'C'],
    );
    // Blinded: no model names anywhere in what is shown.
    assert.deepEqual(
      first.answers.map((a) => a.model),
      ['', '', ''],
    );
    assert.equal(first.status, 'not reviewed yet');
    assert.match(first.heading, /^90000000103 · 2000001-tsh-trend\.medalign$/);
    assert.match(first.progress, /^(counting…|\d+ of \d+ reviewed by you)/);
    assert.match(first.instruction, /TSH/i);
    assert.notEqual(first.gold, '');
    assert.deepEqual(first.answers.map((a) => a.text).sort(), Object.values(ANSWERS_FIRST).sort());
    // The payload is shown as the text it is: no script or image element was made from it.
    assert.ok(first.answers.some((a) => a.text === PAYLOAD));
    assert.equal(first.injected, 0, 'no element made from an answer');
    assert.equal(first.pwned, false, 'no payload ran');
    const order = first.answers.map((a) => a.text);
    // Not asserted (nothing is timed in tests): recorded for the bench figure in the report.
    const openTimes = [{ openMs: opened.openMs, pageMs: opened.pageMs }];

    // Keyboard: A correct, rank 1; B incorrect, rank 2; C correct, rank 2 (a tie); word diff of C.
    press('c', '1', 'ArrowRight', 'x', '2', 'ArrowRight', 'c', '2', 'd');
    const judged = await shown(
      'the labels and ranks given with the keyboard',
      (s) =>
        s.answers[0]?.correct === true &&
        s.answers[1]?.incorrect === true &&
        s.answers[2]?.correct === true &&
        s.answers[2]?.rank === '2' &&
        s.answers[2]?.diff === true,
    );
    assert.deepEqual(
      judged.answers.map((a) => a.rank),
      ['1', '2', '2'],
    );
    assert.deepEqual(judged.ranking, [['A'], ['B', 'C']]);
    assert.equal(judged.injected, 0, 'the word diff is text too');
    assert.equal(judged.answers[2]?.focused, true);
    assert.equal(judged.status, 'draft');

    if (screenshotsAvailable()) {
      const s = await requestScreenshot('review-panel', { waitFor: ['iframe.webview.ready'] });
      assert.ok(s.bytes > 10_000, 'a real screenshot');
    }

    press('Ctrl+Enter');
    const submitted = await shown('the submitted review with model names', (s) => s.status === 'submitted');
    assert.ok(
      submitted.answers.every((a) => /^review-[abc] · 32k/.test(a.model)),
      JSON.stringify(submitted.answers),
    );
    if (screenshotsAvailable()) {
      const s = await requestScreenshot('review-panel-submitted', { waitFor: ['iframe.webview.ready'] });
      assert.ok(s.bytes > 10_000, 'a real screenshot');
    }
    const text = fs.readFileSync(reviewFile(FIRST), 'utf8');
    for (const answer of Object.values(ANSWERS_FIRST)) {
      assert.ok(!text.includes(answer), 'the review file holds no answer text');
    }
    assert.ok(!text.includes('TSH') && !text.includes('onerror') && !text.includes('</script>'));
    const file = JSON.parse(text) as ReviewFile;
    assert.equal(file.reviewer, REVIEWER);
    assert.equal(file.blinded, true);
    assert.equal(file.instruction.file, FIRST.file);
    // The file's judgements match what was shown, answer by answer (by model name once revealed).
    for (const a of submitted.answers) {
      const endpoint = a.model.split(' · ')[0];
      const saved = file.answers.find((x) => x.endpoint === endpoint);
      assert.ok(saved, endpoint);
      assert.equal(saved.label, a.correct ? 'correct' : 'incorrect');
      assert.equal(String(saved.rank), a.rank);
      assert.ok(saved.submittedAt);
      assert.match(saved.hashes.answer, /^[0-9a-f]{16}:[0-9a-z]+$/);
    }

    // Next unreviewed: another instruction that is not reviewed yet.
    press('u');
    const next = await shown('the next unreviewed instruction', (s) => !s.heading.startsWith(FIRST.id));
    assert.notEqual(next.status, 'submitted');

    // The second instruction, with the keyboard: A incorrect (tags by click are optional), B correct, B best.
    await vscode.commands.executeCommand('medalign.reviewAnswers', workspaceFile(SECOND.file));
    const second = await shown(
      'the second instruction',
      (s) => s.heading.startsWith(SECOND.id) && s.answers.length === 2,
    );
    assert.deepEqual(
      second.answers.map((a) => a.model),
      ['', ''],
    );
    press('x', '2', 'l', 'c', '1', 'Ctrl+Enter');
    const done = await shown(
      'the second review submitted',
      (s) => s.heading.startsWith(SECOND.id) && s.status === 'submitted',
    );
    assert.match(done.progress, /^\d+ of \d+ reviewed by you/);
    const second2 = JSON.parse(fs.readFileSync(reviewFile(SECOND), 'utf8')) as ReviewFile;
    assert.deepEqual(second2.answers.map((a) => a.label).sort(), ['correct', 'incorrect']);
    for (const answer of Object.values(ANSWERS_SECOND)) {
      assert.ok(!JSON.stringify(second2).includes(answer));
    }

    // The same reviewer sees the same order again, with the judgements kept.
    const reopened = await vscode.commands.executeCommand<ReviewDescription>(
      'medalign.reviewAnswers',
      workspaceFile(FIRST.file),
    );
    openTimes.push({ openMs: reopened.openMs, pageMs: reopened.pageMs });
    const artifacts = process.env[ARTIFACTS_ENV];
    if (artifacts) {
      fs.writeFileSync(
        path.join(artifacts, 'review-open.json'),
        JSON.stringify({ openMs: openTimes }) + '\n',
      );
    }
    const again = await shown(
      'the first instruction again',
      (s) => s.heading.startsWith(FIRST.id) && s.answers.length === 3,
    );
    assert.deepEqual(
      again.answers.map((a) => a.text),
      order,
    );
    assert.deepEqual(
      again.answers.map((a) => a.rank),
      ['1', '2', '2'],
    );
    assert.equal(again.status, 'submitted');
  });

  it('shows a review whose answer changed since as stale, not reused', async () => {
    // review-c answers again, differently: its judgement no longer applies.
    await saveRun(FIRST, 'review-c', 'TSH 6.1 then 2.3 mIU/L; on levothyroxine 50 mcg.');
    await vscode.commands.executeCommand('medalign.reviewAnswers', workspaceFile(FIRST.file));
    const s = await shown(
      'a stale answer',
      (x) => x.heading.startsWith(FIRST.id) && x.answers.some((a) => a.stale),
    );
    const stale = s.answers.filter((a) => a.stale);
    assert.equal(stale.length, 1);
    assert.match(
      stale[0]?.staleText ?? '',
      /the answer changed since it was reviewed\. Was: correct · rank 2/,
    );
    assert.equal(stale[0]?.correct, false, 'the old label is not reused');
    assert.equal(stale[0]?.rank, '');
    assert.equal(s.status, 'stale');
    assert.equal(s.answers.filter((a) => !a.stale && (a.correct || a.incorrect)).length, 2);
  });

  it('shows the review report: a table per model and context, and charts', async () => {
    const described = async () =>
      vscode.commands.executeCommand<{ snapshot?: ReportSnapshot }>('medalign.report.describe');
    await vscode.commands.executeCommand('medalign.showReport', root);
    const snap = await waitFor('the report with its table and charts', async () => {
      const d = await described();
      return d.snapshot && d.snapshot.bars.length > 0 && d.snapshot.tables.length > 0
        ? d.snapshot
        : undefined;
    });
    assert.equal(snap.message, '');
    assert.match(snap.summary, /instructions · \d+ answers · 1 reviewer · \d+ judgements/);
    const main = snap.tables[0];
    assert.ok(main);
    assert.equal(main.caption, 'By model and context');
    assert.deepEqual(main.head.slice(0, 5), [
      'Model · context',
      'Answers',
      '% correct',
      'Correct / labelled',
      'Mean rank',
    ]);
    assert.ok(main.head.includes('ROUGE-L F'), main.head.join(', '));
    const ours = main.rows.filter((r) => /^review-[abc]/.test(r[0] ?? ''));
    assert.equal(ours.length, 3, JSON.stringify(main.rows));
    // review-c's first answer changed since it was judged: that judgement is not counted.
    for (const r of ours) assert.match(r[3] ?? '', /^\d+ \/ \d+$/);
    assert.ok(snap.bars.some((b) => /^review-a/.test(b.label)));
    assert.ok(snap.svgElements > 10);
    if (screenshotsAvailable()) {
      const s = await requestScreenshot('report-view', { waitFor: ['iframe.webview.ready'] });
      assert.ok(s.bytes > 10_000, 'a real screenshot');
    }
  });
});
