/**
 * Run All (`medalign.runAll`; not the Batch API files of `medalign batch`): every instruction in the workspace (or the selected folder) for the chosen models and
 * contexts, with progress and Cancel, resuming by default (a run whose instruction, record,
 * template and settings did not change since a complete run is skipped). Results go to the run
 * store; the Runs view shows them. Runs through runJobs.ts, like a single run and the matrix.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { JobResult, Progress, RunJob } from '../../../engine/src';
import { BASELINE_MODEL, contextProblem, instructionInfo, labelTokens } from './project';
import type { RunServices } from './services';
import { runsAllowed } from './services';
import { RUNS_VIEW_ID } from './runsView';
import { offerFixes } from './fixes';
import { runJobs } from './runJobs';
import { BACK, pickStep } from './quickInput';

export const RUN_ALL_COMMAND = 'medalign.runAll';
const EXCLUDE = '{**/node_modules/**,**/.medalign/**,**/.git/**,**/out/**,**/dist/**}';

export interface BatchOptions {
  /** Endpoint ids or `baseline`; none: as each file says. */
  models?: string[];
  contexts?: string[];
  /** Templates: `builtin` or a `.prompt` file (path or URI); none: as each file says. */
  templates?: string[];
  /** Skip runs that already completed with the same inputs (default true). */
  resume?: boolean;
}

export interface BatchSummary extends Omit<Progress, 'running'> {
  results: {
    file: string;
    status: JobResult['status'];
    model?: string;
    context?: string;
    runFile?: string;
    error?: string;
  }[];
}

function parseBatchOptions(x: unknown): BatchOptions | undefined {
  if (x === null || typeof x !== 'object' || Array.isArray(x) || x instanceof vscode.Uri) return undefined;
  const r = x as Record<string, unknown>;
  const list = (v: unknown) =>
    Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string' && s !== '') : undefined;
  const o: BatchOptions = {};
  const m = list(r['models']);
  const c = list(r['contexts']);
  const t = list(r['templates']);
  if (m) o.models = m;
  if (c) o.contexts = c;
  if (t) o.templates = t;
  if (typeof r['resume'] === 'boolean') o.resume = r['resume'];
  return o;
}

async function instructionFiles(folders: vscode.Uri[]): Promise<vscode.Uri[]> {
  const found: vscode.Uri[] = [];
  if (folders.length === 0) found.push(...(await vscode.workspace.findFiles('**/*.medalign', EXCLUDE)));
  for (const f of folders) {
    if (f.path.endsWith('.medalign')) found.push(f);
    else
      found.push(
        ...(await vscode.workspace.findFiles(new vscode.RelativePattern(f, '**/*.medalign'), EXCLUDE)),
      );
  }
  const unique = new Map(found.filter((u) => u.scheme === 'file').map((u) => [u.fsPath, u] as const));
  return [...unique.values()].sort((a, b) => a.fsPath.localeCompare(b.fsPath));
}

