/**
 * The action that fixes each failure: approve a refused endpoint (modal, user-level), set a key,
 * choose another context or model, or show the log. `offerFixes` is the one path a single run, the
 * matrix and Run All take after their jobs: one offer per refused endpoint, and (for runs shown in
 * the panel) one for the failures.
 */
import * as vscode from 'vscode';
import type { ApprovalQuery, JobResult, RunError } from '../../../engine/src';
import { approvalKey } from '../../../engine/src';
import { APPROVE_COMMAND } from './approvals';
import { SET_KEY_COMMAND } from './secrets';
import { PICK_CONTEXT_COMMAND, PICK_MODEL_COMMAND } from './pickers';
import type { RunServices } from './services';

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

export interface FixesOptions {
  /** The instruction the jobs ran (for "Choose context…"/"Choose model…"). */
  uri?: vscode.Uri;
  /** Runs the jobs again (after an approval or a key). */
  rerun: () => Thenable<unknown>;
  /**
   * Also offer a fix for the first failed job (status `error`): with its own message, or with
   * `titleOf` how many failed and which one it was ("2 of 4 runs failed. gpt-4o · 8k: …").
   */
  failures?: { titleOf?: (r: JobResult) => string };
}

/** Offers the fixes for finished jobs: one per refused endpoint, then (optionally) the failures. */
export function offerFixes(s: RunServices, results: readonly JobResult[], o: FixesOptions): void {
  const uri = o.uri !== undefined ? { uri: o.uri } : {};
  const offered = new Set<string>();
  for (const r of results) {
    if (r.status !== 'refused' || !r.approval || !r.error) continue;
    const k = approvalKey(r.approval);
    if (offered.has(k)) continue;
    offered.add(k);
    offerFix(s, r.error, { ...uri, approval: r.approval, rerun: o.rerun });
  }
  if (!o.failures) return;
  const failed = results.filter((r) => r.status === 'error' && r.error);
  const first = failed[0];
  if (first?.error === undefined) return;
  const titleOf = o.failures.titleOf;
  const error: RunError =
    titleOf === undefined
      ? first.error
      : {
          ...first.error,
          message: `${failed.length} of ${results.length} runs failed. ${titleOf(first)}: ${first.error.message}`,
        };
  const endpointId = first.model;
  offerFix(s, error, { ...uri, ...(endpointId !== undefined ? { endpointId } : {}), rerun: o.rerun });
}
