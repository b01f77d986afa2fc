/* eslint-disable @typescript-eslint/no-namespace -- the LSP convention: `namespace X { method; type }` per message */
/**
 * Every custom request and notification between the extension and the language server, in one
 * place (both sides import this file).
 */
import { NotificationType, RequestType } from 'vscode-languageserver-protocol';
import type {
  EndpointSummary,
  InstructionRunInfo,
  ProjectSummary,
} from '../../engine/src/core/features/runInfo';
import type { ContextFit } from '../../engine/src/core/features/contextFit';
import type { StrategyFit } from '../../engine/src/core/features/strategyFit';
import type { Report } from '../../engine/src/core/metrics/report';
import type { TokenizerName } from '../../engine/src/core/tokens/tokenizer';
import type { PlanResult, PrepareResult, RunPlan } from '../../engine/src/core/run/prepared';
import type { TimelineModel } from '../../engine/src/core/timeline/model';
import type { ViewWire } from '../../engine/src/core/timeline/wire';
import type { TimelinePreviews } from '../../engine/src/core/workspace/recordEngine';
import type { ExperimentCell } from '../../engine/src/core/experiment/plan';
import type { Verdict } from '../../engine/src/core/experiment/verdict';
import type { ChangedPair } from '../../engine/src/host/experimentView';
import type { EndpointConfig } from '../../engine/src/core/workspace/config';
import type { ServerTokenizeAnswer } from '../../engine/src/core/tokens/serverCounts';
export { TIMELINE_KINDS } from '../../engine/src/core/timeline/model';

export type {
  TimelineCut,
  TimelineDay,
  TimelineEvent,
  TimelineKind,
  TimelineModel,
  TimelineQueryTerm,
  TimelineRange,
  TimelineRefineStep,
  TimelineVisit,
} from '../../engine/src/core/timeline/model';
export type {
  PackedTimelineWire,
  TimelineWire,
  ViewWire,
  WireDate,
} from '../../engine/src/core/timeline/wire';
export type { TimelinePreviews } from '../../engine/src/core/workspace/recordEngine';

/** A window's choice (picker) or a command's argument, over the front matter. */
export interface RunOverridesParam {
  model?: string;
  context?: string | number;
  strategy?: string;
  /** A template file URI, or `builtin` (the matrix's and experiments' template dimension). */
  template?: string;
  /** `strategy: refine`'s settings (an experiment's `refine` dimensions): order, refine template
   * (a file URI or `builtin`), step limit. */
  refineOrder?: string;
  refineTemplate?: string;
  refineMaxSteps?: number;
}

export interface PreviewPromptParams extends RunOverridesParam {
  uri: string;
}

export interface PreviewPromptResult {
  ok: boolean;
  error?: string;
  /** The read-only preview document's text. */
  text: string;
  /** Its budget header, line by line (what the preview keeps in view above the messages). */
  header?: string[];
  /** The exact chat messages that would be sent. */
  messages: { role: string; content: string }[];
  /** The messages in the model's chat template, as the server tokenizes them (hf tokenizers). */
  templated?: string;
  model: string;
  context: number;
  strategy: string;
  promptTokens?: number;
  /** Files the preview depends on (instruction, template, record), so the view can refresh. */
  dependsOn: string[];
}

/** The title of the templated text's block in the preview webview (the core's preview document uses the same words). */
export const TEMPLATED_TITLE = 'templated: the text the server tokenizes';

export namespace PreviewPromptRequest {
  export const method = 'medalign/previewPrompt';
  export const type = new RequestType<PreviewPromptParams, PreviewPromptResult, void>(method);
}

export interface ServerStatsParams {
  /** Start a new measurement window after answering. */
  reset?: boolean;
}

export interface ServerStatsResult {
  /** Event-loop delay of the server's main thread since the last reset (ms). */
  eventLoopDelayMaxMs: number;
  eventLoopDelayP99Ms: number;
  rssMB: number;
  /** Record-worker jobs queued or running (0 when idle; cancelled requests leave none behind). */
  recordJobs?: number;
}

/** Health figures of the server process (used by `npm run bench` and for diagnosing slowness). */
export namespace ServerStatsRequest {
  export const method = 'medalign/serverStats';
  export const type = new RequestType<ServerStatsParams, ServerStatsResult, void>(method);
}

export interface PrepareRunParams {
  /** The instruction (a `file:` URI); `text` is the editor's unsaved buffer, if any. */
  uri: string;
  text?: string;
  overrides?: RunOverridesParam;
}

/**
 * The one resolution of a run, done by the server (settings, files and hashes, resume key) and,
 * for `medalign/prepareRun`, the prompt packed by its worker. The extension host only sends it.
 */
