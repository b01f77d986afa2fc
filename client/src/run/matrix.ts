/**
 * The run matrix: one instruction at several models and/or context lengths at once (multi-select
 * quick picks), with the runs side by side in the response panel, one column each, streaming.
 * Uses the engine's runMany (concurrency-limited, one approval question per endpoint).
 */
import * as vscode from 'vscode';
import type { JobResult, RunJob } from '../../../engine/src';
import { approvalKey } from '../../../engine/src';
import type { PanelColumn } from './panelMessages';
import type { ColumnContext } from './responsePanel';
import { contextProblem, countTokens, instructionDocument, instructionInfo } from './project';
import type { InstructionInfo } from './project';
import { pickContexts, pickModels } from './pickers';
import { ApiKeys } from './secrets';
import type { RunOptions, RunResult } from './runCommands';
import { columnOfRun, offerFix, panelHeading, parseRunOptions } from './runCommands';
import type { RunServices } from './services';
import {
  cancellable,
  concurrencySetting,
  fmtMs,
  loadEngine,
  runsAllowed,
  storePromptSetting,
} from './services';
import { showNotice } from './notices';

export const MATRIX_COMMAND = 'medalign.runMatrix';

export interface MatrixOptions extends RunOptions {
  models?: string[];
  contexts?: string[];
  /** Show runs that already completed with the same inputs instead of running them again. */
  resume?: boolean;
}

function strings(x: unknown): string[] | undefined {
  if (!Array.isArray(x)) return undefined;
  const out = x.filter((v): v is string => typeof v === 'string' && v !== '');
  return out.length > 0 ? out : undefined;
}

function parseMatrixOptions(x: unknown): MatrixOptions {
  const o: MatrixOptions = parseRunOptions(x);
  if (x !== null && typeof x === 'object') {
    const r = x as Record<string, unknown>;
    const m = strings(r['models']);
    const c = strings(r['contexts']);
    if (m) o.models = m;
    if (c) o.contexts = c;
    if (r['resume'] === true) o.resume = true;
  }
  return o;
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

export async function runMatrix(
  s: RunServices,
  doc: vscode.TextDocument,
  opts: MatrixOptions,
): Promise<RunResult[]> {
  if (!runsAllowed()) return [];
  const info = await instructionInfo(doc, s.selection.get(doc.uri));
  const models =
    opts.models ??
    (await pickModels(s, info, true, `MedAlign: run matrix for ${info.id ?? 'this instruction'} — models`));
  if (!models) return [];
  const contexts =
    opts.contexts ??
    (await pickContexts(
      info,
      true,
      `MedAlign: run matrix for ${info.id ?? 'this instruction'} — context lengths`,
    ));
  if (!contexts) return [];
  for (const c of contexts) {
    const problem = await contextProblem(c);
    if (problem !== undefined) {
      void vscode.window.showErrorMessage(`MedAlign: ${problem}`);
      return [];
    }
  }
  const text = doc.getText();
  const jobs: RunJob[] = [];
  const titles: string[] = [];
  for (const model of models) {
    for (const context of contexts) {
      const job: RunJob = { file: doc.uri.fsPath, text, model, context };
      if (opts.strategy) job.strategy = opts.strategy;
      jobs.push(job);
      titles.push(`${model} · ${context}`);
    }
  }
  const contextsOf: ColumnContext[] = jobs.map(() => ({ instruction: doc.uri }));
  const session = s.panel.start(
    panelHeading(info),
    `Run matrix: ${models.length} model(s) × ${contexts.length} context length(s)`,
    titles.map((title) => ({ title, status: 'queued', text: '', hasGold: info.gold !== '' })),
    contextsOf,
  );
  const engine = await loadEngine();

  const results = await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `MedAlign: ${jobs.length} runs of ${info.id ?? 'the instruction'}`,
      cancellable: true,
    },
    async (progress, token) => {
      const { controller, done } = cancellable(s, token);
      for (const c of contextsOf) c.cancel = () => controller.abort();
      try {
        return await engine.runMany(jobs, {
          preparer: s.preparer,
          countTokens,
          concurrency: concurrencySetting(),
          resume: opts.resume === true,
          approval: s.approvals.checker,
          signal: controller.signal,
          storePrompt: storePromptSetting(),
          apiKeyFor: (e) => s.keys.get(e),
          keySourceFor: (e) => ApiKeys.keySource(e),
          onStart: (i) => session.update(i, { status: 'sending' }),
          onText: (i, _d, t) => session.update(i, { status: 'streaming', text: t }),
          onEvent: (i, e) => {
            if (e.type === 'retrying')
              session.update(i, { message: `${e.error.message} Retrying in ${fmtMs(e.delayMs)}…` });
            else if (e.type === 'notice') showNotice(s, e.message);
          },
          onProgress: (p, r) => {
            session.update(r.index, resultColumn(r, info, titles[r.index]));
            progress.report({
              increment: 100 / p.total,
              message: `${p.done}/${p.total} done${p.failed + p.refused > 0 ? ` · ${p.failed + p.refused} not complete` : ''}`,
            });
          },
        });
      } finally {
        done();
      }
    },
  );
  s.runs.notifyChanged();
  for (const r of results) {
    s.log.info(
      `matrix ${info.id ?? info.file} on ${titles[r.index]}: ${r.status}${r.error ? ` (${r.error.kind})` : ''}`,
    );
  }
  // One offer per refused endpoint (approve, then run the matrix again: finished runs are kept).
  const offered = new Set<string>();
  const rerun = () => runMatrix(s, doc, { ...opts, models, contexts, resume: true });
  for (const r of results) {
    if (r.status !== 'refused' || !r.approval || !r.error) continue;
    const k = approvalKey(r.approval);
    if (offered.has(k)) continue;
    offered.add(k);
    offerFix(s, r.error, { uri: doc.uri, approval: r.approval, rerun });
  }
  const failed = results.filter((r) => r.status === 'error' && r.error);
  if (failed.length > 0 && failed[0].error) {
    const first = failed[0];
    const endpointId = first.model;
    offerFix(
      s,
      {
        ...first.error!,
        message: `${failed.length} of ${results.length} runs failed. ${titles[first.index]}: ${first.error!.message}`,
      },
      { uri: doc.uri, ...(endpointId !== undefined ? { endpointId } : {}), rerun },
    );
  }
  return results.map((r) => {
    const out: RunResult = {
      status: r.status,
      model: models[Math.floor(r.index / contexts.length)],
      context: contexts[r.index % contexts.length],
    };
    if (r.instructionId !== undefined) out.instructionId = r.instructionId;
    if (r.file) out.file = r.file;
    if (r.run) out.response = r.run.response;
    if (r.error) out.error = r.error;
    if (r.approval) out.approval = r.approval;
    return out;
  });
}

export function registerMatrix(s: RunServices): vscode.Disposable[] {
  return [
    /** `medalign.runMatrix(uri?, { models?, contexts?, strategy?, resume? }?)`. */
    vscode.commands.registerCommand(MATRIX_COMMAND, async (arg?: unknown, opts?: unknown) => {
      const doc = await instructionDocument(arg);
      if (!doc) {
        void vscode.window.showWarningMessage('MedAlign: open a .medalign instruction file to run it.');
        return [];
      }
      return runMatrix(s, doc, parseMatrixOptions(opts));
    }),
  ];
}
