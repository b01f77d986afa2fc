/**
 * "Preview prompt": the exact prompt an instruction would send and its budget, rendered by the
 * language server (`medalign/previewPrompt`), refreshed as the instruction, its template, its record
 * or the config change. Shown as a webview (the chat messages with their roles, wrapped, under a
 * budget header that stays in view, as Prompty shows a prompt) and, on request ("Open as text"), as
 * a read-only virtual document to copy, search or diff.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { PreviewPromptRequest, TEMPLATED_TITLE } from '../../server/src/protocol';
import type { MedAlignLanguageClient } from './languageClient';
import { keepEditorWide } from './run/responsePanel';
import { isFromPreview, previewHtml } from './previewWebview';
import { WebviewRequests, makeNonce } from './webviewDocument';
import type { PreviewSnapshot, PreviewView, ToPreview } from './previewWebview';

export const PREVIEW_SCHEME = 'medalign-preview';

/** A window's choice of model, context and strategy per instruction (the run-lens pickers). */
export interface PreviewChoiceSource {
  get(uri: vscode.Uri): { model?: string; context?: string; strategy?: string };
  onDidChange: vscode.Event<vscode.Uri>;
}

/**
 * The window's choices the previews follow (as Run does): bound once the run-lens exists, so a
 * strategy or context chosen "for this window" shows in the preview at once.
 */
class WindowChoices implements vscode.Disposable {
  private source: PreviewChoiceSource | undefined;
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private sub: vscode.Disposable | undefined;

  bind(source: PreviewChoiceSource): void {
    this.sub?.dispose();
    this.source = source;
    this.sub = source.onDidChange((u) => this.changed.fire(u));
  }

  /** The overrides for the preview request of `source` (a URI string). */
  of(source: string): { model?: string; context?: string; strategy?: string } {
    const o = this.source?.get(vscode.Uri.parse(source)) ?? {};
    return {
      ...(o.model !== undefined ? { model: o.model } : {}),
      ...(o.context !== undefined ? { context: o.context } : {}),
      ...(o.strategy !== undefined ? { strategy: o.strategy } : {}),
    };
  }

  dispose(): void {
    this.sub?.dispose();
    this.changed.dispose();
  }
}
export const PREVIEW_VIEW_TYPE = 'medalign.promptPreview';

/**
 * Calls `refresh` with the URI of every instruction, template, record or config that changes, on
 * disk or in an editor: what a preview depends on.
 */
function watchInputs(refresh: (uri: string) => void): vscode.Disposable[] {
  const watcher = vscode.workspace.createFileSystemWatcher('**/*.{medalign,prompt,xml,json}');
  const onFile = (uri: vscode.Uri) => refresh(uri.toString());
  return [
    watcher,
    watcher.onDidChange(onFile),
    watcher.onDidCreate(onFile),
    watcher.onDidDelete(onFile),
    vscode.workspace.onDidChangeTextDocument((e) => refresh(e.document.uri.toString())),
  ];
}

