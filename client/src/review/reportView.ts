/**
 * The Report view (`MedAlign: Show Review Report`): the core report of a project folder — per model
 * and context % correct (with counts), mean rank and metric means; by category and record-length
 * quartile; largest vs smallest context; metric-vs-clinician and inter-rater Kendall's tau — as
 * tables and two charts, in a webview. The language server builds the report (`medalign/report`:
 * runs, review files, built-in metrics; the score cache only in a trusted workspace);
 * `medalign report` in a terminal gives the same numbers with external scorers too.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { WebviewRequests, makeNonce } from '../webviewDocument';
import { instructionInfo, reviewReport, workspaceProjects } from '../run/project';
import { reportView } from './reportChart';
import type { ReportView } from './reportChart';
import type { FromReport, ReportSnapshot, ToReport } from './reportWebview';
import { parseFromReport, reportHtml } from './reportWebview';

export const REPORT_COMMAND = 'medalign.showReport';
export const REPORT_DESCRIBE_COMMAND = 'medalign.report.describe';
export const REPORT_VIEW_TYPE = 'medalign.report';

export class ReportPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  private view: ReportView | undefined;
  private message = '';
  private root: string | undefined;
  private readonly snapshots = new WebviewRequests<ReportSnapshot>();

  constructor(private readonly log: vscode.LogOutputChannel) {}

  async show(root: string): Promise<void> {
    this.root = root;
    this.reveal(root);
    await this.build();
  }

  async describe(timeoutMs = 3000): Promise<{ visible: boolean; root?: string; snapshot?: ReportSnapshot }> {
    const out: { visible: boolean; root?: string; snapshot?: ReportSnapshot } = {
      visible: this.panel?.visible === true,
    };
    if (this.root) out.root = this.root;
    if (this.panel && this.ready) {
      const s = await this.snapshots.ask(
        (requestId) => this.post({ type: 'snapshot', requestId }),
        timeoutMs,
      );
      if (s) out.snapshot = s;
    }
    return out;
  }

  private async build(): Promise<void> {
    const root = this.root;
    if (!root) return;
    this.setMessage('Building the report (runs, reviews, metrics)…');
    try {
      const r = await reviewReport(root, vscode.workspace.isTrusted);
      if (!r.ok) {
        this.setMessage(`The report could not be built: ${r.error}`);
        return;
      }
      this.view = reportView(r.report, path.basename(root));
      this.message = '';
      this.post({ type: 'view', view: this.view });
      this.post({ type: 'message', message: '' });
    } catch (err) {
      this.log.error(`report: ${String(err)}`);
      this.setMessage(`The report could not be built: ${(err as Error).message ?? String(err)}`);
    }
  }

  private setMessage(m: string): void {
    this.message = m;
    this.post({ type: 'message', message: m });
  }

  private post(m: ToReport): void {
    if (this.panel && this.ready) void this.panel.webview.postMessage(m);
  }

  private receive(m: FromReport): void {
    if (m.type === 'ready') {
      this.ready = true;
      if (this.view) this.post({ type: 'view', view: this.view });
      this.post({ type: 'message', message: this.message });
    } else if (m.type === 'refresh') void this.build();
    else this.snapshots.answer(m.requestId, m.snapshot);
  }

  private reveal(root: string): void {
    const title = `Report: ${path.basename(root)}`;
    if (this.panel) {
      this.panel.title = title;
      this.panel.reveal(undefined, false);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      REPORT_VIEW_TYPE,
      title,
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      { enableScripts: true, localResourceRoots: [], retainContextWhenHidden: false, enableFindWidget: true },
    );
    this.panel = panel;
    this.ready = false;
    panel.webview.html = reportHtml(makeNonce());
    const subs = [
      panel.webview.onDidReceiveMessage((raw: unknown) => {
        const m = parseFromReport(raw);
        if (m) this.receive(m);
      }),
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.ready = false;
      }),
      panel.onDidDispose(() => {
        this.panel = undefined;
        this.ready = false;
        for (const d of subs.splice(0)) d.dispose();
      }),
    ];
  }

  dispose(): void {
    this.panel?.dispose();
  }
}

/** The project of the active instruction, else the only one, else the one the user picks. */
async function chooseProject(arg: unknown): Promise<string | undefined> {
  if (typeof arg === 'string' && path.isAbsolute(arg)) return arg;
  if (arg instanceof vscode.Uri && arg.scheme === 'file') return arg.fsPath;
  const active = vscode.window.activeTextEditor?.document;
  if (active && active.uri.scheme === 'file' && active.uri.path.endsWith('.medalign')) {
    return (await instructionInfo(active)).root;
  }
  const roots = await workspaceProjects();
  if (roots.length <= 1) return roots[0];
  const pick = await vscode.window.showQuickPick(
    roots.map((r) => ({ label: path.basename(r), description: r, root: r })),
    { title: 'MedAlign: Review Report of Which Project?' },
  );
  return pick?.root;
}

export function registerReport(log: vscode.LogOutputChannel): vscode.Disposable[] {
  const panel = new ReportPanel(log);
  return [
    panel,
    vscode.commands.registerCommand(REPORT_COMMAND, async (arg?: unknown) => {
      const root = await chooseProject(arg);
      if (!root) {
        void vscode.window.showInformationMessage(
          'MedAlign: open a folder with instructions to see its review report.',
        );
        return undefined;
      }
      await panel.show(root);
      return panel.describe();
    }),
    vscode.commands.registerCommand(REPORT_DESCRIBE_COMMAND, () => panel.describe()),
  ];
}
