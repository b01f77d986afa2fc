/**
 * What the run-lens knows about an instruction and its project, asked of the language server (the
 * one resolution of model, context, strategy, template and project root lives there:
 * `medalign/instructionInfo`, `medalign/projectInfo`, `medalign/planRun`, `medalign/prepareRun`).
 * The extension host parses no front matter and reads no config of its own.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type {
  EndpointConfig,
  PlanResult,
  PrepareResult,
  RunJob,
  RunPlan,
  RunPreparation,
} from '../../../engine/src';
import { BASELINE_MODEL, CONFIG_FILE_NAME, endpointTarget } from '../../../engine/src';
import {
  CheckSettingRequest,
  ContextFitRequest,
  StrategyFitRequest,
  CountTokensRequest,
  FrontMatterEditRequest,
  InstructionInfoRequest,
  PlanRunRequest,
  PrepareRunRequest,
  ProjectInfoRequest,
  ReportRequest,
  ExperimentPlanRequest,
  ExperimentVerdictRequest,
} from '../../../server/src/protocol';
import type {
  ContextFitResult,
  StrategyFitResult,
  EndpointInfo,
  InstructionInfoResult,
  ProjectInfo,
  RunOverridesParam,
  ReportParams,
  ReportResult,
  ExperimentParams,
  ExperimentPlanResult,
  ExperimentVerdictParams,
  ExperimentVerdictResult,
} from '../../../server/src/protocol';
import type { MedAlignLanguageClient } from '../languageClient';

export { BASELINE_MODEL };

let server: MedAlignLanguageClient | undefined;

/** Binds the run-lens to the language client (once, at activation). */
export function bindServer(client: MedAlignLanguageClient): void {
  server = client;
}

async function request<P, R>(type: { method: string }, params: P): Promise<R> {
  if (!server) throw new Error('The MedAlign language server is not running.');
  await server.ready;
  const c = server.languageClient;
  if (!c) throw new Error('The MedAlign language server is not running.');
  return c.sendRequest<R>(type.method, params);
}

/** An experiment's size, cells and runs (`medalign/experimentPlan`). */
export function experimentPlan(uri: string, text?: string): Promise<ExperimentPlanResult> {
  return request<ExperimentParams, ExperimentPlanResult>(
    ExperimentPlanRequest.type,
    text !== undefined ? { uri, text } : { uri },
  );
}

/** An experiment's verdict from the run store (`medalign/experimentVerdict`). */
export function experimentVerdict(p: ExperimentVerdictParams): Promise<ExperimentVerdictResult> {
  return request<ExperimentVerdictParams, ExperimentVerdictResult>(ExperimentVerdictRequest.type, p);
}

/** The review report of a project folder, built by the language server (`medalign/report`). */
export function reviewReport(root: string, cache: boolean): Promise<ReportResult> {
  return request<ReportParams, ReportResult>(ReportRequest.type, { root, cache });
}

/** Where an endpoint's requests go (`undefined` when its baseUrl is unusable). */
export function endpointOrigin(
  e: EndpointConfig,
): { origin: string; host: string; loopback: boolean } | undefined {
  const t = endpointTarget(e);
  return t.ok ? { origin: t.target.origin, host: t.target.host, loopback: t.target.loopback } : undefined;
}

/** Per-window choices that override the front matter until the window closes. */
export interface Overrides {
  model?: string;
  context?: string;
  strategy?: string;
}

export interface InstructionInfo {
  uri: vscode.Uri;
  file: string;
  /** The project folder (where `.medalign/runs/` is). */
  root: string;
  project: ProjectInfo;
  config: { endpoints: EndpointConfig[]; defaults: ProjectInfo['defaults'] };
  /** `undefined` when the front matter has no usable id. */
  id?: string;
  /** The effective model and context label (override, else front matter, else config defaults). */
  model: string;
  context: string;
  strategy: string;
  /** Where each came from, for the status bar's tooltip. */
  modelFrom: 'window' | 'file' | 'default';
  contextFrom: 'window' | 'file' | 'default';
  strategyFrom: 'window' | 'file' | 'default';
  /** The schema's strategies (the strategy picker lists them all). */
  strategies: string[];
  /** Why it cannot run as resolved (the server's messages, the same preview and run give). */
  problems: string[];
  /** Line of the `## Instruction` heading, if any. */
  instructionLine?: number;
  gold: string;
  /** The `## Instruction` section's text. */
  instruction: string;
  contextSizes: string[];
  /** `strategy: refine`: the steps the packer plans. */
  refineSteps?: number;
  /** The endpoint's context window (sizes above it are greyed out in the picker). */
  contextWindow?: number;
  /** Why the file cannot run, and where (the server's answer): the lens shows it instead of ▶ Run. */
  blocker?: { message: string; range: vscode.Range };
}

