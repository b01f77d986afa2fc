/**
 * A RecordEngine whose work runs in a worker thread, so the language server's event loop is never
 * blocked by parsing or tokenizing a large record. It remembers which records are loaded and counted
 * (the worker reports what it drops), so that a hover can wait a bounded time for a count and then
 * answer "counting…" instead of waiting longer.
 *
 * Jobs wait in a queue here and go to the worker one at a time, so a job whose requests were all
 * cancelled (`$/cancelRequest`) before it started is dropped instead of costing worker time. Loads
 * (what diagnostics need) go before counting, fitting and packing.
 */
import { Worker } from 'node:worker_threads';
import * as path from 'node:path';
import type { EhrRecord } from '../../../engine/src/core/record/model';
import type { TokenizerName } from '../../../engine/src/core/tokens/tokenizer';
import { hfTokenizerFiles } from '../../../engine/src/core/tokens/tokenizer';
import type { FitTable, PackResult } from '../../../engine/src/core/packing/pack';
import type { TimelineModel } from '../../../engine/src/core/timeline/model';
import { decodeTimeline } from '../../../engine/src/core/timeline/wire';
import type { TimelineWire, ViewWire } from '../../../engine/src/core/timeline/wire';
import { entryKey } from '../../../engine/src/core/workspace/recordEngine';
import type {
  Cancel,
  ElementInfo,
  PackRequest,
  RecordEngine,
  RecordTotals,
  TimelinePreviews,
  TimelineRequest,
  TokenRequest,
  Wait,
} from '../../../engine/src/core/workspace/recordEngine';
import type { WorkerCall, WorkerRequest, WorkerResponse } from './recordWorkerProtocol';
import { callTokenizer } from './recordWorkerProtocol';

/**
 * Resolves with `p`'s value, or `'pending'` when `wait` runs out or `cancel` fires first. A rejection
 * of `p` is passed on.
 */
