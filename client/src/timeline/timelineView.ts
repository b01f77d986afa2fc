/**
 * The Record Timeline view (issue 10): a webview view in the MedAlign container that follows the
 * active editor (a `.medalign` instruction: its record with its model, context, strategy and
 * template; a record file: the config's defaults), asks the language server for the timeline model
 * (`medalign/timeline`, computed in the record worker) and hands it to the renderer
 * (client/webview/timeline.ts, bundled as dist/timelineView.js). The client parses nothing.
 *
 * Updates (an edit, a picker choice, the record or config changing on disk) are debounced and keep
 * zoom and selection when the record stays the same. Messages both ways are typed and checked
 * (messages.ts). `medalign.timeline.describe` returns what the webview itself says it draws.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CONFIG_FILE_NAME, TIMELINE_STYLE, inlineScript } from '../../../engine/src';
import { TimelinePreviewsRequest, TimelineViewRequest } from '../../../server/src/protocol';
import type { TimelineParams, ViewWire } from '../../../server/src/protocol';
import type { MedAlignLanguageClient } from '../languageClient';
import { WebviewRequests, makeNonce, webviewHtml } from '../webviewDocument';
import type {
  FromView,
  TimelineContent,
  TimelineDescribe,
  TimelinePerf,
  ToView,
  PackedContent,
  ViewAction,
  WireContent,
} from './messages';
import { PAGE_MODEL_CACHE, isFromView, wireCacheKey } from './messages';

/** A model the view shows, as the server answered it: columns, or a big model's packed columns. */
interface ServerContent {
  state: 'model';
  wire: ViewWire;
  source: string;
}

export const TIMELINE_VIEW_ID = 'medalign.timeline';
export const SHOW_TIMELINE_COMMAND = 'medalign.timeline.show';
export const DESCRIBE_TIMELINE_COMMAND = 'medalign.timeline.describe';
/** Edits and picker choices are coalesced for this long before the model is asked again. */
const DEBOUNCE_MS = 120;
/**
 * The view follows the active editor this long after it changes (as the Outline does): switching
 * through tabs asks for one model, not one per tab, and an editor shown only on the way to a panel
 * (Review Answers from an instruction) does not repaint a big record while that panel opens (which
 * doubled its opening time: npm run bench, in VS Code).
 */
const FOLLOW_MS = 200;

/** The window's per-instruction model/context choice (the run-lens pickers). */
export interface TimelineSelectionSource {
  get(uri: vscode.Uri): { model?: string; context?: string; strategy?: string };
  onDidChange: vscode.Event<vscode.Uri>;
}

/** Whether a document is something the timeline follows: an instruction or a record file. */
export function isTimelineSource(doc: vscode.TextDocument): boolean {
  if (doc.uri.scheme !== 'file') return false;
  return doc.languageId === 'medalign' || doc.uri.path.toLowerCase().endsWith('.xml');
}

