/**
 * "Preview prompt": a read-only virtual document with the exact prompt an instruction would send
 * and its budget, rendered by the language server, refreshed as the instruction, its template, its
 * record or the config change.
 */
import * as vscode from 'vscode';
import { PreviewPromptRequest } from '../../server/src/protocol';
import type { MedAlignLanguageClient } from './languageClient';

export const PREVIEW_SCHEME = 'medalign-preview';

export class PromptPreviewProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  /** Preview URI -> the files it depends on. */
  private readonly deps = new Map<string, Set<string>>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly client: MedAlignLanguageClient) {
    const watcher = vscode.workspace.createFileSystemWatcher('**/*.{medalign,prompt,xml,json}');
    const onFile = (uri: vscode.Uri) => this.refreshDependents(uri.toString());
    this.disposables.push(
      watcher,
      watcher.onDidChange(onFile),
      watcher.onDidCreate(onFile),
      watcher.onDidDelete(onFile),
      vscode.workspace.onDidChangeTextDocument((e) => this.refreshDependents(e.document.uri.toString())),
      vscode.workspace.onDidCloseTextDocument((d) => {
        if (d.uri.scheme === PREVIEW_SCHEME) this.deps.delete(d.uri.toString());
      }),
    );
  }

  static previewUri(source: vscode.Uri): vscode.Uri {
    return vscode.Uri.from({
      scheme: PREVIEW_SCHEME,
      path: `${source.path} (prompt preview)`,
      query: encodeURIComponent(source.toString()),
    });
  }

  async provideTextDocumentContent(uri: vscode.Uri, token: vscode.CancellationToken): Promise<string> {
    const source = decodeURIComponent(uri.query);
    const lc = this.client.languageClient;
    if (!lc) return 'The MedAlign language server is not running.\n';
    await this.client.ready;
    const result = await lc.sendRequest(PreviewPromptRequest.type, { uri: source }, token);
    this.deps.set(uri.toString(), new Set(result.dependsOn));
    return result.text;
  }

  private refreshDependents(changed: string): void {
    for (const [preview, deps] of this.deps) {
      if (!deps.has(changed)) continue;
      const t = this.timers.get(preview);
      if (t) clearTimeout(t);
      this.timers.set(
        preview,
        setTimeout(() => {
          this.timers.delete(preview);
          this.changed.fire(vscode.Uri.parse(preview));
        }, 250),
      );
    }
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
  }
}

export function registerPreview(
  context: vscode.ExtensionContext,
  client: MedAlignLanguageClient,
): PromptPreviewProvider {
  const provider = new PromptPreviewProvider(client);
  context.subscriptions.push(
    provider,
    vscode.workspace.registerTextDocumentContentProvider(PREVIEW_SCHEME, provider),
    vscode.commands.registerCommand('medalign.previewPrompt', async (arg?: string | vscode.Uri) => {
      const source =
        typeof arg === 'string'
          ? vscode.Uri.parse(arg)
          : (arg ?? vscode.window.activeTextEditor?.document.uri);
      if (!source || !source.path.endsWith('.medalign')) {
        void vscode.window.showWarningMessage(
          'MedAlign: open a .medalign instruction file to preview its prompt.',
        );
        return undefined;
      }
      const doc = await vscode.workspace.openTextDocument(PromptPreviewProvider.previewUri(source));
      await vscode.window.showTextDocument(doc, {
        viewColumn: vscode.ViewColumn.Beside,
        preview: true,
        preserveFocus: true,
      });
      return doc;
    }),
  );
  return provider;
}
