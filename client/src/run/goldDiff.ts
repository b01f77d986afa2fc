/**
 * "Compare with gold": a word-level diff (core's `wordDiff`) of the instruction's `## Gold response`
 * and the latest complete run's answer (or a given run), shown as soft-wrapped prose in a webview
 * beside the editor: words only in gold struck through, words only in the answer underlined. Not
 * offered for a failed or empty run. The webview has no script at all (CSP `default-src 'none'`,
 * a nonce'd style) and every string from the run or the file is HTML-escaped. The diff follows
 * edits of the instruction's gold response.
 */
import { makeNonce, webviewHtml } from '../webviewDocument';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunRecord, WordDiff } from '../../../engine/src';
import { wordDiff } from '../../../engine/src';
import { instructionDocument, instructionInfo } from './project';
import { relativeRunFile } from './runsIndex';
import type { RunServices } from './services';

export const COMPARE_COMMAND = 'medalign.compareWithGold';
export const GOLD_DIFF_VIEW_TYPE = 'medalign.goldDiff';

/** What "Compare with gold" shows (the command resolves to it; tests read it). */
export interface GoldComparison {
  instruction: vscode.Uri;
  runFile: string;
  title: string;
  diff: WordDiff;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** Why a run cannot be compared with gold (`undefined`: it can). */
export function notComparable(run: RunRecord): string | undefined {
  if (run.status !== 'complete') return `this run ${run.status === 'error' ? 'failed' : 'was cancelled'}`;
  if (run.response.trim() === '') return 'this run has no answer';
  return undefined;
}

const STYLE = `
:root { color-scheme: light dark; }
body {
  margin: 0; padding: 12px 16px 24px; color: var(--vscode-foreground); background: var(--vscode-editor-background);
  font-family: var(--vscode-font-family); font-size: var(--vscode-font-size);
}
h1 { font-size: 1.1em; margin: 0 0 2px; }
.meta { color: var(--vscode-descriptionForeground); margin-bottom: 8px; }
.legend { display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0 12px; color: var(--vscode-descriptionForeground); }
.prose {
  white-space: pre-wrap; overflow-wrap: anywhere; line-height: 1.6; max-width: 90ch;
  font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size);
  color: var(--vscode-editor-foreground);
}
del {
  text-decoration: line-through; color: var(--vscode-gitDecoration-deletedResourceForeground, var(--vscode-errorForeground));
  background: var(--vscode-diffEditor-removedTextBackground);
}
ins {
  text-decoration: underline; color: var(--vscode-gitDecoration-addedResourceForeground, var(--vscode-foreground));
  background: var(--vscode-diffEditor-insertedTextBackground);
}
details { margin-top: 16px; }
summary { cursor: pointer; color: var(--vscode-textLink-foreground); }
.note { margin: 8px 0; padding: 6px 8px; border-left: 3px solid var(--vscode-editorWarning-foreground); background: var(--vscode-textBlockQuote-background); }
`;

/**
 * Prose as it reads: a single line break inside a paragraph (a hard-wrapped gold response) becomes a
 * space, so the view wraps it; blank lines and lines that start a list item stay.
 */
export function softWrap(text: string): string {
  return text.replace(/([^\n])\n(?![ \t]*(?:[-*+]|\d+[.)])[ \t])(?=[^\n])/g, '$1 ');
}

/** The whole page. Every string from the run or the instruction goes through `escapeHtml`. */
export function goldDiffHtml(c: GoldComparison, gold: string, answer: string, nonce: string): string {
  const body = c.diff.parts
    .map((p) => {
      const text = escapeHtml(softWrap(p.text));
      return p.op === 'equal'
        ? text
        : p.op === 'delete'
          ? `<del title="only in the gold response">${text}</del>`
          : `<ins title="only in the answer">${text}</ins>`;
    })
    .join('');
  const d = c.diff;
  const stats = `${d.equal} words in common · ${d.deleted} only in gold · ${d.inserted} only in the answer`;
  return webviewHtml({
    nonce,
    title: 'Compare with gold',
    style: STYLE,
    body: `<h1>${escapeHtml(c.title)}</h1>
<div class="meta">${escapeHtml(stats)}</div>
<div class="legend"><span><del>struck</del>: only in the gold response</span><span><ins>underlined</ins>: only in the answer</span></div>
${d.approximate ? '<div class="note">These texts are too long to align word by word: the part that differs is shown as a whole.</div>' : ''}
<main class="prose" id="diff">${body}</main>
<details><summary>Gold response</summary><div class="prose">${escapeHtml(softWrap(gold))}</div></details>
<details><summary>Answer</summary><div class="prose">${escapeHtml(softWrap(answer))}</div></details>`,
  });
}

