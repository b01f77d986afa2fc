/**
 * The score cache: `<workspace>/.medalign/scores/<metric>.json`, one file per metric, mapping
 * (answer hash, gold hash[, instruction hash]) to a score, so re-scoring thousands of answers reads
 * numbers instead of computing them. A file carries the metric's fingerprint (the built-in
 * implementation's version, or an external scorer's command): when it differs the file is ignored
 * and rewritten. Files are written atomically through the same no-follow helpers as the run store,
 * inside `.medalign/` (git-ignored; scores are keyed by hashes, never by text).
 */
import { constants, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { MEDALIGN_DIR } from '../core/run/runRecord';
import { ensureMedalignDir, writeFileAtomic } from './store';
import { checkDirs, checkFile, ensureDirs, openNoFollow } from './safeFs';

export const SCORES_DIR = 'scores';
const FORMAT = 'medalign-scores';
const VERSION = 2;
/** A cache file beyond this is not read (10,000 answers take ~0.6 MB). */
const MAX_FILE_BYTES = 256 * 1024 * 1024;

interface MetricEntry {
  fingerprint: string;
  scores: Map<string, number>;
  dirty: boolean;
}

/** Cache key of one scored pair: hashes only (core/util/hash.ts `hashKey`). */
export function pairKey(answerHash: string, goldHash: string, srcHash?: string): string {
  return srcHash === undefined ? `${answerHash}|${goldHash}` : `${answerHash}|${goldHash}|${srcHash}`;
}

export class ScoreCache {
  private readonly metrics = new Map<string, MetricEntry>();

  /** `root`: the workspace root; undefined keeps scores in memory only. */
  constructor(readonly root: string | undefined) {}

  fileOf(metric: string): string | undefined {
    return this.root === undefined
      ? undefined
      : path.join(this.root, MEDALIGN_DIR, SCORES_DIR, `${metric}.json`);
  }

  /** The metric's scores, read from disk on first use (an unreadable or outdated file counts as empty). */
  async scoresOf(metric: string, fingerprint: string): Promise<Map<string, number>> {
    const known = this.metrics.get(metric);
    if (known && known.fingerprint === fingerprint) return known.scores;
    const entry: MetricEntry = { fingerprint, scores: new Map(), dirty: false };
    this.metrics.set(metric, entry);
    const file = this.fileOf(metric);
    if (file === undefined || this.root === undefined) return entry.scores;
    try {
      await checkDirs(this.root, [MEDALIGN_DIR, SCORES_DIR]);
      await checkFile(this.root, file);
      const fh = await openNoFollow(path.dirname(file), file, constants.O_RDONLY);
      let text: string;
      try {
        const st = await fh.stat();
        if (st.size > MAX_FILE_BYTES) return entry.scores;
        text = await fh.readFile('utf8');
      } finally {
        await fh.close();
      }
      const data = JSON.parse(text) as {
        format?: unknown;
        version?: unknown;
        fingerprint?: unknown;
        keys?: unknown;
        scores?: unknown;
      };
      if (data.format !== FORMAT || data.version !== VERSION || data.fingerprint !== fingerprint)
        return entry.scores;
      // Two parallel arrays (keys, scores): parsed and walked much faster than one large object.
      const { keys, scores } = data;
      if (!Array.isArray(keys) || !Array.isArray(scores) || keys.length !== scores.length)
        return entry.scores;
      for (let i = 0; i < keys.length; i++) {
        const k: unknown = keys[i];
        const v: unknown = scores[i];
        if (typeof k === 'string' && typeof v === 'number' && Number.isFinite(v)) entry.scores.set(k, v);
      }
    } catch {
      // Missing, unreadable, a link or not JSON: scored again and rewritten.
    }
    return entry.scores;
  }

  set(metric: string, key: string, score: number): void {
    const entry = this.metrics.get(metric);
    if (!entry) throw new Error(`ScoreCache.set: read ${metric} with scoresOf first`);
    if (entry.scores.get(key) === score) return;
    entry.scores.set(key, score);
    entry.dirty = true;
  }

  /** Writes every metric that changed (atomically); nothing when the cache is memory-only. */
  async save(): Promise<void> {
    if (this.root === undefined) return;
    const dirty = [...this.metrics].filter(([, e]) => e.dirty);
    if (dirty.length === 0) return;
    await ensureMedalignDir(this.root);
    const dir = await ensureDirs(this.root, [MEDALIGN_DIR, SCORES_DIR]);
    for (const [metric, e] of dirty) {
      const file = path.join(dir, `${metric}.json`);
      await checkFile(this.root, file);
      const keys = [...e.scores.keys()];
      const scores = [...e.scores.values()];
      const data = { format: FORMAT, version: VERSION, metric, fingerprint: e.fingerprint, keys, scores };
      await writeFileAtomic(file, JSON.stringify(data) + '\n');
      e.dirty = false;
    }
  }

  /** Removes the cache folder (`medalign metrics --clear-cache`). */
  async clear(): Promise<void> {
    this.metrics.clear();
    if (this.root === undefined) return;
    await checkDirs(this.root, [MEDALIGN_DIR, SCORES_DIR]);
    await fsp.rm(path.join(this.root, MEDALIGN_DIR, SCORES_DIR), { recursive: true, force: true });
  }
}
