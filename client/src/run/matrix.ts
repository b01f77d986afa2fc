/**
 * The run matrix: one instruction at several models, context lengths and/or templates at once
 * (multi-select quick picks), with the runs side by side in the response panel, one column each, streaming.
 * Runs through runJobs.ts (the engine's runMany: concurrency-limited, one approval question per
 * endpoint), like a single run.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunJob } from '../../../engine/src';
import type { ColumnContext } from './responsePanel';
import { contextProblem, instructionDocument, instructionInfo } from './project';
import type { InstructionInfo } from './project';
import { pickContexts, pickModels, pickerTitle } from './pickers';
import { BACK } from './quickInput';
import type { RunOptions, RunResult } from './runCommands';
import { parseRunOptions } from './runCommands';
import type { RunServices } from './services';
import { runsAllowed } from './services';
import { matrixShape, panelHeading, resultColumn } from './columns';
import type { ColumnFacts } from './panelMessages';
import { offerFixes } from './fixes';
import { runJobs } from './runJobs';
import { pickTemplates } from './templatePicker';
import type { TemplateChoice } from './templatePicker';

export const MATRIX_COMMAND = 'medalign.runMatrix';

export interface MatrixOptions extends RunOptions {
  models?: string[];
  contexts?: string[];
  /** Templates: `builtin`, a file (path or URI), or `''` for the file's own. */
  templates?: string[];
  /** Show runs that already completed with the same inputs instead of running them again. */
  resume?: boolean;
}

function strings(x: unknown): string[] | undefined {
  if (!Array.isArray(x)) return undefined;
  const out = x.filter((v): v is string => typeof v === 'string' && v !== '');
  return out.length > 0 ? out : undefined;
}

function parseMatrixOptions(x: unknown): MatrixOptions {
  const o: MatrixOptions = parseRunOptions(x);
  if (x !== null && typeof x === 'object') {
    const r = x as Record<string, unknown>;
    const m = strings(r['models']);
    const c = strings(r['contexts']);
    if (m) o.models = m;
    if (c) o.contexts = c;
    if (Array.isArray(r['templates'])) {
      const t = r['templates'].filter((v): v is string => typeof v === 'string');
      if (t.length > 0) o.templates = t;
    }
    if (r['resume'] === true) o.resume = true;
  }
  return o;
}

/**
 * Step 1 the models, step 2 the context lengths (with what fits), step 3 the templates (the file's
 * own, `builtin`, the project's `.prompt` files); Back keeps the choices. A step given by the
 * command's options is not asked; the template step only when another step is.
 */
async function askMatrix(
  s: RunServices,
  doc: vscode.TextDocument,
  info: InstructionInfo,
  opts: MatrixOptions,
): Promise<{ models: string[]; contexts: string[]; templates: TemplateChoice[] } | undefined> {
  const title = pickerTitle('run matrix for', doc.uri.fsPath);
  let models = opts.models;
  let contexts = opts.contexts;
  const askTemplates = opts.templates === undefined && (!opts.models || !opts.contexts);
  let templates: TemplateChoice[] | undefined = opts.templates?.map(templateChoice);
  const total = (opts.models ? 0 : 1) + (opts.contexts ? 0 : 1) + (askTemplates ? 1 : 0);
  let pickedModels: string[] | undefined;
  let step: 'models' | 'contexts' | 'templates' = opts.models
    ? opts.contexts
      ? 'templates'
      : 'contexts'
    : 'models';
  const stepNo = (k: typeof step) => (k === 'models' ? 1 : k === 'contexts' ? (opts.models ? 1 : 2) : total);
  for (;;) {
    if (step === 'models') {
      const m = await pickModels(s, info, true, title, { step: 1, totalSteps: total }, pickedModels);
      if (m === BACK || m === undefined) return undefined;
      models = pickedModels = m;
      step = opts.contexts ? 'templates' : 'contexts';
      continue;
    }
    if (step === 'contexts') {
      const c = await pickContexts(
        doc,
        s,
        info,
        true,
        title,
        { step: stepNo('contexts'), totalSteps: total },
        contexts,
      );
      if (c === BACK) {
        if (opts.models) return undefined;
        step = 'models';
        continue;
      }
      if (c === undefined) return undefined;
      contexts = c.values;
      step = 'templates';
      continue;
    }
    if (askTemplates) {
      const t = await pickTemplates(info, title, { step: total, totalSteps: total }, templates);
      if (t === BACK) {
        step = opts.contexts ? 'models' : 'contexts';
        continue;
      }
      if (t === undefined) return undefined;
      templates = t;
    }
    return models && contexts
      ? { models, contexts, templates: templates ?? [templateChoice(undefined)] }
      : undefined;
  }
}

