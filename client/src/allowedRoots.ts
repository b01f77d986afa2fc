/**
 * Folders outside the workspace that records and templates may come from (issue 7): only the
 * user's own `medalign.allowedRoots` (declared with application scope, and read as its user-level
 * value), passed to the language server, which resolves every record and template (runs too).
 */
import * as vscode from 'vscode';

export const ALLOWED_ROOTS_SETTING = 'medalign.allowedRoots';

/**
 * `medalign.allowedRoots` from the **user** settings only (`inspect().globalValue`): folders outside
 * the workspace that records and templates may come from. A workspace's settings cannot add one, and
 * none applies in Restricted Mode.
 */
export function allowedRootsSetting(): string[] {
  if (!vscode.workspace.isTrusted) return [];
  const v = vscode.workspace.getConfiguration('medalign').inspect<unknown>('allowedRoots')?.globalValue;
  return Array.isArray(v) ? v.filter((r): r is string => typeof r === 'string' && r.trim() !== '') : [];
}
