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
  /** Clicks the column's button with this label, as a user would (tests). */
  | { type: 'press'; index: number; label: string };

export type PanelAction = 'openRunFile' | 'compareWithGold' | 'cancel' | RunErrorAction;

/** What the webview's DOM shows, read back from it. */
export interface RenderedColumn {
  title: string;
  status: string;
  text: string;
  message: string;
  meta: string;
  /** The labels of the fix buttons shown. */
  fixes: string[];
}

/** Webview → extension. */
export type FromWebview =
  | { type: 'ready' }
  | { type: 'action'; action: PanelAction; session: number; index: number }
  | { type: 'snapshot'; requestId: number; session: number; heading: string; columns: RenderedColumn[] };

export function isFromWebview(x: unknown): x is FromWebview {
  if (x === null || typeof x !== 'object') return false;
  const t = (x as { type?: unknown }).type;
  return t === 'ready' || t === 'action' || t === 'snapshot';
}
