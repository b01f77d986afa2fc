/**
 * Scores answers against gold responses with the built-in metrics (core/metrics) and the
 * project's external scorers (host/externalScorer.ts), through the score cache: a pair already
 * scored by a metric (same answer hash, gold hash and, for external scorers, instruction hash) is
 * read back, not recomputed.
 */
import { BUILTIN_METRICS, scoreAnswer } from '../core/metrics/metrics';
import type { BuiltinMetric } from '../core/metrics/metrics';
import { hashKey } from '../core/util/hash';
import type { ScorerConfig } from '../core/workspace/config';
import { runScorerBatch } from '../host/externalScorer';
import type { ScorerItem } from '../host/externalScorer';
import { ScoreCache, pairKey } from './scoreCache';

/** Bumped whenever a built-in metric's output could change: older cache files are then ignored. */
export const BUILTIN_FINGERPRINT = 'builtin-1';

export interface ScorePair {
  /** The instruction (external scorers' `src`). */
  src?: string;
  answer: string;
  gold: string;
}

export interface ScoringOptions {
  /** Absent: a memory-only cache. */
  cache?: ScoreCache;
  /** Built-in metrics to report (default: all). */
  metrics?: readonly BuiltinMetric[];
  /** External scorers to run (they need a trusted folder: the caller decides). */
  scorers?: readonly ScorerConfig[];
  /** The workspace root: external scorers run there. */
  cwd?: string;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

export interface ScoringResult {
  /** One object per pair: metric id → score. */
  scores: Record<string, number>[];
  /** Scores read from the cache / computed, over all metrics. */
  cached: number;
  computed: number;
}

/** The fingerprint of an external scorer: its command (another command is another metric). */
export function scorerFingerprint(s: ScorerConfig): string {
  return `command-1:${hashKey(JSON.stringify(s.command))}`;
}

export async function scorePairs(
  pairs: readonly ScorePair[],
  o: ScoringOptions = {},
): Promise<ScoringResult> {
  const cache = o.cache ?? new ScoreCache(undefined);
  const metrics = o.metrics ?? BUILTIN_METRICS;
  const scores: Record<string, number>[] = pairs.map(() => ({}));
  const aKeys = pairs.map((p) => hashKey(p.answer));
  const gKeys = pairs.map((p) => hashKey(p.gold));
  let cached = 0;
  let computed = 0;

  if (metrics.length > 0) {
    const maps = await Promise.all(metrics.map((m) => cache.scoresOf(m, BUILTIN_FINGERPRINT)));
    for (let i = 0; i < pairs.length; i++) {
      const key = pairKey(aKeys[i], gKeys[i]);
      const hits = maps.map((m) => m.get(key));
      if (hits.every((h) => h !== undefined)) {
        metrics.forEach((m, k) => (scores[i][m] = hits[k]!));
        cached += metrics.length;
        continue;
      }
      if (o.signal?.aborted) throw new Error('Scoring was cancelled.');
      const all = scoreAnswer(pairs[i].gold, pairs[i].answer);
      for (const m of metrics) {
        scores[i][m] = all[m];
        cache.set(m, key, all[m]);
      }
      computed += metrics.length;
    }
  }

  for (const scorer of o.scorers ?? []) {
    const map = await cache.scoresOf(scorer.id, scorerFingerprint(scorer));
    const todo: number[] = [];
    const keys = pairs.map((p, i) => pairKey(aKeys[i], gKeys[i], hashKey(p.src ?? '')));
    pairs.forEach((_, i) => {
      const hit = map.get(keys[i]);
      if (hit === undefined) todo.push(i);
      else {
        scores[i][scorer.id] = hit;
        cached++;
      }
    });
    if (todo.length === 0) continue;
    o.onProgress?.(`scorer "${scorer.id}": ${todo.length} pair${todo.length === 1 ? '' : 's'} to score`);
    const items: ScorerItem[] = todo.map((i) => ({
      src: pairs[i].src ?? '',
      mt: pairs[i].answer,
      ref: pairs[i].gold,
    }));
    try {
      // One run of the command per batch; each batch's scores are kept as soon as it is done.
      for (let start = 0; start < todo.length; start += scorer.batchSize) {
        const batch = todo.slice(start, start + scorer.batchSize);
        const got = await runScorerBatch(scorer, items.slice(start, start + scorer.batchSize), {
          cwd: o.cwd ?? process.cwd(),
          ...(o.signal ? { signal: o.signal } : {}),
        });
        batch.forEach((i, k) => {
          scores[i][scorer.id] = got[k]!;
          cache.set(scorer.id, keys[i], got[k]);
        });
        computed += batch.length;
        if (todo.length > batch.length)
          o.onProgress?.(`scorer "${scorer.id}": ${start + batch.length}/${todo.length}`);
      }
    } finally {
      await cache.save();
    }
  }
  await cache.save();
  return { scores, cached, computed };
}
