/**
 * Running one instruction from the editor: the language server packs it, the engine guards it and
 * streams the answer into the response panel while a progress notification offers Cancel (which
 * aborts the HTTP request); one job through runJobs.ts, like the matrix. Failures come back as the
 * engine's RunError messages, with the action that fixes each (fixes.ts).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ApprovalQuery, PreparedRun, RunError, RunJob, RunOutcome } from '../../../engine/src';
import { tokenizerDisplayName } from '../../../engine/src';
import type { ColumnContext } from './responsePanel';
import { instructionDocument, instructionInfo } from './project';
import type { RunServices } from './services';
import { RESTRICTED_MESSAGE, fmtMs, runsAllowed } from './services';
import { columnOfRun, panelHeading, rel, resultColumn } from './columns';
import type { FixTarget } from './fixes';
import { fixButtons, offerFixes } from './fixes';
import { runJobs } from './runJobs';

export const RUN_COMMAND = 'medalign.run';
export const LAST_RUN_COMMAND = 'medalign.showLastRun';
export const CANCEL_COMMAND = 'medalign.cancelRuns';

export interface RunOptions {
  model?: string;
  context?: string | number;
  strategy?: string;
  /**
   * Reuse what an earlier run of the same inputs did: a complete run is shown instead of sending, and
   * a refine run that stopped continues from its first unfinished step (the panel's Resume).
   */
  resume?: boolean;
}

/** What `medalign.run` resolves to (tests and other commands read it). */
export interface RunResult {
  /** `skipped`: a matrix or batch found a complete run with the same inputs (shown instead). */
  status: RunOutcome['status'] | 'skipped' | 'not-run';
  instructionId?: string;
  model?: string;
  context?: string;
  /** The template a matrix column ran with, when it chose one. */
  template?: string;
  file?: string;
  response?: string;
  error?: RunError;
  approval?: ApprovalQuery;
}

export function parseRunOptions(x: unknown): RunOptions {
  if (x === null || typeof x !== 'object') return {};
  const o = x as Record<string, unknown>;
  const out: RunOptions = {};
  if (typeof o['model'] === 'string' && o['model'] !== '') out.model = o['model'];
  if (typeof o['context'] === 'string' || typeof o['context'] === 'number') out.context = o['context'];
  // Checked against the schema by the server when the run is prepared (one message everywhere).
  if (typeof o['strategy'] === 'string' && o['strategy'] !== '') out.strategy = o['strategy'];
  if (o['resume'] === true) out.resume = true;
  return out;
}

/**
 * Runs one instruction document and shows it in the panel: a 1×1 matrix (runJobs), with the
 * progress following the run (packing, sending, receiving, retrying) and the prompt's budget as the
 * panel's detail line.
 */
export async function runInstruction(
  s: RunServices,
  doc: vscode.TextDocument,
  opts: RunOptions = {},
): Promise<RunResult> {
  const info = await instructionInfo(doc, s.selection.get(doc.uri));
  const model = opts.model ?? info.model;
  const context = opts.context !== undefined ? String(opts.context) : info.context;
  const result: RunResult = { status: 'not-run', model, context };
  if (info.id !== undefined) result.instructionId = info.id;
  if (!runsAllowed()) {
    result.error = { kind: 'refused', message: RESTRICTED_MESSAGE };
    return result;
  }
  const job: RunJob = { file: doc.uri.fsPath, text: doc.getText(), model, context };
  // A strategy chosen for this window (the strategy picker) unless the caller names one.
  const strategy = opts.strategy ?? s.selection.get(doc.uri).strategy;
  if (strategy) job.strategy = strategy;
  const title = `${model} · ${context}`;
  const contexts: ColumnContext[] = [{ instruction: doc.uri }];
  const session = s.panel.start(
    panelHeading(info),
    'Packing the record…',
    [{ title, status: 'packing', text: '', hasGold: info.gold !== '' }],
    contexts,
  );
  let packed = false;
  const [r] = await runJobs(s, [job], {
    title: `MedAlign: ${info.id ?? path.basename(info.file)} on ${title}`,
    resume: opts.resume === true,
    panel: {
      session,
      contexts,
      column: (x) => resultColumn(x, info, title),
    },
    startMessage: 'packing the record…',
    rerun: () => runInstruction(s, doc, opts),
    onStart: (_i, p) => {
      packed = true;
      session.setDetail(packDetail(p));
    },
  });
  result.status = r.status;
  if (r.file) result.file = r.file;
  if (r.run) result.response = r.run.response;
  if (r.error) result.error = r.error;
  if (r.approval) result.approval = r.approval;
  const what = `run ${info.id ?? info.file} on ${title}`;
  if (!packed) session.setDetail('Not run.');
  if (r.run) {
    s.log.info(
      `${what}: ${r.status} in ${fmtMs(r.run.timings.totalMs)}${r.file ? ` → ${rel(info.root, r.file)}` : ''}`,
    );
  } else {
    s.log.warn(
      !packed && r.error
        ? `${what}: ${r.error.message}`
        : `${what}: ${r.status}${r.error ? ` (${r.error.kind})` : ''}`,
    );
  }
  if (r.status === 'cancelled') {
    void vscode.window.showInformationMessage(
      'MedAlign: run cancelled; the part of the answer that arrived is saved.',
    );
  } else {
    offerFixes(s, [r], {
      uri: doc.uri,
      rerun: () => runInstruction(s, doc, opts),
      failures: {},
    });
  }
  return result;
}