/** Step 1 of 3 models, 2 of 3 context lengths, 3 of 3 resume or not; Back keeps earlier choices. */
async function askOptions(files: vscode.Uri[]): Promise<BatchOptions | undefined> {
  const first = await instructionInfo(await vscode.workspace.openTextDocument(files[0]));
  const config = first.config;
  type Item = vscode.QuickPickItem & { value?: string };
  const AS_WRITTEN = 'As written in each file';
  const modelItems: Item[] = [
    { label: AS_WRITTEN, description: `or the default, ${config.defaults.model}` },
    { label: BASELINE_MODEL, value: BASELINE_MODEL, description: 'built in · no network, no key' },
    ...first.project.endpoints.map((e) => ({
      label: e.endpoint.id,
      value: e.endpoint.id,
      description: `${e.endpoint.model} · ${e.host ?? e.endpoint.kind}`,
    })),
  ];
  const ctxItems: Item[] = [
    { label: AS_WRITTEN, description: `or the default, ${String(config.defaults.context)}` },
    ...first.contextSizes.map((c) => ({
      label: c,
      value: c,
      description: `${labelTokens(c).toLocaleString('en-US')} tokens`,
    })),
  ];
  type ResumeItem = vscode.QuickPickItem & { resume: boolean };
  const resumeItems: ResumeItem[] = [
    {
      label: 'Skip what already ran',
      description: 'resume: runs with unchanged inputs are kept',
      resume: true,
    },
    { label: 'Run everything again', description: 'new runs for every instruction', resume: false },
  ];
  const where =
    files.length === 1
      ? path.basename(files[0].fsPath)
      : `${files.length} instructions in ${vscode.workspace.asRelativePath(path.dirname(files[0].fsPath))}${files.every((f) => path.dirname(f.fsPath) === path.dirname(files[0].fsPath)) ? '' : ' and other folders'}`;
  const title = `MedAlign: run ${where}`;
  let models: Item[] = [modelItems[0]];
  let contexts: Item[] = [ctxItems[0]];
  let resume: ResumeItem = resumeItems[0];
  const labels = (xs: Item[]) => xs.map((x) => x.label);
  let step = 1;
  for (;;) {
    if (step === 1) {
      const m = await pickStep({
        title,
        step: 1,
        totalSteps: 3,
        items: modelItems,
        many: true,
        placeholder: 'Models (Space to check, Enter to go on)',
        selected: (i) => labels(models).includes(i.label),
        active: (i) => i.label === models[0]?.label,
      });
      if (m === BACK || m === undefined || m.length === 0) return undefined;
      models = m;
      step = 2;
    } else if (step === 2) {
      const c = await pickStep({
        title,
        step: 2,
        totalSteps: 3,
        items: ctxItems,
        many: true,
        placeholder: 'Context lengths (Space to check, Enter to go on)',
        selected: (i) => labels(contexts).includes(i.label),
        active: (i) => i.label === contexts[0]?.label,
      });
      if (c === undefined || (c !== BACK && c.length === 0)) return undefined;
      if (c === BACK) step = 1;
      else {
        contexts = c;
        step = 3;
      }
    } else {
      const r = await pickStep({
        title,
        step: 3,
        totalSteps: 3,
        items: resumeItems,
        placeholder: `${files.length} file(s)`,
        active: (i) => i.resume === resume.resume,
      });
      if (r === undefined) return undefined;
      if (r === BACK) step = 2;
      else {
        resume = r[0];
        break;
      }
    }
  }
  const o: BatchOptions = { resume: resume.resume };
  // "As written" (no value) alongside explicit choices means: also run with the file's own setting.
  const mv = models.map((m) => m.value ?? '');
  const cv = contexts.map((c) => c.value ?? '');
  if (!(mv.length === 1 && mv[0] === '')) o.models = mv;
  if (!(cv.length === 1 && cv[0] === '')) o.contexts = cv;
  return o;
}