export namespace PlanRunRequest {
  export const method = 'medalign/planRun';
  export const type = new RequestType<PrepareRunParams, PlanResult, void>(method);
}

export namespace PrepareRunRequest {
  export const method = 'medalign/prepareRun';
  export const type = new RequestType<PrepareRunParams | { plan: RunPlan }, PrepareResult, void>(method);
}

export interface CountTokensParams {
  text: string;
  encoding: TokenizerName;
}

/** Exact tokens of a text (an answer without server usage): the extension host has no tokenizer. */
export namespace CountTokensRequest {
  export const method = 'medalign/countTokens';
  export const type = new RequestType<CountTokensParams, number, void>(method);
}

/** An endpoint as the UI shows it: the config's entry and where its requests would go. */
export type EndpointInfo = EndpointSummary;

/** A project as the UI shows it; `root` is a file-system path (the core's summary has a URI). */
export type ProjectInfo = ProjectSummary;

/**
 * What the run-lens, the status bar and the pickers show about an instruction (the core's
 * `InstructionRunInfo`, with the `## Instruction` heading as a line and its project).
 */
export interface InstructionInfoResult extends Omit<InstructionRunInfo, 'instructionOffset' | 'blocker'> {
  project: ProjectInfo;
  instructionLine?: number;
  /** Why the file cannot run, and where: the run-lens shows it instead of ▶ Run. */
  blocker?: {
    message: string;
    range: { start: { line: number; character: number }; end: { line: number; character: number } };
  };
}

export namespace InstructionInfoRequest {
  export const method = 'medalign/instructionInfo';
  export const type = new RequestType<PrepareRunParams, InstructionInfoResult | null, void>(method);
}

/** What the context picker shows at each standard size (the hover's "what fits", for the instruction's record). */
export type ContextFitResult = ContextFit;

export namespace ContextFitRequest {
  export const method = 'medalign/contextFit';
  export const type = new RequestType<PrepareRunParams, ContextFitResult, void>(method);
}

/**
 * What the strategy picker shows: every strategy of the schema packed for the instruction at its
 * model and context (tokens kept, well-formed XML, where the cut falls, refine's steps).
 */
export type StrategyFitResult = StrategyFit;

export namespace StrategyFitRequest {
  export const method = 'medalign/strategyFit';
  export const type = new RequestType<PrepareRunParams, StrategyFitResult, void>(method);
}

/** Whether the schema accepts a context or strategy value (`null`), else the message every feature gives. */
export namespace CheckSettingRequest {
  export const method = 'medalign/checkSetting';
  export const type = new RequestType<{ key: 'context' | 'strategy'; value: string }, string | null, void>(
    method,
  );
}

/** A project folder's config, as the key and approval commands list it. */
export namespace ProjectInfoRequest {
  export const method = 'medalign/projectInfo';
  export const type = new RequestType<{ root: string }, ProjectInfo, void>(method);
}

export interface FrontMatterEditParams {
  uri: string;
  text?: string;
  key: 'model' | 'context' | 'strategy';
  value: string;
}

/** The edit that writes `key: value` into an instruction's front matter (null: no closed front matter). */
export namespace FrontMatterEditRequest {
  export const method = 'medalign/frontMatterEdit';
  export const type = new RequestType<
    FrontMatterEditParams,
    {
      range: { start: { line: number; character: number }; end: { line: number; character: number } };
      newText: string;
    } | null,
    void
  >(method);
}

/**
 * Folders outside the workspace that records and templates may come from: the user-level value of
 * `medalign.allowedRoots` (never a workspace's), sent as `initializationOptions.allowedRoots` at start
 * and by this notification when it changes. Absolute paths.
 */
export interface AllowedRootsParams {
  roots: string[];
}

export namespace AllowedRootsNotification {
  export const method = 'medalign/didChangeAllowedRoots';
  export const type = new NotificationType<AllowedRootsParams>(method);
}

export interface TimelineParams {
  /**
   * A `.medalign` instruction (its record with the instruction's model, context, strategy and
   * template: the one run resolution) or a record file (the config's defaults). `text`: the
   * editor's unsaved buffer of an instruction, if any.
   */
  uri: string;
  text?: string;
  /** A window's choice in the pickers, over the front matter (`context` alone moves the own cut). */
  overrides?: RunOverridesParam;
}

/**
 * The record timeline (visits, days, events with kinds, dates, ranges and tokens; the cut line of
 * each context from `packPrompt`), computed in the record worker. Never fails: a missing or broken
 * record gives a model with `problems`.
 */
export namespace TimelineRequest {
  export const method = 'medalign/timeline';
  export const type = new RequestType<TimelineParams, TimelineModel, void>(method);
}

