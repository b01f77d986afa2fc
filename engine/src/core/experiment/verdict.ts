/**
 * The verdict of an experiment: per cell the runs, failures, mean prompt tokens and the mean of each
 * metric; per pair of cells that differ in one dimension, the paired difference per instruction
 * (b − a) of each metric with a seeded paired-bootstrap interval and a plain sentence ("B beats A on
 * ROUGE-L by 0.031 [0.012, 0.050] over 62 instructions"). Pure and fast: the runs come in as plain
 * observations with their scores already computed.
 */
import type { Dimension, ExperimentCell } from './plan';
import { DIMENSIONS, cellLabel, fixedLabel, isRefineDimension, valueLabel } from './plan';
import { ResampleCache, intervalFromIndices } from './bootstrap';

export interface VerdictMetric {
  id: string;
  label: string;
  higherIsBetter: boolean;
  /** Decimals shown in sentences (3 for 0–1 scores, 2 for 0–100). */
  digits: number;
}

/** One run of the experiment, as the verdict sees it. */
export interface Observation {
  /** The instruction's id. */
  instruction: string;
  cell: number;
  /** Complete (or reused complete) with an answer. */
  ok: boolean;
  promptTokens?: number;
  /** Metric id → score (absent or NaN: no score, e.g. no gold or no review). */
  scores: Record<string, number>;
}

export interface VerdictCell {
  index: number;
  label: string;
  values: Partial<Record<Dimension, string>>;
  runs: number;
  failed: number;
  /** Mean prompt tokens over the runs that report it (null when none). */
  promptTokens: number | null;
  /** Mean of each metric over the runs that have it (null when none). */
  metrics: Record<string, number | null>;
  /** How many runs each mean is over. */
  counts: Record<string, number>;
}

export type Direction = 'b' | 'a' | 'unclear';

export interface Comparison {
  dimension: Dimension;
  a: string;
  b: string;
  /** The other dimensions' values (the same in both cells). */
  fixed: Partial<Record<Dimension, string>>;
  cellA: number;
  cellB: number;
  metric: string;
  /** Instructions with the metric in both cells. */
  n: number;
  /** Mean of b − a over those instructions, and its bootstrap interval. */
  mean: number | null;
  low: number | null;
  high: number | null;
  /** Which side the interval says is better (after the metric's direction), or `unclear`. */
  better: Direction;
  sentence: string;
}

export interface Verdict {
  dimensions: Dimension[];
  metrics: VerdictMetric[];
  cells: VerdictCell[];
  comparisons: Comparison[];
  /** Distinct instructions over all runs. */
  instructions: number;
  resamples: number;
  seed: number;
  level: number;
}

export interface VerdictInput {
  cells: readonly ExperimentCell[];
  observations: readonly Observation[];
  metrics: readonly VerdictMetric[];
  resamples: number;
  seed: number;
  level?: number;
}

function fmt(x: number, digits: number): string {
  const s = x.toFixed(digits);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}

/** The plain sentence of one comparison. */
export function comparisonSentence(
  c: Pick<Comparison, 'a' | 'b' | 'n' | 'mean' | 'low' | 'high' | 'better'> & { dimension?: Dimension },
  metric: VerdictMetric,
): string {
  const over = `over ${c.n} instruction${c.n === 1 ? '' : 's'}`;
  if (c.n === 0 || c.mean === null || c.low === null || c.high === null) {
    return `on ${metric.label} there is nothing to compare (no instruction has it in both)`;
  }
  const d = metric.digits;
  if (c.better === 'unclear') {
    return `on ${metric.label} the difference is not clear (${fmt(c.mean, d)} [${fmt(c.low, d)}, ${fmt(c.high, d)}] ${over})`;
  }
  const name = (v: string) => (c.dimension !== undefined ? valueLabel(c.dimension, v) : v);
  const [winner, loser] = c.better === 'b' ? [name(c.b), name(c.a)] : [name(c.a), name(c.b)];
  // The winner's gain in the metric's good direction: b − a as computed, or its negation.
  const flip = (c.better === 'b') !== metric.higherIsBetter;
  const [g, gl, gh] = flip ? [-c.mean, -c.high, -c.low] : [c.mean, c.low, c.high];
  const on = metric.higherIsBetter ? metric.label : `${metric.label} (lower is better)`;
  return `${winner} beats ${loser} on ${on} by ${fmt(g, d)} [${fmt(gl, d)}, ${fmt(gh, d)}] ${over}`;
}

/** A cell pair's sentences joined ("B beats A on ROUGE-L …; on BLEU the difference is not clear"). */
export function pairSentence(comparisons: readonly Comparison[]): string {
  if (comparisons.length === 0) return '';
  const c0 = comparisons[0];
  const fixed = DIMENSIONS.flatMap((d) => (c0.fixed[d] !== undefined ? [fixedLabel(d, c0.fixed[d])] : []));
  const head = `${valueLabel(c0.dimension, c0.b)} vs ${valueLabel(c0.dimension, c0.a)}${fixed.length ? ` (${fixed.join(', ')})` : ''}: `;
  const body = comparisons.map((c) => c.sentence).join('; ');
  return head + body.charAt(0).toUpperCase() + body.slice(1) + '.';
}

/**
 * Pairs of cells that differ in exactly one dimension, in plan order (a before b). A refine setting
 * that only one cell has (the other's strategy is not `refine`) is not a difference: `recent` is
 * compared with each `refine` cell, on the strategy.
 */
