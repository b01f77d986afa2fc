/**
 * The action that fixes each failure: approve a refused endpoint (modal, user-level), set a key,
 * choose another context or model, or show the log. `offerFixes` is the one path a single run, the
 * matrix and Run All take after their jobs: one offer per refused endpoint, and (for runs shown in
 * the panel) one for the failures.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ApprovalQuery, JobResult, RunError, RunErrorAction } from '../../../engine/src';
import { CONFIG_FILE_NAME, RUN_ERROR_ACTION_LABELS, approvalKey, runErrorActions } from '../../../engine/src';
import { instructionInfo } from './project';
import { APPROVE_COMMAND } from './approvals';
import { SET_KEY_COMMAND } from './secrets';
import { PICK_CONTEXT_COMMAND, PICK_MODEL_COMMAND } from './pickers';
import type { RunServices } from './services';

/** What a fix needs to know about the failed run. */
export interface FixTarget {
  /** The instruction (for "Choose context…", "Choose model…", "Open config"). */
  uri?: vscode.Uri;
  /** The endpoint (for "Set API key…"). */
  endpointId?: string;
  /** For a refused run: what to approve. */
  approval?: ApprovalQuery;
  /** Runs it again (after an approval or a key, and for "Retry"). */
  rerun?: () => Thenable<unknown>;
}

/**
 * The actions to offer for an error: core's list for its kind (the same the message's next step
 * names), without those this target cannot do; "Show log" last when nothing else is left.
 */
export function fixActions(error: RunError, t: FixTarget): RunErrorAction[] {
  const can: Record<RunErrorAction, boolean> = {
    approve: error.kind === 'refused' && t.approval !== undefined,
    'set-key': t.endpointId !== undefined,
    'choose-model': t.uri !== undefined,
    'choose-context': t.uri !== undefined,
    retry: t.rerun !== undefined,
    'open-config': t.uri !== undefined,
    'show-log': true,
  };
  const out = runErrorActions(error).filter((a) => can[a]);
  return out.length > 0 ? out : ['show-log'];
}

/** Buttons for an error, as the response panel shows them. */
export function fixButtons(error: RunError, t: FixTarget): { action: RunErrorAction; label: string }[] {
  return fixActions(error, t).map((action) => ({ action, label: RUN_ERROR_ACTION_LABELS[action] }));
}

/** Does what a fix button says; resolves when done (a rerun included). */
export async function performFix(s: RunServices, action: RunErrorAction, t: FixTarget): Promise<void> {
  switch (action) {
    case 'approve': {
      if (!t.approval) return;
      const ok = await vscode.commands.executeCommand<boolean>(APPROVE_COMMAND, t.approval);
      if (ok && t.rerun) await t.rerun();
      return;
    }
    case 'set-key': {
      const ok = await vscode.commands.executeCommand<boolean>(SET_KEY_COMMAND, t.endpointId);
      if (ok && t.rerun) await t.rerun();
      return;
    }
    case 'choose-model':
      await vscode.commands.executeCommand(PICK_MODEL_COMMAND, t.uri);
      return;
    case 'choose-context':
      await vscode.commands.executeCommand(PICK_CONTEXT_COMMAND, t.uri);
      return;
    case 'retry':
      await t.rerun?.();
      return;
    case 'open-config': {
      if (!t.uri) return;
      const doc = await vscode.workspace.openTextDocument(t.uri);
      const root = (await instructionInfo(doc)).root;
      await vscode.window.showTextDocument(vscode.Uri.file(path.join(root, CONFIG_FILE_NAME)), {
        preview: true,
      });
      return;
    }
    case 'show-log':
      s.log.show(true);
      return;
  }
}

/** Offers the actions that fix a failure in a notification; never awaited by the command (so tests do not block). */
export function offerFix(s: RunServices, error: RunError, t: FixTarget): void {
  const run = async () => {
    const actions = fixActions(error, t);
    if (!actions.includes('show-log')) actions.push('show-log');
    const labels = actions.map((a) => RUN_ERROR_ACTION_LABELS[a]);
    const text = `MedAlign: ${error.message}`;
    const pick =
      error.kind === 'refused'
        ? await vscode.window.showWarningMessage(text, ...labels)
        : await vscode.window.showErrorMessage(text, ...labels);
    const action = actions[labels.indexOf(pick ?? '')];
    if (action !== undefined) await performFix(s, action, t);
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
