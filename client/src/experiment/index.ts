/**
 * Prompt experiments in the editor (issue 14, docs/experiments.md): the CodeLens on
 * `<name>.experiment.json` (`▶ Run experiment · N runs`, the size before anything is sent, or why
 * it cannot run), `MedAlign: Run Experiment` (its runs through runJobs.ts: resume always on, so a
 * run with identical inputs is never sent again; progress with Cancel; concurrency as for batch;
 * one approval question per endpoint), and the results view (`MedAlign: Show Experiment Results`:
 * the verdict the language server builds from the run store). `medalign.experiment.describe` is
 * JSON of what the view shows (for tests and scripts).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { JobResult, RunJob } from '../../../engine/src';
import type { RunServices } from '../run/services';
import { runsAllowed } from '../run/services';
import { experimentPlan, experimentVerdict } from '../run/project';
import { runJobs } from '../run/runJobs';
import { offerFixes } from '../run/fixes';
import { WebviewRequests, makeNonce } from '../webviewDocument';
import type { ExperimentView } from '../../../engine/src';
import { experimentView } from '../../../engine/src';
import type { ExperimentSnapshot, FromExperiment, ToExperiment } from './resultsWebview';
import { experimentHtml, parseFromExperiment } from './resultsWebview';

export const RUN_EXPERIMENT_COMMAND = 'medalign.runExperiment';
export const SHOW_EXPERIMENT_COMMAND = 'medalign.showExperimentResults';
export const EXPERIMENT_DESCRIBE_COMMAND = 'medalign.experiment.describe';
export const EXPERIMENT_VIEW_TYPE = 'medalign.experiment';
const SELECTOR: vscode.DocumentSelector = { scheme: 'file', pattern: '**/*.experiment.json' };

export interface ExperimentDescription {
  visible: boolean;
  uri?: string;
  snapshot?: ExperimentSnapshot;
}

export interface ExperimentRunResult {
  size: string;
  results: { status: string; cell: number; file: string; error?: string }[];
}

class ResultsPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  private view: ExperimentView | undefined;
  private message = '';
  private uri: vscode.Uri | undefined;
  private readonly snapshots = new WebviewRequests<ExperimentSnapshot>();

  constructor(private readonly log: vscode.LogOutputChannel) {}

  async show(uri: vscode.Uri): Promise<void> {
    this.uri = uri;
    this.reveal(uri);
    await this.build();
  }

  async describe(timeoutMs = 3000): Promise<ExperimentDescription> {
    const out: ExperimentDescription = { visible: this.panel?.visible === true };
    if (this.uri) out.uri = this.uri.toString();
    if (this.panel && this.ready) {
      const s = await this.snapshots.ask(
        (requestId) => this.post({ type: 'snapshot', requestId }),
        timeoutMs,
      );
      if (s) out.snapshot = s;
    }
    return out;
  }

  /** Opens the side-by-side of a changed answer, as clicking it does. */
  open(pair: number, row: number): void {
    this.post({ type: 'open', pair, row });
  }

  private async build(): Promise<void> {
    const uri = this.uri;
    if (!uri) return;
    this.setMessage('Building the verdict (runs, metrics, bootstrap)…');
    try {
      const text = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString())?.getText();
      const r = await experimentVerdict({
        uri: uri.toString(),
        ...(text !== undefined ? { text } : {}),
        trusted: vscode.workspace.isTrusted,
      });
      if (!r.ok) {
        this.setMessage(`The verdict could not be built: ${r.error}`);
        return;
      }
      this.view = experimentView(r);
      this.message = '';
      this.post({ type: 'view', view: this.view });
      this.post({ type: 'message', message: '' });
    } catch (err) {
      this.log.error(`experiment verdict: ${String(err)}`);
      this.setMessage(`The verdict could not be built: ${(err as Error).message ?? String(err)}`);
    }
  }

  private setMessage(m: string): void {
    this.message = m;
    this.post({ type: 'message', message: m });
  }

  private post(m: ToExperiment): void {
    if (this.panel && this.ready) void this.panel.webview.postMessage(m);
  }

  private receive(m: FromExperiment): void {
    if (m.type === 'ready') {
      this.ready = true;
      if (this.view) this.post({ type: 'view', view: this.view });
      this.post({ type: 'message', message: this.message });
    } else if (m.type === 'refresh') void this.build();
    else this.snapshots.answer(m.requestId, m.snapshot);
  }

  private reveal(uri: vscode.Uri): void {
    const title = `Experiment: ${path.basename(uri.fsPath).replace(/\.experiment\.json$/i, '')}`;
    if (this.panel) {
      this.panel.title = title;
      this.panel.reveal(undefined, false);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      EXPERIMENT_VIEW_TYPE,
      title,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false },
      { enableScripts: true, localResourceRoots: [], retainContextWhenHidden: false, enableFindWidget: true },
    );
    this.panel = panel;
    this.ready = false;
    panel.webview.html = experimentHtml(makeNonce());
    const subs = [
      panel.webview.onDidReceiveMessage((raw: unknown) => {
        const m = parseFromExperiment(raw);
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

/** The experiment file of a command's argument, else the active editor's. */
function experimentUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string' && arg !== '')
    return arg.includes(':') && !path.isAbsolute(arg) ? vscode.Uri.parse(arg) : vscode.Uri.file(arg);
  const d = vscode.window.activeTextEditor?.document;
  return d && /\.experiment\.json$/i.test(d.uri.path) ? d.uri : undefined;
}

class ExperimentLens implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  refresh(): void {
    this.changed.fire();
  }

  async provideCodeLenses(doc: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    const range = new vscode.Range(0, 0, 0, 0);
    const plan = await experimentPlan(doc.uri.toString(), doc.getText());
    const error = plan.problems.find((p) => p.severity === 'error');
    if (!plan.runnable) {
      const why = error?.message ?? (plan.runs === 0 ? 'it selects no instruction.' : 'see Problems.');
      return [
        new vscode.CodeLens(range, {
          title: `⚠ Cannot run: ${why}`,
          command: 'workbench.actions.view.problems',
        }),
      ];
    }
    return [
      new vscode.CodeLens(range, {
        title: `▶ Run experiment · ${plan.runs} run${plan.runs === 1 ? '' : 's'}`,
        tooltip: `${plan.size}. Runs already made with identical inputs are reused, not sent again.`,
        command: RUN_EXPERIMENT_COMMAND,
        arguments: [doc.uri],
      }),
      new vscode.CodeLens(range, {
        title: plan.size.replace(/ = .*$/, ''),
        command: '',
      }),
      new vscode.CodeLens(range, {
        title: 'Show results',
        command: SHOW_EXPERIMENT_COMMAND,
        arguments: [doc.uri],
      }),
    ];
  }
}

export async function runExperiment(
  s: RunServices,
  uri: vscode.Uri,
  panel: ResultsPanel,
): Promise<ExperimentRunResult | undefined> {
  if (!runsAllowed()) return undefined;
  const text = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString())?.getText();
  const plan = await experimentPlan(uri.toString(), text);
  if (!plan.runnable) {
    const why = plan.problems.find((p) => p.severity === 'error')?.message ?? 'it selects no instruction.';
    void vscode.window.showErrorMessage(`MedAlign: ${path.basename(uri.fsPath)} cannot run: ${why}`);
    return undefined;
  }
  const jobs: RunJob[] = plan.jobs.map((j) => {
    const job: RunJob = { file: j.file };
    if (j.model !== undefined) job.model = j.model;
    if (j.context !== undefined) job.context = j.context;
    if (j.strategy !== undefined) job.strategy = j.strategy;
    if (j.template !== undefined) job.template = j.template;
    if (j.refineOrder !== undefined) job.refineOrder = j.refineOrder;
    if (j.refineTemplate !== undefined) job.refineTemplate = j.refineTemplate;
    if (j.refineMaxSteps !== undefined) job.refineMaxSteps = j.refineMaxSteps;
    return job;
  });
  s.log.info(`experiment ${plan.name}: ${plan.size}`);
  const results: JobResult[] = await runJobs(s, jobs, {
    title: `MedAlign: experiment ${plan.name} (${plan.runs} runs)`,
    resume: true,
    startMessage: plan.size,
    progressMessage: (p) =>
      `${p.done}/${p.total} · ${p.complete} sent, ${p.skipped} reused${p.failed + p.refused > 0 ? ` · ${p.failed + p.refused} not complete` : ''}`,
  });
  const cellOf = (r: JobResult) => plan.jobs[r.index]?.cell ?? 0;
  offerFixes(s, results, {
    uri,
    rerun: () => runExperiment(s, uri, panel),
    failures: {
      titleOf: (r) =>
        `${path.basename(r.job.file)} (${plan.cells[cellOf(r)] ? Object.values(plan.cells[cellOf(r)].values).join(' · ') : ''})`,
    },
  });
  await panel.show(uri);
  return {
    size: plan.size,
    results: results.map((r) => ({
      status: r.status,
      cell: cellOf(r),
      file: r.job.file,
      ...(r.error ? { error: r.error.message } : {}),
    })),
  };
}

export function registerExperiments(s: RunServices): vscode.Disposable[] {
  const panel = new ResultsPanel(s.log);
  const lens = new ExperimentLens();
  return [
    panel,
    vscode.languages.registerCodeLensProvider(SELECTOR, lens),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (/\.experiment\.json$/i.test(e.document.uri.path)) lens.refresh();
    }),
    vscode.commands.registerCommand(RUN_EXPERIMENT_COMMAND, async (arg?: unknown) => {
      const uri = experimentUri(arg);
      if (!uri) {
        void vscode.window.showWarningMessage('MedAlign: open a .experiment.json file to run it.');
        return undefined;
      }
      try {
        return await runExperiment(s, uri, panel);
      } finally {
        lens.refresh();
      }
    }),
    vscode.commands.registerCommand(SHOW_EXPERIMENT_COMMAND, async (arg?: unknown) => {
      const uri = experimentUri(arg);
      if (!uri) {
        void vscode.window.showWarningMessage('MedAlign: open a .experiment.json file to see its results.');
        return;
      }
      await panel.show(uri);
    }),
    vscode.commands.registerCommand(
      EXPERIMENT_DESCRIBE_COMMAND,
      async (o?: { open?: { pair: number; row: number } }) => {
        if (o?.open) panel.open(o.open.pair, o.open.row);
        return panel.describe();
      },
    ),
  ];
}
