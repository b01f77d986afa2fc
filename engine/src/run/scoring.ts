/**
 * Scores answers against gold responses with the built-in metrics (core/metrics) and the
 * project's external scorers (host/externalScorer.ts), through the score cache: a pair already
 * scored by a metric (same answer hash, gold hash and, for external scorers, instruction hash) is
 * read back, not recomputed.
 */
import * as crypto from 'node:crypto';
import { BUILTIN_METRICS } from '../core/metrics/metrics';
import type { BuiltinMetric } from '../core/metrics/metrics';
import { hashKey } from '../core/util/hash';
import type { ScorerConfig } from '../core/workspace/config';
import { runScorerBatch } from '../host/externalScorer';
import type { ScorerItem } from '../host/externalScorer';
import { BUILTIN_TABLE, ScoreCache, pairKey } from './scoreCache';
import { scoreBuiltinPairs } from './metricsPool';
import type { MetricsPoolOptions } from './metricsPool';

/**
 * Bumped whenever a built-in metric's output or its cache keys could change: older cache files are
 * then ignored. builtin-2: keys from `textKey` (SHA-1) instead of the core's `hashKey`.
 */
export const BUILTIN_FINGERPRINT = 'builtin-2';

const nodeHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64') => string }).hash;

/**
 * The built-in metrics' cache key of a text: 96 bits of its SHA-1 (node:crypto, about 4× faster
 * than the core's pure-JS `hashKey` on long texts: with 20,000 texts, hashing is most of a cached
 * scoring) and its length. External scorers keep `hashKey` keys, so their cached scores stay valid.
 */
export function textKey(text: string): string {
  const digest = nodeHash
    ? nodeHash('sha1', text, 'base64')
    : crypto.createHash('sha1').update(text).digest('base64');
  return digest.slice(0, 16) + ':' + text.length.toString(36);
}

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
  /** Threads for the built-in metrics (default: every core for many pairs; see metricsPool.ts). */
  threads?: MetricsPoolOptions['threads'];
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
  let cached = 0;
  let computed = 0;

  if (metrics.length > 0) {
    // All six in one table (computing one computes all): `metrics` only says which are reported.
    const table = await cache.tableOf(BUILTIN_TABLE, BUILTIN_METRICS, BUILTIN_FINGERPRINT);
    const columns = metrics.map((m) => BUILTIN_METRICS.indexOf(m));
    const todo: number[] = [];
    const todoKeys: string[] = [];
    for (let i = 0; i < pairs.length; i++) {
      const key = pairKey(textKey(pairs[i].answer), textKey(pairs[i].gold));
      const row = table.get(key);
      if (row === undefined) {
        todo.push(i);
        todoKeys.push(key);
        continue;
      }
      metrics.forEach((m, k) => (scores[i][m] = row[columns[k]]));
      cached += metrics.length;
    }
    if (todo.length > 0) {
      if (o.signal?.aborted) throw new Error('Scoring was cancelled.');
      const got = await scoreBuiltinPairs(
        todo.map((i) => pairs[i]),
        { ...(o.signal ? { signal: o.signal } : {}), ...(o.threads ? { threads: o.threads } : {}) },
      );
      const M = BUILTIN_METRICS.length;
      todo.forEach((i, t) => {
        const row = Array.from(got.scores.subarray(t * M, t * M + M));
        metrics.forEach((m, k) => (scores[i][m] = row[columns[k]]));
        table.set(todoKeys[t], row);
      });
      computed += todo.length * metrics.length;
    }
  }

  const aKeys: string[] = [];
  const gKeys: string[] = [];
  if ((o.scorers ?? []).length > 0)
    for (const p of pairs) {
      aKeys.push(hashKey(p.answer));
      gKeys.push(hashKey(p.gold));
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
