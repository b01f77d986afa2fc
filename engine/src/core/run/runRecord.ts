/**
 * The run record: one JSON file per run under `<workspace>/.medalign/runs/<instruction id>/`.
 * Everything needed to compare runs later and to resume a batch: what was run (hashes of the
 * instruction file, record and template; endpoint, model, context, strategy), what it cost (token
 * counts, timings), how it ended (status, finish reason, error) and what came back (the response,
 * and the full prompt unless prompt storage is off). Nothing in it can reveal a key: the endpoint is
 * stored as id, kind, model and origin only, and error messages are redacted where they are made.
 */
import type { PackStrategy } from '../packing/pack';
import type { ChatMessage } from '../template/template';
import type { TokenizerName } from '../tokens/tokenizer';
import type { EndpointKind } from '../workspace/config';
import { BASELINE_MODEL, DEFAULT_REFINE_MAX_STEPS, DEFAULT_REFINE_ORDER } from '../workspace/config';
import type { RunSettings } from '../features/runSettings';
import { DEFAULT_REFINE_TEMPLATE_SOURCE, DEFAULT_TEMPLATE_SOURCE } from '../template/defaults';
import { hash64 } from '../util/hash';
import type { RunError, RunErrorKind } from './errors';

export const RUN_FORMAT = 'medalign-run';
export const RUN_RECORD_VERSION = 1;
/** Folder of the run store and audit log, relative to the workspace root. */
export const MEDALIGN_DIR = '.medalign';
export const RUNS_DIR = 'runs';
export const AUDIT_LOG = 'audit.log';
/** `.medalign/.gitignore`: runs and the audit log hold PHI. */
export const MEDALIGN_GITIGNORE =
  '# Written by MedAlign Studio. Runs and the audit log contain patient records (PHI):\n' +
  '# they are not committed unless you change this file.\n' +
  '*\n';

/**
 * - `complete`: the model finished (`finishReason` says how: `stop`, `length`, ...).
 * - `cancelled`: stopped by the user; `response` holds what had arrived.
 * - `error`: failed; `error` says why, `response` holds what had arrived (maybe nothing).
 */
export type RunStatus = 'complete' | 'cancelled' | 'error';

export interface RunRecord {
  format: typeof RUN_FORMAT;
  version: typeof RUN_RECORD_VERSION;
  /** Unique: `<yyyymmddThhmmssmmmZ>-<random>`. */
  id: string;
  /** Resume key: equal keys mean the same instruction file, record, template, endpoint, model,
   * context, strategy and reserve (see `runKey`). */
  key: string;
  createdAt: string;
  source: 'run' | 'batch-import';
  instruction: {
    id: string;
    /** Relative to the workspace root, `/`-separated. */
    file: string;
    /** sha256 (hex) of the instruction file's text. */
    hash: string;
  };
  record: {
    file: string;
    hash: string;
    chars: number;
    /** The span of the record the prompt kept: first and last day (`2019-04-02`), when it has dates. */
    keptFrom?: string;
    keptTo?: string;
  };
  template: { file?: string; hash: string; builtin: boolean };
  endpoint: {
    /** The endpoint id, or `baseline`. */
    id: string;
    kind: EndpointKind | 'baseline';
    /** The model name sent to the API (Azure: the deployment). */
    model: string;
    /** `scheme://host[:port]` requests went to; absent for baseline. */
    origin?: string;
  };
  context: number;
  /** As written (`32k`) or the number. */
  contextLabel: string;
  strategy: PackStrategy;
  /** Generation reserve: also the request's max tokens. */
  reserve: number;
  encoding: TokenizerName;
  /** Token counts are estimates (the encoding is a stand-in for the model's tokenizer). */
  estimated: boolean;
  tokens: {
    /** The prompt, counted exactly in `encoding` (plus message overhead). */
    prompt: number;
    /** The response, as the server reported it, else counted in `encoding`. */
    completion: number;
    completionSource: 'server' | 'counted';
    recordKept: number;
    recordCut: number;
    recordBudget: number;
    visitsKept: number;
    visitsCut: number;
    /** What the server reported in `usage`, when it did. */
    serverPrompt?: number;
  };
  timings: {
    startedAt: string;
    endedAt: string;
    /** Packing the prompt. */
    packMs?: number;
    /** From sending the (last) request to the first answer text. */
    firstTokenMs?: number;
    /** From the start of the run to its end, retries included. */
    totalMs: number;
    attempts: number;
    /** Time spent waiting between attempts. */
    retryWaitMs: number;
  };
  status: RunStatus;
  /** True when the response is not a finished answer (cancelled or broken off). */
  partial: boolean;
  finishReason: string | null;
  error?: RunError;
  response: string;
  /** Set for the built-in extractive baseline. */
  baseline?: { label: string; passages: number };
  /** Hash of the prompt messages (always kept, even when the prompt is not). */
  promptHash: string;
  promptStored: boolean;
  /** The exact messages sent; absent when prompt storage is off. */
  prompt?: ChatMessage[];
  /**
   * `strategy: refine`: the plan and every step that was sent, in order (`response` is the last
   * finished step's answer; `prompt` is the first step's messages).
   */
  refine?: RefineRunInfo;
}

