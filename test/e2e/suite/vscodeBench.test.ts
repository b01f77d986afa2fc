/**
 * Figures measured inside a real VS Code for `npm run bench` (issues 10 and 11), defined only when
 * MEDALIGN_E2E_BENCH=1 (test/bench/vscodeBench.ts runs the code-server runner with it): nothing is
 * asserted about time; the figures go to bench.json in the artifacts folder.
 *
 * - Record Timeline on a 2 MB (16k events) and a 50k-event generated record: from the view's request
 *   to the server to the webview's first paint (both clocks are this machine's `Date.now()`), the first
 *   time the record is shown (its structure, painted while its tokens are counted) and to its first
 *   counted paint, and again warm; zoom frames drawn in the webview (`performance.now()`); the
 *   webview's JavaScript heap (`performance.memory`).
 * - Review panel: opening it on another instruction (command → the page rendered that instruction),
 *   with the panel showing and from an instruction editor (the panel hidden); floor: one
 *   `medalign.review.describe` round trip through the panel's page.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { MedAlignApi } from '../../../client/src/extension';
import type { TimelineDescribe } from '../../../client/src/timeline/messages';
import type { ReviewDescription } from '../../../client/src/review/reviewPanel';
import { RunStore } from '../../../engine/src/run/store';
import { fakeRun } from '../../helpers/reviewFixtures';
import { denseRecord } from '../../bench/timelineBench';
import { waitFor, workspaceFile } from './util';
import { ARTIFACTS_ENV } from './protocol';

const EXTENSION_ID = 'medalign-studio.medalign-studio';
const SMALL = 'instructions/2000002-bp-2020.medalign';
const RECORDS = [
  { label: '2 MB record (16k events)', events: 16_000, name: 'bench-2mb' },
  { label: '50k-event record', events: 50_000, name: 'bench-50k' },
];
const REVIEWED = [
  { id: '90000000204', file: 'instructions/2000002-bp-2020.medalign' },
  { id: '90000000201', file: 'instructions/2000002-copd-exacerbations.medalign' },
  { id: 'hip-fx-2000002', file: 'instructions/2000002-hip-fracture.medalign' },
  { id: '90000000101', file: 'instructions/2000001-afib-start.medalign' },
];

export interface TimelineFigures {
  label: string;
  chars: number;
  events: number;
  /** Request → first paint, the record's first model (its structure while counting, when it came first). */
  firstMs: number;
  /** What that first paint showed: the structure (`counting`) or already the counted model. */
  firstStage?: 'counting' | 'counted';
  /** Request → the first paint of the counted model (cut lines and token figures). */
  firstCountedMs?: number;
  /** The same inside the page (content message → paint). */
  firstPageMs: number;
  /** The first paint's content as it came to the page: gzipped bytes (0: it came as JSON text). */
  firstGzipBytes?: number;
  /** Request → first paint when the model is warm (switching back to the instruction). */
  warmMs: number[];
  frameMs: number[];
  heapMB?: number;
}

export interface VsCodeBenchFigures {
  timeline: TimelineFigures[];
  review: {
    anotherMs: number[];
    fromEditorMs: number[];
    describeFloorMs: number[];
    /**
     * A describe round trip through the panel's (hidden, kept) page just after an instruction's
     * editor was shown, before opening the panel from it: how long the workbench takes to pass a
     * message to a webview and back while it is busy with the editor it just opened.
     */
    afterEditorFloorMs?: number[];
    /**
     * The same open and floor after showing a Markdown file (README.md) instead of the instruction:
     * what the workbench costs after showing an editor none of this extension's features work on.
     */
    fromTextEditorMs?: number[];
    afterTextEditorFloorMs?: number[];
    /** `openSteps` of each open (see ReviewDescription). */
    anotherSteps: NonNullable<ReviewDescription['openSteps']>[];
    fromEditorSteps: NonNullable<ReviewDescription['openSteps']>[];
  };
}

