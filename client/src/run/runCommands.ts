/**
 * Running one instruction from the editor: pack (RunPreparer), guard, then stream the answer into
 * the response panel while a progress notification offers Cancel (which aborts the HTTP request).
 * Failures come back as the engine's RunError messages, with the action that fixes each: approve a
 * refused endpoint (modal, user-level), set a key, choose another context or model.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ApprovalQuery, RunError, RunJob, RunOutcome, RunRecord } from '../../../engine/src';
import type { PanelColumn } from './panelMessages';
import type { ColumnContext, PanelSession } from './responsePanel';
import { countTokens, instructionDocument, instructionInfo } from './project';
import type { InstructionInfo } from './project';
import { APPROVE_COMMAND } from './approvals';
import { ApiKeys, SET_KEY_COMMAND } from './secrets';
import { PICK_CONTEXT_COMMAND, PICK_MODEL_COMMAND } from './pickers';
import type { RunServices } from './services';
import {
  RESTRICTED_MESSAGE,
  cancellable,
  fmtMs,
  loadEngine,
  runsAllowed,
  storePromptSetting,
} from './services';
import { showNotice } from './notices';

export const RUN_COMMAND = 'medalign.run';
export const LAST_RUN_COMMAND = 'medalign.showLastRun';
export const CANCEL_COMMAND = 'medalign.cancelRuns';

export interface RunOptions {
  model?: string;
  context?: string | number;
  strategy?: string;
}

/** What `medalign.run` resolves to (tests and other commands read it). */
export interface RunResult {
  /** `skipped`: a matrix or batch found a complete run with the same inputs (shown instead). */
  status: RunOutcome['status'] | 'skipped' | 'not-run';
  instructionId?: string;
  model?: string;
  context?: string;
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
  return out;
}

function rel(root: string, file: string): string {
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

/** Offers the action that fixes a failure; never awaited by the command (so tests do not block). */
export function offerFix(
  s: RunServices,
  error: RunError,
  opts: { uri?: vscode.Uri; endpointId?: string; approval?: ApprovalQuery; rerun?: () => Thenable<unknown> },
): void {
  const run = async () => {
    if (error.kind === 'refused' && opts.approval) {
      const q = opts.approval;
      const approve = `Approve ${q.endpointId} for patient data…`;
      const pick = await vscode.window.showWarningMessage(`MedAlign: ${error.message}`, approve);
      if (pick !== approve) return;
      const ok = await vscode.commands.executeCommand<boolean>(APPROVE_COMMAND, q);
      if (ok && opts.rerun) await opts.rerun();
      return;
    }
    const actions: Record<string, () => Thenable<unknown>> = {};
    if ((error.kind === 'no-key' || error.kind === 'auth') && opts.endpointId) {
      actions['Set API key…'] = async () => {
        const ok = await vscode.commands.executeCommand<boolean>(SET_KEY_COMMAND, opts.endpointId);
        if (ok && opts.rerun) await opts.rerun();
      };
    }
    if (error.kind === 'context-overflow' && opts.uri) {
      actions['Choose context…'] = () => vscode.commands.executeCommand(PICK_CONTEXT_COMMAND, opts.uri);
    }
    if ((error.kind === 'content-filter' || error.kind === 'not-found') && opts.uri) {
      actions['Choose model…'] = () => vscode.commands.executeCommand(PICK_MODEL_COMMAND, opts.uri);
    }
    actions['Show log'] = () => {
      s.log.show(true);
      return Promise.resolve();
    };
    const pick = await vscode.window.showErrorMessage(`MedAlign: ${error.message}`, ...Object.keys(actions));
    if (pick) await actions[pick]();
  };
  void run().catch((err: unknown) => s.log.error(`fix action failed: ${String(err)}`));
}

/** Runs one instruction document and shows it in the panel. */
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
  if (opts.strategy) job.strategy = opts.strategy;
  const heading = panelHeading(info);
  const colContext: ColumnContext = { instruction: doc.uri };
  const session = s.panel.start(
    heading,
    'Packing the record…',
    [{ title: `${model} · ${context}`, status: 'packing', text: '', hasGold: info.gold !== '' }],
    [colContext],
  );
  const rerun = () => runInstruction(s, doc, opts);

  return vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `MedAlign: ${info.id ?? path.basename(info.file)} on ${model} · ${context}`,
      cancellable: true,
    },
    async (progress, token) => {
      const { controller, done } = cancellable(s, token);
      colContext.cancel = () => controller.abort();
      try {
        progress.report({ message: 'packing the record…' });
        const engine = await loadEngine();
        const prepared = await s.preparer.prepare(job);
        if (!prepared.ok) {
          result.status = 'error';
          result.error = prepared.error;
          session.update(0, { status: 'error', message: prepared.error.message });
          session.setDetail('Not run.');
          s.log.warn(`run ${info.id ?? info.file} on ${model} · ${context}: ${prepared.error.message}`);
          offerFix(s, prepared.error, { uri: doc.uri });
          return result;
        }
        const p = prepared.run;
        const pk = p.pack;
        session.setDetail(
          `Prompt ${pk.estimated ? '≈' : ''}${pk.budget.prompt.toLocaleString('en-US')} tokens · record ${pk.kept.tokens.toLocaleString('en-US')} tokens kept` +
            `${pk.cut.visits > 0 ? `, ${pk.cut.visits} visit(s) cut` : ''} · ${p.settings.strategy} · ${pk.encoding}` +
            ` · ${p.record.relFile}`,
        );
        const endpoint = p.settings.endpoint;
        const apiKey = endpoint ? await s.keys.get(endpoint) : undefined;
        if (controller.signal.aborted) {
          result.status = 'cancelled';
          session.update(0, { status: 'cancelled', message: 'Cancelled before anything was sent.' });
          return result;
        }
        const outcome = await engine.executeRun(p, {
          ...(apiKey !== undefined ? { apiKey } : {}),
          ...(endpoint ? { keySource: ApiKeys.keySource(endpoint) } : {}),
          approval: s.approvals.checker,
          countTokens,
          signal: controller.signal,
          storePrompt: storePromptSetting(),
          onText: (_delta, text) => session.update(0, { status: 'streaming', text }),
          onEvent: (e) => {
            if (e.type === 'sending') {
              progress.report({
                message: `sending ${e.promptTokens.toLocaleString('en-US')} tokens to ${e.host}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}…`,
              });
              session.update(0, { status: 'sending', message: '' });
            } else if (e.type === 'first-text') {
              progress.report({ message: 'receiving the answer…' });
            } else if (e.type === 'retrying') {
              session.update(0, { message: `${e.error.message} Retrying in ${fmtMs(e.delayMs)}…` });
              progress.report({ message: `retrying in ${fmtMs(e.delayMs)}…` });
            } else if (e.type === 'notice') {
              showNotice(s, e.message);
            }
          },
        });
        return finish(s, session, outcome, result, { info, doc, rerun, endpointId: endpoint?.id });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        result.status = 'error';
        result.error = { kind: 'internal', message };
        session.update(0, { status: 'error', message });
        s.log.error(`run ${info.id ?? info.file}: ${message}`);
        return result;
      } finally {
        done();
      }
    },
  );
}