class GoldDiffView implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private shown: { doc: vscode.Uri; runFile: string } | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  last: GoldComparison | undefined;
  /** The page last rendered (tests check its CSP and escaping). */
  lastHtml: string | undefined;

  constructor(private readonly s: RunServices) {
    this.disposables.push(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (!this.panel || this.shown?.doc.toString() !== e.document.uri.toString()) return;
        if (this.timer) clearTimeout(this.timer);
        this.timer = setTimeout(() => {
          this.timer = undefined;
          // Only while the diff is still open (a closed view is not brought back by an edit).
          if (this.panel && this.shown) void this.show(this.shown.doc, this.shown.runFile, false);
        }, 300);
      }),
    );
  }

  get visible(): boolean {
    return this.panel?.visible === true;
  }

  /** Renders the diff of `doc`'s gold response and `runFile`'s answer; `undefined` when there is none. */
  async show(docUri: vscode.Uri, runFile: string, reveal = true): Promise<GoldComparison | undefined> {
    const doc = await vscode.workspace.openTextDocument(docUri);
    const info = await instructionInfo(doc);
    const run = await this.s.runs.store(info.root).read(runFile);
    if (!run) {
      void vscode.window.showErrorMessage(`MedAlign: ${path.basename(runFile)} is not a readable run file.`);
      return undefined;
    }
    const why = notComparable(run);
    if (why !== undefined) {
      void vscode.window.showInformationMessage(`MedAlign: nothing to compare with gold: ${why}.`);
      return undefined;
    }
    const label = `${run.endpoint.id} · ${run.contextLabel}`;
    const comparison: GoldComparison = {
      instruction: doc.uri,
      runFile,
      title: `${info.id ?? path.basename(doc.uri.fsPath)}: gold ↔ ${label} (${new Date(run.createdAt).toLocaleString()})`,
      diff: wordDiff(info.gold, run.response),
    };
    const html = goldDiffHtml(comparison, info.gold, run.response, makeNonce());
    if (!this.panel && !reveal) return comparison;
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel(
        GOLD_DIFF_VIEW_TYPE,
        'Compare with gold',
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        { enableScripts: false, localResourceRoots: [], enableFindWidget: true },
      );
      this.panel.onDidDispose(() => {
        this.panel = undefined;
        this.shown = undefined;
        if (this.timer) clearTimeout(this.timer);
        this.timer = undefined;
      });
    } else if (reveal && !this.panel.visible) this.panel.reveal(undefined, true);
    this.panel.title = `Gold ↔ ${label}`;
    this.panel.webview.html = html;
    this.shown = { doc: doc.uri, runFile };
    this.last = comparison;
    this.lastHtml = html;
    return comparison;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

/**
 * Opens the word diff of the gold response and a run: the given run file, else the latest complete
 * run with an answer of this file. Resolves to what is shown (`undefined`: nothing to compare).
 */
export async function compareWithGold(
  s: RunServices,
  view: GoldDiffView,
  arg: unknown,
  runFile?: string,
): Promise<GoldComparison | undefined> {
  const doc = await instructionDocument(arg);
  if (!doc) {
    void vscode.window.showWarningMessage('MedAlign: open a .medalign instruction file first.');
    return undefined;
  }
  const info = await instructionInfo(doc);
  if (info.id === undefined) return undefined;
  if (info.gold === '') {
    void vscode.window.showInformationMessage(
      `MedAlign: ${info.id} has no '## Gold response' to compare with.`,
    );
    return undefined;
  }
  let file = runFile;
  if (file === undefined) {
    const latest = await s.runs.store(info.root).latest(info.id, {
      instructionFile: relativeRunFile(info.root, doc.uri.fsPath),
      answered: true,
    });
    if (!latest) {
      void vscode.window.showInformationMessage(
        `MedAlign: ${path.basename(doc.uri.fsPath)} has no complete run with an answer to compare yet.`,
      );
      return undefined;
    }
    file = latest.file;
  }
  return view.show(doc.uri, file);
}

export function registerGoldDiff(s: RunServices): {
  view: {
    readonly last: GoldComparison | undefined;
    readonly lastHtml: string | undefined;
    readonly visible: boolean;
  };
  disposables: vscode.Disposable[];
} {
  const view = new GoldDiffView(s);
  return {
    view,
    disposables: [
      view,
      /** `medalign.compareWithGold(uri?, runFile?)`: the latest complete run unless a run file is given. */
      vscode.commands.registerCommand(COMPARE_COMMAND, (arg?: unknown, runFile?: unknown) =>
        compareWithGold(s, view, arg, typeof runFile === 'string' ? runFile : undefined),
      ),
    ],
  };
}