const fromOf = (f: 'override' | 'file' | 'default') => (f === 'override' ? 'window' : f);

/** Everything the lens, the status bar and the pickers show for an instruction document. */
export async function instructionInfo(
  doc: vscode.TextDocument,
  overrides: Overrides = {},
): Promise<InstructionInfo> {
  const params: { uri: string; text: string; overrides: RunOverridesParam } = {
    uri: doc.uri.toString(),
    text: doc.getText(),
    overrides,
  };
  const r = await request<typeof params, InstructionInfoResult | null>(InstructionInfoRequest.type, params);
  if (!r) throw new Error(`The language server could not read ${doc.uri.fsPath}.`);
  const info: InstructionInfo = {
    uri: doc.uri,
    file: doc.uri.fsPath,
    root: r.project.root,
    project: r.project,
    config: { endpoints: r.project.endpoints.map((e) => e.endpoint), defaults: r.project.defaults },
    model: r.model,
    context: r.context,
    strategy: r.strategy,
    modelFrom: fromOf(r.from.model),
    contextFrom: fromOf(r.from.context),
    strategyFrom: fromOf(r.from.strategy),
    strategies: r.strategies,
    problems: r.problems,
    gold: r.gold,
    instruction: r.instruction,
    contextSizes: r.contextSizes,
  };
  if (r.id !== undefined) info.id = r.id;
  if (r.instructionLine !== undefined) info.instructionLine = r.instructionLine;
  if (r.refineSteps !== undefined) info.refineSteps = r.refineSteps;
  if (r.contextWindow !== undefined) info.contextWindow = r.contextWindow;
  if (r.blocker) {
    const { start, end } = r.blocker.range;
    info.blocker = {
      message: r.blocker.message,
      range: new vscode.Range(start.line, start.character, end.line, end.character),
    };
  }
  return info;
}

/** What the instruction's record keeps at each standard context size (the server's fit table). */
export function contextFit(doc: vscode.TextDocument, overrides: Overrides = {}): Promise<ContextFitResult> {
  return request<object, ContextFitResult>(ContextFitRequest.type, {
    uri: doc.uri.toString(),
    text: doc.getText(),
    overrides,
  });
}

/** What each strategy keeps of the instruction's record at its model and context (the server packs each). */
export function strategyFit(doc: vscode.TextDocument, overrides: Overrides = {}): Promise<StrategyFitResult> {
  return request<object, StrategyFitResult>(StrategyFitRequest.type, {
    uri: doc.uri.toString(),
    text: doc.getText(),
    overrides,
  });
}

/** `undefined` when the schema accepts the strategy, else the message every feature gives. */
export async function strategyProblem(value: string): Promise<string | undefined> {
  return (
    (await request<object, string | null>(CheckSettingRequest.type, { key: 'strategy', value })) ?? undefined
  );
}

/** A project folder's config (endpoints with their origins), from the server. */
export function projectInfo(root: string): Promise<ProjectInfo> {
  return request<{ root: string }, ProjectInfo>(ProjectInfoRequest.type, { root });
}

/** The project folder of an instruction file, as the server resolves it. */
export async function projectRootOf(file: string): Promise<string> {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  return (await instructionInfo(doc)).root;
}

/** The edit writing `key: value` into the front matter (undefined: no closed front matter). */
export async function frontMatterEdit(
  doc: vscode.TextDocument,
  key: 'model' | 'context' | 'strategy',
  value: string,
): Promise<vscode.TextEdit | undefined> {
  const e = await request<object, { range: vscode.Range; newText: string } | null>(
    FrontMatterEditRequest.type,
    {
      uri: doc.uri.toString(),
      text: doc.getText(),
      key,
      value,
    },
  );
  if (!e) return undefined;
  const r = e.range as unknown as {
    start: { line: number; character: number };
    end: { line: number; character: number };
  };
  return vscode.TextEdit.replace(
    new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character),
    e.newText,
  );
}