function finish(
  s: RunServices,
  session: PanelSession,
  outcome: RunOutcome,
  result: RunResult,
  x: {
    info: InstructionInfo;
    doc: vscode.TextDocument;
    rerun: () => Thenable<unknown>;
    endpointId: string | undefined;
  },
): RunResult {
  result.status = outcome.status;
  if (outcome.file) result.file = outcome.file;
  if (outcome.run) result.response = outcome.run.response;
  if (outcome.error) result.error = outcome.error;
  if (outcome.approval) result.approval = outcome.approval;
  const what = `run ${x.info.id ?? x.info.file} on ${result.model ?? ''} · ${result.context ?? ''}`;
  if (outcome.run) {
    session.update(0, columnOfRun(outcome.run, outcome.file, x.info.root, x.info.gold !== ''));
    s.runs.notifyChanged();
    s.log.info(
      `${what}: ${outcome.status} in ${fmtMs(outcome.run.timings.totalMs)}${outcome.file ? ` → ${rel(x.info.root, outcome.file)}` : ''}`,
    );
  } else {
    session.update(0, {
      status:
        outcome.status === 'refused' ? 'refused' : outcome.status === 'cancelled' ? 'cancelled' : 'error',
      message: outcome.error?.message ?? 'Not run.',
    });
    s.log.warn(`${what}: ${outcome.status}${outcome.error ? ` (${outcome.error.kind})` : ''}`);
  }
  if (outcome.status === 'cancelled') {
    void vscode.window.showInformationMessage(
      'MedAlign: run cancelled; the part of the answer that arrived is saved.',
    );
  } else if (outcome.error && outcome.status !== 'complete') {
    offerFix(s, outcome.error, {
      uri: x.doc.uri,
      ...(x.endpointId !== undefined ? { endpointId: x.endpointId } : {}),
      ...(outcome.approval ? { approval: outcome.approval } : {}),
      rerun: x.rerun,
    });
  }
  return result;
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
  s.panel.start(
    panelHeading({ id: run.instruction.id, file: source.fsPath }),
    `Saved run of ${new Date(run.createdAt).toLocaleString()} · ${run.endpoint.model} · ${run.strategy}`,
    [columnOfRun(run, file, root, hasGold)],
    [{ instruction: source }],
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
      const latest = info.id !== undefined ? await s.runs.store(info.root).latest(info.id) : undefined;
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
