/**
 * The Report view's page: the strict CSP every MedAlign webview has, and a script that draws the
 * report's tables and its two charts (geometry computed with d3-scale/d3-shape in the extension,
 * reportChart.ts) with `createElement`/`createElementNS` and `textContent` only. Messages are typed
 * here; the extension checks what the page sends (`parseFromReport`).
 */
import { webviewHtml } from '../webviewDocument';
import type { BarChart, ReportView, TauChart } from './reportChart';

/** What the Report view's DOM shows (medalign.report.describe). */
export interface ReportSnapshot {
  title: string;
  summary: string;
  message: string;
  tables: { caption: string; head: string[]; rows: string[][] }[];
  /** Bars and points drawn in the charts, with their labels. */
  bars: { label: string; value: string }[];
  points: { label: string; value: string }[];
  /** SVG elements drawn (rect, circle, line, path, text). */
  svgElements: number;
}

export type ToReport =
  | { type: 'view'; view: ReportView }
  | { type: 'message'; message: string }
  | { type: 'snapshot'; requestId: number };

export type FromReport =
  { type: 'ready' } | { type: 'refresh' } | { type: 'snapshot'; requestId: number; snapshot: ReportSnapshot };

export function parseFromReport(x: unknown): FromReport | undefined {
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
    return { type: 'snapshot', requestId: m['requestId'], snapshot: m['snapshot'] as ReportSnapshot };
  }
  return undefined;
}

interface El {
  className: string;
  textContent: string | null;
  hidden: boolean;
  readonly children: ArrayLike<El> & Iterable<El>;
  appendChild(child: El): El;
  replaceChildren(...children: El[]): void;
  setAttribute(name: string, value: string): void;
  getAttribute(name: string): string | null;
  addEventListener(type: 'click', listener: () => void): void;
  querySelectorAll(selector: string): ArrayLike<El>;
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
  postMessage(message: FromReport): void;
}

