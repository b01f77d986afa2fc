/**
 * Many runs at once — the CLI's `medalign run <paths...> --model a,b --context 2k,32k`, and the
 * editor's run matrix: a concurrency-limited pool over jobs, with resume (a job whose resume key
 * already has a complete run is skipped before it is packed), progress, cancel (every run in flight
 * is saved as partial) and one approval question per endpoint for the whole batch. With resume, a
 * job takes the run key's lock (runLock.ts) first: a key another process is running is put off until
 * the other jobs are done, then waited for, and skipped once that run is complete.
 */
import type { EndpointConfig } from '../core/workspace/config';
import { approvalKey } from '../core/run/guard';
import type { ApprovalQuery } from '../core/run/guard';
import type { RunError } from '../core/run/errors';
import type { RunRecord } from '../core/run/runRecord';
import type { ApprovalChecker } from './approvals';
import type { PreparedRun, RunJob, RunPlan, RunPreparation } from '../core/run/prepared';
import type { ExecuteOptions, OutcomeStatus, RunEvent } from './runner';
import { executeRun } from './runner';
import { RunStore } from './store';
import type { RunLock } from './runLock';
import { tryLockRun } from './runLock';

/** How often a job whose run key another process holds looks again. */
const LOCK_POLL_MS = 200;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export type JobStatus = OutcomeStatus | 'skipped';

export interface JobResult {
  index: number;
  job: RunJob;
  status: JobStatus;
  /** The saved (or, for `skipped`, the earlier) run. */
  run?: RunRecord;
  file?: string;
  error?: RunError;
  /** For `refused`: what the user would have to approve. */
  approval?: ApprovalQuery;
  /** Set once the job was planned. */
  instructionId?: string;
  model?: string;
  contextLabel?: string;
  gold?: string;
  workspaceRoot?: string;
}

export interface Progress {
  total: number;
  done: number;
  running: number;
  complete: number;
  skipped: number;
  failed: number;
  refused: number;
  cancelled: number;
}

export interface RunManyOptions extends Omit<
  ExecuteOptions,
  'apiKey' | 'keySource' | 'onText' | 'onEvent' | 'store' | 'approval'
> {
  /** Resolves and packs: the CLI's in-process RunPreparer, or the language server in the editor. */
  preparer: RunPreparation;
  /** Runs in flight at once (default 4). */
  concurrency?: number;
  /**
   * Skip jobs that already have a complete run with the same hashes; a job another process is
   * running (same key) is waited for, then skipped.
   */
  resume?: boolean;
  approval: ApprovalChecker;
  /** The key for an endpoint (asked once per endpoint). */
  apiKeyFor?: (endpoint: EndpointConfig) => string | undefined | Promise<string | undefined>;
  keySourceFor?: (endpoint: EndpointConfig) => string | undefined;
  onText?: (index: number, delta: string, text: string) => void;
  onEvent?: (index: number, e: RunEvent) => void;
  /** After each job ends (or is skipped). */
  onProgress?: (p: Progress, result: JobResult) => void;
  /** After a job is planned, before it runs (to show what is running). */
  onStart?: (index: number, prepared: PreparedRun) => void;
}

