/**
 * The score cache: `<workspace>/.medalign/scores/<metric>.json`, one file per external scorer,
 * mapping (answer hash, gold hash, instruction hash) to a score, and `_builtin.json` for the
 * built-in metrics together (one key per pair, a row of scores per key: a new process reads and
 * indexes 10,000 keys instead of 60,000), so re-scoring thousands of answers reads numbers instead
 * of computing them. A file carries the metric's fingerprint (the built-in
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

/** The built-in metrics' file (`_`: no scorer id can start with it). */
export const BUILTIN_TABLE = '_builtin';

/** Scores of several metrics per key: one row of numbers (in `metrics` order) per key. */
export class ScoreTable {
  private readonly index = new Map<string, number>();
  private readonly keys: string[] = [];
  private readonly values: number[] = [];
  dirty = false;

  constructor(
    readonly fingerprint: string,
    readonly metrics: readonly string[],
  ) {}

  /** The key's row, or undefined. */
  get(key: string): number[] | undefined {
    const row = this.index.get(key);
    if (row === undefined) return undefined;
    const M = this.metrics.length;
    return this.values.slice(row * M, row * M + M);
  }

  /** The score of metric number `k` of the key's row. */
  score(key: string, k: number): number | undefined {
    const row = this.index.get(key);
    return row === undefined ? undefined : this.values[row * this.metrics.length + k];
  }

  set(key: string, row: readonly number[]): void {
    const M = this.metrics.length;
    if (row.length !== M) throw new Error(`ScoreTable.set: ${M} scores per key`);
    let at = this.index.get(key);
    if (at === undefined) {
      at = this.keys.length;
      this.index.set(key, at);
      this.keys.push(key);
      for (const v of row) this.values.push(v);
      this.dirty = true;
      return;
    }
    for (let k = 0; k < M; k++)
      if (this.values[at * M + k] !== row[k]) {
        this.values[at * M + k] = row[k];
        this.dirty = true;
      }
  }

  get size(): number {
    return this.keys.length;
  }

  /** Loads a file's arrays; false (nothing loaded) when they do not fit. */
  load(keys: unknown, values: unknown): boolean {
    const M = this.metrics.length;
    if (!Array.isArray(keys) || !Array.isArray(values) || values.length !== keys.length * M) return false;
    for (const v of values as unknown[]) if (typeof v !== 'number' || !Number.isFinite(v)) return false;
    for (const k of keys as unknown[]) if (typeof k !== 'string') return false;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string;
      if (this.index.has(k)) continue;
      this.index.set(k, this.keys.length);
      this.keys.push(k);
      for (let j = 0; j < M; j++) this.values.push(values[i * M + j] as number);
    }
    return true;
  }

  toJSON(): { keys: string[]; scores: number[] } {
    return { keys: this.keys, scores: this.values };
  }
}

interface MetricEntry {
  fingerprint: string;
  scores: Map<string, number>;
  dirty: boolean;
}

/** Cache key of one scored pair: hashes only (scoring.ts `textKey`, or core/util/hash.ts `hashKey` for external scorers). */
export function pairKey(answerHash: string, goldHash: string, srcHash?: string): string {
  return srcHash === undefined ? `${answerHash}|${goldHash}` : `${answerHash}|${goldHash}|${srcHash}`;
}

export class ScoreCache {
  private readonly metrics = new Map<string, MetricEntry>();
  private readonly tables = new Map<string, ScoreTable>();

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
    const data = await this.readFile(file);
    if (!data || data.fingerprint !== fingerprint) return entry.scores;
    // Two parallel arrays (keys, scores): parsed and walked much faster than one large object.
    const { keys, scores } = data;
    if (!Array.isArray(keys) || !Array.isArray(scores) || keys.length !== scores.length) return entry.scores;
    for (let i = 0; i < keys.length; i++) {
      const k: unknown = keys[i];
      const v: unknown = scores[i];
      if (typeof k === 'string' && typeof v === 'number' && Number.isFinite(v)) entry.scores.set(k, v);
    }
    return entry.scores;
  }

  /**
   * Several metrics' scores in one file (`<name>.json`, e.g. BUILTIN_TABLE), read on first use; an
   * unreadable file, or one with another fingerprint or other metrics, counts as empty.
   */
  async tableOf(name: string, metrics: readonly string[], fingerprint: string): Promise<ScoreTable> {
    const known = this.tables.get(name);
    if (known && known.fingerprint === fingerprint && known.metrics.join() === metrics.join()) return known;
    const table = new ScoreTable(fingerprint, [...metrics]);
    this.tables.set(name, table);
    const file = this.fileOf(name);
    if (file === undefined) return table;
    const data = await this.readFile(file);
    if (
      data &&
      data.fingerprint === fingerprint &&
      Array.isArray(data.metrics) &&
      data.metrics.join() === metrics.join()
    )
      table.load(data.keys, data.scores);
    return table;
  }

  /** A cache file's JSON (format and version checked), or undefined (missing, a link, damaged). */
  private async readFile(file: string): Promise<Record<string, unknown> | undefined> {
    if (this.root === undefined) return undefined;
    try {
      await checkDirs(this.root, [MEDALIGN_DIR, SCORES_DIR]);
      await checkFile(this.root, file);
      const fh = await openNoFollow(path.dirname(file), file, constants.O_RDONLY);
      let text: string;
      try {
        const st = await fh.stat();
        if (st.size > MAX_FILE_BYTES) return undefined;
        text = await fh.readFile('utf8');
      } finally {
        await fh.close();
      }
      const data = JSON.parse(text) as unknown;
      if (typeof data !== 'object' || data === null) return undefined;
      const d = data as Record<string, unknown>;
      return d['format'] === FORMAT && d['version'] === VERSION ? d : undefined;
    } catch {
      // Missing, unreadable, a link or not JSON: scored again and rewritten.
      return undefined;
    }
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
    const dirtyTables = [...this.tables].filter(([, t]) => t.dirty);
    if (dirty.length === 0 && dirtyTables.length === 0) return;
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
    for (const [name, t] of dirtyTables) {
      const file = path.join(dir, `${name}.json`);
      await checkFile(this.root, file);
      const { keys, scores } = t.toJSON();
      const data = {
        format: FORMAT,
        version: VERSION,
        fingerprint: t.fingerprint,
        metrics: t.metrics,
        keys,
        scores,
      };
      await writeFileAtomic(file, JSON.stringify(data) + '\n');
      t.dirty = false;
    }
  }

  /** Removes the cache folder (`medalign metrics --clear-cache`). */
  async clear(): Promise<void> {
    this.metrics.clear();
    this.tables.clear();
    if (this.root === undefined) return;
    await checkDirs(this.root, [MEDALIGN_DIR, SCORES_DIR]);
    await fsp.rm(path.join(this.root, MEDALIGN_DIR, SCORES_DIR), { recursive: true, force: true });
  }
}
