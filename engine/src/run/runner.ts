/**
 * The runner: guard → send → record. `executeRun` takes a prepared run (see prepare.ts) and
 * composes three steps, each in its own module under `execute/`:
 *
 * 1. `guardRun` (execute/guard.ts): the packed prompt, the PHI guard (and, for a non-local endpoint,
 *    the caller's approval checker), a real `.medalign/`, safe write paths, the key. A run it stops
 *    sends nothing and saves nothing.
 * 2. `sendWithRetry` / `sendBaseline` (execute/send.ts): an audit line before each request, the
 *    answer streamed through `onText`, retries per core/run/retry.ts, a broken stream's partial kept.
 * 3. `buildRecord` + `saveRecord` (execute/record.ts): the run record, redacted of the key, saved
 *    under `.medalign/runs/` — finished, cancelled or failed.
 *
 * `strategy: refine` sends its steps one after the other instead of 2 and 3 (execute/refine.ts).
 *
 * The editor calls this in-process with the key from SecretStorage, its own approval checker (user
 * state), an AbortSignal from the progress notification's Cancel, and callbacks for the response view.
 */
import { newRunId } from '../core/run/runRecord';
import type { PreparedRun } from '../core/run/prepared';
import type { ExecuteOptions, RunContext, RunOutcome } from './execute/types';
import { guardRun } from './execute/guard';
import { rand, sendBaseline, sendWithRetry } from './execute/send';
import type { Received } from './execute/record';
import { buildRecord, saveRecord } from './execute/record';
import { executeRefine } from './execute/refine';

export type { ExecuteOptions, OutcomeStatus, RunEvent, RunOutcome } from './execute/types';

/** Runs a prepared run. Never throws for run failures: they come back in the outcome. */
export async function executeRun(p: PreparedRun, o: ExecuteOptions): Promise<RunOutcome> {
  const now = o.now ?? (() => new Date());
  const startedAt = now();
  const secrets = o.apiKey !== undefined ? [o.apiKey] : [];

  const guarded = await guardRun(p, o, secrets);
  if (!guarded.ok) return guarded.outcome;
  const { decision, store, plan } = guarded;
  const run: RunContext = { id: newRunId(startedAt, rand), startedAt, now, secrets, decision };

  if (plan.kind === 'model' && p.pack.refine !== undefined && p.pack.refine.steps.length > 0) {
    return executeRefine(p, o, run, store, plan.endpoint, plan.target);
  }
  let got: Received;
  if (plan.kind === 'baseline') {
    got = { kind: 'baseline', ...sendBaseline(plan.answer, o), passages: plan.answer.passages };
  } else {
    const r = await sendWithRetry(p, o, run, plan.endpoint, plan.target);
    if ('notSent' in r) return r.notSent;
    got = { kind: 'model', sent: r.sent };
  }
  return saveRecord(await buildRecord(p, o, run, got), store, o, run);
}
