import * as vscode from 'vscode';
import type { MedAlignLanguageClient } from './languageClient';

export function registerCommands(context: vscode.ExtensionContext, client: MedAlignLanguageClient): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('medalign.restartServer', () => client.restart()),
    vscode.commands.registerCommand('medalign.showOutput', () => client.output.show(true)),
  );
}
