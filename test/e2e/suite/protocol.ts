/**
 * The file protocol between the e2e suite (running in VS Code's extension host) and the runner that
 * started VS Code (runInCodeServer). Both run on the same machine and share the artifacts folder.
 * No `vscode` import here: the runner loads this file too.
 */

/** Folder for output.log, result.json, screenshots and their requests. Unset: no runner listens. */
export const ARTIFACTS_ENV = 'MEDALIGN_E2E_ARTIFACTS';
/** '1' when a runner answers screenshot requests (code-server + Chromium; not the desktop runner). */
export const SCREENSHOTS_ENV = 'MEDALIGN_E2E_SCREENSHOTS';
/** Optional mocha --grep for the suite. */
export const GREP_ENV = 'MEDALIGN_E2E_GREP';

/** result.json, written by the suite when mocha finished. */
export interface SuiteResult {
  passed: number;
  failed: number;
  pending: number;
  durationMs: number;
  failures: { title: string; error: string }[];
}

/** <name>.request: what must be visible on the page before the screenshot is taken. */
export interface ScreenshotRequest {
  /** Keys the runner presses in the page first (Playwright names: 'Control+Alt+r'), in order. */
  press?: string[];
  /**
   * A real mouse drag the runner does first (after `press`): the left button pressed on the centre of
   * `from`, moved in steps to the centre of `to`, released. Both are CSS selectors inside the same
   * webview (the first frame of the page whose document has a visible `from`).
   */
  drag?: { from: string; to: string };
  /** CSS selectors that must all be visible (waited for in order). */
  waitFor?: string[];
  /** Per selector, default 10 s. */
  timeoutMs?: number;
}

/** <name>.done: the runner's answer; the PNG is <name>.png beside it. */
export interface ScreenshotDone {
  ok: boolean;
  path?: string;
  bytes?: number;
  error?: string;
}
