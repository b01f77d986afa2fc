/**
 * Runs as panel columns: a saved run (its answer, tokens, timings, a short reference to its file,
 * its row of the summary grid), a finished job (saved, skipped or not run), the panel's heading for
 * an instruction, and the run matrix's shape in words.
 */
import * as path from 'node:path';
import type { JobResult, RunRecord } from '../../../engine/src';
import type { ColumnFacts, PanelColumn } from './panelMessages';
import type { InstructionInfo } from './project';
import { fmtMs } from './services';
import { refineOfRun, refineStoppedMessage } from './refineColumn';

/** `file` relative to `root`, with forward slashes. */
export function rel(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}

/** The heading of the panel for an instruction. */
export function panelHeading(info: Pick<InstructionInfo, 'id' | 'file'>): string {
  return `${info.id ?? '(no id)'} · ${path.basename(info.file)}`;
}

/** `run 0f0sol`: the random part of a run file's name (`<time>-<random>_<endpoint>_…json`). */
export function runRef(file: string): string {
  const m = /^\d{8}T\d{9}Z-([a-z0-9]+)_/i.exec(path.basename(file));
  return m ? `run ${m[1]}` : path.basename(file);
}

const n = (x: number) => x.toLocaleString('en-US');

/** One line about a finished run: tokens, timings, when, and a short reference to its file. */
export function runMeta(run: RunRecord, file: string | undefined): string {
  const parts = [
    `prompt ${run.estimated ? '≈' : ''}${n(run.tokens.prompt)} tokens`,
    `answer ${n(run.tokens.completion)}`,
  ];
  if (run.timings.firstTokenMs !== undefined) parts.push(`first text ${fmtMs(run.timings.firstTokenMs)}`);
  if (run.refine !== undefined) {
    const done = run.refine.steps.filter((x) => x.status === 'complete').length;
    parts.push(`refine ${done}/${run.refine.planned} steps`);
  }
  parts.push(`total ${fmtMs(run.timings.totalMs)}`);
  parts.push(new Date(run.createdAt).toLocaleTimeString());
  if (file) parts.push(runRef(file));
  return parts.join(' · ');
}

/** The record days a run kept (`2019-04-02 → 2020-12-07`), and how many visits (a tooltip). */
function keptSpan(run: RunRecord): { kept: string; keptNote: string } {
  const t = run.tokens;
  const keptNote =
    t.visitsCut === 0
      ? `the whole record (${t.visitsKept} visits)`
      : `${t.visitsKept} of ${t.visitsKept + t.visitsCut} visits`;
  const { keptFrom, keptTo } = run.record;
  if (t.recordKept === 0) return { kept: 'nothing', keptNote: 'no part of the record fit' };
  if (!keptFrom || !keptTo) return { kept: keptNote, keptNote };
  return { kept: keptFrom === keptTo ? keptFrom : `${keptFrom} → ${keptTo}`, keptNote };
}

/** The summary grid's row for a run. */
export function factsOfRun(run: RunRecord): ColumnFacts {
  const latency =
    run.timings.firstTokenMs !== undefined
      ? `${fmtMs(run.timings.totalMs)} (first ${fmtMs(run.timings.firstTokenMs)})`
      : fmtMs(run.timings.totalMs);
  return {
    endpoint: run.endpoint.id,
    context: run.contextLabel,
    promptTokens: `${run.estimated ? '≈' : ''}${n(run.tokens.prompt)}`,
    ...keptSpan(run),
    answer: `${n(run.tokens.completion)} tokens`,
    latency,
  };
}

/** A saved run as a panel column. */
export function columnOfRun(
  run: RunRecord,
  file: string | undefined,
  root: string,
  hasGold: boolean,
): PanelColumn {
  const c: PanelColumn = {
    title: `${run.endpoint.id} · ${run.contextLabel}`,
    status: run.status,
    text: run.response,
    meta: runMeta(run, file),
    hasGold,
    facts: factsOfRun(run),
  };
  if (file) {
    c.runFile = file;
    c.runRef = runRef(file);
    c.runPath = rel(root, file);
  }
  const refine = refineOfRun(run);
  if (refine !== undefined) c.refine = refine;
  const stopped = refineStoppedMessage(run);
  if (stopped !== undefined) c.message = stopped;
  else if (run.error && run.status !== 'complete') {
    c.message =
      run.status === 'cancelled'
        ? 'Cancelled: the part of the answer that arrived is kept.'
        : run.error.message;
  } else if (run.finishReason === 'length') {
    c.message = 'The answer hit the generation reserve (finish reason: length) and may be cut short.';
  }
  return c;
}

export function resultColumn(
  r: JobResult,
  info: InstructionInfo,
  title: string,
  facts?: ColumnFacts,
): PanelColumn {
  if (r.run) {
    const c = columnOfRun(r.run, r.file, info.root, info.gold !== '');
    if (r.status === 'skipped') {
      c.status = 'skipped';
      c.message = 'Already ran with the same instruction, record, template and settings: showing that run.';
    }
    return c;
  }
  const c: PanelColumn = {
    title,
    status: r.status === 'refused' ? 'refused' : r.status === 'cancelled' ? 'cancelled' : 'error',
    text: '',
    message: r.error?.message ?? 'Not run.',
  };
  if (facts) c.facts = facts;
  return c;
}

/** `2 models × 3 context lengths`. */
export function matrixShape(models: number, contexts: number): string {
  const words = (k: number, one: string, many: string) => `${k} ${k === 1 ? one : many}`;
  return `${words(models, 'model', 'models')} × ${words(contexts, 'context length', 'context lengths')}`;
}
