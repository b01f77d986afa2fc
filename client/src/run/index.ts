/**
 * The run-lens in the editor (issue 4): registers the CodeLens, status bar, pickers, key and
 * approval commands, run / matrix / batch commands, the response panel, the gold diff and the Runs
 * view. The language server resolves and packs each run; the engine (engine/src) sends it from the
 * extension host, which holds the keys and the approvals. Returns what `exports.run` offers (test hooks only in the extension's test mode).
 */
import * as vscode from 'vscode';
import type { ApprovalEntry } from '../../../engine/src';
import type { MedAlignLanguageClient } from '../languageClient';
import { bindServer, serverPreparation } from './project';
import { Approvals, registerApprovalCommands } from './approvals';
import { tokenizeHandler } from './tokenize';
import { ApiKeys, registerKeyCommands } from './secrets';
import { RunSelection } from './selection';
import { ResponsePanel } from './responsePanel';
import type { PanelSnapshot } from './panelMessages';
import type { PanelState } from './panelMessages';
import { RunsIndex } from './runsIndex';
import type { RunServices } from './services';
import { registerPickers } from './pickers';
import { registerRunCommands } from './runCommands';
import { registerMatrix } from './matrix';
import { registerRunAll } from './runAll';
import { registerGoldDiff } from './goldDiff';
import { registerRunsView } from './runsView';
import type { RunsTree } from './runsView';
import { registerRunLens } from './runLens';
import { RunStatusBar, RunningItem } from './statusBar';
import { COMPARE_COMMAND } from './goldDiff';
import { chooseInQuickInput, quickInputState } from './quickInput';
import type { QuickInputState } from './quickInput';
import type { GoldComparison } from './goldDiff';
import { performFix } from './fixes';
import { registerReview } from '../review';
import { registerExperiments } from '../experiment';
import type { ReviewApi } from '../review';

/** Only present when the extension runs its own tests (`ExtensionMode.Test`). */
export interface RunTestHooks {
  /** What the response panel's webview shows, read from its DOM (`undefined`: not loaded). */
  panelSnapshot(timeoutMs?: number): Promise<PanelSnapshot | undefined>;
  /** The state last sent to the panel. */
  panelState(): PanelState;
  panelVisible(): boolean;
  /** Collapses or expands a panel column (`all`: every one), as its ▸/▾ button does. */
  panelCollapse(index: number | 'all', collapsed: boolean): void;
  /** Opens or closes an earlier refine step (1-based) of a column, as its ▸/▾ button does. */
  panelCollapseStep(index: number, step: number, collapsed: boolean): void;
  statusBarText(): string | undefined;
  /** The status bar item shown while runs are in flight (`undefined`: none). */
  runningText(): string | undefined;
  /** The last gold comparison shown, and whether its webview is visible. */
  goldDiff(): { comparison: GoldComparison | undefined; html: string | undefined; visible: boolean };
  /** Clicks a button of a response panel column in its webview, as a user would. */
  panelPress(index: number, label: string): void;
  runsTree: RunsTree;
  /** The user-level approvals (globalState). */
  approvals(): ApprovalEntry[];
  /** This extension's log folder (tests check no log holds a key). */
  logUri: vscode.Uri;
  /** Forgets this window's model and context choice for an instruction (back to its front matter). */
  clearChoice(uri: vscode.Uri): void;
  /** The quick pick or input box this extension shows now (step, Back, items, preselection). */
  quickInput(): QuickInputState | undefined;
  /** Checks (or activates) the open picker's items with these labels, as a click would. */
  chooseInQuickInput(labels: string[]): Promise<boolean>;
}

export interface RunApi {
  /** The window's model/context choice per instruction (the Record Timeline follows it). */
  selection: RunSelection;
  test?: RunTestHooks;
  /** The review panel (issue 11): test hooks only in the extension's test mode. */
  review: ReviewApi;
}

export function registerRun(context: vscode.ExtensionContext, client: MedAlignLanguageClient): RunApi {
  bindServer(client);
  const testMode = context.extensionMode === vscode.ExtensionMode.Test;
  const log = vscode.window.createOutputChannel('MedAlign Runs', { log: true });
  const keys = new ApiKeys(context.secrets);
  const approvals = new Approvals(context.globalState, testMode);
  client.answerTokenize(tokenizeHandler(approvals, keys, log));
  const selection = new RunSelection();
  const runs = new RunsIndex();
  const inFlight = new Set<AbortController>();
  const running = new RunningItem();
  // The panel's buttons act through the commands (so they behave like the lens and the palette).
  const panel = new ResponsePanel((action, column, ctx) => {
    if (action === 'cancel') ctx.cancel?.();
    else if (action === 'resume') {
      void Promise.resolve(ctx.resume?.()).catch((err: unknown) =>
        log.error(`resume failed: ${String(err)}`),
      );
    } else if (action === 'openRunFile' && column.runFile) {
      void vscode.window.showTextDocument(vscode.Uri.file(column.runFile), {
        preview: true,
        viewColumn: vscode.ViewColumn.One,
      });
    } else if (action === 'compareWithGold' && ctx.instruction && column.runFile) {
      void vscode.commands.executeCommand(COMPARE_COMMAND, ctx.instruction, column.runFile);
    } else if (action !== 'openRunFile' && action !== 'compareWithGold' && ctx.fix) {
      void performFix(s, action, ctx.fix).catch((err: unknown) =>
        log.error(`fix action failed: ${String(err)}`),
      );
    }
  });
  const s: RunServices = {
    keys,
    approvals,
    selection,
    panel,
    runs,
    log,
    inFlight,
    running,
    preparer: serverPreparation,
  };
  const view = registerRunsView(s, testMode);
  const gold = registerGoldDiff(s);
  const statusBar = new RunStatusBar(s, running);
  const review = registerReview(context, s);
  context.subscriptions.push(
    log,
    keys,
    selection,
    runs,
    panel,
    statusBar,
    running,
    ...registerKeyCommands(keys),
    ...registerApprovalCommands(approvals),
    ...registerPickers(s),
    ...registerRunCommands(s),
    ...registerMatrix(s),
    ...registerRunAll(s),
    ...gold.disposables,
    ...view.disposables,
    ...registerRunLens(s),
    ...review.disposables,
    ...registerExperiments(s),
    {
      dispose: () => {
        for (const c of inFlight) c.abort();
      },
    },
  );
  if (!testMode) return { selection, review: review.api };
  return {
    selection,
    review: review.api,
    test: {
      panelSnapshot: (timeoutMs) => panel.snapshot(timeoutMs),
      panelState: () => panel.lastState(),
      panelVisible: () => panel.visible,
      panelCollapse: (index, collapsed) => panel.collapse(index, collapsed),
      panelCollapseStep: (index, step, collapsed) => panel.collapseStep(index, step, collapsed),
      statusBarText: () => statusBar.text,
      runningText: () => statusBar.runningText,
      goldDiff: () => ({ comparison: gold.view.last, html: gold.view.lastHtml, visible: gold.view.visible }),
      panelPress: (index, label) => panel.press(index, label),
      runsTree: view.tree,
      approvals: () => approvals.entries(),
      logUri: context.logUri,
      clearChoice: (uri) => {
        selection.set(uri, 'model', undefined);
        selection.set(uri, 'context', undefined);
        selection.set(uri, 'strategy', undefined);
      },
      quickInput: quickInputState,
      chooseInQuickInput,
    },
  };
}
