/**
 * What every run-lens piece shares: the run engine (engine/src, loaded on first use so
 * activation stays fast), the language server that prepares runs,
 * keys, approvals, the per-window selection, the response panel, the runs index and a log channel
 * (events only: never a key, a prompt or a response).
 */
import * as vscode from 'vscode';
import type * as EngineModule from '../../../engine/src';
import type { EndpointConfig } from '../../../engine/src';
import type { ApiKeys } from './secrets';
import type { Approvals } from './approvals';
import type { RunSelection } from './selection';
import type { ResponsePanel } from './responsePanel';
import type { RunsIndex } from './runsIndex';
import type { serverPreparation } from './project';

export type Engine = typeof EngineModule;

let engine: Promise<Engine> | undefined;

/** The run engine, loaded once on first use. */
export function loadEngine(): Promise<Engine> {
  engine ??= import('../../../engine/src/index.js');
  return engine;
}

export interface RunServices {
  readonly keys: ApiKeys;
  readonly approvals: Approvals;
  readonly selection: RunSelection;
  readonly panel: ResponsePanel;
  readonly runs: RunsIndex;
  readonly log: vscode.LogOutputChannel;
  /** Resolves and packs runs: the language server (`medalign/planRun`, `medalign/prepareRun`). */
  readonly preparer: typeof serverPreparation;
  /** The status bar's in-flight item: `begin(label)` when runs start, call the result when they end. */
  readonly running: { begin(label: string): () => void };
  /** Runs in progress (single, matrix, batch): cancelled by `MedAlign: Cancel Runs`. */
  readonly inFlight: Set<AbortController>;
}

export function storePromptSetting(): boolean {
  return vscode.workspace.getConfiguration('medalign.run').get<boolean>('storePrompt', true);
}

export function concurrencySetting(): number {
  const n = vscode.workspace.getConfiguration('medalign.run').get<number>('concurrency', 4);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, 32) : 4;
}

/** The key for an endpoint, from secret storage (`undefined`: none). */
export function keyFor(s: RunServices, e: EndpointConfig): Promise<string | undefined> {
  return s.keys.get(e);
}

/** An AbortController tied to a progress notification's Cancel and to `MedAlign: Cancel Runs`. */
export function cancellable(
  s: RunServices,
  token?: vscode.CancellationToken,
): { controller: AbortController; done: () => void } {
  const controller = new AbortController();
  s.inFlight.add(controller);
  const sub = token?.onCancellationRequested(() => controller.abort());
  return {
    controller,
    done: () => {
      sub?.dispose();
      s.inFlight.delete(controller);
    },
  };
}

export function fmtMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export const RESTRICTED_MESSAGE =
  'MedAlign: runs are off in Restricted Mode. This workspace is not trusted, and a run reads its ' +
  'records and sends them to the endpoints its config names. Reading, validation and hovers still work.';

/**
 * Workspace Trust: runs (single, matrix, batch) need a trusted workspace. Untrusted: shows why (with
 * a way to manage trust) and returns false.
 */
export function runsAllowed(): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window
    .showWarningMessage(RESTRICTED_MESSAGE, 'Manage Workspace Trust')
    .then((pick) => (pick ? vscode.commands.executeCommand('workbench.trust.manage') : undefined));
  return false;
}