export async function runAll(
  s: RunServices,
  folders: vscode.Uri[],
  given?: BatchOptions,
): Promise<BatchSummary | undefined> {
  if (!runsAllowed()) return undefined;
  const files = await instructionFiles(folders);
  if (files.length === 0) {
    void vscode.window.showInformationMessage('MedAlign: no .medalign files to run here.');
    return undefined;
  }
  const opts = given ?? (await askOptions(files));
  if (!opts) return undefined;
  for (const c of opts.contexts ?? []) {
    const problem = c === '' ? undefined : await contextProblem(c);
    if (problem !== undefined) {
      void vscode.window.showErrorMessage(`MedAlign: ${problem}`);
      return undefined;
    }
  }
  const models = opts.models && opts.models.length > 0 ? opts.models : [''];
  const contexts = opts.contexts && opts.contexts.length > 0 ? opts.contexts : [''];
  // A template as a URI (the run's override), `builtin`, or '' (as each file says).
  const templates = (opts.templates && opts.templates.length > 0 ? opts.templates : ['']).map((t) =>
    t === '' || t === 'builtin' || /^file:/.test(t) ? t : vscode.Uri.file(t).toString(),
  );
  const jobs: RunJob[] = [];
  for (const f of files) {
    for (const template of templates) {
      for (const model of models) {
        for (const context of contexts) {
          const job: RunJob = { file: f.fsPath };
          if (model !== '') job.model = model;
          if (context !== '') job.context = context;
          if (template !== '') job.template = template;
          // Unsaved edits run as they are in the editor.
          const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === f.toString());
          if (open?.isDirty) job.text = open.getText();
          jobs.push(job);
        }
      }
    }
  }
  const resume = opts.resume !== false;
  let last: Progress | undefined;
  const results = await runJobs(s, jobs, {
    title: `MedAlign: batch of ${jobs.length} runs`,
    resume,
    startMessage: `0/${jobs.length}${resume ? ' (resuming)' : ''}`,
    progressMessage: (p) => {
      const parts = [`${p.done}/${p.total}`, `${p.complete} complete`];
      if (p.skipped) parts.push(`${p.skipped} skipped`);
      if (p.failed) parts.push(`${p.failed} failed`);
      if (p.refused) parts.push(`${p.refused} refused`);
      if (p.cancelled) parts.push(`${p.cancelled} cancelled`);
      return parts.join(' · ');
    },
    onProgress: (p) => {
      last = p;
    },
  });
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  const relOf = (f: string) => (root ? path.relative(root, f).split(path.sep).join('/') : f);
  const summary: BatchSummary = {
    total: jobs.length,
    done: last?.done ?? results.length,
    complete: 0,
    skipped: 0,
    failed: 0,
    refused: 0,
    cancelled: 0,
    results: [],
  };
  for (const r of results) {
    if (r.status === 'complete') summary.complete++;
    else if (r.status === 'skipped') summary.skipped++;
    else if (r.status === 'refused') summary.refused++;
    else if (r.status === 'cancelled') summary.cancelled++;
    else summary.failed++;
    const row: BatchSummary['results'][number] = { file: r.job.file, status: r.status };
    if (r.model !== undefined) row.model = r.model;
    if (r.contextLabel !== undefined) row.context = r.contextLabel;
    if (r.file) row.runFile = r.file;
    if (r.error) row.error = r.error.message;
    summary.results.push(row);
    if (r.status !== 'complete' && r.status !== 'skipped') {
      s.log.warn(
        `batch: ${relOf(r.job.file)} ${r.model ?? ''} ${r.contextLabel ?? ''}: ${r.status}${r.error ? ` — ${r.error.message}` : ''}`,
      );
    }
  }
  s.log.info(
    `batch of ${summary.total}: ${summary.complete} complete, ${summary.skipped} skipped, ${summary.failed} failed, ${summary.refused} refused, ${summary.cancelled} cancelled`,
  );
  offerFixes(s, results, { rerun: () => runAll(s, folders, { ...opts, resume: true }) });
  const text =
    `MedAlign: batch finished — ${summary.complete} complete, ${summary.skipped} already ran` +
    `${summary.failed ? `, ${summary.failed} failed` : ''}${summary.refused ? `, ${summary.refused} refused` : ''}` +
    `${summary.cancelled ? `, ${summary.cancelled} cancelled` : ''} (of ${summary.total}).`;
  const actions = ['Show runs', ...(summary.failed ? ['Show log'] : [])];
  void vscode.window.showInformationMessage(text, ...actions).then((a) => {
    if (a === 'Show runs') void vscode.commands.executeCommand(`${RUNS_VIEW_ID}.focus`);
    if (a === 'Show log') s.log.show(true);
  });
  return summary;
}

export function registerRunAll(s: RunServices): vscode.Disposable[] {
  return [
    /**
     * `medalign.runAll(folder?, opts?)`; from the explorer: `(clicked, selected[])`. With
     * `{ models?, contexts?, templates?, resume? }` nothing is asked.
     */
    vscode.commands.registerCommand(RUN_ALL_COMMAND, (a?: unknown, b?: unknown, c?: unknown) => {
      const folders: vscode.Uri[] = [];
      if (Array.isArray(b) && b.every((u) => u instanceof vscode.Uri)) folders.push(...b);
      else if (a instanceof vscode.Uri) folders.push(a);
      else if (typeof a === 'string' && a !== '') folders.push(vscode.Uri.file(a));
      const opts = parseBatchOptions(b) ?? parseBatchOptions(c);
      return runAll(s, folders, opts);
    }),
  ];
}
