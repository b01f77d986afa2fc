/**
 * The response view: one webview panel beside the editor that shows one column per run (one for a
 * single run, several for a run matrix) and streams each answer in as it arrives. The extension
 * keeps the state; the webview renders it (typed messages in panelMessages.ts). Streaming updates
 * are coalesced (at most one message per column every 40 ms).
 */
import * as vscode from 'vscode';
import type {
  FromWebview,
  PanelAction,
  PanelColumn,
  PanelSnapshot,
  PanelState,
  ToWebview,
} from './panelMessages';
import { isFromWebview } from './panelMessages';
import { panelHtml } from './panelWebview';
import { WebviewRequests, makeNonce } from '../webviewDocument';
import type { FixTarget } from './fixes';

export const PANEL_VIEW_TYPE = 'medalign.response';
const FLUSH_MS = 40;

/** What the extension knows about a column but does not send to the webview. */
export interface ColumnContext {
  instruction?: vscode.Uri;
  cancel?: () => void;
  /** What the column's fix buttons (Approve…, Retry, …) act on. */
  fix?: FixTarget;
  /** A refine run that stopped after finished steps: run it again with resume (the panel's Resume button). */
  resume?: () => Thenable<unknown>;
}

/** A handle on the columns of one run or matrix; updates after a newer session started are dropped. */
export class PanelSession {
  constructor(
    private readonly panel: ResponsePanel,
    readonly id: number,
  ) {}

  get current(): boolean {
    return this.panel.state.session === this.id;
  }

  update(index: number, patch: Partial<PanelColumn>, context?: ColumnContext): void {
    this.panel.updateColumn(this.id, index, patch, context);
  }

  column(index: number): PanelColumn | undefined {
    return this.current ? this.panel.state.columns[index] : undefined;
  }

  setDetail(detail: string): void {
    if (this.current) this.panel.setDetail(detail);
  }
}

/** Share of the editor area the instruction keeps when the panel opens a group beside it. */
export const EDITOR_SHARE = 0.7;

/**
 * An even split would cut the instruction's CodeLens line off ("Compare w…"): when a panel (the
 * response, the prompt preview) made the second group of a single-group layout, the instruction's
 * group keeps EDITOR_SHARE of the width.
 * A layout the user arranged (more groups, or nested) is left alone.
 */
export async function keepEditorWide(): Promise<void> {
  type Layout = { orientation: number; groups: { groups?: unknown[]; size?: number }[] };
  const layout = await vscode.commands.executeCommand<Layout | undefined>('vscode.getEditorLayout');
  if (!layout || layout.orientation !== 0 || layout.groups.length !== 2) return;
  if (layout.groups.some((g) => g.groups !== undefined && g.groups.length > 0)) return;
  await vscode.commands.executeCommand('vscode.setEditorLayout', {
    orientation: 0,
    groups: [{ size: EDITOR_SHARE }, { size: 1 - EDITOR_SHARE }],
  });
}

export class ResponsePanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  state: PanelState = { session: 0, heading: '', detail: '', columns: [] };
  private contexts: ColumnContext[] = [];
  private readonly dirty = new Set<number>();
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly snapshots = new WebviewRequests<PanelSnapshot>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly onAction: (action: PanelAction, column: PanelColumn, context: ColumnContext) => void,
  ) {}

  /** Starts showing a new run (or matrix): replaces the columns and reveals the panel beside the editor. */
  start(
    heading: string,
    detail: string,
    columns: PanelColumn[],
    contexts: ColumnContext[] = [],
  ): PanelSession {
    this.state = {
      session: this.state.session + 1,
      heading,
      detail,
      columns: columns.map((c) => ({ ...c })),
    };
    this.contexts = columns.map((_c, i) => ({ ...(contexts[i] ?? {}) }));
    this.dirty.clear();
    this.reveal();
    this.post({ type: 'state', state: this.state });
    return new PanelSession(this, this.state.session);
  }

  /** The state last handed to the webview (a copy). */
  lastState(): PanelState {
    return JSON.parse(JSON.stringify(this.state)) as PanelState;
  }

  get visible(): boolean {
    return this.panel?.visible === true;
  }

  /** What the webview's DOM shows right now, or `undefined` if it does not answer within `timeoutMs`. */
  snapshot(timeoutMs = 2000): Promise<PanelSnapshot | undefined> {
    if (!this.panel || !this.ready) return Promise.resolve(undefined);
    return this.snapshots.ask((requestId) => this.post({ type: 'snapshot', requestId }), timeoutMs);
  }

  /** Clicks a button of a column in the webview, as a user would (tests). */
  press(index: number, label: string): void {
    this.post({ type: 'press', index, label });
  }

  updateColumn(session: number, index: number, patch: Partial<PanelColumn>, context?: ColumnContext): void {
    if (session !== this.state.session) return;
    const c = this.state.columns[index];
    if (!c) return;
    Object.assign(c, patch);
    if (context) Object.assign(this.contexts[index], context);
    this.dirty.add(index);
    const streaming = patch.status === undefined || patch.status === 'streaming';
    if (!streaming) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  /** Collapses or expands a column (`all`: every one), as its toggle in the panel does. */
  collapse(index: number | 'all', collapsed: boolean): void {
    this.post({ type: 'collapse', index, collapsed });
  }

  /** Opens or closes an earlier refine step of a column, as its toggle in the panel does. */
  collapseStep(index: number, step: number, collapsed: boolean): void {
    this.post({ type: 'collapseStep', index, step, collapsed });
  }

  setDetail(detail: string): void {
    this.state.detail = detail;
    this.post({ type: 'state', state: this.state });
    this.dirty.clear();
  }

  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    for (const index of this.dirty) {
      this.post({ type: 'column', session: this.state.session, index, column: this.state.columns[index] });
    }
    this.dirty.clear();
  }

  private post(m: ToWebview): void {
    if (this.panel && this.ready) void this.panel.webview.postMessage(m);
  }

  private reveal(): void {
    if (this.panel) {
      this.panel.title = this.title();
      // Always: `visible` can lag behind a view just opened over it (the gold diff, in the same group).
      this.panel.reveal(undefined, true);
      return;
    }
    const alone = vscode.window.tabGroups.all.length === 1;
    const panel = vscode.window.createWebviewPanel(
      PANEL_VIEW_TYPE,
      this.title(),
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, localResourceRoots: [], retainContextWhenHidden: false, enableFindWidget: true },
    );
    this.panel = panel;
    if (alone) void keepEditorWide();
    this.ready = false;
    panel.webview.html = panelHtml(makeNonce());
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: unknown) => {
        if (isFromWebview(m)) this.receive(m);
      }),
      panel.onDidChangeViewState(() => {
        // A hidden webview is unloaded (no retained context); it says `ready` again when shown.
        if (!panel.visible) this.ready = false;
      }),
      panel.onDidDispose(() => {
        this.panel = undefined;
        this.ready = false;
        for (const d of this.disposables.splice(0)) d.dispose();
      }),
    );
  }

  private title(): string {
    return this.state.heading ? `Response: ${this.state.heading}` : 'MedAlign Response';
  }

  private receive(m: FromWebview): void {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.dirty.clear();
        this.post({ type: 'state', state: this.state });
        return;
      case 'snapshot':
        this.snapshots.answer(m.requestId, m.snapshot);
        return;
      case 'action': {
        if (m.session !== this.state.session) return;
        const column = this.state.columns[m.index];
        const context = this.contexts[m.index];
        if (column && context) this.onAction(m.action, column, context);
        return;
      }
    }
  }

  dispose(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.panel?.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