export async function settle<T>(p: Promise<T>, wait: Wait, cancel?: Cancel): Promise<T | 'pending'> {
  if (wait === true && !cancel) return p;
  if (wait === false || cancel?.isCancellationRequested) {
    p.catch(() => undefined);
    return 'pending';
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  let sub: { dispose(): void } | undefined;
  const gaveUp = new Promise<'pending'>((resolve) => {
    if (typeof wait === 'number') timer = setTimeout(() => resolve('pending'), wait);
    sub = cancel?.onCancellationRequested(() => resolve('pending'));
  });
  try {
    return await Promise.race([p, gaveUp]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    sub?.dispose();
    p.catch(() => undefined);
  }
}

/** The job was dropped: every request that wanted it was cancelled before it started. */
export class JobCancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

interface Job {
  id: number;
  call: WorkerCall;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  promise: Promise<unknown>;
  /** Callers that still want the result; a caller without a Cancel holds it for good. */
  holders: number;
  started: boolean;
}

export class WorkerRecordEngine implements RecordEngine {
  private worker: Worker | undefined;
  private nextId = 1;
  /** Posted to the worker, waiting for its answer. */
  private readonly running = new Map<number, Job>();
  /** Not posted yet: loads first, then the rest, each in order. */
  private readonly urgent: Job[] = [];
  private readonly queue: Job[] = [];
  /** entryKey(uri, key) -> light record, for what the worker has loaded. */
  private readonly loaded = new Map<string, EhrRecord>();
  private readonly loading = new Map<string, Job>();
  /** Hugging Face tokenizers whose files the current worker has been sent. */
  private sentTokenizers = new Set<string>();
  /** `${uri}\n${key}\n${encoding}` -> the counting job, or true once counted. */
  private readonly counted = new Map<string, Job | true>();

  constructor(
    private readonly workerPath: string = path.join(__dirname, 'recordWorker.js'),
    private readonly log: (message: string) => void = () => undefined,
  ) {}

  /** Jobs queued or running (for medalign/serverStats). */
  get pendingJobs(): number {
    return this.running.size + this.urgent.length + this.queue.length;
  }

  private newJob(call: WorkerCall): Job {
    let resolve!: (v: unknown) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => undefined);
    const job: Job = { id: this.nextId++, call, resolve, reject, promise, holders: 0, started: false };
    // The view's first paint waits for nothing but the record's parse.
    (call.op === 'load' || call.op === 'timelineFirst' ? this.urgent : this.queue).push(job);
    return job;
  }

  /** One more caller wants `job`; when every holder has cancelled before it started, it is dropped. */
  private hold(job: Job, cancel: Cancel | undefined): void {
    job.holders++;
    if (!cancel) {
      job.holders = Infinity;
      return;
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (--job.holders > 0 || job.started) return;
      for (const q of [this.urgent, this.queue]) {
        const i = q.indexOf(job);
        if (i >= 0) q.splice(i, 1);
      }
      job.reject(new JobCancelled());
    };
    if (cancel.isCancellationRequested) release();
    else {
      const sub = cancel.onCancellationRequested(release);
      void job.promise.finally(() => sub.dispose()).catch(() => undefined);
    }
  }

  private call<T>(call: WorkerCall, cancel?: Cancel): Promise<T> {
    const job = this.newJob(call);
    this.hold(job, cancel);
    this.pump();
    return job.promise as Promise<T>;
  }

  /** Posts the next job when the worker is idle. */
  private pump(): void {
    if (this.running.size > 0) return;
    const job = this.urgent.shift() ?? this.queue.shift();
    if (!job) return;
    job.started = true;
    this.running.set(job.id, job);
    const worker = this.ensureWorker();
    // A Hugging Face tokenizer's files go to the worker once, just before the first call naming it
    // (messages are handled in order; the answer to id 0 is ignored, an error surfaces in the call).
    const name = callTokenizer(job.call);
    if (name !== undefined && !this.sentTokenizers.has(name)) {
      const files = hfTokenizerFiles(name);
      if (files !== undefined) {
        this.sentTokenizers.add(name);
        const call: WorkerCall = { op: 'tokenizer', name, json: files.json };
        if (files.config !== undefined) call.config = files.config;
        worker.postMessage({ id: 0, call } satisfies WorkerRequest);
      }
    }
    worker.postMessage({ id: job.id, call: job.call } satisfies WorkerRequest);
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.workerPath);
    this.sentTokenizers = new Set<string>();
    w.on('message', (res: WorkerResponse) => {
      for (const k of res.evicted ?? []) this.forget(k);
      const job = this.running.get(res.id);
      if (!job) return;
      this.running.delete(res.id);
      if (res.ok) job.resolve(res.result);
      else job.reject(new Error(res.error));
      this.pump();
    });
    const fail = (err: Error) => {
      this.log(`Record worker stopped: ${err.message}; it restarts on the next request.`);
      if (this.worker === w) this.worker = undefined;
      this.loaded.clear();
      this.counted.clear();
      for (const job of this.running.values()) job.reject(err);
      this.running.clear();
      this.pump();
    };
    w.on('error', fail);
    w.on('exit', (code) => {
      if (this.worker === w && code !== 0) fail(new Error(`exit code ${code}`));
      if (this.worker === w) this.worker = undefined;
    });
    w.unref();
    this.worker = w;
    return w;
  }

  private forget(lk: string): void {
    this.loaded.delete(lk);
    for (const ck of [...this.counted.keys()]) if (ck.startsWith(`${lk}\n`)) this.counted.delete(ck);
  }

  async load(
    uri: string,
    key: string,
    read: () => Promise<string | undefined>,
    cancel?: Cancel,
  ): Promise<EhrRecord | undefined> {
    const lk = entryKey(uri, key);
    const have = this.loaded.get(lk);
    if (have) return have;
    const joined = this.loading.get(lk);
    if (joined) {
      this.hold(joined, cancel);
      return joined.promise as Promise<EhrRecord | undefined>;
    }
    const text = await read();
    if (text === undefined) return undefined;
    const loadedMeanwhile = this.loaded.get(lk);
    if (loadedMeanwhile) return loadedMeanwhile;
    const joinedMeanwhile = this.loading.get(lk);
    if (joinedMeanwhile) {
      this.hold(joinedMeanwhile, cancel);
      return joinedMeanwhile.promise as Promise<EhrRecord | undefined>;
    }
    const job = this.newJob({ op: 'load', uri, key, text });
    this.hold(job, cancel);
    this.loading.set(lk, job);
    job.promise.then(
      (record) => {
        if (this.loading.get(lk) === job) this.loading.delete(lk);
        this.loaded.set(lk, record as EhrRecord);
      },
      () => {
        if (this.loading.get(lk) === job) this.loading.delete(lk);
      },
    );
    this.pump();
    return job.promise as Promise<EhrRecord>;
  }

  private isLoaded(uri: string, key: string): boolean {
    return this.loaded.has(entryKey(uri, key));
  }

  /** Starts (or joins) counting; `true` when the worker has the counts. */
  private ensureCounted(uri: string, key: string, encoding: TokenizerName, cancel?: Cancel): Job | true {
    const ck = `${entryKey(uri, key)}\n${encoding}`;
    const state = this.counted.get(ck);
    if (state === true) return true;
    if (state) {
      this.hold(state, cancel);
      return state;
    }
    const job = this.newJob({ op: 'counts', uri, key, encoding });
    this.hold(job, cancel);
    this.counted.set(ck, job);
    job.promise.then(
      () => {
        if (this.counted.get(ck) === job) this.counted.set(ck, true);
      },
      () => {
        if (this.counted.get(ck) === job) this.counted.delete(ck);
      },
    );
    this.pump();
    return job;
  }

  /** Waits (as `wait` says) for the record to be counted; false when it is not (yet). */
  private async counting(
    uri: string,
    key: string,
    encoding: TokenizerName,
    wait: Wait,
    cancel?: Cancel,
  ): Promise<boolean> {
    const state = this.ensureCounted(uri, key, encoding, cancel);
    if (state === true) return true;
    try {
      return (await settle(state.promise, wait, cancel)) !== 'pending';
    } catch (err) {
      if (err instanceof JobCancelled) return false;
      throw err;
    }
  }

  async counts(
    uri: string,
    key: string,
    encoding: TokenizerName,
    wait: Wait,
    cancel?: Cancel,
  ): Promise<RecordTotals | 'pending' | undefined> {
    if (!this.isLoaded(uri, key)) return undefined;
    if (!(await this.counting(uri, key, encoding, wait, cancel))) return 'pending';
    return this.call<RecordTotals | undefined>({ op: 'counts', uri, key, encoding }, cancel);
  }

  async fit(
    uri: string,
    key: string,
    req: TokenRequest,
    wait: Wait,
    cancel?: Cancel,
  ): Promise<FitTable | 'pending' | undefined> {
    if (!this.isLoaded(uri, key)) return undefined;
    if (!(await this.counting(uri, key, req.encoding, wait, cancel))) return 'pending';
    return this.call<FitTable | undefined>({ op: 'fit', uri, key, req }, cancel);
  }

  pack(uri: string, key: string, req: PackRequest, cancel?: Cancel): Promise<PackResult | undefined> {
    if (!this.isLoaded(uri, key)) return Promise.resolve(undefined);
    return this.call<PackResult | undefined>({ op: 'pack', uri, key, req }, cancel);
  }

  /** Counted first (a job of its own, shared with hovers), then built: both can be dropped when cancelled. */
  async timeline(
    uri: string,
    key: string,
    req: TimelineRequest,
    cancel?: Cancel,
  ): Promise<TimelineModel | undefined> {
    // Columns cross the thread boundary many times faster than 50k event objects (structured clone).
    const wire = await this.timelineWire(uri, key, req, true, cancel);
    return wire && decodeTimeline(wire);
  }

  timelineWire(
    uri: string,
    key: string,
    req: TimelineRequest,
    previews: boolean | number,
    cancel?: Cancel,
  ): Promise<TimelineWire | undefined> {
    return this.view(uri, key, req, previews, false, false, cancel) as Promise<TimelineWire | undefined>;
  }

  /**
   * The view's first answer, ahead of queued counts (urgent, as loads): the counted columns when the
   * worker has them, else the record's structure. It starts the count meanwhile (dropped with it when
   * every request that wanted it is cancelled), so the counted model asked next is on its way.
   */
  timelineFirst(
    uri: string,
    key: string,
    req: TimelineRequest,
    previews: boolean | number,
    cancel?: Cancel,
  ): Promise<TimelineWire | undefined> {
    return this.view(uri, key, req, previews, true, false, cancel) as Promise<TimelineWire | undefined>;
  }

  /** The view's answers, a big model's columns packed by the worker (packWire.ts). */
  timelineView(
    uri: string,
    key: string,
    req: TimelineRequest,
    previews: boolean | number,
    first: boolean,
    cancel?: Cancel,
  ): Promise<ViewWire | undefined> {
    return this.view(uri, key, req, previews, first, true, cancel);
  }

  /** `first`: timelineFirst, else the counted columns (counted first); `pack`: packed when big. */
  private async view(
    uri: string,
    key: string,
    req: TimelineRequest,
    previews: boolean | number,
    first: boolean,
    pack: boolean,
    cancel?: Cancel,
  ): Promise<ViewWire | undefined> {
    if (!this.isLoaded(uri, key)) return undefined;
    if (first) {
      const answer = this.call<ViewWire | undefined>(
        { op: 'timelineFirst', uri, key, req, previews, pack },
        cancel,
      );
      this.ensureCounted(uri, key, req.encoding, cancel);
      return answer;
    }
    if (!(await this.counting(uri, key, req.encoding, true, cancel))) return undefined;
    return this.call<ViewWire | undefined>({ op: 'timelineWire', uri, key, req, previews, pack }, cancel);
  }

  async timelinePreviews(
    uri: string,
    key: string,
    req: TimelineRequest,
    ids: number[],
    cancel?: Cancel,
  ): Promise<TimelinePreviews | undefined> {
    if (!this.isLoaded(uri, key)) return undefined;
    if (!(await this.counting(uri, key, req.encoding, true, cancel))) return undefined;
    return this.call<TimelinePreviews | undefined>({ op: 'timelinePreviews', uri, key, req, ids }, cancel);
  }

  countText(text: string, encoding: TokenizerName): Promise<number> {
    return this.call<number>({ op: 'countText', text, encoding });
  }

  serverMissing(table: string): Promise<{ key: string; text: string }[]> {
    return this.call<{ key: string; text: string }[]>({ op: 'serverMissing', table });
  }

  async addServerCounts(table: string, entries: [string, number][]): Promise<void> {
    await this.call<null>({ op: 'serverCounts', table, entries });
  }

  describeAt(
    uri: string,
    key: string,
    offset: number,
    encoding: TokenizerName,
  ): Promise<ElementInfo | undefined> {
    if (!this.isLoaded(uri, key)) return Promise.resolve(undefined);
    return this.call<ElementInfo | undefined>({ op: 'describeAt', uri, key, offset, encoding });
  }

  dispose(): void {
    void this.worker?.terminate();
    this.worker = undefined;
  }
}
