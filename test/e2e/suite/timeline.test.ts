/**
 * End-to-end: the Record Timeline view in a real VS Code (issue 10). The view follows the
 * instruction, its cut lines are exactly what `medalign pack` keeps (the CLI run as a process on
 * the same workspace), editing `context:` moves the highlighted cut, clicking an event in the
 * webview shows its range in the record, and a record full of script payloads is drawn as text
 * with nothing run. Every figure is read from the webview itself (`medalign.timeline.describe`).
 * Screenshots in dark, light and high-contrast themes.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { MedAlignApi } from '../../../client/src/extension';
import type { TimelineDescribe } from '../../../client/src/timeline/messages';
import type { TimelineModel } from '../../../client/src/timeline/model';
import { requestScreenshot, screenshotsAvailable, waitFor, workspaceFile } from './util';

const EXTENSION_ID = 'medalign-studio.medalign-studio';
const INSTRUCTION = 'instructions/2000002-bp-2020.medalign';
const RECORD = 'records/2000002.xml';
const PAYLOAD_RECORD = 'records/9999999.xml';
const PAYLOAD_INSTRUCTION = 'instructions/9999999-payloads.medalign';

/** A record whose text holds script payloads (XML-escaped, so the parser gives them back as text). */
const PAYLOAD_XML = `<record>
    <visit type="Office Visit" start="03/02/2021 09:00">
        <day start="03/02/2021 09:00">
            <note type="&lt;img src=x onerror=&quot;window.medalignPwned=1&quot;&gt;" start="03/02/2021 09:10 AM">
                Payload note &lt;/script&gt;&lt;script&gt;window.medalignPwned=2&lt;/script&gt; and javascript:window.medalignPwned=3 here.
            </note>
            <measurement start="03/02/2021 09:15 AM">
                <code>[LOINC/8480-6] Systolic blood pressure 150 &lt;script&gt;window.medalignPwned=5&lt;/script&gt;</code>
            </measurement>
        </day>
    </visit>
    <visit type="Office Visit" start="04/02/2021 09:00">
        <day start="04/02/2021 09:00">
            <note type="javascript:window.medalignPwned=6" start="04/02/2021 09:10 AM">
                &lt;svg onload=window.medalignPwned=7&gt; follow-up.
            </note>
        </day>
    </visit>
</record>
`;
const PAYLOAD_INSTRUCTION_TEXT = `---
id: 9999999001
patient: 9999999
model: baseline
context: 2k
strategy: recent
---

## Instruction
What was the systolic blood pressure?
`;

interface PackJson {
  ok: boolean;
  kept: { tokens: number; visits: number; firstDate?: { iso: string } };
}

