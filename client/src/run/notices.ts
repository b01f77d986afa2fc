/**
 * Notices from the run engine (`RunEvent` `notice`): something it did on the user's behalf, such as
 * restoring `.medalign/.gitignore` that a workspace had changed. Logged and shown.
 */
import * as vscode from 'vscode';
import type { RunServices } from './services';

export function showNotice(s: RunServices, message: string): void {
  s.log.warn(message);
  void vscode.window.showWarningMessage(`MedAlign: ${message}`);
}
