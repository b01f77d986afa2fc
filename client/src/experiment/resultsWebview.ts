/**
 * The experiment results page: the strict CSP every MedAlign webview has, and a script that draws
 * the verdict (sentences, a chart per metric, the cells table, the answers that changed most) with
 * `createElement`/`createElementNS` and `textContent` only. Clicking a changed instruction opens
 * its two answers beside the gold response. Messages are typed here; the extension checks what the
 * page sends (`parseFromExperiment`).
 */
import { webviewHtml } from '../webviewDocument';
import type { DiffChart, ExperimentView } from '../../../engine/src';

/** What the results page's DOM shows (medalign.experiment.describe). */
export interface ExperimentSnapshot {
  title: string;
  summary: string;
  message: string;
  sentences: string[];
  table: { head: string[]; rows: string[][] };
  /** The chart shown, its points' labels and values. */
  chart: { metric: string; points: { label: string; value: string }[] } | undefined;
  /** SVG elements drawn. */
  svgElements: number;
  /** The changed-answer buttons, in order. */
  changed: string[];
  /** The side-by-side open now: its three headings and texts. */
  side: { headings: string[]; texts: string[] } | undefined;
}

export type ToExperiment =
  | { type: 'view'; view: ExperimentView }
  | { type: 'message'; message: string }
  | { type: 'open'; pair: number; row: number }
  | { type: 'snapshot'; requestId: number };

export type FromExperiment =
  | { type: 'ready' }
  | { type: 'refresh' }
  | { type: 'snapshot'; requestId: number; snapshot: ExperimentSnapshot };

export function parseFromExperiment(x: unknown): FromExperiment | undefined {
  if (x === null || typeof x !== 'object') return undefined;
  const m = x as Record<string, unknown>;
  if (m['type'] === 'ready') return { type: 'ready' };
  if (m['type'] === 'refresh') return { type: 'refresh' };
  if (
    m['type'] === 'snapshot' &&
    typeof m['requestId'] === 'number' &&
    m['snapshot'] !== null &&
    typeof m['snapshot'] === 'object'
  ) {
    return { type: 'snapshot', requestId: m['requestId'], snapshot: m['snapshot'] as ExperimentSnapshot };
  }
  return undefined;
}

interface El {
  className: string;
  textContent: string | null;
  hidden: boolean;
  value: string;
  readonly children: ArrayLike<El> & Iterable<El>;
  appendChild(child: El): El;
  replaceChildren(...children: El[]): void;
  setAttribute(name: string, value: string): void;
  getAttribute(name: string): string | null;
  addEventListener(type: 'click' | 'change', listener: () => void): void;
  querySelectorAll(selector: string): ArrayLike<El>;
  querySelector(selector: string): El | null;
  focus(): void;
  scrollIntoView(o?: { block?: string }): void;
}
interface Doc {
  getElementById(id: string): El | null;
  createElement(tag: string): El;
  createElementNS(ns: string, tag: string): El;
}
interface Win {
  addEventListener(type: 'message', listener: (e: { data: unknown }) => void): void;
}
interface VsCodeApi {
  postMessage(message: FromExperiment): void;
}