export class TimelineView implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private ready = false;
  private seq = 0;
  /** Grows with every update: the answers of an older one are dropped. */
  private generation = 0;
  /** The counted model asked after a structure, until it comes (cancelled by a newer update). */
  private countedRequest: vscode.CancellationTokenSource | undefined;
  /** The file the view follows, and the record the last model came from. */
  private source: vscode.Uri | undefined;
  private record: string | undefined;
  private content: TimelineContent | ServerContent | undefined;
  /** The request the shown model answered (previews are asked with the same). */
  private params: TimelineParams | undefined;
  /** The keys (wireCacheKey) of the models the page keeps decoded, oldest first (as the page's own cache). */
  private pageStamps: string[] = [];
  /** Whether the content shown last kept the page's zoom and selection (a resent content keeps it too). */
  private keepView = false;
  /** Where the broken state's link goes: the record's first error, else the file's first error diagnostic. */
  private problem: { uri: vscode.Uri; range?: vscode.Range } | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private recordWatcher: vscode.FileSystemWatcher | undefined;
  private recordWatched: string | undefined;
  private bundle: string | undefined;
  private readonly describes = new WebviewRequests<TimelineDescribe>();
  private readonly disposables: vscode.Disposable[] = [];
  /** When (`Date.now()`) the view last asked the server for a model (the bench reads it). */
  requestedAt: number | undefined;
  /** Tests only: while set, a counted model that follows a structure is shown once it settles. */
  holdCounted: Promise<void> | undefined;
  /** The webview's performance figures, as last reported. */
  perf: TimelinePerf = { firstPaintMs: [], frameMs: [] };
  /** Settles each time a content message was posted (tests wait on `seq`). */
  private readonly posted = new vscode.EventEmitter<number>();
  readonly onDidPost = this.posted.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly client: MedAlignLanguageClient,
    private readonly selection: TimelineSelectionSource,
  ) {
    const config = vscode.workspace.createFileSystemWatcher(`**/${CONFIG_FILE_NAME}`);
    const refresh = () => this.schedule();
    this.disposables.push(
      config,
      config.onDidChange(refresh),
      config.onDidCreate(refresh),
      config.onDidDelete(refresh),
      vscode.window.onDidChangeActiveTextEditor((e) => {
        if (e && this.follows(e.document)) this.follow(e.document.uri, FOLLOW_MS);
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (this.source && e.document.uri.toString() === this.source.toString()) this.schedule();
        else if (this.record && e.document.uri.toString() === this.record) this.schedule();
      }),
      vscode.workspace.onDidSaveTextDocument((d) => {
        if (this.record && d.uri.toString() === this.record) this.schedule();
      }),
      selection.onDidChange((uri) => {
        if (this.source && uri.toString() === this.source.toString()) this.schedule();
      }),
      this.posted,
    );
    const active = vscode.window.activeTextEditor?.document;
    if (active && isTimelineSource(active)) this.source = active.uri;
  }

  /** A document the view should switch to: an instruction or a record, but not the record it shows. */
  private follows(doc: vscode.TextDocument): boolean {
    if (!isTimelineSource(doc)) return false;
    // Revealing an event opens its record beside the instruction: keep showing the instruction.
    return !(
      this.record !== undefined &&
      doc.uri.toString() === this.record &&
      this.source?.path.endsWith('.medalign')
    );
  }

  /** Shows the timeline of `uri` (an instruction or a record), after `delay` ms. */
  follow(uri: vscode.Uri, delay = 0): void {
    if (this.source?.toString() === uri.toString() && this.content?.state === 'model') return;
    this.source = uri;
    this.schedule(delay);
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    const roots = [
      vscode.Uri.joinPath(this.extensionUri, 'media'),
      vscode.Uri.joinPath(this.extensionUri, 'dist'),
    ];
    view.webview.options = { enableScripts: true, enableCommandUris: false, localResourceRoots: roots };
    view.webview.onDidReceiveMessage((m: unknown) => this.receive(m), undefined, this.disposables);
    view.onDidChangeVisibility(() => {
      if (view.visible) this.schedule(0);
    });
    view.onDidDispose(() => {
      if (this.view === view) {
        this.view = undefined;
        this.ready = false;
      }
    });
    void this.html(view.webview).then((html) => {
      if (this.view === view) view.webview.html = html;
    });
  }

  private async html(webview: vscode.Webview): Promise<string> {
    this.bundle ??= await fs.readFile(
      vscode.Uri.joinPath(this.extensionUri, 'dist', 'timelineView.js').fsPath,
      'utf8',
    );
    const nonce = makeNonce();
    const codicons = webview.asWebviewUri(
      vscode.Uri.joinPath(this.extensionUri, 'dist', 'codicons', 'codicon.css'),
    );
    return webviewHtml({
      nonce,
      title: 'Record Timeline',
      style: TIMELINE_STYLE,
      body: '<div id="app"></div>',
      script: inlineScript(this.bundle),
      resources: {
        cspSource: webview.cspSource,
        head: `<link rel="stylesheet" id="vscode-codicon-stylesheet" nonce="${nonce}" href="${codicons.toString()}">`,
      },
    });
  }

  private receive(m: unknown): void {
    if (!isFromView(m)) return;
    const msg: FromView = m;
    switch (msg.type) {
      case 'ready':
        // A new page (first shown, or reloaded): it has no models yet.
        this.ready = true;
        this.pageStamps = [];
        if (this.content) this.post(this.contentMessage(this.content, false));
        else this.schedule(0);
        break;
      case 'missing':
        // The page did not have the model the content named: its columns, then.
        this.pageStamps = this.pageStamps.filter((s) => s !== msg.stamp);
        if (msg.seq === this.seq && this.content) this.post(this.contentMessage(this.content, this.keepView));
        break;
      case 'reveal':
        if (msg.seq === this.seq) void this.reveal(msg.range);
        break;
      case 'useContext':
        if (msg.seq === this.seq) void this.useContext(msg.label);
        break;
      case 'openProblem':
        void this.openProblem();
        break;
      case 'describe':
        this.describes.answer(msg.requestId, msg.describe);
        break;
      case 'perf':
        this.perf = msg.perf;
        break;
      case 'previews':
        if (msg.seq === this.seq) void this.previews(msg.ids);
        break;
    }
  }

  /** Previews of events of the shown model (a big model ships without them), for its page. */
  private async previews(ids: number[]): Promise<void> {
    const params = this.params;
    const c = this.client.languageClient;
    if (!params || !c) return;
    try {
      const r = await c.sendRequest(TimelinePreviewsRequest.type, { ...params, ids });
      if (params === this.params && r.stamp !== '')
        this.post({ type: 'previews', stamp: r.stamp, ids, previews: r.previews });
    } catch {
      // The page keeps showing the event without its text.
    }
  }

  private post(msg: ToView): void {
    if (!this.view || !this.ready) return;
    // A model's columns go as one JSON string: the workbench passes a string on to the page much
    // faster than it serializes and clones an object of large arrays (the page parses and checks it).
    // A big model's packed columns go as bytes in the message (the workbench passes them as they are).
    const data = msg.type === 'content' && 'wire' in msg.content ? JSON.stringify(msg) : msg;
    void this.view.webview.postMessage(data).then(() => {
      if (msg.type === 'content') this.posted.fire(msg.seq);
    });
  }

  /** Asks for the model again after `delay` ms (edits and choices coalesce). */
  schedule(delay = DEBOUNCE_MS): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.update();
    }, delay);
  }

  private async update(): Promise<void> {
    if (!this.view) return;
    const source = this.source;
    if (!source) {
      this.show({
        state: 'empty',
        message:
          'Open a .medalign instruction or a patient record (.xml) to see the record on a time axis, with where each context length cuts it.',
      });
      return;
    }
    const label = vscode.workspace.asRelativePath(source);
    if (this.content === undefined || this.content.state === 'empty')
      this.show({ state: 'loading', message: `Reading ${label}…`, source: label });
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === source.toString());
    const o = this.selection.get(source);
    let wire: ViewWire;
    const generation = ++this.generation;
    // A counted model still on its way for an older request is not wanted any more: the worker drops
    // its jobs that have not started (the record's count stays, for whoever else waits on it).
    this.countedRequest?.cancel();
    this.countedRequest?.dispose();
    this.countedRequest = undefined;
    const params: TimelineParams = {
      uri: source.toString(),
      ...(doc?.languageId === 'medalign' ? { text: doc.getText() } : {}),
      overrides: {
        ...(o.model !== undefined ? { model: o.model } : {}),
        ...(o.context !== undefined ? { context: o.context } : {}),
        ...(o.strategy !== undefined ? { strategy: o.strategy } : {}),
      },
    };
    try {
      await this.client.ready;
      const c = this.client.languageClient;
      if (!c) throw new Error('the MedAlign language server is not running');
      this.requestedAt = Date.now();
      // The model in columns (a fraction of its JSON); the page decodes it. A big record not counted
      // yet comes as its structure first (`header.counting`), painted at once; the counted model follows.
      wire = await c.sendRequest(TimelineViewRequest.type, { ...params, progressive: true });
    } catch (err) {
      if (this.source !== source || generation !== this.generation) return;
      this.problem = { uri: source };
      this.show({
        state: 'broken',
        message: `The timeline could not be made: ${String(err)}`,
        source: label,
        problem: label,
      });
      return;
    }
    if (this.source !== source || generation !== this.generation) return;
    this.showWire(wire, params, source, label);
    if (wire.header.counting !== true) return;
    let counted: ViewWire;
    try {
      const c = this.client.languageClient;
      if (!c) throw new Error('the MedAlign language server is not running');
      const cancel = new vscode.CancellationTokenSource();
      this.countedRequest = cancel;
      counted = await c.sendRequest(TimelineViewRequest.type, params, cancel.token);
    } catch (err) {
      if (this.source !== source || generation !== this.generation) return;
      this.problem = { uri: source };
      this.show({
        state: 'broken',
        message: `The timeline's tokens could not be counted: ${String(err)}`,
        source: label,
        problem: label,
      });
      return;
    }
    // The e2e tests hold the (real) counted model back to look at the counting stage at leisure.
    if (this.holdCounted) await this.holdCounted;
    // A newer request (an edit, another editor) answers for itself.
    if (this.source !== source || generation !== this.generation) return;
    this.showWire(counted, params, source, label);
  }

  /** Shows a model's columns (or why there is none: a broken or empty record). */
  private showWire(wire: ViewWire, params: TimelineParams, source: vscode.Uri, label: string): void {
    const model = wire.header;
    const visits = wire.format === 'packed' ? wire.visits : wire.visits.index.length;
    this.params = params;
    this.watchRecord(model.uri);
    if (visits === 0 && model.problems.length > 0) {
      const e = model.error;
      this.problem =
        e && model.uri
          ? {
              uri: vscode.Uri.parse(model.uri),
              range: new vscode.Range(e.range[0], e.range[1], e.range[2], e.range[3]),
            }
          : { uri: source };
      this.show({
        state: 'broken',
        message: `${model.record}: ${model.problems.join(' ')}`,
        source: label,
        problem: label,
      });
      return;
    }
    if (visits === 0) {
      this.show({ state: 'empty', message: `${model.record} holds no visits.` });
      return;
    }
    this.show({ state: 'model', wire, source: label });
  }

  private show(content: TimelineContent | ServerContent): void {
    const prev = this.content;
    const record = (c: TimelineContent | ServerContent) =>
      'wire' in c ? c.wire.header.record : c.state === 'model' ? c.model.record : undefined;
    const keepView =
      prev?.state === 'model' &&
      content.state === 'model' &&
      prev.source === content.source &&
      record(prev) === record(content);
    this.content = content;
    this.keepView = keepView;
    this.seq++;
    this.post(this.contentMessage(content, keepView));
  }

  /**
   * The content message for the page: a model it was sent before (`pageStamps`, as the page's own
   * cache of PAGE_MODEL_CACHE decoded models) by its key only, else in full.
   */
  private contentMessage(content: TimelineContent | ServerContent, keepView: boolean): ToView {
    const seq = this.seq;
    if (!('wire' in content)) return { type: 'content', seq, content, keepView };
    const w = content.wire;
    // Packed columns go as bytes (the page inflates them).
    const full: WireContent | PackedContent =
      w.format === 'packed'
        ? {
            state: 'model',
            packed: { ...w, columns: new Uint8Array(Buffer.from(w.columns, 'base64')) },
            source: content.source,
          }
        : { state: 'model', wire: w, source: content.source };
    const key = wireCacheKey(w);
    // A structure (counting) is shown once: the page does not keep it, so it keeps the models it may show again.
    if (key === '' || w.header.counting === true) return { type: 'content', seq, content: full, keepView };
    const known = this.pageStamps.includes(key);
    this.pageStamps = [...this.pageStamps.filter((s) => s !== key), key].slice(-PAGE_MODEL_CACHE);
    return known
      ? { type: 'content', seq, content: { state: 'model', cached: key, source: content.source }, keepView }
      : { type: 'content', seq, content: full, keepView };
  }

  /** Watches the record file on disk (a change outside the editor updates the view). */
  private watchRecord(uri: string | undefined): void {
    this.record = uri;
    if (uri === this.recordWatched) return;
    this.recordWatcher?.dispose();
    this.recordWatcher = undefined;
    this.recordWatched = uri;
    if (!uri) return;
    const file = vscode.Uri.parse(uri);
    if (file.scheme !== 'file') return;
    const w = vscode.workspace.createFileSystemWatcher(
      new vscode.RelativePattern(vscode.Uri.file(path.dirname(file.fsPath)), path.basename(file.fsPath)),
    );
    const refresh = () => this.schedule();
    w.onDidChange(refresh);
    w.onDidCreate(refresh);
    w.onDidDelete(refresh);
    this.recordWatcher = w;
  }

  private async reveal(range: [number, number, number, number]): Promise<void> {
    if (!this.record) return;
    const uri = vscode.Uri.parse(this.record);
    const r = new vscode.Range(range[0], range[1], range[2], range[3]);
    const sourceColumn = vscode.window.visibleTextEditors.find(
      (e) => e.document.uri.toString() === this.source?.toString(),
    )?.viewColumn;
    const recordIsSource = this.source?.toString() === this.record;
    await vscode.window.showTextDocument(uri, {
      viewColumn: recordIsSource ? (sourceColumn ?? vscode.ViewColumn.Active) : vscode.ViewColumn.Beside,
      preserveFocus: true,
      preview: true,
      selection: r,
    });
    const editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
    editor?.revealRange(r, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  private async useContext(label: string): Promise<void> {
    const source = this.source;
    if (!source?.path.endsWith('.medalign')) {
      void vscode.window.showInformationMessage(
        `MedAlign: open an instruction to set its context to ${label} (this timeline shows a record with the config's defaults).`,
      );
      return;
    }
    // The same choice as the lens's Context…: for this window, or written to the front matter.
    await vscode.commands.executeCommand('medalign.pickContext', source, label);
  }

  private async openProblem(): Promise<void> {
    const p = this.problem;
    if (!p) return;
    const range =
      p.range ??
      vscode.languages.getDiagnostics(p.uri).find((d) => d.severity === vscode.DiagnosticSeverity.Error)
        ?.range;
    await vscode.window.showTextDocument(p.uri, { preview: false, ...(range ? { selection: range } : {}) });
    if (range) await vscode.commands.executeCommand('editor.action.marker.this');
  }

  /** What the webview says it draws (`state: 'none'` when the view was never opened or does not answer). */
  async describe(timeoutMs = 3000): Promise<TimelineDescribe> {
    const none: TimelineDescribe = { state: 'none', seq: this.seq, perf: this.perf };
    const view = this.view;
    if (!view || !this.ready) return none;
    const d = await this.describes.ask((requestId) => this.post({ type: 'describe', requestId }), timeoutMs);
    return d ?? none;
  }

  /** Acts in the webview as a user would (clicking an event, searching, filtering, fitting). */
  act(action: ViewAction): void {
    this.post({ type: 'act', action });
  }

  /** The content message number last posted (tests wait for a newer one). */
  get currentSeq(): number {
    return this.seq;
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.countedRequest?.dispose();
    this.recordWatcher?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

export interface TimelineApi {
  view: TimelineView;
}

export function registerTimeline(
  context: vscode.ExtensionContext,
  client: MedAlignLanguageClient,
  selection: TimelineSelectionSource,
): TimelineApi {
  const view = new TimelineView(context.extensionUri, client, selection);
  context.subscriptions.push(
    view,
    vscode.window.registerWebviewViewProvider(TIMELINE_VIEW_ID, view, {
      webviewOptions: { retainContextWhenHidden: true },
    }),
    vscode.commands.registerCommand(SHOW_TIMELINE_COMMAND, async (arg?: unknown) => {
      const uri =
        arg instanceof vscode.Uri
          ? arg
          : typeof arg === 'string' && arg !== ''
            ? vscode.Uri.parse(arg)
            : vscode.window.activeTextEditor?.document.uri;
      if (uri) view.follow(uri);
      await vscode.commands.executeCommand(`${TIMELINE_VIEW_ID}.focus`);
    }),
    vscode.commands.registerCommand(DESCRIBE_TIMELINE_COMMAND, () => view.describe()),
  );
  return { view };
}