export interface TimelineViewParams extends TimelineParams {
  /**
   * The view's first paint: answer at once, without waiting for the record's tokens to be counted.
   * A big record (256 KB or more) not counted yet gives its structure (`header.counting`: visits,
   * days, events, kinds, dates; no token figures, no cut lines) and starts counting it; ask again
   * without `progressive` for the counted model. A counted model that is ready (or a small record's)
   * is the answer itself.
   */
  progressive?: boolean;
}

/**
 * The same model for the Record Timeline view, in columns (engine/src/core/timeline/wire.ts: typed
 * columns, strings interned; `decodeTimeline` gives the model back), or, for a big model, with its
 * columns packed (`format: 'packed'`: their JSON gzipped, in base64; the page inflates them). Event
 * previews are shipped when they are small and otherwise left for `medalign/timelinePreviews`.
 */
export namespace TimelineViewRequest {
  export const method = 'medalign/timelineView';
  export const type = new RequestType<TimelineViewParams, ViewWire, void>(method);
}

export interface TimelinePreviewsParams extends TimelineParams {
  /** Event ids (at most 100,000). */
  ids: number[];
}

/**
 * Previews of the events of the model the same params give (its `stamp`: the view drops previews of
 * another model, after the record or settings changed).
 */
export namespace TimelinePreviewsRequest {
  export const method = 'medalign/timelinePreviews';
  export const type = new RequestType<TimelinePreviewsParams, TimelinePreviews, void>(method);
}

/**
 * The review report of a project folder (issue 11): its instructions, their latest answers, every
 * reviewer's review files and the built-in metrics (scores cached under `.medalign/scores` when
 * `cache` is true: the editor asks for it only in a trusted workspace). External scorers are
 * commands and are not run here (`medalign report` runs them).
 */
export interface ReportParams {
  /** The project folder (absolute path). */
  root: string;
  cache: boolean;
}

export type ReportResult = { ok: true; report: Report } | { ok: false; error: string };

export namespace ReportRequest {
  export const method = 'medalign/report';
  export const type = new RequestType<ReportParams, ReportResult, void>(method);
}

// --- Prompt experiments (`<name>.experiment.json`, docs/experiments.md) -----------------------------

export interface ExperimentParams {
  /** The experiment file (a `file:` URI); `text`: the editor's unsaved buffer, if any. */
  uri: string;
  text?: string;
}

/** One run of an experiment: an instruction (a path) in a cell, with the cell's overrides. */
export interface ExperimentJobParam extends RunOverridesParam {
  file: string;
  cell: number;
}

/** The one resolution of an experiment: its size before anything is sent, its cells and its runs. */
export interface ExperimentPlanResult {
  ok: boolean;
  name: string;
  /** `17 instructions × 2 cells = 34 runs` */
  size: string;
  runs: number;
  instructions: number;
  /** No error: it can run. */
  runnable: boolean;
  /** The project folder (a path). */
  root: string;
  problems: { message: string; severity: 'error' | 'warning' }[];
  cells: ExperimentCell[];
  jobs: ExperimentJobParam[];
  concurrency: number;
}

export namespace ExperimentPlanRequest {
  export const method = 'medalign/experimentPlan';
  export const type = new RequestType<ExperimentParams, ExperimentPlanResult, void>(method);
}

export interface ExperimentVerdictParams extends ExperimentParams {
  /** The workspace is trusted: the score cache is used (external scorers run only in the CLI). */
  trusted: boolean;
  /** Most-changed answers kept per pair of cells (default 20). */
  limit?: number;
}

export type ExperimentVerdictResult =
  | { ok: true; name: string; size: string; verdict: Verdict; changed: ChangedPair[] }
  | { ok: false; error: string };

/** The verdict from the run store (runs with each job's exact inputs), scored and bootstrapped. */
export namespace ExperimentVerdictRequest {
  export const method = 'medalign/experimentVerdict';
  export const type = new RequestType<ExperimentVerdictParams, ExperimentVerdictResult, void>(method);
}

/**
 * Server → client, for `tokenizer: server`: the endpoint's own `/tokenize` count of each text. The
 * language server does no HTTP and no approvals; the extension answers only when the PHI guard
 * allows sending to that endpoint (loopback, or approved by the user; checked without prompting),
 * sends the texts (a few at once) and answers the counts, else why not (`not-approved` names what
 * to approve, nothing is sent; `failed`: server down, no /tokenize, 429…).
 */
export interface TokenizeParams {
  /** The project folder (URI) whose config names the endpoint. */
  root: string;
  endpoint: EndpointConfig;
  texts: string[];
}

export namespace TokenizeRequest {
  export const method = 'medalign/tokenize';
  export const type = new RequestType<TokenizeParams, ServerTokenizeAnswer, void>(method);
}