/** Runs resolved and packed by the language server; the extension host only sends them. */
export const serverPreparation: RunPreparation & { prepare(job: RunJob): Promise<PrepareResult> } = {
  plan: (job) => request<object, PlanResult>(PlanRunRequest.type, jobParams(job)),
  pack: (plan: RunPlan) => request<object, PrepareResult>(PrepareRunRequest.type, { plan }),
  prepare: (job) => request<object, PrepareResult>(PrepareRunRequest.type, jobParams(job)),
};

function jobParams(job: RunJob): object {
  const overrides: RunOverridesParam = {};
  if (job.model !== undefined) overrides.model = job.model;
  if (job.context !== undefined) overrides.context = job.context;
  if (job.strategy !== undefined) overrides.strategy = job.strategy;
  return {
    uri: vscode.Uri.file(job.file).toString(),
    ...(job.text !== undefined ? { text: job.text } : {}),
    overrides,
  };
}

/** `undefined` when the schema accepts the context, else the message every feature gives. */
export async function contextProblem(value: string): Promise<string | undefined> {
  return (
    (await request<object, string | null>(CheckSettingRequest.type, { key: 'context', value })) ?? undefined
  );
}

/** Tokens of one of the schema's context labels (`2k` = 2,048), for the pickers' descriptions. */
export function labelTokens(label: string): number {
  return /k$/i.test(label) ? Number(label.slice(0, -1)) * 1024 : Number(label);
}

/** Exact tokens, counted by the server (the extension host carries no tokenizer). */
export function countTokens(text: string, encoding: string): Promise<number> {
  return request<object, number>(CountTokensRequest.type, { text, encoding });
}

/** The instruction document for a command argument (a URI, its string, or the active editor). */
export async function instructionDocument(arg: unknown): Promise<vscode.TextDocument | undefined> {
  let uri: vscode.Uri | undefined;
  if (arg instanceof vscode.Uri) uri = arg;
  else if (typeof arg === 'string' && arg !== '')
    uri = arg.includes(':') && !/^[A-Za-z]:[\\/]/.test(arg) ? vscode.Uri.parse(arg) : vscode.Uri.file(arg);
  else uri = vscode.window.activeTextEditor?.document.uri;
  if (!uri || !uri.path.endsWith('.medalign')) return undefined;
  return vscode.workspace.openTextDocument(uri);
}

/** Project roots in the open folders: every folder holding medalign.config.json, else the workspace folders. */
export async function workspaceProjects(): Promise<string[]> {
  const found = await vscode.workspace.findFiles(
    `**/${CONFIG_FILE_NAME}`,
    '{**/node_modules/**,**/.medalign/**,**/.git/**}',
    50,
  );
  const roots = found.filter((u) => u.scheme === 'file').map((u) => path.dirname(u.fsPath));
  if (roots.length > 0) return [...new Set(roots)].sort();
  return (vscode.workspace.workspaceFolders ?? [])
    .filter((f) => f.uri.scheme === 'file')
    .map((f) => f.uri.fsPath);
}

/** The endpoints of the active instruction's project first, then of every other project in the window. */
export async function knownEndpoints(): Promise<
  { root: string; endpoint: EndpointConfig; info: EndpointInfo }[]
> {
  const active = vscode.window.activeTextEditor?.document;
  const roots = [
    ...(active && active.uri.scheme === 'file' && active.uri.path.endsWith('.medalign')
      ? [(await instructionInfo(active)).root]
      : []),
    ...(await workspaceProjects()),
  ];
  const out: { root: string; endpoint: EndpointConfig; info: EndpointInfo }[] = [];
  const seen = new Set<string>();
  for (const root of roots) {
    for (const info of (await projectInfo(root)).endpoints) {
      const k = `${info.endpoint.id} ${info.origin ?? ''}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push({ root, endpoint: info.endpoint, info });
    }
  }
  return out;
}
