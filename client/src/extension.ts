/**
 * Extension entry: starts the language client and registers commands. Everything else lives in
 * files split by concern (languageClient.ts, commands.ts).
 */
import type * as vscode from 'vscode';
import { MedAlignLanguageClient } from './languageClient';
import { registerCommands } from './commands';

let client: MedAlignLanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<MedAlignApi> {
  const started = Date.now();
  client = new MedAlignLanguageClient(context);
  registerCommands(context, client);
  await client.start();
  return { activationMs: Date.now() - started, client };
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}

/** What `activate` returns; tests read it through `extension.exports`. */
export interface MedAlignApi {
  activationMs: number;
  client: MedAlignLanguageClient;
}