describe('MedAlign record timeline', function () {
  this.timeout(240_000);
  let api: MedAlignApi;
  let root: string;
  let uri: vscode.Uri;
  let cli: string;

  const describeView = () => vscode.commands.executeCommand<TimelineDescribe>('medalign.timeline.describe');

  /**
   * The view's description once `ok` holds for it, its tokens counted (a big record is painted as
   * its structure first while it is counted: test/e2e/suite/timelineFirst.test.ts).
   */
  function viewShows(what: string, ok: (d: TimelineDescribe) => boolean, timeoutMs = 30_000) {
    return waitFor(
      `the timeline to show ${what}`,
      async () => {
        const d = await describeView();
        return ok(d) && d.stage !== 'counting' ? d : undefined;
      },
      timeoutMs,
    );
  }

  function runCli(args: string[]): string {
    return execFileSync(process.execPath, [cli, ...args], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
  }

  async function shot(name: string): Promise<void> {
    if (!screenshotsAvailable()) return;
    const s = await requestScreenshot(name, { waitFor: ['iframe.webview.ready'] });
    assert.ok(s.bytes > 20_000, `${name} is a real screenshot`);
  }

  async function setTheme(theme: string | undefined, kind?: vscode.ColorThemeKind): Promise<void> {
    await vscode.workspace
      .getConfiguration('workbench')
      .update('colorTheme', theme, vscode.ConfigurationTarget.Global);
    if (kind !== undefined)
      await waitFor(`the ${theme} theme`, () => vscode.window.activeColorTheme.kind === kind);
  }

  before(async () => {
    const ext = vscode.extensions.getExtension<MedAlignApi>(EXTENSION_ID);
    assert.ok(ext, 'the extension is installed');
    api = await ext.activate();
    await api.ready;
    root = workspaceFile('').fsPath;
    cli = path.join(ext.extensionPath, 'dist', 'cli.js');
    uri = workspaceFile(INSTRUCTION);
    api.run.test?.clearChoice(uri);
    fs.writeFileSync(workspaceFile(PAYLOAD_RECORD).fsPath, PAYLOAD_XML);
    fs.writeFileSync(workspaceFile(PAYLOAD_INSTRUCTION).fsPath, PAYLOAD_INSTRUCTION_TEXT);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: false });
  });

  after(async () => {
    await setTheme(undefined);
    await vscode.commands.executeCommand('medalign.timeline.focus');
    for (let i = 0; i < 4; i++) await vscode.commands.executeCommand('workbench.action.decreaseViewSize');
    api.run.test?.clearChoice(uri);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    fs.rmSync(workspaceFile(PAYLOAD_RECORD).fsPath, { force: true });
    fs.rmSync(workspaceFile(PAYLOAD_INSTRUCTION).fsPath, { force: true });
    fs.rmSync(path.join(root, '.medalign'), { recursive: true, force: true });
  });

  it('a Timeline lens beside Preview prompt opens the view on the instruction’s record', async () => {
    const lenses = await waitFor('the lenses', async () => {
      const ls = await vscode.commands.executeCommand<vscode.CodeLens[]>(
        'vscode.executeCodeLensProvider',
        uri,
      );
      return ls.some((l) => l.command?.title === 'Timeline') && ls;
    });
    const lens = lenses.find((l) => l.command?.title === 'Timeline')!;
    const preview = lenses.find((l) => l.command?.title === 'Preview prompt')!;
    assert.equal(lens.command?.command, 'medalign.timeline.show');
    assert.equal(lens.range.start.line, preview.range.start.line);
    const args: unknown[] = lens.command?.arguments ?? [];
    await vscode.commands.executeCommand('medalign.timeline.show', ...args);
    const d = await viewShows('the instruction’s record', (x) => x.state === 'model' && x.record === RECORD);
    assert.equal(d.source, INSTRUCTION);
    assert.equal(d.strategy, 'recent');
    assert.equal(d.encoding, 'o200k_base', 'gpt-4o’s tokenizer');
    assert.deepEqual(
      d.cuts?.map((c) => c.label),
      ['2k', '4k', '8k', '16k', '32k', '64k', '128k'],
    );
    assert.deepEqual(
      d.cuts?.filter((c) => c.own).map((c) => c.label),
      ['16k'],
      'the instruction’s own context is highlighted',
    );
    assert.ok(d.counts && d.counts.visits > 100 && d.counts.events > 1000, JSON.stringify(d.counts));
    assert.ok((d.breaks?.length ?? 0) > 0, 'long gaps are drawn as marked breaks');
    assert.deepEqual(d.inert, { globals: [], elements: [] });
  });

  it('every cut line is what `medalign pack` keeps at that context', async () => {
    const d = await viewShows('the model', (x) => x.state === 'model' && x.record === RECORD);
    for (const cut of d.cuts ?? []) {
      const args = ['pack', INSTRUCTION, '--json', ...(cut.own ? [] : ['--context', cut.label])];
      if (cut.label === '128k') {
        // gpt-4o's contextWindow (128,000 tokens) is below 128k (131,072): pack refuses, as Run does.
        assert.throws(
          () => runCli(args),
          (e: { stdout?: string }) => /larger than the context window of 'gpt-4o'/.test(String(e.stdout)),
        );
        continue;
      }
      const pack = JSON.parse(runCli(args)) as PackJson;
      assert.ok(pack.ok, `pack at ${cut.label}`);
      assert.deepEqual(
        [cut.keptTokens, cut.keptVisits, cut.keptFrom],
        [pack.kept.tokens, pack.kept.visits, pack.kept.firstDate?.iso ?? null],
        `the ${cut.label} line`,
      );
    }
    // And the whole model is the CLI's (`medalign timeline --json`): the same counts.
    const model = JSON.parse(runCli(['timeline', INSTRUCTION, '--json'])) as TimelineModel;
    assert.equal(d.tokens, model.tokens);
    assert.equal(d.counts?.visits, model.visits.length);
    assert.equal(
      d.counts?.events,
      model.visits.reduce((n, v) => n + v.events.filter((e) => e.date !== null).length, 0),
    );
  });

  it('looks right in dark, light and high-contrast themes', async () => {
    await viewShows('the model', (x) => x.state === 'model' && x.record === RECORD);
    // A wider side bar, as a curator would make it for a timeline (restored in `after`).
    await vscode.commands.executeCommand('medalign.timeline.focus');
    for (let i = 0; i < 4; i++) await vscode.commands.executeCommand('workbench.action.increaseViewSize');
    await viewShows('the wider plot', (x) => x.state === 'model');
    for (const [name, theme, kind] of [
      ['timeline-dark', 'Default Dark Modern', vscode.ColorThemeKind.Dark],
      ['timeline-light', 'Default Light Modern', vscode.ColorThemeKind.Light],
      ['timeline-high-contrast', 'Default High Contrast', vscode.ColorThemeKind.HighContrast],
    ] as const) {
      await setTheme(theme, kind);
      await shot(name);
    }
    await setTheme(undefined);
  });

  it('editing `context:` in the editor moves the highlighted cut line', async () => {
    const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), {
      preview: false,
      viewColumn: vscode.ViewColumn.One,
    });
    const before = await viewShows('16k highlighted', (x) => x.cuts?.find((c) => c.own)?.label === '16k');
    const line = editor.document
      .getText()
      .split('\n')
      .findIndex((l) => l.startsWith('context:'));
    assert.ok(line > 0, 'the front matter has a context line');
    const shownBefore = Math.max(0, ...(before.perf.paintedAt ?? []));
    await editor.edit((e) => e.replace(editor.document.lineAt(line).range, 'context: 8k'));
    const after = await viewShows(
      '8k highlighted, and painted',
      (x) => x.cuts?.find((c) => c.own)?.label === '8k' && (x.perf.paintedAt?.at(-1) ?? 0) > shownBefore,
    );
    const own8 = after.cuts!.find((c) => c.own)!;
    const old8 = before.cuts!.find((c) => c.label === '8k')!;
    assert.deepEqual([own8.keptFrom, own8.keptTokens], [old8.keptFrom, old8.keptTokens]);
    assert.ok(after.counts!.keptVisits < before.counts!.keptVisits, 'fewer visits kept at 8k');
    assert.equal(after.seq > before.seq, true);
    // The record was counted already: the edit repaints the counted model, never its structure
    // ("Counting tokens…", no cut lines) in between.
    const since = (after.perf.paintedStage ?? []).filter(
      (_, i) => (after.perf.paintedAt ?? [])[i] > shownBefore,
    );
    assert.ok(since.length > 0 && since.every((st) => st === 'counted'), since.join(','));
    await editor.edit((e) => e.replace(editor.document.lineAt(line).range, 'context: 16k'));
    await editor.document.save();
    await viewShows('16k again', (x) => x.cuts?.find((c) => c.own)?.label === '16k');
  });

  it('clicking a cut line offers that context, as Context… does; this window’s choice moves the cut', async () => {
    const hooks = api.run.test!;
    await viewShows('16k highlighted', (x) => x.cuts?.find((c) => c.own)?.label === '16k');
    api.timeline.view.act({ kind: 'clickCut', label: '32k' });
    const q = await waitFor('the scope step', () => {
      const s = hooks.quickInput();
      return s?.items.some((i) => i.label === 'For this window') && s;
    });
    assert.deepEqual(
      q.items.map((i) => i.label),
      ['For this window', 'Write to the front matter'],
    );
    assert.equal(q.items[1].description, 'context: 32k');
    assert.ok(await hooks.chooseInQuickInput(['For this window']));
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    await viewShows('32k highlighted', (x) => x.cuts?.find((c) => c.own)?.label === '32k');
    hooks.clearChoice(uri);
    await viewShows('16k again', (x) => x.cuts?.find((c) => c.own)?.label === '16k');
  });

  it('clicking an event shows its exact range in the record beside the instruction', async () => {
    const model = JSON.parse(runCli(['timeline', INSTRUCTION, '--json'])) as TimelineModel;
    const visit = model.visits.find((v) => v.state === 'kept' && v.events.some((e) => e.kind === 'note'))!;
    const event = visit.events.find((e) => e.kind === 'note')!;
    api.timeline.view.act({ kind: 'clickEvent', id: event.id });
    const recordEditor = await waitFor('the record editor', () =>
      vscode.window.visibleTextEditors.find((e) => e.document.uri.fsPath === workspaceFile(RECORD).fsPath),
    );
    const [l0, c0, l1, c1] = event.range;
    await waitFor('the event’s range selected', () => {
      const s = recordEditor.selection;
      return s.start.line === l0 && s.start.character === c0 && s.end.line === l1 && s.end.character === c1;
    });
    const d = await viewShows('the selection', (x) => x.selection?.id === event.id);
    assert.equal(d.selection?.what, 'event');
    assert.equal(d.source, INSTRUCTION, 'the view stays on the instruction when its record opens');
    assert.ok(d.detailsText?.includes(event.label), d.detailsText);
    await shot('timeline-selected-event');
  });

  it('search says how many events match and where they fall relative to the cut; kinds filter', async () => {
    api.timeline.view.act({ kind: 'search', text: 'blood pressure' });
    const d = await viewShows('search hits', (x) => (x.filters?.hits ?? 0) > 0);
    assert.equal(d.filters!.hitsKept + d.filters!.hitsCut, d.filters!.hits);
    assert.ok(d.filters!.hitsKept > 0 && d.filters!.hitsCut > 0, JSON.stringify(d.filters));
    const all = d.counts!.shownEvents;
    api.timeline.view.act({ kind: 'filter', lane: 'measurements', shown: false });
    const f = await viewShows(
      'measurements hidden',
      (x) => !(x.filters?.lanes ?? []).includes('measurements'),
    );
    assert.ok(f.counts!.shownEvents < all);
    api.timeline.view.act({ kind: 'filter', lane: 'measurements', shown: true });
    api.timeline.view.act({ kind: 'search', text: '' });
    api.timeline.view.act({ kind: 'fit', what: 'kept' });
    const k = await viewShows('the kept part fitted', (x) => (x.visibleRange?.zoom ?? 1) > 1);
    assert.ok(k.visibleRange!.from >= '2020', `visible from ${k.visibleRange!.from}`);
    api.timeline.view.act({ kind: 'fit', what: 'all' });
    await viewShows('everything', (x) => x.visibleRange?.zoom === 1);
  });

  it('a record holding script payloads is drawn as text and nothing runs', async () => {
    const payload = workspaceFile(PAYLOAD_INSTRUCTION);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(payload), {
      preview: false,
      viewColumn: vscode.ViewColumn.One,
    });
    const d = await viewShows(
      'the payload record',
      (x) => x.state === 'model' && x.record === PAYLOAD_RECORD,
    );
    assert.equal(d.counts?.events, 3);
    const model = JSON.parse(runCli(['timeline', PAYLOAD_INSTRUCTION, '--json'])) as TimelineModel;
    for (const event of model.visits.flatMap((v) => v.events)) {
      api.timeline.view.act({ kind: 'clickEvent', id: event.id });
      const s = await viewShows(`event ${event.id} selected`, (x) => x.selection?.id === event.id);
      // The payload is on the page as text, verbatim.
      assert.ok(s.detailsText?.includes(event.label), `${s.detailsText} holds ${event.label}`);
      if (event.preview) assert.ok(s.detailsText?.includes(event.preview));
      assert.deepEqual(s.inert, { globals: [], elements: [] }, `nothing ran after event ${event.id}`);
    }
    api.timeline.view.act({ kind: 'search', text: 'medalignPwned' });
    const searched = await viewShows('the payloads found', (x) => (x.filters?.hits ?? 0) === 3);
    assert.deepEqual(searched.inert, { globals: [], elements: [] });
    await shot('timeline-payloads');
    api.timeline.view.act({ kind: 'search', text: '' });
  });

  it('a broken record says why, with the way to the problem', async () => {
    await vscode.window.showTextDocument(
      await vscode.workspace.openTextDocument(workspaceFile('instructions/broken-record.medalign')),
      { preview: false, viewColumn: vscode.ViewColumn.One },
    );
    const d = await viewShows('the broken state', (x) => x.state === 'broken');
    assert.equal(d.source, 'instructions/broken-record.medalign');
    assert.ok((d.message ?? '').length > 20, d.message);
  });

  it('reports its own first-paint and frame times (figures, not assertions)', async () => {
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), {
      preview: false,
      viewColumn: vscode.ViewColumn.One,
    });
    await viewShows('the model', (x) => x.state === 'model' && x.record === RECORD);
    for (const f of [1.5, 1.5, 1 / 1.5, 1 / 1.5, 2, 0.5]) api.timeline.view.act({ kind: 'zoom', factor: f });
    const d = await viewShows(
      'frame times',
      (x) => x.perf.frameMs.length >= 6 && x.perf.firstPaintMs.length > 0,
    );
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(
      `timeline perf (2000002.xml, ${d.counts?.events} events): first paint ${d.perf.firstPaintMs.join(', ')} ms; ` +
        `zoom/pan frames median ${median(d.perf.frameMs)} ms, max ${Math.max(...d.perf.frameMs)} ms over ${d.perf.frameMs.length}`,
    );
  });
});
