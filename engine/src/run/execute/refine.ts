/**
 * Step 2 and 3 of a `strategy: refine` run (multi-step refinement): the packed plan's steps sent one
 * after the other, each with the previous step's answer in its refine prompt, each streamed and
 * retried like a single run (send.ts), the run record kept after every finished step so a run that
 * is killed can be resumed, and saved at the end with every step's prompt hash, answer and usage.
 *
 * Cancel: between steps (nothing more is sent) and within one (the request is aborted); the record
 * keeps the finished steps. Resume (`resume`): the newest run of the same key whose finished steps
 * still match the plan (each step's prompt hash recomputed from the stored answers) is continued
 * from its last finished step; those steps are not sent again.
 */
import type { EndpointConfig } from '../../core/workspace/config';
import type { EndpointTarget } from '../../core/run/guard';
import type { RunError } from '../../core/run/errors';
import type { PreparedRun } from '../../core/run/prepared';
import { fillAnswer } from '../../core/packing/refine';
import { buildRunRecord, promptHash } from '../../core/run/runRecord';
import type { RefineStepRecord, RunRecord, RunStatus } from '../../core/run/runRecord';
import type { RunStore } from '../store';
import { sendWithRetry } from './send';
import type { ExecuteOptions, RunContext, RunOutcome } from './types';
import { saveRecord } from './record';

/** The finished steps of an earlier run of the same key that still match the plan. */
function resumableSteps(p: PreparedRun, earlier: RunRecord | undefined): RefineStepRecord[] {
  const steps = p.pack.refine?.steps ?? [];
  const done = earlier?.refine?.steps ?? [];
  const out: RefineStepRecord[] = [];
  let answer = '';
  for (let k = 0; k < done.length && k < steps.length - 1; k++) {
    const d = done[k];
    if (d.status !== 'complete' || d.step !== k + 1) break;
    const expected = promptHash(fillAnswer(steps[k].messages, steps[k].answerSlots, answer));
    if (expected !== d.promptHash) break;
    out.push({ ...d, resumed: true });
    answer = d.response;
  }
  return out;
}

export async function executeRefine(
  p: PreparedRun,
  o: ExecuteOptions,
  run: RunContext,
  store: RunStore,
  endpoint: EndpointConfig,
  target: EndpointTarget,
): Promise<RunOutcome> {
  const plan = p.pack.refine!;
  const steps = plan.steps;
  const countText = (t: string) => o.countTokens(t, p.pack.encoding);
  let records: RefineStepRecord[] = [];
  let resumedFrom: string | undefined;
  if (o.resume === true) {
    const earlier = await store.findLatest(p.instruction.id, p.key);
    records = resumableSteps(p, earlier?.run);
    if (records.length > 0 && earlier !== undefined) {
      resumedFrom = earlier.run.id;
      o.onEvent?.({
        type: 'notice',
        message: `Resuming ${p.instruction.id} from step ${records.length + 1} of ${steps.length} (run ${earlier.run.id}).`,
      });
    }
  }
  let answer = records.at(-1)?.response ?? '';
  let status: RunStatus = 'complete';
  let error: RunError | undefined;
  let finishReason: string | null = records.at(-1)?.finishReason ?? null;
  let attempts = 0;
  let retryWaitMs = 0;
  let firstTokenMs: number | undefined;

  const record = (final: boolean): RunRecord => {
    const completion = records.reduce((n, r) => n + r.tokens.completion, 0);
    const last = records.at(-1);
    const endedStatus: RunStatus = final ? status : 'error';
    const interrupted: RunError = {
      kind: 'internal',
      message:
        `The run stopped after step ${records.length} of ${steps.length} before it finished: ` +
        `run it again with resume to continue from step ${records.length + 1}.`,
    };
    const r = buildRunRecord(p.draft, {
      id: run.id,
      source: 'run',
      startedAt: run.startedAt,
      endedAt: run.now(),
      status: endedStatus,
      finishReason: final ? finishReason : null,
      ...(final ? (error !== undefined ? { error } : {}) : { error: interrupted }),
      // The final answer: the last step's (what arrived of it, when cancelled or broken off).
      response: last?.response ?? answer,
      completionTokens: completion,
      completionSource: records.every((x) => x.tokens.completionSource === 'server') ? 'server' : 'counted',
      ...(firstTokenMs !== undefined ? { firstTokenMs } : {}),
      attempts,
      retryWaitMs: Math.round(retryWaitMs),
      ...(o.storePrompt === false ? {} : { prompt: p.pack.messages }),
    });
    r.refine = {
      order: plan.order,
      maxSteps: plan.maxSteps,
      planned: steps.length,
      steps: records.map((x) => ({ ...x })),
      ...(resumedFrom !== undefined ? { resumedFrom } : {}),
    };
    return r;
  };

  for (let k = records.length; k < steps.length; k++) {
    if (o.signal?.aborted) {
      status = 'cancelled';
      error = { kind: 'cancelled', message: `Cancelled before step ${k + 1} of ${steps.length}.` };
      break;
    }
    const step = steps[k];
    const messages = fillAnswer(step.messages, step.answerSlots, answer);
    const answerTokens = k > 0 && answer !== '' ? await countText(answer) : 0;
    o.onEvent?.({ type: 'step', step: k + 1, of: steps.length });
    const stepRun: PreparedRun = {
      ...p,
      pack: { ...p.pack, messages, budget: { ...p.pack.budget, prompt: step.tokens + answerTokens } },
    };
    const r = await sendWithRetry(stepRun, o, run, endpoint, target);
    if ('notSent' in r) {
      if (records.every((x) => x.resumed === true)) return r.notSent;
      status = 'error';
      error = r.notSent.error ?? { kind: 'internal', message: 'The step could not be sent.' };
      break;
    }
    const s = r.sent;
    attempts += s.attempts;
    retryWaitMs += s.retryWaitMs;
    if (firstTokenMs === undefined && s.firstTokenMs !== undefined) firstTokenMs = s.firstTokenMs;
    const completion = s.usage?.completion;
    const rec: RefineStepRecord = {
      step: k + 1,
      promptHash: promptHash(messages),
      status: s.status,
      finishReason: s.finishReason,
      response: s.text,
      tokens: {
        prompt: stepRun.pack.budget.prompt,
        completion: completion ?? (await countText(s.text)),
        completionSource: completion !== undefined ? 'server' : 'counted',
        ...(s.usage?.prompt !== undefined ? { serverPrompt: s.usage.prompt } : {}),
      },
      attempts: s.attempts,
    };
    if (s.status !== 'complete' && s.attempts === 0) {
      // Cancelled before the step was sent: nothing of it to keep.
      status = s.status;
      if (s.error !== undefined) error = s.error;
      break;
    }
    if (s.status !== 'complete') {
      status = s.status;
      if (s.error !== undefined) error = s.error;
      finishReason = s.finishReason;
      // Kept with its status (resume starts again at this step).
      records.push(rec);
      break;
    }
    records.push(rec);
    answer = s.text;
    finishReason = s.finishReason;
    // Kept after every finished step but the last: a killed run can be resumed from here.
    if (k < steps.length - 1) await store.save(record(false), run.secrets).catch(() => undefined);
  }
  return saveRecord(record(true), store, o, run);
}