/** One step of a refine run as kept in its run record. */
export interface RefineStepRecord {
  /** 1-based, in the order sent. */
  step: number;
  /** Hash of the step's messages as sent (with the previous answer in them). */
  promptHash: string;
  status: RunStatus;
  finishReason: string | null;
  response: string;
  tokens: {
    prompt: number;
    completion: number;
    completionSource: 'server' | 'counted';
    serverPrompt?: number;
  };
  attempts: number;
  /** Carried over from an earlier run of the same key (resume), not sent again. */
  resumed?: boolean;
}

export interface RefineRunInfo {
  order: 'oldest-first' | 'newest-first';
  maxSteps: number;
  /** Steps planned (chunks sent, after the step limit). */
  planned: number;
  steps: RefineStepRecord[];
  /** The run whose finished steps this one continued from. */
  resumedFrom?: string;
}

export interface RunKeyParts {
  instructionHash: string;
  recordHash: string;
  templateHash: string;
  endpointId: string;
  model: string;
  origin?: string;
  context: number;
  strategy: PackStrategy;
  reserve: number;
  /** `strategy: refine` only: its order, step limit and refine template's hash (they change the prompts). */
  refine?: { order: string; maxSteps: number; templateHash: string };
}

function hex64(text: string): string {
  const [a, b] = hash64(text);
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

/** The resume key: 16 hex digits over everything that decides the prompt and where it goes. */
export function runKey(p: RunKeyParts): string {
  return hex64(
    JSON.stringify([
      RUN_RECORD_VERSION,
      p.instructionHash,
      p.recordHash,
      p.templateHash,
      p.endpointId,
      p.model,
      p.origin ?? '',
      p.context,
      p.strategy,
      p.reserve,
      // Absent for every other strategy, so their keys are what they always were.
      ...(p.refine !== undefined ? [p.refine.order, p.refine.maxSteps, p.refine.templateHash] : []),
    ]),
  );
}

/**
 * The resume key of a run resolved as `settings` (the preparer's and an experiment's plan alike):
 * `hash` is the host's content hash (sha256), applied to the template and refine template texts.
 */
export function runKeyOfSettings(
  settings: RunSettings,
  p: { instructionHash: string; recordHash: string; origin?: string },
  hash: (text: string) => string,
): string {
  const parts: RunKeyParts = {
    instructionHash: p.instructionHash,
    recordHash: p.recordHash,
    templateHash: hash(settings.templateSource ?? DEFAULT_TEMPLATE_SOURCE),
    endpointId: settings.model,
    model: settings.endpoint?.model ?? BASELINE_MODEL,
    ...(p.origin !== undefined ? { origin: p.origin } : {}),
    context: settings.context,
    strategy: settings.strategy,
    reserve: settings.reserve,
  };
  if (settings.strategy === 'refine') {
    const r = settings.refine ?? { order: DEFAULT_REFINE_ORDER, maxSteps: DEFAULT_REFINE_MAX_STEPS };
    parts.refine = {
      order: r.order,
      maxSteps: r.maxSteps,
      templateHash: hash(r.templateSource ?? DEFAULT_REFINE_TEMPLATE_SOURCE),
    };
  }
  return runKey(parts);
}

/** Hash of prompt messages (16 hex digits; not cryptographic). */
export function promptHash(messages: readonly ChatMessage[]): string {
  return hex64(JSON.stringify(messages.map((m) => [m.role, m.content])));
}

/** A safe path segment: `[A-Za-z0-9._-]`, anything else becomes `_`; never `.` or `..`. */
export function safeSegment(s: string, max = 80): string {
  let out = s.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, max);
  if (out === '' || /^\.+$/.test(out)) out = `_${out}`;
  return out;
}

