/**
 * The Report view's data: the core report (engine's `Report`, computed by the language server:
 * `medalign/report`) as table rows of short, formatted cells, and its two charts as geometry
 * (positions from d3-scale, the reference line from d3-shape) that the page draws as SVG elements.
 * Plain data only: every label goes into the page as text.
 */
import { scaleBand, scaleLinear } from 'd3-scale';
import { line } from 'd3-shape';
import type { GroupRow, Report, ReportMetric, TauRow } from '../../../engine/src';
import { groupName } from '../../../engine/src';

export interface Bar {
  /** The full group name (a tooltip). */
  name: string;
  x: number;
  y: number;
  width: number;
  height: number;
  /** Under the bar (`gpt4 · 32k`). */
  label: string;
  /** Above the bar (`62% (8/13)`). */
  value: string;
}

export interface Tick {
  at: number;
  text: string;
}

export interface BarChart {
  title: string;
  width: number;
  height: number;
  /** The plot's left edge and baseline. */
  left: number;
  bottom: number;
  bars: Bar[];
  ticks: Tick[];
}

export interface TauPoint {
  x: number;
  y: number;
  /** The 95% interval's ends (y), when there is one. */
  lo?: number;
  hi?: number;
  label: string;
  value: string;
}

export interface TauChart {
  title: string;
  width: number;
  height: number;
  left: number;
  bottom: number;
  points: TauPoint[];
  ticks: Tick[];
  /** y of tau = 0. */
  zero: number;
  /** The reviewers' own agreement as a dashed line across the plot (SVG path `d`), and its label. */
  human?: { d: string; label: string };
}

export interface ReportTable {
  caption: string;
  head: string[];
  rows: string[][];
}

export interface ReportView {
  title: string;
  summary: string;
  tables: ReportTable[];
  correct: BarChart;
  tau: TauChart;
  notes: string[];
}

const pct = (v: number | null) => (v === null ? '–' : `${v.toFixed(1)}%`);
const num = (v: number | null, digits = 2) => (v === null ? '–' : v.toFixed(digits));

function metricCell(m: ReportMetric, v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  return m.scale === '0-1' ? v.toFixed(3) : v.toFixed(1);
}

function groupTable(
  caption: string,
  rows: readonly GroupRow[],
  metrics: readonly ReportMetric[],
): ReportTable {
  return {
    caption,
    head: [
      'Model · context',
      'Answers',
      '% correct',
      'Correct / labelled',
      'Mean rank',
      ...metrics.map((m) => m.label),
    ],
    rows: rows.map((r) => [
      groupName(r),
      String(r.answers),
      pct(r.pctCorrect),
      `${r.correct} / ${r.labelled}`,
      num(r.meanRank),
      ...metrics.map((m) => metricCell(m, r.metrics[m.id])),
    ]),
  };
}

const fin = (v: number): number | null => (Number.isFinite(v) ? v : null);

function tauCells(r: TauRow): string[] {
  const lo = fin(r.low);
  const hi = fin(r.high);
  const interval = lo !== null && hi !== null ? `${num(lo)} … ${num(hi)}` : '–';
  return [r.label, num(fin(r.mean)), interval, `${r.n}${r.skipped > 0 ? ` (+${r.skipped} undefined)` : ''}`];
}

