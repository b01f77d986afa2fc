/**
 * The reviewer's name, as review files carry it: the config's `review.reviewer`, else the name this
 * user gave before (user-level `globalState`, never the workspace), else asked once, offering git's
 * `user.name` for the project folder.
 */
import { execFile } from 'node:child_process';
import * as vscode from 'vscode';

export const REVIEWER_STATE_KEY = 'medalign.review.reviewer';
export const MAX_REVIEWER_LENGTH = 200;

/** git's `user.name` in `cwd`, or `undefined` (no git, no name, or it took over 3 s). */
export function gitUserName(cwd: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', ['config', 'user.name'], { cwd, timeout: 3000, windowsHide: true }, (err, stdout) => {
      const name = err ? '' : stdout.trim();
      resolve(name !== '' ? name.slice(0, MAX_REVIEWER_LENGTH) : undefined);
    });
  });
}

export function validReviewerName(name: string): string | undefined {
  const t = name.trim();
  if (t === '') return 'Enter the name to write in review files.';
  if (t.length > MAX_REVIEWER_LENGTH) return `At most ${MAX_REVIEWER_LENGTH} characters.`;
  return undefined;
}

/** Asks for the reviewer's name (git's `user.name` offered) and remembers it. `undefined`: cancelled. */
export async function askReviewerName(
  state: vscode.Memento,
  root: string | undefined,
): Promise<string | undefined> {
  const offered = state.get<string>(REVIEWER_STATE_KEY) ?? (root ? await gitUserName(root) : undefined) ?? '';
  const name = await vscode.window.showInputBox({
    title: 'MedAlign: Your Name as a Reviewer',
    prompt:
      'Written in each review file (reviews/<instruction id>/<name>.json) and used to shuffle the blinded answers. ' +
      'Asked once; "MedAlign: Set Reviewer Name" changes it. A config\'s review.reviewer takes precedence.',
    value: offered,
    ignoreFocusOut: true,
    validateInput: validReviewerName,
  });
  if (name === undefined || validReviewerName(name)) return undefined;
  await state.update(REVIEWER_STATE_KEY, name.trim());
  return name.trim();
}

/** The reviewer for a project: its config's name, the remembered one, or asked once. */
export async function reviewerName(
  state: vscode.Memento,
  configured: string | undefined,
  root: string,
): Promise<string | undefined> {
  if (configured && !validReviewerName(configured)) return configured.trim();
  const saved = state.get<string>(REVIEWER_STATE_KEY);
  if (saved && !validReviewerName(saved)) return saved;
  return askReviewerName(state, root);
}
