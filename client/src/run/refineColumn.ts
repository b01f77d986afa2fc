/**
 * A `strategy: refine` run in a response-panel column (no `vscode` here: unit-tested in Node). While
 * it streams, the column's text is the current step's answer and the finished steps collect above
 * it; a saved run shows its stored steps the same way, the last one's answer as the answer. A run
 * cancelled or broken after finished steps offers to resume from the first unfinished one (the
 * engine's resume sends only the steps after the finished ones).
 */
import type { RefineStepRecord, RunRecord } from '../../../engine/src';
import type { ColumnStatus, PanelRefine, PanelStep } from './panelMessages';

const n = (x: number) => x.toLocaleString('en-US');
const RUNNING: readonly ColumnStatus[] = ['queued', 'packing', 'sending', 'streaming'];

/** The line over the answer, from the step shown and the column's status. */
export function refineLine(current: number, of: number, status: ColumnStatus, stepDone = false): string {
  if (current === 0) return `Refine · ${of} ${of === 1 ? 'step' : 'steps'} planned`;
  const at = `step ${current} of ${of}`;
  if (RUNNING.includes(status))
    return `Step ${current} of ${of} · ${status === 'streaming' ? 'streaming…' : 'sending…'}`;
  if ((status === 'complete' || status === 'skipped') && current === of) return `Final answer · ${at}`;
  if (stepDone) return `Answer of ${at}, the last finished · not the final answer`;
  return `Answer of ${at} as far as it came (${status}) · not the final answer`;
}

/** Before the first step: how many steps are planned. */
export function refinePlanned(of: number): PanelRefine {
  return { of, current: 0, line: refineLine(0, of, 'sending'), earlier: [] };
}

/**
 * Step `step` of `of` is being sent: the previous step (whose answer is the column's text so far)
 * joins the earlier steps, finished.
 */
export function refineStepStarted(
  prev: PanelRefine | undefined,
  prevText: string,
  step: number,
  of: number,
): PanelRefine {
  const earlier = [...(prev?.earlier ?? [])];
  if (prev !== undefined && prev.current > 0 && prev.current < step) {
    // Its tokens are known once the run is saved (the column is then rebuilt from the run record).
    earlier.push({ step: prev.current, status: 'complete', text: prevText, meta: '' });
  }
  return { of, current: step, line: refineLine(step, of, 'sending'), earlier };
}

/** The line for a step whose answer is streaming in. */
export function refineStreaming(r: PanelRefine): PanelRefine {
  return { ...r, line: refineLine(r.current, r.of, 'streaming') };
}

function stepMeta(st: RefineStepRecord): string {
  const prompt = `prompt ${n(st.tokens.prompt)} tokens`;
  return `${prompt} · answer ${n(st.tokens.completion)}`;
}

function stepOf(st: RefineStepRecord): PanelStep {
  const p: PanelStep = { step: st.step, status: st.status, text: st.response, meta: stepMeta(st) };
  if (st.resumed === true) p.resumed = true;
  return p;
}

/** A saved refine run's steps as the column shows them (its answer: the last stored step's). */
export function refineOfRun(run: RunRecord): PanelRefine | undefined {
  const info = run.refine;
  if (info === undefined) return undefined;
  const steps = info.steps;
  const last = steps.at(-1);
  const of = info.planned;
  const r: PanelRefine = {
    of,
    current: last?.step ?? 0,
    line: '',
    earlier: steps.slice(0, -1).map(stepOf),
  };
  r.line =
    last === undefined
      ? run.status === 'complete'
        ? refineLine(0, of, 'complete')
        : `No step finished (${run.status}) · ${of} ${of === 1 ? 'step' : 'steps'} planned`
      : refineLine(last.step, of, run.status, last.status === 'complete');
  const finished = steps.filter((s) => s.status === 'complete').length;
  if (run.status !== 'complete' && finished < of) r.resumeFrom = finished + 1;
  return r;
}

/** The column's message for a refine run that stopped: what is kept and what resume does. */
export function refineStoppedMessage(run: RunRecord): string | undefined {
  const info = run.refine;
  if (info === undefined || run.status === 'complete') return undefined;
  const finished = info.steps.filter((s) => s.status === 'complete').length;
  const kept =
    finished === 0
      ? 'no step finished'
      : finished === 1
        ? 'step 1 finished and is kept'
        : `steps 1–${finished} finished and are kept`;
  const why = run.status === 'cancelled' ? 'Cancelled' : 'Stopped';
  const last = info.steps.at(-1);
  const within = last !== undefined && last.status !== 'complete';
  const where = `${why} ${within ? 'in' : 'before'} step ${Math.min(finished + 1, info.planned)} of ${info.planned}`;
  const resume =
    finished > 0
      ? ` Resume from step ${finished + 1} sends only the steps after them.`
      : ' Run it again to start from step 1.';
  const error = run.status === 'error' && run.error ? ` ${run.error.message}` : '';
  return `${where}: ${kept} in the run file.${resume}${error}`;
}