/** `2025-01-02T03:04:05.678Z` → `20250102T030405678Z` (sorts like the time). */
export function compactStamp(iso: string): string {
  return iso.replace(/[-:.]/g, '');
}

/** A new run id from the start time and a random suffix (`random` in [0, 1)). */
export function newRunId(startedAt: Date, random: () => number = Math.random): string {
  let suffix = '';
  for (let i = 0; i < 6; i++) suffix += Math.floor(random() * 36).toString(36);
  return `${compactStamp(startedAt.toISOString())}-${suffix}`;
}

/** The folder of an instruction's runs, relative to `.medalign/runs/`. */
export function runDirName(instructionId: string): string {
  return safeSegment(instructionId);
}

/**
 * The file name of a run: `<id>_<endpoint>_<context>_<key>.json`. It sorts by time, and the key in
 * the name lets `--resume` find earlier runs of the same job without opening every file.
 */
export function runFileName(run: Pick<RunRecord, 'id' | 'endpoint' | 'contextLabel' | 'key'>): string {
  return `${safeSegment(run.id)}_${safeSegment(run.endpoint.id, 40)}_${safeSegment(run.contextLabel, 16)}_${run.key}.json`;
}

/** The key part of a run file name, if it has one. */
export function keyOfRunFileName(name: string): string | undefined {
  return /_([0-9a-f]{16})\.json$/.exec(name)?.[1];
}

/** The run as file text: pretty JSON, the prompt last. */
export function serializeRun(run: RunRecord): string {
  const { prompt, ...rest } = run;
  return JSON.stringify(prompt === undefined ? rest : { ...rest, prompt }, null, 2) + '\n';
}

function isObj(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

const STATUSES: readonly RunStatus[] = ['complete', 'cancelled', 'error'];

/** A run record from file text, or `undefined` when it is not one (checked, not trusted). */
export function parseRunRecord(text: string): RunRecord | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObj(raw) || raw['format'] !== RUN_FORMAT || raw['version'] !== RUN_RECORD_VERSION) return undefined;
  const ins = raw['instruction'];
  const ep = raw['endpoint'];
  const tokens = raw['tokens'];
  const timings = raw['timings'];
  if (!isObj(ins) || typeof ins['id'] !== 'string' || typeof ins['file'] !== 'string') return undefined;
  if (!isObj(ep) || typeof ep['id'] !== 'string' || typeof ep['model'] !== 'string') return undefined;
  if (!isObj(raw['record']) || !isObj(raw['template'])) return undefined;
  if (!isObj(tokens) || typeof tokens['prompt'] !== 'number') return undefined;
  if (!isObj(timings) || typeof timings['totalMs'] !== 'number') return undefined;
  if (typeof raw['id'] !== 'string' || typeof raw['key'] !== 'string') return undefined;
  if (typeof raw['context'] !== 'number' || typeof raw['response'] !== 'string') return undefined;
  if (!STATUSES.includes(raw['status'] as RunStatus)) return undefined;
  return raw as unknown as RunRecord;
}

/** What a list of runs shows (no prompt, a short preview of the response). */
export interface RunSummary {
  id: string;
  key: string;
  createdAt: string;
  instructionId: string;
  instructionFile: string;
  endpointId: string;
  model: string;
  context: number;
  contextLabel: string;
  strategy: PackStrategy;
  status: RunStatus;
  partial: boolean;
  finishReason: string | null;
  errorKind?: RunErrorKind;
  errorMessage?: string;
  promptTokens: number;
  completionTokens: number;
  totalMs: number;
  firstTokenMs?: number;
  baseline: boolean;
  /** First 160 characters of the response, on one line. */
  preview: string;
}

