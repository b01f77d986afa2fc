/**
 * The paired bootstrap of a mean difference: the instructions are resampled with replacement (the
 * pair a, b of an instruction stays together), the mean of b − a is taken over each resample, and
 * the interval is the percentiles of those means (numpy's default linear interpolation) — what
 * `scipy.stats.bootstrap((a, b), lambda a, b, axis: np.mean(b - a, axis=axis), paired=True,
 * method='percentile')` computes. Given the same resample indices it gives scipy's interval exactly
 * (test/unit/experimentBootstrap.test.ts feeds it numpy's); its own indices come from the seeded
 * PRNG of core/metrics/agreement.ts, so a seed gives the same interval on every machine.
 */
import { Prng, percentile } from '../metrics/agreement';

export interface PairedInterval {
  /** Pairs (instructions) with both values. */
  n: number;
  /** Mean of b − a. */
  mean: number;
  low: number;
  high: number;
}

export interface PairedBootstrapOptions {
  resamples: number;
  seed: number;
  /** Confidence level, default 0.95. */
  level?: number;
}

/**
 * Resample indices: `resamples` rows of `n` indices in [0, n), row after row. The same (n,
 * resamples, seed) always gives the same indices.
 */
export function resampleIndices(n: number, resamples: number, seed: number): Int32Array {
  const rng = new Prng(seed);
  const out = new Int32Array(n * resamples);
  for (let k = 0; k < out.length; k++) out[k] = rng.int(n);
  return out;
}

/** The percentile interval of the mean of `diffs` over the resamples given by `indices` (rows of n). */
export function intervalFromIndices(
  diffs: ArrayLike<number>,
  indices: ArrayLike<number>,
  level = 0.95,
): PairedInterval {
  const n = diffs.length;
  if (n === 0) return { n: 0, mean: NaN, low: NaN, high: NaN };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += diffs[i];
  const resamples = Math.floor(indices.length / n);
  const means = new Float64Array(resamples);
  for (let b = 0, k = 0; b < resamples; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += diffs[indices[k++]];
    means[b] = s / n;
  }
  means.sort();
  const tail = ((1 - level) / 2) * 100;
  const sorted = means as unknown as number[];
  return { n, mean: sum / n, low: percentile(sorted, tail), high: percentile(sorted, 100 - tail) };
}

/**
 * Keeps the resample indices of each n for one verdict: every comparison over n instructions uses
 * the same resamples (the same seed), so comparisons are reproducible one by one and the indices
 * are drawn once. Rows beyond `maxCached` numbers are drawn again when asked.
 */
export class ResampleCache {
  private readonly cache = new Map<number, Int32Array>();
  constructor(
    readonly resamples: number,
    readonly seed: number,
    private readonly maxCached = 32 * 1024 * 1024,
  ) {}
  indices(n: number): Int32Array {
    const hit = this.cache.get(n);
    if (hit) return hit;
    const idx = resampleIndices(n, this.resamples, this.seed);
    if (idx.length <= this.maxCached) this.cache.set(n, idx);
    return idx;
  }
}

/** The paired bootstrap interval of mean(b − a); pairs where either value is NaN are left out. */
export function pairedBootstrap(
  a: readonly number[],
  b: readonly number[],
  o: PairedBootstrapOptions,
  cache?: ResampleCache,
): PairedInterval {
  if (a.length !== b.length) throw new Error(`pairedBootstrap: ${a.length} and ${b.length} values`);
  const diffs: number[] = [];
  for (let i = 0; i < a.length; i++) {
    const d = b[i] - a[i];
    if (!Number.isNaN(d)) diffs.push(d);
  }
  const idx =
    cache && cache.resamples === o.resamples && cache.seed === o.seed
      ? cache.indices(diffs.length)
      : resampleIndices(diffs.length, o.resamples, o.seed);
  return intervalFromIndices(diffs, idx, o.level ?? 0.95);
}