/** A label that fits under a bar of `width` pixels (about 6 px a character at 11 px), else cut with `…`. */
export function shortLabel(text: string, width: number): string {
  const max = Math.max(4, Math.floor(width / 6.2));
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** % correct per model and context, as bars. */
export function correctChart(rows: readonly GroupRow[], width = 640, height = 260): BarChart {
  const left = 40;
  const bottom = height - 48;
  const top = 24;
  const x = scaleBand<string>()
    .domain(rows.map((r) => groupName(r)))
    .range([left, width - 10])
    .padding(0.25);
  const y = scaleLinear().domain([0, 100]).range([bottom, top]);
  return {
    title: '% correct by model and context',
    width,
    height,
    left,
    bottom,
    bars: rows.map((r) => {
      const v = r.pctCorrect ?? 0;
      return {
        name: groupName(r),
        x: x(groupName(r)) ?? left,
        y: y(v),
        width: x.bandwidth(),
        height: bottom - y(v),
        label: shortLabel(`${r.endpoint} · ${r.contextLabel}`, x.bandwidth()),
        value:
          r.pctCorrect === null ? 'no labels' : `${Math.round(r.pctCorrect)}% (${r.correct}/${r.labelled})`,
      };
    }),
    ticks: y.ticks(5).map((t) => ({ at: y(t), text: `${t}%` })),
  };
}

/** Kendall's tau-b of each metric with the clinicians' ranks (mean, 95% interval), and the reviewers' own. */
export function tauChart(
  rows: readonly TauRow[],
  human: TauRow | undefined,
  width = 640,
  height = 260,
): TauChart {
  const left = 40;
  const bottom = height - 48;
  const top = 24;
  const x = scaleBand<string>()
    .domain(rows.map((r) => r.label))
    .range([left, width - 10])
    .padding(0.4);
  const y = scaleLinear().domain([-1, 1]).range([bottom, top]);
  const out: TauChart = {
    title: 'Kendall’s τ-b with the clinicians’ ranks (per instruction, averaged; 95% interval)',
    width,
    height,
    left,
    bottom,
    zero: y(0),
    ticks: y.ticks(4).map((t) => ({ at: y(t), text: t.toFixed(1) })),
    points: rows.map((r) => {
      const mean = fin(r.mean);
      const p: TauPoint = {
        x: (x(r.label) ?? left) + x.bandwidth() / 2,
        y: y(mean ?? 0),
        label: r.label,
        value: mean === null ? 'n/a' : mean.toFixed(2),
      };
      const lo = fin(r.low);
      const hi = fin(r.high);
      if (lo !== null && hi !== null) {
        p.lo = y(lo);
        p.hi = y(hi);
      }
      return p;
    }),
  };
  const h = human ? fin(human.mean) : null;
  if (h !== null) {
    const d = line<[number, number]>()([
      [left, y(h)],
      [width - 10, y(h)],
    ]);
    if (d) out.human = { d, label: `between reviewers ${h.toFixed(2)}` };
  }
  return out;
}

/** Everything the Report view shows, from the core report. */
export function reportView(r: Report, root: string): ReportView {
  const c = r.counts;
  const human = r.interRater.find((t) => t.id === 'all pairs') ?? r.interRater[0];
  const tables: ReportTable[] = [groupTable('By model and context', r.groups, r.metrics)];
  if (r.metricTau.length > 0) {
    tables.push({
      caption: 'Metric vs clinicians (Kendall’s τ-b, per instruction, averaged over instructions)',
      head: ['Metric', 'Mean τ', '95% interval', 'Instructions'],
      rows: r.metricTau.map(tauCells),
    });
  }
  if (r.interRater.length > 0) {
    tables.push({
      caption: 'Between reviewers (Kendall’s τ-b)',
      head: ['Reviewers', 'Mean τ', '95% interval', 'Instructions'],
      rows: r.interRater.map(tauCells),
    });
  }
  if (r.contextDiffs.length > 0) {
    tables.push({
      caption: 'Largest vs smallest context, per model (large − small)',
      head: ['Model', 'Contexts', 'Δ % correct', 'Δ mean rank', ...r.metrics.map((m) => `Δ ${m.label}`)],
      rows: r.contextDiffs.map((d) => [
        d.model === d.endpoint ? d.endpoint : `${d.endpoint} (${d.model})`,
        `${d.large} vs ${d.small}`,
        d.pctCorrect === null ? '–' : `${d.pctCorrect >= 0 ? '+' : ''}${d.pctCorrect.toFixed(1)}`,
        num(d.meanRank),
        ...r.metrics.map((m) => metricCell(m, d.metrics[m.id])),
      ]),
    });
  }
  for (const cat of r.byCategory) tables.push(groupTable(`Category: ${cat.category}`, cat.rows, r.metrics));
  for (const q of r.byLengthQuartile) {
    tables.push(
      groupTable(`Record length, quartile ${q.quartile} (${q.from}–${q.to} tokens)`, q.rows, r.metrics),
    );
  }
  return {
    title: `Review report · ${root}`,
    summary:
      `${c.instructions} instructions · ${c.answers} answers · ${c.reviewers} reviewer${c.reviewers === 1 ? '' : 's'} · ` +
      `${c.judgements} judgements${c.staleJudgements > 0 ? ` (${c.staleJudgements} stale, not counted)` : ''}`,
    tables,
    correct: correctChart(r.groups),
    tau: tauChart(r.metricTau, human),
    notes: r.notes,
  };
}
