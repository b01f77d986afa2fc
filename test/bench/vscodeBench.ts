/**
 * Figures measured inside a real VS Code (issues 10 and 11): runs the e2e runner (code-server +
 * Chromium) with only test/e2e/suite/vscodeBench.test.ts (MEDALIGN_E2E_BENCH=1) and prints what it
 * wrote to test-artifacts/e2e/bench.json, with the machine's load. Skipped (with the reason) when
 * code-server is not installed (`bash scripts/install-vscode.sh`) or MEDALIGN_BENCH_VSCODE=0.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT, codeServerInstall } from '../../scripts/codeServer';
import type { VsCodeBenchFigures } from '../e2e/suite/vscodeBench.test';
import { fmt, median, p95, row } from './stats';

const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

/** Medians of where the opens' time went. */
function steps(xs: VsCodeBenchFigures['review']['anotherSteps']): void {
  if (xs.length === 0) return;
  const m = (k: 'beforeMs' | 'loadMs' | 'renderMs') => fmt(median(xs.map((x) => x[k])));
  row(
    '  of which: command before the panel / load / render (medians)',
    `${m('beforeMs')} / ${m('loadMs')} / ${m('renderMs')}`,
  );
  // Opens where the page had to load: from posting the state to VS Code starting the page, its
  // script running, and its `ready` arriving (then the state is sent again and rendered).
  const loads = xs.filter((x) => x.readyMs !== undefined);
  if (loads.length === 0) return;
  const q = (k: 'pageStartMs' | 'scriptMs' | 'readyMs') => {
    const v = loads.map((x) => x[k]).filter((x): x is number => x !== undefined);
    return v.length ? fmt(median(v)) : 'n/a';
  };
  row(
    `  page loads (${loads.length}): page start / script ran / ready (medians)`,
    `${q('pageStartMs')} / ${q('scriptMs')} / ${q('readyMs')}`,
  );
}

export function runVsCodeBench(): void {
  console.log('\nIn a real VS Code (code-server 1.139 + Chromium): the Record Timeline and the review panel');
  if (process.env['MEDALIGN_BENCH_VSCODE'] === '0') {
    console.log('  skipped (MEDALIGN_BENCH_VSCODE=0)');
    return;
  }
  try {
    codeServerInstall();
  } catch (err) {
    console.log(`  skipped: ${(err as Error).message}`);
    return;
  }
  const before = load();
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'out/test/e2e/runInCodeServer.js')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      MEDALIGN_E2E_BENCH: '1',
      MEDALIGN_E2E_GREP: 'MedAlign bench in VS Code',
      MEDALIGN_E2E_TIMEOUT_MS: '900000',
    },
    encoding: 'utf8',
  });
  const file = path.join(REPO_ROOT, 'test-artifacts', 'e2e', 'bench.json');
  if (r.status !== 0 || !fs.existsSync(file)) {
    console.log(`  failed (exit ${r.status}):\n${(r.stdout + r.stderr).split('\n').slice(-25).join('\n')}`);
    return;
  }
  const f = JSON.parse(fs.readFileSync(file, 'utf8')) as VsCodeBenchFigures;
  console.log(`  load average (1, 5, 15 min) before: ${before}, after: ${load()}; ${os.cpus().length} cores`);
  for (const t of f.timeline) {
    console.log(
      `\n  Timeline, ${t.label}: ${t.chars.toLocaleString('en-US')} chars, ${t.events.toLocaleString('en-US')} events`,
    );
    // The first time the record is shown: its structure painted at once while it is counted, then counted.
    row(
      `request → first paint (${t.firstStage === 'counting' ? 'structure' : 'counted at once'}), record never shown`,
      fmt(t.firstMs),
      '< 500 ms',
    );
    row('  of which content message → paint (in the page)', fmt(t.firstPageMs));
    if (t.firstGzipBytes !== undefined)
      row(
        '  its content, as it came to the page',
        t.firstGzipBytes > 0 ? `${Math.round(t.firstGzipBytes / 1024)} KB gzipped` : 'JSON text',
      );
    if (t.firstCountedMs !== undefined)
      row('request → first counted paint (cut lines, tokens)', fmt(t.firstCountedMs), '< 500 ms');
    row(`request → first paint, warm (median of ${t.warmMs.length})`, fmt(median(t.warmMs)), '< 500 ms');
    row(`zoom frame (median of ${t.frameMs.length})`, fmt(median(t.frameMs)), '< 16 ms');
    row('zoom frame (p95)', fmt(p95(t.frameMs)));
    row('webview JS heap', t.heapMB === undefined ? 'n/a' : `${t.heapMB} MB`, '< 150 MB');
  }
  const rv = f.review;
  const floor = median(rv.describeFloorMs);
  const afterEditor = rv.afterEditorFloorMs?.length ? median(rv.afterEditorFloorMs) : undefined;
  const ratio = (ms: number, to: number): string => `${(ms / Math.max(to, 1)).toFixed(1)}×`;
  console.log('\n  Review panel, 4 instructions × 3 answers');
  row('floor: one describe round trip through the page', fmt(floor));
  if (afterEditor !== undefined)
    row('floor: the same just after showing an instruction editor', fmt(afterEditor));
  row(
    `open on another instruction, panel showing (median of ${rv.anotherMs.length})`,
    fmt(median(rv.anotherMs)),
    '< 300 ms',
  );
  row('  ratio to the round trip floor', ratio(median(rv.anotherMs), floor));
  row('  max', fmt(Math.max(...rv.anotherMs)));
  steps(rv.anotherSteps);
  row(
    `open from the instruction's editor (median of ${rv.fromEditorMs.length})`,
    fmt(median(rv.fromEditorMs)),
    '< 300 ms',
  );
  row(
    afterEditor !== undefined
      ? '  ratio to the round trip floor after showing an editor'
      : '  ratio to the round trip floor',
    ratio(median(rv.fromEditorMs), afterEditor ?? floor),
  );
  row('  max', fmt(Math.max(...rv.fromEditorMs)));
  steps(rv.fromEditorSteps);
  // The same after a Markdown editor: the workbench's own cost of having just shown an editor.
  if (rv.fromTextEditorMs?.length) {
    row(
      `open from a Markdown editor instead (median of ${rv.fromTextEditorMs.length})`,
      fmt(median(rv.fromTextEditorMs)),
      '< 300 ms',
    );
    if (rv.afterTextEditorFloorMs?.length)
      row('  floor: the round trip just after showing that editor', fmt(median(rv.afterTextEditorFloorMs)));
  }
}