/** The panel's detail line for a packed run: the prompt's budget, what was kept and cut. */
function packDetail(p: PreparedRun): string {
  const pk = p.pack;
  return (
    `Prompt ${pk.estimated ? '≈' : ''}${pk.budget.prompt.toLocaleString('en-US')} tokens · record ${pk.kept.tokens.toLocaleString('en-US')} tokens kept` +
    `${pk.cut.visits > 0 ? `, ${pk.cut.visits} visit(s) cut` : ''} · ${p.settings.strategy} · ${tokenizerDisplayName(pk.encoding)}` +
    ` · ${p.record.relFile}`
  );
}

/** Shows a saved run in the panel. */
export async function showRunFile(
  s: RunServices,
  file: string,
  instruction?: vscode.Uri,
): Promise<RunResult> {
  // Run files live in <root>/.medalign/runs/<instruction id>/.
  const root = path.resolve(path.dirname(file), '..', '..', '..');
  const run = await s.runs.store(root).read(file);
  if (!run) {
    void vscode.window.showErrorMessage(`MedAlign: ${path.basename(file)} is not a readable run file.`);
    return { status: 'not-run' };
  }
  const source = instruction ?? vscode.Uri.file(path.join(root, ...run.instruction.file.split('/')));
  let hasGold = false;
  try {
    hasGold = (await instructionInfo(await vscode.workspace.openTextDocument(source))).gold !== '';
  } catch {
    hasGold = false;
  }
  const column = columnOfRun(run, file, root, hasGold);
  // A failed saved run offers the same fixes as when it failed (Retry runs it again with its settings).
  const fix: FixTarget = {
    uri: source,
    endpointId: run.endpoint.id,
    rerun: async () =>
      runInstruction(s, await vscode.workspace.openTextDocument(source), {
        model: run.endpoint.id,
        context: run.contextLabel,
        strategy: run.strategy,
      }),
  };
  if (run.status !== 'complete' && run.error) column.fixes = fixButtons(run.error, fix);
  s.panel.start(
    panelHeading({ id: run.instruction.id, file: source.fsPath }),
    `Saved run of ${new Date(run.createdAt).toLocaleString()} · ${run.endpoint.model} · ${run.strategy}`,
    [column],
    [
      {
        instruction: source,
        fix,
        // A refine run that stopped after finished steps goes on from the first unfinished one.
        ...(column.refine?.resumeFrom !== undefined
          ? {
              resume: async () =>
                runInstruction(s, await vscode.workspace.openTextDocument(source), {
                  model: run.endpoint.id,
                  context: run.contextLabel,
                  strategy: run.strategy,
                  resume: true,
                }),
            }
          : {}),
      },
    ],
  );
  return {
    status: run.status,
    instructionId: run.instruction.id,
    model: run.endpoint.id,
    context: run.contextLabel,
    file,
    response: run.response,
  };
}

export function registerRunCommands(s: RunServices): vscode.Disposable[] {
  return [
    /** `medalign.run(uri?, { model?, context?, strategy? }?)`: runs without asking anything. */
    vscode.commands.registerCommand(
      RUN_COMMAND,
      async (arg?: unknown, opts?: unknown): Promise<RunResult> => {
        const doc = await instructionDocument(arg);
        if (!doc) {
          void vscode.window.showWarningMessage('MedAlign: open a .medalign instruction file to run it.');
          return { status: 'not-run' };
        }
        return runInstruction(s, doc, parseRunOptions(opts));
      },
    ),
    vscode.commands.registerCommand(LAST_RUN_COMMAND, async (arg?: unknown): Promise<RunResult> => {
      const doc = await instructionDocument(arg);
      if (!doc) return { status: 'not-run' };
      const info = await instructionInfo(doc);
      // Of this file only: another file with the same id does not lend its runs.
      const latest =
        info.id !== undefined
          ? await s.runs.store(info.root).latest(info.id, { instructionFile: rel(info.root, doc.uri.fsPath) })
          : undefined;
      if (!latest) {
        void vscode.window.showInformationMessage(
          `MedAlign: ${info.id ?? 'this instruction'} has not been run yet.`,
        );
        return { status: 'not-run' };
      }
      return showRunFile(s, latest.file, doc.uri);
    }),
    vscode.commands.registerCommand(CANCEL_COMMAND, () => {
      const n = s.inFlight.size;
      for (const c of s.inFlight) c.abort();
      return n;
    }),
  ];
}
