/**
 * Extension entry: starts the language client and registers commands. Everything else lives in
 * files split by concern (languageClient.ts, commands.ts, preview.ts, run/).
 */
import * as vscode from 'vscode';
import { MedAlignLanguageClient } from './languageClient';
import { registerCommands } from './commands';
import { registerPreview } from './preview';
import type { PromptPreviewPanels } from './preview';
import { registerWalkthrough } from './walkthrough';
import { registerRun } from './run';
import { registerImport } from './importCommand';
import type { RunApi } from './run';
import { registerTimeline } from './timeline/timelineView';
import type { TimelineApi } from './timeline/timelineView';

let client: MedAlignLanguageClient | undefined;

export function activate(context: vscode.ExtensionContext): MedAlignApi {
  const started = Date.now();
  client = new MedAlignLanguageClient(context);
  registerCommands(context, client);
  const preview = registerPreview(context, client);
  context.subscriptions.push(...registerWalkthrough());
  context.subscriptions.push(...registerImport(context.workspaceState));
  const run = registerRun(context, client);
  // The preview shows what Run sends: the window's choice of model, context and strategy too.
  preview.follow(run.selection);
  const timeline = registerTimeline(context, client, run.selection);
  // Activation does not wait for the server: features light up when it is ready (`ready`).
  const ready = client.start().catch((err: unknown) => {
    client?.output.error(`The MedAlign language server failed to start: ${String(err)}`);
    void vscode.window.showErrorMessage('MedAlign: the language server failed to start. See its output.');
  });
  return { activationMs: Date.now() - started, ready, client, run, preview, timeline };
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}

/** What `activate` returns; tests read it through `extension.exports`. */
export interface MedAlignApi {
  activationMs: number;
  /** Settles when the language server has started (or failed to, which is logged and shown). */
  ready: Promise<void>;
  client: MedAlignLanguageClient;
  /** The run-lens (test hooks only when the extension runs its tests). */
  run: RunApi;
  /** The prompt previews (tests read what they show with `snapshot`). */
  preview: PromptPreviewPanels;
  /** The Record Timeline view (tests act in it and read what it draws). */
  timeline: TimelineApi;
}
