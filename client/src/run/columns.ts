/**
 * Runs as panel columns: a saved run (its answer, tokens, timings, file), a finished job (saved,
 * skipped or not run), and the panel's heading for an instruction.
 */
import * as path from 'node:path';
import type { JobResult, RunRecord } from '../../../engine/src';
import type { PanelColumn } from './panelMessages';
import type { InstructionInfo } from './project';
import { fmtMs } from './services';

/** `file` relative to `root`, with forward slashes. */
export function rel(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}

/** The heading of the panel for an instruction. */
export function panelHeading(info: Pick<InstructionInfo, 'id' | 'file'>): string {
  return `${info.id ?? '(no id)'} · ${path.basename(info.file)}`;
}

/** One line about a finished run: tokens, timings, where it is saved. */
export function runMeta(run: RunRecord, file: string | undefined, root: string): string {
  const parts = [
    `prompt ${run.estimated ? '≈' : ''}${run.tokens.prompt.toLocaleString('en-US')} tokens`,
    `answer ${run.tokens.completion.toLocaleString('en-US')}`,
  ];
  if (run.timings.firstTokenMs !== undefined) parts.push(`first text ${fmtMs(run.timings.firstTokenMs)}`);
  parts.push(`total ${fmtMs(run.timings.totalMs)}`);
  parts.push(new Date(run.createdAt).toLocaleString());
  if (file) parts.push(rel(root, file));
  return parts.join(' · ');
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
    meta: runMeta(run, file, root),
    hasGold,
  };
  if (file) c.runFile = file;
  if (run.error && run.status !== 'complete') {
    c.message =
      run.status === 'cancelled'
        ? 'Cancelled: the part of the answer that arrived is kept.'
        : run.error.message;
  } else if (run.finishReason === 'length') {
    c.message = 'The answer hit the generation reserve (finish reason: length) and may be cut short.';
  }
  return c;
}

export function resultColumn(r: JobResult, info: InstructionInfo, title: string): PanelColumn {
  if (r.run) {
    const c = columnOfRun(r.run, r.file, info.root, info.gold !== '');
    if (r.status === 'skipped') {
      c.status = 'skipped';
      c.message = 'Already ran with the same instruction, record, template and settings: showing that run.';
    }
    return c;
  }
  return {
    title,
    status: r.status === 'refused' ? 'refused' : r.status === 'cancelled' ? 'cancelled' : 'error',
    text: '',
    message: r.error?.message ?? 'Not run.',
  };
}
