/**
 * Every message between the response panel's webview and the extension, in one place. The webview
 * script (panelWebview.ts) and the panel (responsePanel.ts) both use these types. Strings in them
 * (responses, errors, labels) are data: the webview only ever puts them in `textContent`.
 */
import type { RunErrorAction } from '../../../engine/src';

export type ColumnStatus =
  'queued' | 'packing' | 'sending' | 'streaming' | 'complete' | 'cancelled' | 'error' | 'refused' | 'skipped';

export interface PanelColumn {
  /** e.g. `fake-local · 8k`. */
  title: string;
  status: ColumnStatus;
  /** The answer so far. */
  text: string;
  /** Why it failed or was refused (the engine's message), or a note. */
  message?: string;
  /** One line: tokens, timings, where it was saved. */
  meta?: string;
  /** The saved run file (enables "Open run file" and "Compare with gold"). */
  runFile?: string;
  /** A gold response exists to compare with. */
  hasGold?: boolean;
  /** Buttons that fix a failed or refused run (Approve…, Retry, Choose model…), under its message. */
  fixes?: { action: RunErrorAction; label: string }[];
  /** A short name for the run file (`run 0f0sol`); the full path is `runPath` (a tooltip). */
  runRef?: string;
  runPath?: string;
  /** The row of the run matrix's summary grid (the status comes from `status`). */
  facts?: ColumnFacts;
  /** `strategy: refine`: which step `text` is the answer of, and the steps before it. */
  refine?: PanelRefine;
}

/**
 * A refine run in a column: `text` is the answer of step `current` of `of` (streaming while it
 * runs; the final answer once step `of` is complete); the finished steps before it are `earlier`.
 */
export interface PanelRefine {
  /** Steps planned. */
  of: number;
  /** The step `text` belongs to (1-based); 0 before the first step is sent. */
  current: number;
  /** What the line over the answer says (`Step 2 of 4 · streaming…`, `Final answer · step 4 of 4`). */
  line: string;
  /** Finished steps before `current`, in the order sent. */
  earlier: PanelStep[];
  /** A cancelled or broken run that can go on: the step a resumed run starts from. */
  resumeFrom?: number;
}

export interface PanelStep {
  step: number;
  status: ColumnStatus;
  text: string;
  /** e.g. `prompt 3,521 tokens · answer 212`. */
  meta: string;
  /** Taken over from an earlier run (resume), not sent again. */
  resumed?: boolean;
}

/** One run in the summary grid: short, already formatted cells. */
export interface ColumnFacts {
  endpoint: string;
  context: string;
  promptTokens?: string;
  /** The record days the prompt kept, e.g. `2019-04-02 → 2020-12-07`; `keptNote` says how many visits. */
  kept?: string;
  keptNote?: string;
  /** Answer length, e.g. `455 tokens`. */
  answer?: string;
  /** e.g. `2.3 s (first text 420 ms)`. */
  latency?: string;
}

export interface PanelState {
  /** Increases with every new run (or matrix) shown; stale updates are ignored. */
  session: number;
  heading: string;
  detail: string;
  columns: PanelColumn[];
}

/** Extension → webview. */
export type ToWebview =
  | { type: 'state'; state: PanelState }
  | { type: 'column'; session: number; index: number; column: PanelColumn }
  /** Asks what the panel shows (tests; answered with `snapshot`). */
  | { type: 'snapshot'; requestId: number }
  /** Collapses or expands a column (`all`: every column), as its toggle button does. */
  | { type: 'collapse'; index: number | 'all'; collapsed: boolean }
  /** Opens or closes an earlier refine step of a column (1-based), as its toggle does. */
  | { type: 'collapseStep'; index: number; step: number; collapsed: boolean }
  /** Clicks the column's button with this label, as a user would (tests). */
  | { type: 'press'; index: number; label: string };

export type PanelAction = 'openRunFile' | 'compareWithGold' | 'cancel' | 'resume' | RunErrorAction;

/** What the webview's DOM shows, read back from it. */
export interface RenderedColumn {
  title: string;
  status: string;
  text: string;
  message: string;
  meta: string;
  collapsed: boolean;
  /** The labels of the fix buttons shown. */
  fixes: string[];
  /** `strategy: refine`: the line over the answer (`Step 2 of 4 · streaming…`), empty otherwise. */
  stepLine: string;
  /** The earlier steps as shown: their heading, answer and whether they are collapsed. */
  steps: { label: string; text: string; collapsed: boolean }[];
  /** The labels of the footer's buttons shown (Stop, Resume from step 3, Open run file, …). */
  actions: string[];
}

/** Webview → extension. */
export type FromWebview =
  | { type: 'ready' }
  | { type: 'action'; action: PanelAction; session: number; index: number }
  | { type: 'snapshot'; requestId: number; snapshot: PanelSnapshot };

/** What the panel's DOM shows (tests read it). */
export interface PanelSnapshot {
  session: number;
  heading: string;
  detail: string;
  columns: RenderedColumn[];
  /** The summary grid's header and rows as shown (empty when hidden: a single run). */
  summary: string[][];
  /** The placeholder ("Run an instruction…") is visible. */
  placeholder: boolean;
}

export function isFromWebview(x: unknown): x is FromWebview {
  if (x === null || typeof x !== 'object') return false;
  const t = (x as { type?: unknown }).type;
  return t === 'ready' || t === 'action' || t === 'snapshot';
}