export function cellPairs(
  cells: readonly ExperimentCell[],
): { dimension: Dimension; a: ExperimentCell; b: ExperimentCell }[] {
  const out: { dimension: Dimension; a: ExperimentCell; b: ExperimentCell }[] = [];
  for (let i = 0; i < cells.length; i++) {
    for (let j = i + 1; j < cells.length; j++) {
      let differ: Dimension | undefined;
      let count = 0;
      for (const d of DIMENSIONS) {
        const x = cells[i].values[d];
        const y = cells[j].values[d];
        if (x === y) continue;
        if ((x === undefined || y === undefined) && isRefineDimension(d)) continue;
        differ = d;
        count++;
      }
      if (count === 1 && differ !== undefined) out.push({ dimension: differ, a: cells[i], b: cells[j] });
    }
  }
  // Grouped by dimension, as people read them.
  return out.sort((x, y) => DIMENSIONS.indexOf(x.dimension) - DIMENSIONS.indexOf(y.dimension));
}

/** Computes the verdict. */
export function buildVerdict(input: VerdictInput): Verdict {
  const level = input.level ?? 0.95;
  const metrics = input.metrics;
  const dims = DIMENSIONS.filter((d) => input.cells.some((c) => c.values[d] !== undefined));
  // Per cell: instruction → its observation (the last one wins if an instruction appears twice).
  const byCell = input.cells.map(() => new Map<string, Observation>());
  const instructions = new Set<string>();
  for (const o of input.observations) {
    byCell[o.cell]?.set(o.instruction, o);
    instructions.add(o.instruction);
  }
  const cells: VerdictCell[] = input.cells.map((cell) => {
    const obs = [...byCell[cell.index].values()];
    let tokSum = 0;
    let tokN = 0;
    const sums: Record<string, number> = {};
    const counts: Record<string, number> = {};
    for (const m of metrics) {
      sums[m.id] = 0;
      counts[m.id] = 0;
    }
    let failed = 0;
    for (const o of obs) {
      if (!o.ok) {
        failed++;
        continue;
      }
      if (o.promptTokens !== undefined) {
        tokSum += o.promptTokens;
        tokN++;
      }
      for (const m of metrics) {
        const v = o.scores[m.id];
        if (v !== undefined && !Number.isNaN(v)) {
          sums[m.id] += v;
          counts[m.id]++;
        }
      }
    }
    const means: Record<string, number | null> = {};
    for (const m of metrics) means[m.id] = counts[m.id] > 0 ? sums[m.id] / counts[m.id] : null;
    return {
      index: cell.index,
      label: cellLabel(cell),
      values: { ...cell.values },
      runs: obs.length,
      failed,
      promptTokens: tokN > 0 ? tokSum / tokN : null,
      metrics: means,
      counts,
    };
  });

  const cache = new ResampleCache(input.resamples, input.seed);
  const comparisons: Comparison[] = [];
  const diffs = new Float64Array(instructions.size);
  for (const { dimension, a, b } of cellPairs(input.cells)) {
    const fixed: Partial<Record<Dimension, string>> = {};
    for (const d of dims) {
      const v = a.values[d] ?? b.values[d];
      if (d !== dimension && v !== undefined) fixed[d] = v;
    }
    const ma = byCell[a.index];
    const mb = byCell[b.index];
    for (const m of metrics) {
      let n = 0;
      for (const [id, oa] of ma) {
        if (!oa.ok) continue;
        const ob = mb.get(id);
        if (!ob?.ok) continue;
        const va = oa.scores[m.id];
        const vb = ob.scores[m.id];
        if (va === undefined || vb === undefined || Number.isNaN(va) || Number.isNaN(vb)) continue;
        diffs[n++] = vb - va;
      }
      const av = a.values[dimension]!;
      const bv = b.values[dimension]!;
      let mean: number | null = null;
      let low: number | null = null;
      let high: number | null = null;
      let better: Direction = 'unclear';
      if (n > 0) {
        const r = intervalFromIndices(diffs.subarray(0, n), cache.indices(n), level);
        mean = r.mean;
        low = r.low;
        high = r.high;
        const up = low > 0;
        const down = high < 0;
        if (up || down) better = up === m.higherIsBetter ? 'b' : 'a';
      }
      const c: Comparison = {
        dimension,
        a: av,
        b: bv,
        fixed,
        cellA: a.index,
        cellB: b.index,
        metric: m.id,
        n,
        mean,
        low,
        high,
        better,
        sentence: '',
      };
      c.sentence = comparisonSentence(c, m);
      comparisons.push(c);
    }
  }
  return {
    dimensions: dims,
    metrics: [...metrics],
    cells,
    comparisons,
    instructions: instructions.size,
    resamples: input.resamples,
    seed: input.seed,
    level,
  };
}

/** The comparisons grouped by pair of cells, in order. */
export function comparisonsByPair(v: Verdict): Comparison[][] {
  const out: Comparison[][] = [];
  const at = new Map<string, Comparison[]>();
  for (const c of v.comparisons) {
    const k = `${c.cellA}:${c.cellB}`;
    let g = at.get(k);
    if (!g) {
      at.set(k, (g = []));
      out.push(g);
    }
    g.push(c);
  }
  return out;
}