export class PromptPreviewProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  /** Preview URI -> the files it depends on. */
  private readonly deps = new Map<string, Set<string>>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly client: MedAlignLanguageClient,
    private readonly choices: WindowChoices,
  ) {
    this.disposables.push(
      ...watchInputs((uri) => this.refreshDependents(uri)),
      choices.onDidChange((u) => this.changed.fire(PromptPreviewProvider.previewUri(u))),
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
    const result = await lc.sendRequest(
      PreviewPromptRequest.type,
      { uri: source, ...this.choices.of(source) },
      token,
    );
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

/** One webview per previewed instruction: role-labelled messages under a sticky budget header. */
export class PromptPreviewPanels implements vscode.Disposable {
  private readonly panels = new Map<
    string,
    { panel: vscode.WebviewPanel; ready: boolean; deps: Set<string>; source: vscode.Uri }
  >();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly snapshots = new WebviewRequests<PreviewSnapshot>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly client: MedAlignLanguageClient,
    private readonly openAsText: (source: vscode.Uri) => Promise<unknown>,
    private readonly choices: WindowChoices,
  ) {
    this.disposables.push(
      ...watchInputs((uri) => this.refreshDependents(uri)),
      choices.onDidChange((u) => {
        if (this.panels.get(u.toString())?.ready) void this.render(u.toString());
      }),
    );
  }

  /** Previews follow the window's choice of model, context and strategy (the run-lens selection). */
  follow(source: PreviewChoiceSource): void {
    this.choices.bind(source);
  }

  /** Shows (or reveals) the preview of `source` beside the editor and renders it. */
  async show(source: vscode.Uri): Promise<void> {
    const key = source.toString();
    let entry = this.panels.get(key);
    if (entry) entry.panel.reveal(undefined, true);
    else {
      const alone = vscode.window.tabGroups.all.length === 1;
      const panel = vscode.window.createWebviewPanel(
        PREVIEW_VIEW_TYPE,
        `Prompt: ${path.basename(source.path)}`,
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        {
          enableScripts: true,
          localResourceRoots: [],
          retainContextWhenHidden: false,
          enableFindWidget: true,
        },
      );
      if (alone) void keepEditorWide();
      const e = { panel, ready: false, deps: new Set<string>([key]), source };
      entry = e;
      this.panels.set(key, e);
      panel.webview.html = previewHtml(makeNonce());
      const subs = [
        panel.webview.onDidReceiveMessage((m: unknown) => {
          if (!isFromPreview(m)) return;
          if (m.type === 'ready') {
            e.ready = true;
            void this.render(key);
          } else if (m.type === 'openAsText') void this.openAsText(source);
          else {
            this.snapshots.answer(m.requestId, m.snapshot);
          }
        }),
        panel.onDidChangeViewState(() => {
          if (!panel.visible) e.ready = false;
        }),
        panel.onDidDispose(() => {
          this.panels.delete(key);
          for (const d of subs) d.dispose();
        }),
      ];
      return;
    }
    if (entry.ready) await this.render(key);
  }

  /** What the preview of `source` shows, read from its DOM (`undefined`: not loaded or no answer). */
  snapshot(source: vscode.Uri, timeoutMs = 2000): Promise<PreviewSnapshot | undefined> {
    const e = this.panels.get(source.toString());
    if (!e?.ready) return Promise.resolve(undefined);
    return this.snapshots.ask(
      (requestId) => void e.panel.webview.postMessage({ type: 'snapshot', requestId } satisfies ToPreview),
      timeoutMs,
    );
  }

  private async render(key: string): Promise<void> {
    const e = this.panels.get(key);
    if (!e) return;
    const lc = this.client.languageClient;
    let view: PreviewView;
    const file = vscode.workspace.asRelativePath(e.source);
    try {
      if (!lc) throw new Error('The MedAlign language server is not running.');
      await this.client.ready;
      const r = await lc.sendRequest(PreviewPromptRequest.type, { uri: key, ...this.choices.of(key) });
      e.deps = new Set(r.dependsOn);
      // With a chat template, the templated text (what the server tokenizes) follows the messages.
      const templated = r.templated === undefined ? [] : [{ role: TEMPLATED_TITLE, content: r.templated }];
      view = { file, ok: r.ok, header: r.header ?? [], messages: [...r.messages, ...templated] };
      if (r.error !== undefined) view.error = r.error;
      if (r.promptTokens !== undefined) view.promptTokens = r.promptTokens;
    } catch (err) {
      view = {
        file,
        ok: false,
        header: [],
        messages: [],
        error: err instanceof Error ? err.message : String(err),
      };
    }
    if (e.ready) void e.panel.webview.postMessage({ type: 'show', view } satisfies ToPreview);
  }

  private refreshDependents(changed: string): void {
    for (const [key, e] of this.panels) {
      if (!e.deps.has(changed)) continue;
      const t = this.timers.get(key);
      if (t) clearTimeout(t);
      this.timers.set(
        key,
        setTimeout(() => {
          this.timers.delete(key);
          void this.render(key);
        }, 250),
      );
    }
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const e of this.panels.values()) e.panel.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

function sourceOf(arg: unknown): vscode.Uri | undefined {
  const source =
    typeof arg === 'string' ? vscode.Uri.parse(arg) : arg instanceof vscode.Uri ? arg : undefined;
  const s = source ?? vscode.window.activeTextEditor?.document.uri;
  if (!s || !s.path.endsWith('.medalign')) {
    void vscode.window.showWarningMessage(
      'MedAlign: open a .medalign instruction file to preview its prompt.',
    );
    return undefined;
  }
  return s;
}

export function registerPreview(
  context: vscode.ExtensionContext,
  client: MedAlignLanguageClient,
): PromptPreviewPanels {
  const choices = new WindowChoices();
  const provider = new PromptPreviewProvider(client, choices);
  const openAsText = async (source: vscode.Uri) => {
    const doc = await vscode.workspace.openTextDocument(PromptPreviewProvider.previewUri(source));
    await vscode.window.showTextDocument(doc, {
      viewColumn: vscode.ViewColumn.Beside,
      preview: true,
      preserveFocus: true,
    });
    return doc;
  };
  const panels = new PromptPreviewPanels(client, openAsText, choices);
  context.subscriptions.push(
    choices,
    provider,
    panels,
    vscode.workspace.registerTextDocumentContentProvider(PREVIEW_SCHEME, provider),
    /** `medalign.previewPrompt(uri?)`: the preview webview (messages with their roles). */
    vscode.commands.registerCommand('medalign.previewPrompt', async (arg?: unknown) => {
      const source = sourceOf(arg);
      if (source) await panels.show(source);
      return source;
    }),
    /** `medalign.previewPromptAsText(uri?)`: the same prompt as a read-only text document. */
    vscode.commands.registerCommand('medalign.previewPromptAsText', async (arg?: unknown) => {
      const source = sourceOf(arg);
      return source ? openAsText(source) : undefined;
    }),
  );
  return panels;
}
