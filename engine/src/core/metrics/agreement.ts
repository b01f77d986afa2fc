/**
 * Agreement statistics: Kendall's tau-b exactly as `scipy.stats.kendalltau(x, y)` with its
 * defaults (variant 'b', ties in either list handled; NaN when a list is constant or shorter than
 * 2), a seeded PRNG (deterministic across runs and machines), and a percentile bootstrap interval
 * for a mean over items (e.g. per-instruction taus averaged over instructions).
 */

/**
 * Kendall's tau-b of two paired lists, as scipy computes it:
 * (concordant - discordant) / sqrt((n0 - ties in x) (n0 - ties in y)), clipped to [-1, 1].
 * Pairs tied in both lists count in neither. NaN when undefined (as scipy).
 */
export function kendallTauB(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length)
    throw new Error(`kendallTauB: lists of different lengths (${x.length}, ${y.length})`);
  const n = x.length;
  if (n < 2) return NaN;
  for (let i = 0; i < n; i++) if (Number.isNaN(x[i]) || Number.isNaN(y[i])) return NaN;
  let dis = 0;
  let xtie = 0;
  let ytie = 0;
  let ntie = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    const yi = y[i];
    for (let j = i + 1; j < n; j++) {
      const dx = xi - x[j];
      const dy = yi - y[j];
      if (dx === 0) xtie++;
      if (dy === 0) ytie++;
      if (dx === 0 && dy === 0) ntie++;
      else if (dx !== 0 && dy !== 0 && dx < 0 !== dy < 0) dis++;
    }
  }
  const tot = (n * (n - 1)) / 2;
  if (xtie === tot || ytie === tot) return NaN;
  const conMinusDis = tot - xtie - ytie + ntie - 2 * dis;
  const tau = conMinusDis / Math.sqrt(tot - xtie) / Math.sqrt(tot - ytie);
  return Math.min(1, Math.max(-1, tau));
}

/** mulberry32: a small, fast, seeded 32-bit PRNG; `next()` is uniform in [0, 1). */
export class Prng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** numpy's default percentile (linear interpolation between closest ranks) of sorted values, q in [0, 100]. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = ((sorted.length - 1) * q) / 100;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export interface MeanWithInterval {
  /** Mean over the items that have a value (NaN ones are left out). */
  mean: number;
  /** Items with a value. */
  n: number;
  /** Items left out because their value is undefined (NaN). */
  skipped: number;
  /** Percentile bootstrap 95% interval of the mean: items resampled with replacement. */
  low: number;
  high: number;
  resamples: number;
  seed: number;
}

export interface BootstrapOptions {
  resamples?: number;
  seed?: number;
  /** Confidence level, default 0.95. */
  level?: number;
}

/** The mean of `values` (NaN left out) with a seeded percentile bootstrap interval. */
export function meanWithInterval(
  values: readonly number[],
  options: BootstrapOptions = {},
): MeanWithInterval {
  const resamples = options.resamples ?? 1000;
  const seed = options.seed ?? 20231;
  const level = options.level ?? 0.95;
  const v = values.filter((x) => !Number.isNaN(x));
  const n = v.length;
  const skipped = values.length - n;
  if (n === 0) return { mean: NaN, n, skipped, low: NaN, high: NaN, resamples, seed };
  let sum = 0;
  for (const x of v) sum += x;
  const mean = sum / n;
  const rng = new Prng(seed);
  const means: number[] = [];
  for (let b = 0; b < resamples; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += v[rng.int(n)];
    means.push(s / n);
  }
  means.sort((a, b) => a - b);
  const tail = ((1 - level) / 2) * 100;
  return {
    mean,
    n,
    skipped,
    low: percentile(means, tail),
    high: percentile(means, 100 - tail),
    resamples,
    seed,
  };
}