/** A template option (`builtin`, a URI, a path, or absent: as written) as the matrix shows it. */
function templateChoice(t: string | undefined): TemplateChoice {
  if (t === undefined || t === '') return { value: undefined, label: 'as written' };
  if (t === 'builtin') return { value: t, label: t };
  const uri =
    /^[a-z][a-z0-9+.-]*:/i.test(t) && !/^[a-z]:[\\/]/i.test(t) ? vscode.Uri.parse(t) : vscode.Uri.file(t);
  return { value: uri.toString(), label: vscode.workspace.asRelativePath(uri) };
}

export async function runMatrix(
  s: RunServices,
  doc: vscode.TextDocument,
  opts: MatrixOptions,
): Promise<RunResult[]> {
  if (!runsAllowed()) return [];
  const info = await instructionInfo(doc, s.selection.get(doc.uri));
  const chosen = await askMatrix(s, doc, info, opts);
  if (!chosen) return [];
  const { models, contexts, templates } = chosen;
  for (const c of contexts) {
    const problem = await contextProblem(c);
    if (problem !== undefined) {
      void vscode.window.showErrorMessage(`MedAlign: ${problem}`);
      return [];
    }
  }
  const text = doc.getText();
  const strategy = opts.strategy ?? s.selection.get(doc.uri).strategy;
  const jobs: RunJob[] = [];
  const titles: string[] = [];
  const facts: ColumnFacts[] = [];
  const combos: { model: string; context: string; template: TemplateChoice }[] = [];
  const named = templates.length > 1 || templates[0].value !== undefined;
  for (const template of templates) {
    for (const model of models) {
      for (const context of contexts) {
        const job: RunJob = { file: doc.uri.fsPath, text, model, context };
        if (strategy) job.strategy = strategy;
        if (template.value !== undefined) job.template = template.value;
        jobs.push(job);
        combos.push({ model, context, template });
        titles.push(`${model} · ${context}${named ? ` · ${template.label}` : ''}`);
        facts.push({ endpoint: model, context });
      }
    }
  }
  const contextsOf: ColumnContext[] = jobs.map(() => ({ instruction: doc.uri }));
  const session = s.panel.start(
    panelHeading(info),
    `Run matrix: ${matrixShape(models.length, contexts.length)}${templates.length > 1 ? ` × ${templates.length} templates` : ''} (${jobs.length} runs)`,
    titles.map((title, i) => ({
      title,
      status: 'queued',
      text: '',
      hasGold: info.gold !== '',
      facts: facts[i],
    })),
    contextsOf,
  );
  const results = await runJobs(s, jobs, {
    title: `MedAlign: ${jobs.length} runs of ${path.basename(doc.uri.fsPath)}`,
    resume: opts.resume === true,
    panel: {
      session,
      contexts: contextsOf,
      column: (r) => resultColumn(r, info, titles[r.index], facts[r.index]),
    },
    progressMessage: (p) =>
      `${p.done}/${p.total} done${p.failed + p.refused > 0 ? ` · ${p.failed + p.refused} not complete` : ''}`,
  });
  for (const r of results) {
    s.log.info(
      `matrix ${info.id ?? info.file} on ${titles[r.index]}: ${r.status}${r.error ? ` (${r.error.kind})` : ''}`,
    );
  }
  // One offer per refused endpoint (approve, then run the matrix again: finished runs are kept).
  offerFixes(s, results, {
    uri: doc.uri,
    rerun: () =>
      runMatrix(s, doc, {
        ...opts,
        models,
        contexts,
        templates: templates.map((t) => t.value ?? ''),
        resume: true,
      }),
    failures: { titleOf: (r) => titles[r.index] },
  });
  return results.map((r) => {
    const combo = combos[r.index];
    const out: RunResult = { status: r.status, model: combo.model, context: combo.context };
    if (combo.template.value !== undefined) out.template = combo.template.label;
    if (r.instructionId !== undefined) out.instructionId = r.instructionId;
    if (r.file) out.file = r.file;
    if (r.run) out.response = r.run.response;
    if (r.error) out.error = r.error;
    if (r.approval) out.approval = r.approval;
    return out;
  });
}

export function registerMatrix(s: RunServices): vscode.Disposable[] {
  return [
    /** `medalign.runMatrix(uri?, { models?, contexts?, templates?, strategy?, resume? }?)`. */
    vscode.commands.registerCommand(MATRIX_COMMAND, async (arg?: unknown, opts?: unknown) => {
      const doc = await instructionDocument(arg);
      if (!doc) {
        void vscode.window.showWarningMessage('MedAlign: open a .medalign instruction file to run it.');
        return [];
      }
      return runMatrix(s, doc, parseMatrixOptions(opts));
    }),
  ];
}
