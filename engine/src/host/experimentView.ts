/**
 * The verdict of an experiment as a view: short formatted table cells, sentences, and for each
 * metric a chart of every comparison's difference (b − a) as a dot with its 95% interval around a
 * zero line — geometry from d3-scale. Plain data only: every label goes into a page as text. The
 * one model of both the editor's results view (client/src/experiment/resultsWebview.ts, which
 * draws it as SVG elements) and `medalign experiment --html` (host/experimentHtml.ts, which writes
 * it as escaped SVG markup).
 */
import { scaleLinear } from 'd3-scale';
import type { Comparison, Verdict } from '../core/experiment/verdict';
import { comparisonsByPair, pairSentence } from '../core/experiment/verdict';
import { DIMENSIONS } from '../core/experiment/plan';

/** The instructions that changed most between two cells (run/experiment.ts `changedPairs`). */
export interface ChangedPair {
  a: number;
  b: number;
  /** The metric of each row's `delta` (its label). */
  metric?: string;
  rows: { instruction: string; change: number; delta: number | null; a: string; b: string; gold: string }[];
}

/** What a view is made of: the server's `medalign/experimentVerdict` answer, or the CLI's outcome. */
export interface ExperimentViewInput {
  name: string;
  size: string;
  verdict: Verdict;
  changed: readonly ChangedPair[];
}

export interface DiffPoint {
  /** `32k − 2k (baseline)` */
  label: string;
  /** The sentence (a tooltip). */
  sentence: string;
  y: number;
  x: number;
  lo: number;
  hi: number;
  value: string;
  clear: boolean;
}

export interface DiffChart {
  metric: string;
  title: string;
  width: number;
  height: number;
  left: number;
  /** Where the plot's x axis is (the ticks' row). */
  bottom: number;
  zero: number;
  ticks: { at: number; text: string }[];
  points: DiffPoint[];
}

export interface ChangedRow {
  instruction: string;
  /** `changed 64% · Δ +0.120` */
  note: string;
  a: string;
  b: string;
  gold: string;
}

export interface ExperimentView {
  title: string;
  summary: string;
  sentences: string[];
  table: { head: string[]; rows: string[][] };
  charts: DiffChart[];
  changed: { title: string; aLabel: string; bLabel: string; rows: ChangedRow[] }[];
  notes: string[];
}

const fmt = (v: number | null | undefined, d: number) =>
  v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(d);

/** `32k − 2k (baseline)`: b − a and the values both cells share. */
export function comparisonLabel(c: Comparison): string {
  const fixed = DIMENSIONS.flatMap((d) => (c.fixed[d] !== undefined ? [c.fixed[d]] : []));
  return `${c.b} − ${c.a}${fixed.length ? ` (${fixed.join(', ')})` : ''}`;
}

/** One metric's comparisons: dots at the mean, whiskers over the interval, a line at zero. */
export function diffChart(
  v: Pick<Verdict, 'metrics' | 'comparisons'>,
  metricId: string,
): DiffChart | undefined {
  const m = v.metrics.find((x) => x.id === metricId);
  if (!m) return undefined;
  const rows = v.comparisons.filter((c) => c.metric === metricId && c.mean !== null);
  if (rows.length === 0) return undefined;
  const width = 620;
  const left = 250;
  const right = 70;
  const rowH = 24;
  const bottom = rows.length * rowH + 10;
  const height = bottom + 22;
  const lo = Math.min(0, ...rows.map((c) => c.low!));
  const hi = Math.max(0, ...rows.map((c) => c.high!));
  const pad = (hi - lo) * 0.05 || 0.01;
  const x = scaleLinear()
    .domain([lo - pad, hi + pad])
    .range([left, width - right])
    .nice();
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    metric: m.id,
    title: `${m.label}: b − a per instruction (mean, 95% interval)`,
    width,
    height,
    left,
    bottom,
    zero: round(x(0)),
    ticks: x.ticks(5).map((t) => ({ at: round(x(t)), text: String(t) })),
    points: rows.map((c, i) => ({
      label: comparisonLabel(c),
      sentence: c.sentence,
      y: 12 + i * rowH,
      x: round(x(c.mean!)),
      lo: round(x(c.low!)),
      hi: round(x(c.high!)),
      value: `${c.mean! >= 0 ? '+' : ''}${fmt(c.mean, m.digits)}`,
      clear: c.better !== 'unclear',
    })),
  };
}

export function experimentView(r: ExperimentViewInput): ExperimentView {
  const v = r.verdict;
  const label = (i: number) => v.cells.find((c) => c.index === i)?.label ?? String(i);
  return {
    title: `Experiment ${r.name}`,
    summary: `${r.size} · ${v.instructions} instructions with runs · ${Math.round(v.level * 100)}% paired-bootstrap intervals, ${v.resamples} resamples, seed ${v.seed}`,
    sentences: comparisonsByPair(v).map((g) => pairSentence(g)),
    table: {
      head: ['cell', 'runs', 'failed', 'mean prompt tokens', ...v.metrics.map((m) => m.label)],
      rows: v.cells.map((c) => [
        c.label,
        String(c.runs),
        String(c.failed),
        fmt(c.promptTokens, 0),
        ...v.metrics.map((m) => fmt(c.metrics[m.id], m.digits)),
      ]),
    },
    charts: v.metrics.flatMap((m) => {
      const c = diffChart(v, m.id);
      return c ? [c] : [];
    }),
    changed: r.changed
      .filter((p) => p.rows.length > 0)
      .map((p) => ({
        title: `${label(p.b)} vs ${label(p.a)}`,
        aLabel: label(p.a),
        bLabel: label(p.b),
        rows: p.rows.map((x) => ({
          instruction: x.instruction,
          note: `changed ${Math.round(x.change * 100)}%${x.delta !== null ? ` · Δ ${p.metric ?? ''} ${x.delta >= 0 ? '+' : ''}${x.delta.toFixed(3)}` : ''}`,
          a: x.a,
          b: x.b,
          gold: x.gold,
        })),
      })),
    notes: [
      'Each comparison pairs the two cells instruction by instruction (b − a) over the instructions answered in both.',
      'The interval is the 2.5th and 97.5th percentiles of the mean over bootstrap resamples of those instructions; a difference is called only when the interval leaves out zero.',
      'Runs that failed or never completed count in "failed" and are left out of the metrics; so are answers to instructions without a gold response.',
    ],
  };
}