export function experimentMain(win: Win, doc: Doc, api: VsCodeApi): void {
  const SVG = 'http://www.w3.org/2000/svg';
  const title = doc.getElementById('title')!;
  const summary = doc.getElementById('summary')!;
  const message = doc.getElementById('message')!;
  const sentences = doc.getElementById('sentences')!;
  const metric = doc.getElementById('metric')!;
  const chart = doc.getElementById('chart')!;
  const cells = doc.getElementById('cells')!;
  const changed = doc.getElementById('changed')!;
  const side = doc.getElementById('side')!;
  const notes = doc.getElementById('notes')!;
  let view: ExperimentView | undefined;

  const el = (tag: string, cls: string, parent?: El, text?: string): El => {
    const e = doc.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  };
  const svg = (tag: string, attrs: Record<string, string | number>, parent: El, text?: string): El => {
    const e = doc.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    parent.appendChild(e);
    return e;
  };

  const drawChart = (c: DiffChart | undefined): void => {
    chart.replaceChildren();
    if (!c) {
      el('p', 'muted', chart, 'No comparison has a value for this metric.');
      return;
    }
    const fig = el('figure', '', chart);
    el('figcaption', '', fig, c.title);
    const root = svg(
      'svg',
      { viewBox: `0 0 ${c.width} ${c.height}`, width: c.width, height: c.height, role: 'img' },
      fig,
    );
    root.setAttribute('aria-label', c.title);
    for (const t of c.ticks) {
      svg('line', { x1: t.at, x2: t.at, y1: 2, y2: c.bottom, class: 'grid' }, root);
      svg('text', { x: t.at, y: c.bottom + 14, 'text-anchor': 'middle', class: 'tick' }, root, t.text);
    }
    svg('line', { x1: c.zero, x2: c.zero, y1: 2, y2: c.bottom, class: 'zero' }, root);
    for (const p of c.points) {
      const g = svg('g', { class: `point ${p.clear ? 'clear' : 'unclear'}` }, root);
      svg('title', {}, g, p.sentence);
      svg('text', { x: c.left - 8, y: p.y + 4, 'text-anchor': 'end', class: 'label' }, g, p.label);
      svg('line', { x1: p.lo, x2: p.hi, y1: p.y, y2: p.y, class: 'interval' }, g);
      svg('circle', { cx: p.x, cy: p.y, r: 4 }, g);
      svg('text', { x: c.width - 64, y: p.y + 4, class: 'value' }, g, p.value);
    }
  };

  const openSide = (pair: number, row: number): void => {
    const p = view?.changed[pair];
    const r = p?.rows[row];
    if (!p || !r) return;
    for (const b of Array.from(changed.querySelectorAll('button'))) {
      b.setAttribute('aria-pressed', b.getAttribute('data-key') === `${pair}:${row}` ? 'true' : 'false');
    }
    side.replaceChildren();
    side.hidden = false;
    el('h3', '', side, `${r.instruction} · ${r.note}`);
    const grid = el('div', 'grid', side);
    for (const [h, text] of [
      [p.aLabel, r.a],
      [p.bLabel, r.b],
      ['gold', r.gold || '(no gold response)'],
    ] as const) {
      const col = el('div', 'col', grid);
      el('h4', '', col, h);
      el('pre', '', col, text);
    }
    side.scrollIntoView({ block: 'start' });
  };

  const render = (v: ExperimentView): void => {
    view = v;
    title.textContent = v.title;
    summary.textContent = v.summary;
    sentences.replaceChildren(...v.sentences.map((s) => el('li', '', undefined, s)));
    if (v.sentences.length === 0) el('li', 'muted', sentences, 'No two cells differ in one dimension.');
    metric.replaceChildren(
      ...v.charts.map((c) => {
        const o = el('option', '', undefined, c.title.split(':')[0]);
        o.setAttribute('value', c.metric);
        return o;
      }),
    );
    metric.hidden = v.charts.length === 0;
    // ROUGE-L first when there is one (what the paper reports), else the first metric.
    const first = v.charts.find((c) => c.metric === 'rougeL') ?? v.charts[0];
    if (first) metric.value = first.metric;
    drawChart(first);
    const table = el('table', '');
    const head = el('tr', '', el('thead', '', table));
    for (const h of v.table.head) el('th', '', head, h).setAttribute('scope', 'col');
    const body = el('tbody', '', table);
    for (const r of v.table.rows) {
      const tr = el('tr', '', body);
      r.forEach((c, i) => {
        const cell = el(i === 0 ? 'th' : 'td', i === 0 ? '' : 'num', tr, c);
        if (i === 0) cell.setAttribute('scope', 'row');
      });
    }
    cells.replaceChildren(table);
    changed.replaceChildren();
    side.hidden = true;
    v.changed.forEach((p, pi) => {
      el('h3', '', changed, p.title);
      const list = el('ol', '', changed);
      p.rows.forEach((r, ri) => {
        const li = el('li', '', list);
        const b = el('button', 'link', li, r.instruction);
        b.setAttribute('type', 'button');
        b.setAttribute('data-key', `${pi}:${ri}`);
        b.setAttribute('aria-pressed', 'false');
        b.addEventListener('click', () => openSide(pi, ri));
        el('span', 'muted', li, ` ${r.note}`);
      });
    });
    if (v.changed.length === 0) el('p', 'muted', changed, 'No instruction was answered in two cells yet.');
    notes.replaceChildren(...v.notes.map((n) => el('li', '', undefined, n)));
  };

  metric.addEventListener('change', () => drawChart(view?.charts.find((c) => c.metric === metric.value)));

  const texts = (root: El, selector: string): string[] =>
    Array.from(root.querySelectorAll(selector), (e) => e.textContent ?? '');

  win.addEventListener('message', (e) => {
    const m = e.data as ToExperiment;
    if (m.type === 'view') render(m.view);
    else if (m.type === 'message') {
      message.textContent = m.message;
      message.hidden = m.message === '';
    } else if (m.type === 'open') openSide(m.pair, m.row);
    else if (m.type === 'snapshot') {
      const shown = view?.charts.find((c) => c.metric === metric.value) ?? view?.charts[0];
      const snap: ExperimentSnapshot = {
        title: title.textContent ?? '',
        summary: summary.textContent ?? '',
        message: message.hidden ? '' : (message.textContent ?? ''),
        sentences: texts(sentences, 'li'),
        table: {
          head: texts(cells, 'thead th'),
          rows: Array.from(cells.querySelectorAll('tbody tr'), (r) =>
            Array.from(r.children, (c) => c.textContent ?? ''),
          ),
        },
        chart: shown
          ? {
              metric: shown.metric,
              points: Array.from(chart.querySelectorAll('g.point'), (g) => ({
                label: texts(g, 'text.label')[0] ?? '',
                value: texts(g, 'text.value')[0] ?? '',
              })),
            }
          : undefined,
        svgElements: chart.querySelectorAll('circle, line, text').length,
        changed: texts(changed, 'button'),
        side: side.hidden ? undefined : { headings: texts(side, 'h4'), texts: texts(side, 'pre') },
      };
      api.postMessage({ type: 'snapshot', requestId: m.requestId, snapshot: snap });
    }
  });
  doc.getElementById('refresh')!.addEventListener('click', () => api.postMessage({ type: 'refresh' }));
  api.postMessage({ type: 'ready' });
}

