/**
 * The verdict as text (the CLI's default), as JSON (`--json`: `cells` and `comparisons` with the
 * fields the issue names) and as CSV (`--csv`: one tidy table, a row per cell × metric and per
 * comparison).
 */
import type { Dimension } from './plan';
import { DIMENSIONS } from './plan';
import type { Verdict } from './verdict';
import { comparisonsByPair, pairSentence } from './verdict';
import { textTable } from '../util/textTable';

export interface VerdictJson {
  experiment: string;
  size: string;
  dimensions: Dimension[];
  metrics: { id: string; label: string; higherIsBetter: boolean }[];
  cells: ({
    index: number;
    label: string;
    values: Partial<Record<Dimension, string>>;
    runs: number;
    failed: number;
    promptTokens: number | null;
    metrics: Record<string, number | null>;
  } & Partial<Record<Dimension, string>>)[];
  comparisons: {
    dimension: Dimension;
    a: string;
    b: string;
    fixed: Partial<Record<Dimension, string>>;
    metric: string;
    n: number;
    mean: number | null;
    low: number | null;
    high: number | null;
    better: 'a' | 'b' | 'unclear';
    sentence: string;
  }[];
  instructions: number;
  resamples: number;
  seed: number;
  level: number;
}

export function verdictJson(v: Verdict, experiment: string, size: string): VerdictJson {
  return {
    experiment,
    size,
    dimensions: v.dimensions,
    metrics: v.metrics.map((m) => ({ id: m.id, label: m.label, higherIsBetter: m.higherIsBetter })),
    cells: v.cells.map((c) => ({
      index: c.index,
      label: c.label,
      ...c.values,
      values: c.values,
      runs: c.runs,
      failed: c.failed,
      promptTokens: c.promptTokens,
      metrics: c.metrics,
    })),
    comparisons: v.comparisons.map((c) => ({
      dimension: c.dimension,
      a: c.a,
      b: c.b,
      fixed: c.fixed,
      metric: c.metric,
      n: c.n,
      mean: c.mean,
      low: c.low,
      high: c.high,
      better: c.better,
      sentence: c.sentence,
    })),
    instructions: v.instructions,
    resamples: v.resamples,
    seed: v.seed,
    level: v.level,
  };
}

const num = (v: number | null, d: number) => (v === null || Number.isNaN(v) ? '–' : v.toFixed(d));

/** The verdict as text: the cells table, then one paragraph per pair of cells. */
export function verdictText(v: Verdict, experiment: string, size: string): string {
  const out: string[] = [`Experiment ${experiment}: ${size}`, ''];
  const head = ['cell', 'runs', 'failed', 'prompt tokens', ...v.metrics.map((m) => m.label)];
  const rows = v.cells.map((c) => [
    c.label,
    String(c.runs),
    String(c.failed),
    num(c.promptTokens, 0),
    ...v.metrics.map((m) => num(c.metrics[m.id] ?? null, m.digits)),
  ]);
  out.push(textTable(head, rows, { right: (i) => i > 0 }));
  const pairs = comparisonsByPair(v);
  if (pairs.length === 0) {
    out.push('No two cells differ in one dimension: nothing to compare.\n');
  } else {
    out.push(
      `Paired differences (b − a per instruction), ${Math.round(v.level * 100)}% bootstrap intervals (${v.resamples} resamples, seed ${v.seed}):\n`,
    );
    for (const p of pairs) out.push(`- ${pairSentence(p)}\n`);
  }
  return out.join('\n');
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) || /^[=+\-@\t\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One tidy CSV: `kind` is `cell` (a cell's mean of a metric) or `comparison` (b − a with its interval). */
export function verdictCsv(v: Verdict): string {
  const head = [
    'kind',
    ...DIMENSIONS,
    'dimension',
    'a',
    'b',
    'metric',
    'n',
    'mean',
    'low',
    'high',
    'runs',
    'failed',
    'prompt_tokens',
  ];
  const rows: string[][] = [];
  const s = (x: number | null) => (x === null || Number.isNaN(x) ? '' : String(x));
  for (const c of v.cells) {
    for (const m of v.metrics) {
      rows.push([
        'cell',
        ...DIMENSIONS.map((d) => c.values[d] ?? ''),
        '',
        '',
        '',
        m.id,
        String(c.counts[m.id] ?? 0),
        s(c.metrics[m.id] ?? null),
        '',
        '',
        String(c.runs),
        String(c.failed),
        s(c.promptTokens),
      ]);
    }
  }
  for (const c of v.comparisons) {
    rows.push([
      'comparison',
      ...DIMENSIONS.map((d) => c.fixed[d] ?? ''),
      c.dimension,
      c.a,
      c.b,
      c.metric,
      String(c.n),
      s(c.mean),
      s(c.low),
      s(c.high),
      '',
      '',
      '',
    ]);
  }
  return [head, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}