if (process.env['MEDALIGN_E2E_BENCH'] === '1') {
  describe('MedAlign bench in VS Code (figures)', function () {
    this.timeout(600_000);
    let api: MedAlignApi;
    let root: string;
    const figures: VsCodeBenchFigures = {
      timeline: [],
      review: { anotherMs: [], fromEditorMs: [], describeFloorMs: [], anotherSteps: [], fromEditorSteps: [] },
    };

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
    const show = async (file: string) =>
      vscode.window.showTextDocument(await vscode.workspace.openTextDocument(workspaceFile(file)), {
        preview: false,
        viewColumn: vscode.ViewColumn.One,
      });

    before(async () => {
      const ext = vscode.extensions.getExtension<MedAlignApi>(EXTENSION_ID);
      assert.ok(ext);
      api = await ext.activate();
      await api.ready;
      root = workspaceFile('').fsPath;
      for (const r of RECORDS) {
        fs.writeFileSync(path.join(root, 'records', `${r.name}.xml`), denseRecord(r.events));
        fs.writeFileSync(
          path.join(root, 'instructions', `${r.name}.medalign`),
          `---\nid: ${r.name}\nrecord: ../records/${r.name}.xml\nmodel: baseline\ncontext: 32k\nstrategy: recent\n---\n\n## Instruction\nWhat was the most recent glucose?\n`,
        );
      }
    });

    after(async () => {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      for (const r of RECORDS) {
        fs.rmSync(path.join(root, 'records', `${r.name}.xml`), { force: true });
        fs.rmSync(path.join(root, 'instructions', `${r.name}.medalign`), { force: true });
      }
      for (const r of REVIEWED)
        fs.rmSync(path.join(root, '.medalign', 'runs', r.id), { recursive: true, force: true });
      fs.rmSync(path.join(root, 'reviews'), { recursive: true, force: true });
      await api.run.review.test?.setReviewer(undefined);
      const dir = process.env[ARTIFACTS_ENV];
      if (dir) fs.writeFileSync(path.join(dir, 'bench.json'), JSON.stringify(figures, null, 1) + '\n');
    });

    it('timeline: request to first paint, zoom frames and heap in the webview', async () => {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await show(SMALL);
      await vscode.commands.executeCommand('medalign.timeline.focus');
      await viewShows(
        'the small record',
        (x) => x.state === 'model' && x.record === 'records/2000002.xml' && x.stage === 'counted',
      );
      for (const r of RECORDS) {
        const file = `instructions/${r.name}.medalign`;
        const record = `records/${r.name}.xml`;
        /**
         * Request → the first paint after it, and → the first counted paint (the page keeps its last 20
         * paint times and what each showed), and the page's own time of the first paint.
         */
        const paintAfter = async (): Promise<{
          first: number;
          stage: 'counting' | 'counted';
          counted: number;
          page: number;
          gzipBytes: number;
        }> => {
          const asked = () => api.timeline.view.requestedAt ?? Infinity;
          const d = await viewShows(
            `${record} counted`,
            (x) =>
              x.state === 'model' &&
              x.record === record &&
              x.stage === 'counted' &&
              (x.perf.paintedAt?.at(-1) ?? 0) >= asked() &&
              // The counted model's frame (recorded after it is drawn), not only the structure's.
              x.perf.paintedStage?.at(-1) === 'counted',
          );
          const at = d.perf.paintedAt ?? [];
          const stages = d.perf.paintedStage ?? [];
          const i = at.findIndex((t) => t >= asked());
          const c = at.findIndex((t, k) => t >= asked() && stages[k] === 'counted');
          return {
            first: at[i] - asked(),
            stage: stages[i] ?? 'counted',
            counted: at[c] - asked(),
            page: d.perf.firstPaintMs[i] ?? NaN,
            gzipBytes: d.perf.paintedGzipBytes?.[i] ?? 0,
          };
        };
        await show(file);
        const cold = await paintAfter();
        const warmMs: number[] = [];
        for (let k = 0; k < 3; k++) {
          await show(SMALL);
          // Counted (as the user left it), so the next figure is the big record's alone.
          await viewShows(
            'the small record',
            (x) => x.state === 'model' && x.record === 'records/2000002.xml' && x.stage === 'counted',
          );
          await show(file);
          warmMs.push((await paintAfter()).first);
        }
        const framesBefore = (await describeView()).perf.frameMs.length;
        for (let k = 0; k < 20; k++)
          api.timeline.view.act({ kind: 'zoom', factor: k % 4 < 2 ? 1.6 : 1 / 1.6 });
        const d = await viewShows(
          'zoom frames',
          (x) => x.perf.frameMs.length >= Math.min(200, framesBefore + 20),
        );
        const text = fs.readFileSync(path.join(root, record), 'utf8');
        figures.timeline.push({
          label: r.label,
          chars: text.length,
          events: d.counts?.events ?? r.events,
          firstMs: cold.first,
          firstStage: cold.stage,
          firstCountedMs: cold.counted,
          firstPageMs: cold.page,
          firstGzipBytes: cold.gzipBytes,
          warmMs,
          frameMs: d.perf.frameMs.slice(-20),
          ...(d.perf.heapMB !== undefined ? { heapMB: d.perf.heapMB } : {}),
        });
      }
    });

    it('review panel: opening it on another instruction', async () => {
      const hooks = api.run.review.test;
      assert.ok(hooks);
      await hooks.setReviewer('Dr Bench');
      const store = new RunStore(root);
      let n = 0;
      for (const r of REVIEWED)
        for (const endpoint of ['bench-a', 'bench-b', 'bench-c']) {
          const t = new Date(Date.UTC(2026, 10, 30, 11, 0, ++n));
          await store.save(
            fakeRun({
              id: `${t.toISOString().replace(/[-:.]/g, '')}-bn${String(n).padStart(4, '0')}`,
              createdAt: t.toISOString(),
              endpoint,
              response: `Answer ${n} from ${endpoint}: blood pressure 128/82 on the last visit.`,
              instructionId: r.id,
              instructionFile: r.file,
            }),
          );
        }
      await vscode.commands.executeCommand('medalign.runs.refresh');
      const open = (file: string) =>
        vscode.commands.executeCommand<ReviewDescription>('medalign.reviewAnswers', workspaceFile(file));
      await open(REVIEWED[0].file);
      for (let round = 0; round < 3; round++) {
        for (const r of REVIEWED.slice(round === 0 ? 1 : 0)) {
          const d = await open(r.file);
          assert.equal(d.instructionId, r.id);
          if (d.openMs !== undefined) figures.review.anotherMs.push(d.openMs);
          if (d.openSteps) figures.review.anotherSteps.push(d.openSteps);
          const t = Date.now();
          await vscode.commands.executeCommand<ReviewDescription>('medalign.review.describe');
          figures.review.describeFloorMs.push(Date.now() - t);
        }
        // From an instruction's editor: the panel is hidden behind it, then shown on that instruction.
        for (const r of REVIEWED) {
          await show(r.file);
          const d = await open(r.file);
          assert.equal(d.instructionId, r.id);
          if (d.openMs !== undefined) figures.review.fromEditorMs.push(d.openMs);
          if (d.openSteps) figures.review.fromEditorSteps.push(d.openSteps);
          // The same editor shown again, and a round trip through the hidden page instead of opening.
          await show(r.file);
          const t = Date.now();
          await vscode.commands.executeCommand<ReviewDescription>('medalign.review.describe');
          (figures.review.afterEditorFloorMs ??= []).push(Date.now() - t);
          // The same from a Markdown editor (the command names the instruction's file).
          await show('README.md');
          const m = await open(r.file);
          assert.equal(m.instructionId, r.id);
          if (m.openMs !== undefined) (figures.review.fromTextEditorMs ??= []).push(m.openMs);
          await show('README.md');
          const u = Date.now();
          await vscode.commands.executeCommand<ReviewDescription>('medalign.review.describe');
          (figures.review.afterTextEditorFloorMs ??= []).push(Date.now() - u);
        }
      }
    });
  });
}
