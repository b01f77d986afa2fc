/**
 * Reviewing model answers in the editor (issue 11): `MedAlign: Review Answers` (from the palette, the
 * run-lens's `Review` and the Runs view), `MedAlign: Set Reviewer Name`, and
 * `medalign.review.describe` (JSON of what the review panel shows: labels, order, stale flags; for
 * tests and scripts). See docs/review.md.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunServices } from '../run/services';
import { instructionDocument, instructionInfo } from '../run/project';
import { ReviewPanel } from './reviewPanel';
import type { ReviewDescription } from './reviewPanel';
import { REVIEWER_STATE_KEY, askReviewerName, reviewerName } from './reviewer';
import { registerReport } from './reportView';

export const REVIEW_COMMAND = 'medalign.reviewAnswers';
export const REVIEW_DESCRIBE_COMMAND = 'medalign.review.describe';
export const SET_REVIEWER_COMMAND = 'medalign.review.setReviewer';

/** Only present when the extension runs its own tests (`ExtensionMode.Test`). */
export interface ReviewTestHooks {
  /** Presses a key in the review panel, through the panel's own key handler. */
  key(key: string, ctrlKey?: boolean): void;
  /** Sets (or forgets, with `undefined`) the remembered reviewer name, as answering the question once does. */
  setReviewer(name: string | undefined): Thenable<void>;
}

export interface ReviewApi {
  test?: ReviewTestHooks;
}

/** A Runs view instruction node (root, id, file relative to the root). */
function runsViewNode(x: unknown): { root: string; id: string; file: string } | undefined {
  if (x === null || typeof x !== 'object') return undefined;
  const n = x as Record<string, unknown>;
  return n['kind'] === 'instruction' &&
    typeof n['root'] === 'string' &&
    typeof n['id'] === 'string' &&
    typeof n['file'] === 'string'
    ? { root: n['root'], id: n['id'], file: n['file'] }
    : undefined;
}

export function registerReview(
  context: vscode.ExtensionContext,
  s: RunServices,
): { api: ReviewApi; disposables: vscode.Disposable[] } {
  const panel = new ReviewPanel(s, s.log);
  const open = async (arg?: unknown): Promise<ReviewDescription | undefined> => {
    const startedAt = Date.now();
    const node = runsViewNode(arg);
    const doc = await instructionDocument(
      node ? vscode.Uri.file(path.join(node.root, ...node.file.split('/'))) : arg,
    );
    if (!doc) {
      void vscode.window.showInformationMessage(
        'MedAlign: open an instruction (.medalign) to review its answers, or use Review in the Runs view.',
      );
      return undefined;
    }
    const info = await instructionInfo(doc);
    if (info.id === undefined) {
      void vscode.window.showErrorMessage(
        `MedAlign: ${path.basename(doc.uri.fsPath)} has no id in its front matter, so its runs and reviews cannot be found.`,
      );
      return undefined;
    }
    const reviewer = await reviewerName(context.globalState, info.project.review.reviewer, info.root);
    if (!reviewer) return undefined;
    await panel.open({ root: info.root, id: info.id, file: doc.uri.fsPath }, reviewer, startedAt, info);
    return panel.describe();
  };
  const disposables: vscode.Disposable[] = [
    panel,
    ...registerReport(s.log),
    vscode.commands.registerCommand(REVIEW_COMMAND, open),
    vscode.commands.registerCommand(REVIEW_DESCRIBE_COMMAND, () => panel.describe()),
    vscode.commands.registerCommand(SET_REVIEWER_COMMAND, async () => {
      const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
      const name = await askReviewerName(context.globalState, root);
      if (name) void vscode.window.showInformationMessage(`MedAlign: reviews are written as “${name}”.`);
    }),
  ];
  if (context.extensionMode !== vscode.ExtensionMode.Test) return { api: {}, disposables };
  return {
    api: {
      test: {
        key: (key, ctrlKey) => panel.key(key, ctrlKey),
        setReviewer: (name) => context.globalState.update(REVIEWER_STATE_KEY, name),
      },
    },
    disposables,
  };
}