const STYLE = `
:root { color-scheme: light dark; }
body { margin: 0; padding: 12px 16px 24px; color: var(--vscode-foreground); background: var(--vscode-editor-background); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); }
header { display: flex; flex-wrap: wrap; gap: 4px 12px; align-items: baseline; }
h1 { font-size: 1.15em; margin: 0; margin-right: auto; }
h2 { font-size: 1.05em; margin: 18px 0 6px; }
h3 { font-size: 1em; margin: 12px 0 4px; }
h4 { margin: 0 0 4px; font-size: 0.95em; color: var(--vscode-descriptionForeground); }
#summary, .muted { color: var(--vscode-descriptionForeground); }
#summary { margin: 4px 0 10px; }
#message { padding: 6px 8px; border-left: 3px solid var(--vscode-editorWarning-foreground); background: var(--vscode-textBlockQuote-background); white-space: pre-wrap; }
#sentences li { margin: 4px 0; }
figure { margin: 0; max-width: 100%; overflow-x: auto; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg text { fill: var(--vscode-foreground); font-size: 11px; font-family: var(--vscode-font-family); }
svg text.tick { fill: var(--vscode-descriptionForeground); }
svg line.grid { stroke: var(--vscode-editorWidget-border, #8884); stroke-width: 0.5; }
svg line.zero { stroke: var(--vscode-descriptionForeground); stroke-width: 1; }
svg g.clear circle { fill: var(--vscode-charts-orange, var(--vscode-button-background)); }
svg g.clear line.interval { stroke: var(--vscode-charts-orange, var(--vscode-foreground)); stroke-width: 2; }
svg g.unclear circle { fill: var(--vscode-descriptionForeground); }
svg g.unclear line.interval { stroke: var(--vscode-descriptionForeground); stroke-width: 2; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 2px 12px 2px 0; border-bottom: 1px solid var(--vscode-editorWidget-border, transparent); white-space: nowrap; }
thead th { color: var(--vscode-descriptionForeground); }
td.num { text-align: right; }
tbody th { font-weight: normal; }
ol { margin: 0; padding-left: 20px; }
button { font: inherit; padding: 2px 10px; cursor: pointer; color: var(--vscode-button-secondaryForeground); background: var(--vscode-button-secondaryBackground); border: 1px solid var(--vscode-button-border, var(--vscode-contrastBorder, transparent)); border-radius: 2px; }
button.link { padding: 0; border: none; background: none; color: var(--vscode-textLink-foreground); text-decoration: underline; }
button.link[aria-pressed="true"] { font-weight: 600; }
button:focus-visible, select:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 1px; }
select { font: inherit; color: var(--vscode-dropdown-foreground); background: var(--vscode-dropdown-background); border: 1px solid var(--vscode-dropdown-border, transparent); margin-bottom: 6px; }
#side { border-top: 1px solid var(--vscode-editorWidget-border, #8884); margin-top: 12px; }
#side .grid { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 10px; }
#side pre { white-space: pre-wrap; word-break: break-word; margin: 0; padding: 6px 8px; background: var(--vscode-textBlockQuote-background); font-family: var(--vscode-editor-font-family); }
#notes { color: var(--vscode-descriptionForeground); margin-top: 16px; }
[hidden] { display: none !important; }
`;

export function experimentHtml(nonce: string): string {
  return webviewHtml({
    nonce,
    title: 'MedAlign experiment',
    style: STYLE,
    body: `<header><h1 id="title">Experiment</h1><button id="refresh" type="button">Refresh</button></header>
<div id="summary" role="status" aria-live="polite">Building the verdict…</div>
<div id="message" role="alert" hidden></div>
<h2>Verdict</h2>
<ul id="sentences" aria-label="Verdict"></ul>
<h2>Differences</h2>
<select id="metric" aria-label="Metric"></select>
<section id="chart" aria-label="Chart"></section>
<h2>Cells</h2>
<section id="cells" aria-label="Cells"></section>
<h2>Answers that changed most</h2>
<section id="changed" aria-label="Answers that changed most"></section>
<section id="side" aria-label="Side by side" hidden></section>
<ul id="notes" aria-label="How the numbers are computed"></ul>`,
    script: `(${experimentMain.toString()})(window, document, acquireVsCodeApi());`,
  });
}