/** Runs `jobs` with at most `concurrency` in flight. Results are in job order. */
export async function runMany(jobs: readonly RunJob[], o: RunManyOptions): Promise<JobResult[]> {
  const results: JobResult[] = new Array<JobResult>(jobs.length);
  const progress: Progress = {
    total: jobs.length,
    done: 0,
    running: 0,
    complete: 0,
    skipped: 0,
    failed: 0,
    refused: 0,
    cancelled: 0,
  };
  const stores = new Map<string, RunStore>();
  const storeFor = (root: string) => {
    let s = stores.get(root);
    if (!s) stores.set(root, (s = new RunStore(root)));
    return s;
  };
  // One approval question per endpoint and origin, however many jobs use it.
  const approvals = new Map<string, Promise<boolean>>();
  const approval: ApprovalChecker = (q) => {
    const k = approvalKey(q);
    let a = approvals.get(k);
    if (!a) {
      a = Promise.resolve(o.approval(q)).catch(() => false);
      approvals.set(k, a);
    }
    return a;
  };
  const keys = new Map<string, Promise<string | undefined>>();
  const keyFor = (e: EndpointConfig) => {
    let k = keys.get(e.id);
    if (!k) {
      k = Promise.resolve(o.apiKeyFor?.(e));
      keys.set(e.id, k);
    }
    return k;
  };

  const finish = (r: JobResult) => {
    results[r.index] = r;
    progress.done++;
    progress.running--;
    if (r.status === 'complete') progress.complete++;
    else if (r.status === 'skipped') progress.skipped++;
    else if (r.status === 'refused') progress.refused++;
    else if (r.status === 'cancelled') progress.cancelled++;
    else progress.failed++;
    o.onProgress?.({ ...progress }, r);
  };

  /** `deferred`: another process holds the job's run key and `mayDefer` was set. */
  const runOne = async (index: number, mayDefer: boolean): Promise<'deferred' | void> => {
    const job = jobs[index];
    const base: JobResult = { index, job, status: 'error' };
    if (o.signal?.aborted) {
      finish({
        ...base,
        status: 'cancelled',
        error: { kind: 'cancelled', message: 'Cancelled before it started.' },
      });
      return;
    }
    const planned = await o.preparer.plan(job);
    if (!planned.ok) {
      finish({ ...base, error: planned.error });
      return;
    }
    const plan = planned.plan;
    const info: JobResult = {
      ...base,
      instructionId: plan.instruction.id,
      model: plan.settings.model,
      contextLabel: plan.settings.contextLabel,
      gold: plan.instruction.gold,
      workspaceRoot: plan.workspaceRoot,
    };
    const store = storeFor(plan.workspaceRoot);
    let lock: RunLock | undefined;
    if (o.resume) {
      const notice = (message: string) => o.onEvent?.(index, { type: 'notice', message });
      for (let waited = false; ; waited = true) {
        const done = await store.findComplete(plan.instruction.id, plan.key);
        if (done) {
          await lock?.release();
          finish({ ...info, status: 'skipped', run: done.run, file: done.file });
          return;
        }
        if (lock !== undefined) break; // locked, and still not complete: run it
        lock = await tryLockRun(plan.workspaceRoot, plan.instruction.id, plan.key, notice);
        if (lock !== undefined) continue; // look once more: the holder may have just finished
        if (mayDefer && !waited) return 'deferred';
        if (o.signal?.aborted) {
          finish({
            ...info,
            status: 'cancelled',
            error: { kind: 'cancelled', message: 'Cancelled before it started.' },
          });
          return;
        }
        await sleep(LOCK_POLL_MS, o.signal);
      }
    }
    try {
      await runLocked(index, plan, info, store);
    } finally {
      await lock?.release();
    }
  };

  const runLocked = async (index: number, plan: RunPlan, info: JobResult, store: RunStore): Promise<void> => {
    const prepared = await o.preparer.pack(plan);
    if (!prepared.ok) {
      finish({ ...info, error: prepared.error });
      return;
    }
    o.onStart?.(index, prepared.run);
    const endpoint = prepared.run.settings.endpoint;
    const apiKey = endpoint ? await keyFor(endpoint) : undefined;
    const keySource = endpoint ? o.keySourceFor?.(endpoint) : undefined;
    const outcome = await executeRun(prepared.run, {
      ...o,
      approval,
      store,
      ...(apiKey !== undefined ? { apiKey } : {}),
      ...(keySource !== undefined ? { keySource } : {}),
      onText: (d, t) => o.onText?.(index, d, t),
      onEvent: (e) => o.onEvent?.(index, e),
    });
    const r: JobResult = { ...info, status: outcome.status };
    if (outcome.run) r.run = outcome.run;
    if (outcome.file) r.file = outcome.file;
    if (outcome.error) r.error = outcome.error;
    if (outcome.approval) r.approval = outcome.approval;
    finish(r);
  };

  let next = 0;
  // Jobs whose run key another process holds: taken up again once every other job has started.
  const deferred: number[] = [];
  const worker = async () => {
    for (;;) {
      let i: number;
      let mayDefer = true;
      if (next < jobs.length) i = next++;
      else if (deferred.length > 0) {
        i = deferred.shift()!;
        mayDefer = false;
      } else return;
      progress.running++;
      try {
        if ((await runOne(i, mayDefer)) === 'deferred') {
          progress.running--;
          deferred.push(i);
        }
      } catch (err) {
        finish({
          index: i,
          job: jobs[i],
          status: 'error',
          error: { kind: 'internal', message: err instanceof Error ? err.message : String(err) },
        });
      }
    }
  };
  const n = Math.max(1, Math.min(o.concurrency ?? 4, jobs.length));
  await Promise.all(Array.from({ length: n }, worker));
  return results;
}