export function reportMain(win: Win, doc: Doc, api: VsCodeApi): void {
  const SVG = 'http://www.w3.org/2000/svg';
  const title = doc.getElementById('title')!;
  const summary = doc.getElementById('summary')!;
  const message = doc.getElementById('message')!;
  const charts = doc.getElementById('charts')!;
  const tables = doc.getElementById('tables')!;
  const notes = doc.getElementById('notes')!;

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

  const frame = (c: {
    title: string;
    width: number;
    height: number;
    left: number;
    ticks: { at: number; text: string }[];
  }): El => {
    const fig = el('figure', 'chart', charts);
    el('figcaption', '', fig, c.title);
    const root = svg(
      'svg',
      { viewBox: `0 0 ${c.width} ${c.height}`, width: c.width, height: c.height, role: 'img' },
      fig,
    );
    root.setAttribute('aria-label', c.title);
    for (const t of c.ticks) {
      svg('line', { x1: c.left, x2: c.width - 10, y1: t.at, y2: t.at, class: 'grid' }, root);
      svg('text', { x: c.left - 6, y: t.at + 4, 'text-anchor': 'end', class: 'tick' }, root, t.text);
    }
    return root;
  };

  const barChart = (c: BarChart): void => {
    const root = frame(c);
    for (const b of c.bars) {
      const g = svg('g', { class: 'bar' }, root);
      svg('title', {}, g, `${b.name}: ${b.value}`);
      svg('rect', { x: b.x, y: b.y, width: b.width, height: Math.max(0, b.height) }, g);
      svg('text', { x: b.x + b.width / 2, y: b.y - 4, 'text-anchor': 'middle', class: 'value' }, g, b.value);
      svg(
        'text',
        { x: b.x + b.width / 2, y: c.bottom + 16, 'text-anchor': 'middle', class: 'label' },
        g,
        b.label,
      );
    }
  };

  const tauChart = (c: TauChart): void => {
    const root = frame(c);
    svg('line', { x1: c.left, x2: c.width - 10, y1: c.zero, y2: c.zero, class: 'zero' }, root);
    if (c.human) {
      svg('path', { d: c.human.d, class: 'human' }, root);
      svg(
        'text',
        {
          x: c.width - 12,
          y: Number(/,([-\d.]+)/.exec(c.human.d)?.[1] ?? 0) - 4,
          'text-anchor': 'end',
          class: 'human-label',
        },
        root,
        c.human.label,
      );
    }
    for (const p of c.points) {
      const g = svg('g', { class: 'point' }, root);
      svg('title', {}, g, `${p.label}: τ ${p.value}`);
      if (p.lo !== undefined && p.hi !== undefined)
        svg('line', { x1: p.x, x2: p.x, y1: p.lo, y2: p.hi, class: 'interval' }, g);
      svg('circle', { cx: p.x, cy: p.y, r: 4 }, g);
      svg('text', { x: p.x + 7, y: p.y - 6, class: 'value' }, g, p.value);
      svg('text', { x: p.x, y: c.bottom + 16, 'text-anchor': 'middle', class: 'label' }, g, p.label);
    }
  };

  const render = (v: ReportView): void => {
    title.textContent = v.title;
    summary.textContent = v.summary;
    message.hidden = true;
    charts.replaceChildren();
    if (v.correct.bars.length > 0) barChart(v.correct);
    if (v.tau.points.length > 0) tauChart(v.tau);
    tables.replaceChildren();
    for (const t of v.tables) {
      const table = el('table', '', tables);
      el('caption', '', table, t.caption);
      const head = el('tr', '', el('thead', '', table));
      t.head.forEach((h, i) => el('th', i === 0 ? '' : 'num', head, h).setAttribute('scope', 'col'));
      const body = el('tbody', '', table);
      for (const r of t.rows) {
        const tr = el('tr', '', body);
        r.forEach((cell, i) => el(i === 0 ? 'th' : 'td', i === 0 ? '' : 'num', tr, cell));
      }
    }
    notes.replaceChildren(...v.notes.map((n) => el('li', '', undefined, n)));
  };

  const texts = (root: El, selector: string): string[] =>
    Array.from(root.querySelectorAll(selector), (e) => e.textContent ?? '');

  win.addEventListener('message', (e) => {
    const m = e.data as ToReport;
    if (m.type === 'view') render(m.view);
    else if (m.type === 'message') {
      message.textContent = m.message;
      message.hidden = m.message === '';
    } else if (m.type === 'snapshot') {
      const snap: ReportSnapshot = {
        title: title.textContent ?? '',
        summary: summary.textContent ?? '',
        message: message.hidden ? '' : (message.textContent ?? ''),
        tables: Array.from(tables.querySelectorAll('table'), (t) => ({
          caption: texts(t, 'caption')[0] ?? '',
          head: texts(t, 'thead th'),
          rows: Array.from(t.querySelectorAll('tbody tr'), (r) =>
            Array.from(r.children, (c) => c.textContent ?? ''),
          ),
        })),
        bars: Array.from(charts.querySelectorAll('g.bar'), (g) => ({
          label: texts(g, 'text.label')[0] ?? '',
          value: texts(g, 'text.value')[0] ?? '',
        })),
        points: Array.from(charts.querySelectorAll('g.point'), (g) => ({
          label: texts(g, 'text.label')[0] ?? '',
          value: texts(g, 'text.value')[0] ?? '',
        })),
        svgElements: charts.querySelectorAll('rect, circle, line, path, text').length,
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
#summary { color: var(--vscode-descriptionForeground); margin: 4px 0 10px; }
#message { padding: 6px 8px; border-left: 3px solid var(--vscode-editorWarning-foreground); background: var(--vscode-textBlockQuote-background); white-space: pre-wrap; }
#charts { display: flex; flex-wrap: wrap; gap: 16px; }
figure { margin: 0; max-width: 100%; overflow-x: auto; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg text { fill: var(--vscode-foreground); font-size: 11px; font-family: var(--vscode-font-family); }
svg text.tick, svg text.human-label { fill: var(--vscode-descriptionForeground); }
svg line.grid { stroke: var(--vscode-editorWidget-border, #8884); stroke-width: 0.5; }
svg line.zero { stroke: var(--vscode-descriptionForeground); stroke-width: 1; }
svg g.bar rect { fill: var(--vscode-charts-blue, var(--vscode-button-background)); }
svg g.point circle { fill: var(--vscode-charts-orange, var(--vscode-button-background)); }
svg line.interval { stroke: var(--vscode-charts-orange, var(--vscode-foreground)); stroke-width: 2; }
svg path.human { stroke: var(--vscode-charts-green, var(--vscode-foreground)); stroke-dasharray: 5 4; fill: none; stroke-width: 1.5; }
table { border-collapse: collapse; margin: 16px 0 0; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding-bottom: 4px; }
th, td { text-align: left; padding: 2px 12px 2px 0; border-bottom: 1px solid var(--vscode-editorWidget-border, transparent); white-space: nowrap; }
thead th { color: var(--vscode-descriptionForeground); }
.num { text-align: right; }
tbody th { font-weight: normal; }
#notes { color: var(--vscode-descriptionForeground); margin-top: 16px; }
button { font: inherit; padding: 2px 10px; cursor: pointer; color: var(--vscode-button-secondaryForeground); background: var(--vscode-button-secondaryBackground); border: 1px solid var(--vscode-button-border, var(--vscode-contrastBorder, transparent)); border-radius: 2px; }
button:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 1px; }
[hidden] { display: none !important; }
`;

export function reportHtml(nonce: string): string {
  return webviewHtml({
    nonce,
    title: 'MedAlign review report',
    style: STYLE,
    body: `<header><h1 id="title">MedAlign review report</h1><button id="refresh" type="button">Refresh</button></header>
<div id="summary" role="status" aria-live="polite">Building the report…</div>
<div id="message" role="alert" hidden></div>
<section id="charts" aria-label="Charts"></section>
<section id="tables" aria-label="Tables"></section>
<ul id="notes" aria-label="How the numbers are computed"></ul>`,
    script: `(${reportMain.toString()})(window, document, acquireVsCodeApi());`,
  });
}
