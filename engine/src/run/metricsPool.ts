/**
 * Every built-in metric for many answer/gold pairs on every core: the main thread and worker threads
 * (`dist/metricsWorker.js`, one per extra core, at most 3) take chunks of pairs from one queue, so a
 * busy core simply takes fewer. Each pair is scored by the same core function (`scoreAnswer`)
 * wherever it runs, so the numbers are exactly those of a single thread. A worker that cannot start
 * or dies gives its chunks back to the main thread; below `MIN_PARALLEL_PAIRS` no worker is started.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { BUILTIN_METRICS, scoreAnswer } from '../core/metrics/metrics';
import type { MetricsChunk, MetricsChunkResult } from './metricsWorkerProtocol';

/** Fewer pairs than this are scored on the main thread (a worker takes ~50 ms to start and warm up). */
export const MIN_PARALLEL_PAIRS = 400;
const MAX_THREADS = 4;
const CHUNK = 32;
/** Chunks a worker holds at once, so it never waits for the main thread to hand it the next one. */
const AHEAD = 2;

export interface MetricsPoolOptions {
  /** Threads, the main thread included (default: the machine's cores, at most 4; 1 for few pairs). */
  threads?: number;
  /** Pairs per chunk (default 32). */
  chunkSize?: number;
  signal?: AbortSignal;
  /** The worker script (default: metricsWorker.js next to this module, in dist/ or out/). */
  workerPath?: string;
}

export interface MetricsPoolResult {
  /** BUILTIN_METRICS.length scores per pair, in BUILTIN_METRICS order. */
  scores: Float64Array;
  /** Pairs scored by worker threads (the rest by the main thread). */
  byWorkers: number;
}

interface PoolWorker {
  worker: Worker;
  inFlight: Set<number>;
  alive: boolean;
}

function cores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

const cancelled = (): Error => new Error('Scoring was cancelled.');

export async function scoreBuiltinPairs(
  pairs: readonly { gold: string; answer: string }[],
  o: MetricsPoolOptions = {},
): Promise<MetricsPoolResult> {
  const M = BUILTIN_METRICS.length;
  const scores = new Float64Array(pairs.length * M);
  const size = Math.max(1, o.chunkSize ?? CHUNK);
  const chunks = Math.ceil(pairs.length / size);
  const threads = Math.max(
    1,
    Math.min(o.threads ?? (pairs.length < MIN_PARALLEL_PAIRS ? 1 : Math.min(cores(), MAX_THREADS)), chunks),
  );
  let next = 0;
  let done = 0;
  let byWorkers = 0;
  /** Chunks given back by a worker that died: the main thread scores them. */
  const retry: number[] = [];
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  const scoreChunkHere = (c: number): void => {
    const end = Math.min(pairs.length, (c + 1) * size);
    for (let i = c * size; i < end; i++) {
      const all = scoreAnswer(pairs[i].gold, pairs[i].answer);
      for (let k = 0; k < M; k++) scores[i * M + k] = all[BUILTIN_METRICS[k]];
    }
    done++;
  };

  const feed = (p: PoolWorker): void => {
    while (p.alive && failure === undefined && p.inFlight.size < AHEAD && next < chunks) {
      const c = next++;
      const end = Math.min(pairs.length, (c + 1) * size);
      const msg: MetricsChunk = { id: c, golds: [], answers: [] };
      for (let i = c * size; i < end; i++) {
        msg.golds.push(pairs[i].gold);
        msg.answers.push(pairs[i].answer);
      }
      p.inFlight.add(c);
      p.worker.postMessage(msg);
    }
  };

  const lose = (p: PoolWorker): void => {
    if (!p.alive) return;
    p.alive = false;
    retry.push(...p.inFlight);
    p.inFlight.clear();
    notify();
  };

  const workers: PoolWorker[] = [];
  const workerPath = o.workerPath ?? path.join(__dirname, 'metricsWorker.js');
  for (let t = 1; t < threads; t++) {
    let worker: Worker;
    try {
      worker = new Worker(workerPath);
    } catch {
      break;
    }
    const p: PoolWorker = { worker, inFlight: new Set(), alive: true };
    worker.on('message', (r: MetricsChunkResult) => {
      if (!p.inFlight.delete(r.id)) return;
      if (r.error !== undefined || !r.scores) {
        failure ??= new Error(`Scoring failed: ${r.error ?? 'no scores'}`);
      } else {
        scores.set(r.scores, r.id * size * M);
        byWorkers += r.scores.length / M;
        done++;
        feed(p);
      }
      notify();
    });
    // A worker that cannot load or crashes: its chunks go back to the main thread.
    worker.on('error', () => lose(p));
    worker.on('exit', () => lose(p));
    workers.push(p);
    feed(p);
  }

  o.signal?.addEventListener('abort', notify);
  try {
    while (done < chunks) {
      if (failure) throw failure;
      if (o.signal?.aborted) throw cancelled();
      const c = retry.length > 0 ? retry.pop() : next < chunks ? next++ : undefined;
      if (c !== undefined) {
        scoreChunkHere(c);
        // Let the workers' answers in (and hand them their next chunks) between two chunks.
        if (workers.length > 0) await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      // Nothing left for the main thread: wait for the workers' last chunks (or a worker lost).
      await new Promise<void>((resolve) => {
        wake = resolve;
        if (o.signal?.aborted || failure || retry.length > 0 || done >= chunks) notify();
      });
    }
    if (failure) throw failure;
  } finally {
    o.signal?.removeEventListener('abort', notify);
    for (const p of workers) {
      p.alive = false;
      p.inFlight.clear();
      void p.worker.terminate();
    }
  }
  return { scores, byWorkers };
}
