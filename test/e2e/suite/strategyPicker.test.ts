/**
 * End-to-end: the Strategy… picker (issue 15) in a real VS Code. It is offered in the run-lens beside
 * Context…; it lists every strategy of the schema with what each keeps of the record at the
 * instruction's model and context (the server packs each: tokens kept, well-formed XML or not, where
 * the cut falls, refine's steps), the current one active; picking helm writes `strategy: helm` into
 * the front matter and the prompt preview follows, saying where helm differs from recent; a choice
 * for this window moves the preview too.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { MedAlignApi } from '../../../client/src/extension';
import type { RunTestHooks } from '../../../client/src/run';
import type { QuickInputState } from '../../../client/src/run/quickInput';
import {
  chooseInPicker,
  quickInputShowing,
  requestScreenshot,
  screenshotsAvailable,
  waitFor,
  workspaceFile,
} from './util';

const EXTENSION_ID = 'medalign-studio.medalign-studio';
const INSTRUCTION = 'instructions/1234555-chads-vasc.medalign';
const FILE_NAME = '1234555-chads-vasc.medalign';

describe('Strategy picker', function () {
  this.timeout(180_000);
  let api: MedAlignApi;
  let hooks: RunTestHooks;
  let uri: vscode.Uri;
  let original: string;

  const quickInput = (what: string, ok: (q: QuickInputState) => boolean) =>
    quickInputShowing(hooks, what, ok);
  const choose = (labels: string[]) => chooseInPicker(hooks, labels);

  before(async () => {
    const ext = vscode.extensions.getExtension<MedAlignApi>(EXTENSION_ID);
    assert.ok(ext, 'the extension is installed');
    api = await ext.activate();
    assert.ok(api.run.test, 'the run-lens test hooks exist in test mode');
    hooks = api.run.test;
    await api.ready;
    uri = workspaceFile(INSTRUCTION);
    original = fs.readFileSync(uri.fsPath, 'utf8');
    hooks.clearChoice(uri);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: false });
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    hooks.clearChoice(uri);
    // Leave the sample as it was, on disk and in its (not dirty) document, for the suites that follow.
    const doc = await vscode.workspace.openTextDocument(uri);
    if (doc.isDirty) await doc.save();
    fs.writeFileSync(uri.fsPath, original);
    await waitFor('the sample restored', () => doc.getText() === original && !doc.isDirty);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('Strategy…: every strategy with what it keeps at the model and context; helm written to the front matter, the preview follows', async () => {
    // Strategy… sits in the run-lens beside Context….
    const lenses = await waitFor('the run lens', async () => {
      const ls = await vscode.commands.executeCommand<vscode.CodeLens[]>(
        'vscode.executeCodeLensProvider',
        uri,
      );
      const t = ls.map((l) => l.command?.title ?? '');
      return t.includes('Strategy…') && ls;
    });
    const lens = lenses.find((l) => l.command?.title === 'Strategy…')!;
    assert.equal(lens.command?.command, 'medalign.pickStrategy');
    const titles = lenses.map((l) => l.command?.title ?? '');
    assert.equal(titles.indexOf('Strategy…'), titles.indexOf('Context…') + 1);

    // 2k for this window, so that strategies differ: the picker packs at the instruction's context now.
    assert.equal(await vscode.commands.executeCommand('medalign.pickContext', uri, '2k', 'window'), true);

    const done = vscode.commands.executeCommand<boolean>('medalign.pickStrategy', uri);
    const s1 = await quickInput(
      'what each strategy keeps',
      (q) =>
        q.kind === 'pick' && !q.busy && q.step === 1 && q.items.every((i) => !i.detail.includes('packing')),
    );
    assert.equal(s1.title, `MedAlign: strategy for ${FILE_NAME}`);
    assert.deepEqual([s1.step, s1.totalSteps, s1.back], [1, 2, false]);
    assert.deepEqual(
      s1.items.map((i) => i.label),
      ['recent', 'bm25', 'none', 'helm', 'refine'],
    );
    assert.deepEqual(s1.active, ['recent'], 'the front matter’s strategy is preselected');
    assert.match(
      s1.placeholder,
      /^Strategy \(now recent\) · what each keeps of the record at 2k for gpt-4o$/,
    );
    const item = (label: string) => s1.items.find((i) => i.label === label)!;
    // What each keeps on the label's line; whether the XML is well-formed and where the cut falls below.
    assert.match(
      item('recent').description,
      /^1,\d{3} of 2,\d{3} tokens \(\d+%, o200k_base\) · current \(front matter\)$/,
    );
    assert.match(
      item('recent').detail,
      /^\$\(pass\) well-formed XML · cut: between elements, the newest part from \d{4}-\d\d-\d\d — Keep the most recent part/,
    );
    assert.match(item('helm').description, /^1,\d{3} of 2,949 tokens \(\d+%, cl100k_base as HELM counts\)$/);
    assert.match(
      item('helm').detail,
      /^\$\(warning\) not well-formed XML · cut: mid-element at line \d+, column \d+ \(the middle of a <\w+> event .* — Reproduce HELM's MedAlign request byte for byte$/,
    );
    assert.equal(item('none').description, 'does not fit');
    assert.match(item('none').detail, /^\$\(error\) The whole record needs/);
    assert.match(item('refine').description, /^whole record, [\d,]+ tokens over \d+ steps \(o200k_base\)$/);
    assert.match(
      item('refine').detail,
      /^\$\(pass\) well-formed XML · cut: none, the whole record in \d+ steps — Multi-step/,
    );
    if (screenshotsAvailable()) {
      const shot = await requestScreenshot('picker-strategy', {
        waitFor: ['.quick-input-widget:has-text("mid-element")'],
      });
      assert.ok(shot.bytes > 20_000, 'a real screenshot');
    }

    await choose(['helm']);
    const s2 = await quickInput('step 2', (q) => q.step === 2);
    assert.deepEqual(
      s2.items.map((i) => i.label),
      ['For this window', 'Write to the front matter'],
    );
    assert.equal(s2.items[1].description, 'strategy: helm');
    await choose(['Write to the front matter']);
    assert.equal(await done, true);
    const edited = await vscode.workspace.openTextDocument(uri);
    assert.match(edited.getText(), /^strategy: helm$/m, 'written into the front matter');
    await waitFor('the file saved with strategy: helm', () =>
      /^strategy: helm$/m.test(fs.readFileSync(uri.fsPath, 'utf8')),
    );

    // The preview follows: HELM's request at 2k (this window's context), and how it differs from recent.
    await vscode.commands.executeCommand('medalign.previewPrompt', uri);
    const helm = await waitFor('the helm preview', async () => {
      const s = await api.preview.snapshot(uri, 1000);
      return s && s.header.some((l) => l.includes('strategy helm')) && s;
    });
    const header = helm.header.join('\n');
    assert.match(header, /context 2k · strategy helm/);
    assert.match(header, /Compared with recent:/);
    assert.match(header, /Well-formed XML: helm no \(starts mid-record\) · recent yes\./);
    assert.equal(helm.messages.length, 1);
    assert.ok(helm.messages[0].content.startsWith('\nQuestion: Instruction: '));
    if (screenshotsAvailable()) {
      const shot = await requestScreenshot('preview-strategy-helm', {
        waitFor: ['iframe.webview.ready'],
      });
      assert.ok(shot.bytes > 20_000);
    }

    // The picker now has helm active, from the front matter; a choice for this window moves the preview.
    const again = vscode.commands.executeCommand<boolean>('medalign.pickStrategy', uri);
    const s3 = await quickInput('helm current', (q) => q.step === 1 && !q.busy);
    assert.deepEqual(s3.active, ['helm']);
    assert.match(s3.items.find((i) => i.label === 'helm')!.description, / · current \(front matter\)$/);
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    assert.equal(await again, false);
    assert.equal(await vscode.commands.executeCommand('medalign.pickStrategy', uri, 'bm25', 'window'), true);
    const bm25 = await waitFor('the preview to follow the window’s strategy', async () => {
      const s = await api.preview.snapshot(uri, 1000);
      return s && s.header.some((l) => l.includes('strategy bm25')) && s;
    });
    assert.ok(!bm25.header.join('\n').includes('Compared with recent'));
    assert.match(fs.readFileSync(uri.fsPath, 'utf8'), /^strategy: helm$/m, 'the file keeps helm');
  });
});