export function summarizeRun(run: RunRecord): RunSummary {
  const s: RunSummary = {
    id: run.id,
    key: run.key,
    createdAt: run.createdAt,
    instructionId: run.instruction.id,
    instructionFile: run.instruction.file,
    endpointId: run.endpoint.id,
    model: run.endpoint.model,
    context: run.context,
    contextLabel: run.contextLabel,
    strategy: run.strategy,
    status: run.status,
    partial: run.partial,
    finishReason: run.finishReason,
    promptTokens: run.tokens.prompt,
    completionTokens: run.tokens.completion,
    totalMs: run.timings.totalMs,
    baseline: run.baseline !== undefined,
    preview: run.response.replace(/\s+/g, ' ').trim().slice(0, 160),
  };
  if (run.error) {
    s.errorKind = run.error.kind;
    s.errorMessage = run.error.message;
  }
  if (run.timings.firstTokenMs !== undefined) s.firstTokenMs = run.timings.firstTokenMs;
  return s;
}

/** One line of `.medalign/audit.log`: who sent what where, never content. */
export interface AuditEntry {
  time: string;
  endpoint: string;
  host: string;
  instruction: string;
  /** sha256 of the record file. */
  record: string;
  /** Prompt tokens sent. */
  tokens: number;
  /** 1 for the first request of a run, 2... for retries. */
  attempt: number;
  run: string;
}

/** The audit line (JSON, one line, newline-terminated). Only the fields above, in this order. */
export function formatAuditLine(e: AuditEntry): string {
  return (
    JSON.stringify({
      time: e.time,
      endpoint: e.endpoint,
      host: e.host,
      instruction: e.instruction,
      record: e.record,
      tokens: e.tokens,
      attempt: e.attempt,
      run: e.run,
    }) + '\n'
  );
}

/** Everything about a run that is known before it is sent (and what a batch manifest keeps). */
export interface RunDraft extends Pick<
  RunRecord,
  | 'key'
  | 'instruction'
  | 'record'
  | 'template'
  | 'endpoint'
  | 'context'
  | 'contextLabel'
  | 'strategy'
  | 'reserve'
  | 'encoding'
  | 'estimated'
  | 'promptHash'
> {
  tokens: Omit<RunRecord['tokens'], 'completion' | 'completionSource' | 'serverPrompt'>;
  packMs?: number;
}

/** How a run ended: what `buildRunRecord` adds to a draft. */
export interface RunEnding {
  id: string;
  source: RunRecord['source'];
  startedAt: Date;
  endedAt: Date;
  status: RunStatus;
  finishReason: string | null;
  error?: RunError;
  response: string;
  completionTokens: number;
  completionSource: 'server' | 'counted';
  serverPromptTokens?: number;
  firstTokenMs?: number;
  attempts: number;
  retryWaitMs: number;
  baseline?: { label: string; passages: number };
  /** The messages, when prompt storage is on. */
  prompt?: ChatMessage[];
}

export function buildRunRecord(d: RunDraft, e: RunEnding): RunRecord {
  const run: RunRecord = {
    format: RUN_FORMAT,
    version: RUN_RECORD_VERSION,
    id: e.id,
    key: d.key,
    createdAt: e.startedAt.toISOString(),
    source: e.source,
    instruction: { ...d.instruction },
    record: { ...d.record },
    template: { ...d.template },
    endpoint: { ...d.endpoint },
    context: d.context,
    contextLabel: d.contextLabel,
    strategy: d.strategy,
    reserve: d.reserve,
    encoding: d.encoding,
    estimated: d.estimated,
    tokens: {
      ...d.tokens,
      completion: e.completionTokens,
      completionSource: e.completionSource,
    },
    timings: {
      startedAt: e.startedAt.toISOString(),
      endedAt: e.endedAt.toISOString(),
      totalMs: Math.max(0, e.endedAt.getTime() - e.startedAt.getTime()),
      attempts: e.attempts,
      retryWaitMs: e.retryWaitMs,
    },
    status: e.status,
    partial: e.status !== 'complete',
    finishReason: e.finishReason,
    response: e.response,
    promptHash: d.promptHash,
    promptStored: e.prompt !== undefined,
  };
  if (e.serverPromptTokens !== undefined) run.tokens.serverPrompt = e.serverPromptTokens;
  if (d.packMs !== undefined) run.timings.packMs = Math.round(d.packMs * 100) / 100;
  if (e.firstTokenMs !== undefined) run.timings.firstTokenMs = Math.round(e.firstTokenMs);
  if (e.error !== undefined) run.error = e.error;
  if (e.baseline !== undefined) run.baseline = e.baseline;
  if (e.prompt !== undefined) run.prompt = e.prompt.map((m) => ({ role: m.role, content: m.content }));
  return run;
}
