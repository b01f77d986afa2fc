/** Helpers for the e2e suite: workspace paths, polling with a deadline, and screenshot requests. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RunTestHooks } from '../../../client/src/run';
import type { QuickInputState } from '../../../client/src/run/quickInput';
import type { ScreenshotDone, ScreenshotRequest } from './protocol';
import { ARTIFACTS_ENV, SCREENSHOTS_ENV } from './protocol';

/** The URI of a file in the (single) workspace folder. */
export function workspaceFile(relative: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('no workspace folder is open');
  return vscode.Uri.joinPath(folder.uri, ...relative.split('/'));
}

/** The open quick input once `ok` holds for it (the extension's test hooks read it). */
export function quickInputShowing(
  hooks: RunTestHooks,
  what: string,
  ok: (q: QuickInputState) => boolean,
): Promise<QuickInputState> {
  return waitFor(`the picker to show ${what}`, () => {
    const q = hooks.quickInput();
    return q && ok(q) ? q : undefined;
  });
}

/** Selects the items labelled `labels` in the open quick input, and accepts them. */
export async function chooseInPicker(hooks: RunTestHooks, labels: string[]): Promise<void> {
  assert.ok(await hooks.chooseInQuickInput(labels), `the picker has ${labels.join(', ')}`);
  await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
}

/**
 * Adds an OpenAI-compatible endpoint `id` at `baseUrl` (the local fake server; 32k window,
 * cl100k_base) to the workspace's medalign.config.json; returns the config's text before, to put back.
 */
export function addFakeEndpoint(id: string, baseUrl: string): string {
  const file = workspaceFile('medalign.config.json').fsPath;
  const before = fs.readFileSync(file, 'utf8');
  const config = JSON.parse(before) as { endpoints: unknown[] };
  config.endpoints.push({
    id,
    kind: 'openai-compatible',
    baseUrl,
    model: 'fake-model',
    contextWindow: 32768,
    encoding: 'cl100k_base',
  });
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  return before;
}

/** Writes a file in the workspace folder through VS Code's file system (a string as UTF-8). */
export async function writeWorkspaceFile(relative: string, data: string | Uint8Array): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  await vscode.workspace.fs.writeFile(workspaceFile(relative), bytes);
}

/** The text of hovers, each content on its own line. */
export function hoverText(hovers: readonly vscode.Hover[] | undefined): string {
  return (hovers ?? [])
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))
    .join('\n');
}

/**
 * Polls `probe` until it returns a truthy value (which is returned) or the deadline passes.
 * Never a fixed sleep: the interval is only the polling period.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** True when a runner (code-server + Chromium) answers screenshot requests. */
export function screenshotsAvailable(): boolean {
  return process.env[SCREENSHOTS_ENV] === '1' && !!process.env[ARTIFACTS_ENV];
}

/**
 * Asks the runner for a screenshot of the page once every selector in `waitFor` is visible.
 * Resolves with the PNG's path and size.
 */
export async function requestScreenshot(
  name: string,
  request: ScreenshotRequest = {},
): Promise<{ path: string; bytes: number }> {
  const dir = process.env[ARTIFACTS_ENV];
  if (!dir || !screenshotsAvailable()) throw new Error('no runner answers screenshot requests');
  const requestFile = path.join(dir, `${name}.request`);
  const doneFile = path.join(dir, `${name}.done`);
  fs.rmSync(doneFile, { force: true });
  fs.writeFileSync(requestFile + '.tmp', JSON.stringify(request));
  fs.renameSync(requestFile + '.tmp', requestFile);
  const perSelector = request.timeoutMs ?? 10_000;
  const done = await waitFor(
    `screenshot '${name}'`,
    () => fs.existsSync(doneFile) && (JSON.parse(fs.readFileSync(doneFile, 'utf8')) as ScreenshotDone),
    perSelector * Math.max(1, request.waitFor?.length ?? 0) + 15_000,
  );
  if (!done.ok || !done.path)
    throw new Error(`screenshot '${name}' failed: ${done.error ?? 'unknown error'}`);
  return { path: done.path, bytes: fs.statSync(done.path).size };
}
