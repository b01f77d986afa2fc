/** Messages between `metricsPool.ts` and its worker thread (`metricsWorker.ts`). */

/** A chunk of pairs to score with every built-in metric. */
export interface MetricsChunk {
  id: number;
  golds: string[];
  answers: string[];
}

/** The chunk's scores: BUILTIN_METRICS.length numbers per pair, in BUILTIN_METRICS order. */
export interface MetricsChunkResult {
  id: number;
  scores?: Float64Array;
  error?: string;
}
