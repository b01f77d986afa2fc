/**
 * The "MedAlign Runs" view (Explorer): runs per instruction from the run store
 * (`.medalign/runs/`), newest first, one node per instruction file (runs are keyed by file and id;
 * an id shared by two files is flagged), with open, re-run, compare with gold (complete runs with an
 * answer), delete and "Clear Failed Runs" (both ask).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { StoredSummary } from '../../../engine/src';
import { isAnswered } from '../../../engine/src';
import { workspaceProjects } from './project';
import { runInstruction, showRunFile } from './runCommands';
import { COMPARE_COMMAND } from './goldDiff';
import type { RunServices } from './services';
import { fmtMs } from './services';

export const RUNS_VIEW_ID = 'medalign.runs';
export const CLEAR_FAILED_COMMAND = 'medalign.runs.clearFailed';

export interface InstructionNode {
  kind: 'instruction';
  root: string;
  id: string;
  /** Relative to the project root. */
  file: string;
  runs: StoredSummary[];
  /** Other instruction files whose runs carry the same id (the id is not unique). */
  sharedWith: string[];
}

export interface RunNode {
  kind: 'run';
  root: string;
  summary: StoredSummary;
}

export type RunsNode = InstructionNode | RunNode;

function ago(iso: string, now = Date.now()): string {
  const s = Math.max(0, (now - Date.parse(iso)) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

const ICONS: Record<string, vscode.ThemeIcon> = {
  complete: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  cancelled: new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('editorWarning.foreground')),
  error: new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground')),
};

export class RunsTree implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly sub: vscode.Disposable;

  constructor(private readonly s: RunServices) {
    this.sub = s.runs.onDidChange(() => this.refresh());
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  async getChildren(node?: RunsNode): Promise<RunsNode[]> {
    if (node?.kind === 'run') return [];
    if (node?.kind === 'instruction')
      return node.runs.map((summary) => ({ kind: 'run', root: node.root, summary }));
    const out: InstructionNode[] = [];
    for (const root of await workspaceProjects()) {
      // Runs are keyed by file and id: two files with the same id are two nodes.
      const byFile = new Map<string, InstructionNode>();
      for (const summary of await this.s.runs.store(root).list()) {
        const k = `${summary.instructionFile}\n${summary.instructionId}`;
        let n = byFile.get(k);
        if (!n) {
          n = {
            kind: 'instruction',
            root,
            id: summary.instructionId,
            file: summary.instructionFile,
            runs: [],
            sharedWith: [],
          };
          byFile.set(k, n);
          out.push(n);
        }
        n.runs.push(summary);
      }
      const nodes = [...byFile.values()];
      for (const n of nodes) {
        n.sharedWith = nodes.filter((o) => o !== n && o.id === n.id).map((o) => o.file);
      }
    }
    return out.sort((a, b) => a.file.localeCompare(b.file) || a.id.localeCompare(b.id));
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    if (node.kind === 'instruction') {
      const item = new vscode.TreeItem(node.id, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `${node.root}::${node.file}::${node.id}`;
      const n = node.runs.length;
      const failed = node.runs.filter((r) => r.status === 'error').length;
      item.description =
        `${path.basename(node.file)} · ${n} run${n === 1 ? '' : 's'}` +
        `${failed > 0 ? ` (${failed} failed)` : ''}${node.sharedWith.length > 0 ? ' · ⚠ id not unique' : ''}`;
      item.tooltip = [
        node.file,
        `${n} run(s); newest ${new Date(node.runs[0]?.createdAt ?? 0).toLocaleString()}`,
        ...(node.sharedWith.length > 0
          ? [
              `Id ${node.id} is also used by ${node.sharedWith.join(', ')}: runs are kept apart by file; give each file its own id.`,
            ]
          : []),
      ].join('\n');
      item.iconPath =
        node.sharedWith.length > 0
          ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('editorWarning.foreground'))
          : new vscode.ThemeIcon('checklist');
      item.contextValue = 'medalign.instruction';
      return item;
    }
    const r = node.summary;
    const item = new vscode.TreeItem(
      `${r.endpointId} · ${r.contextLabel}`,
      vscode.TreeItemCollapsibleState.None,
    );
    item.id = r.file;
    item.description = `${r.status === 'complete' ? '' : `${r.status} · `}${ago(r.createdAt)} · ${r.completionTokens.toLocaleString('en-US')} tokens`;
    item.tooltip = [
      `${r.endpointId} (${r.model}) · ${r.contextLabel} · ${r.strategy}`,
      `${r.status}${r.partial ? ' (partial)' : ''} · ${new Date(r.createdAt).toLocaleString()} · ${fmtMs(r.totalMs)}`,
      `prompt ${r.promptTokens.toLocaleString('en-US')} tokens, answer ${r.completionTokens.toLocaleString('en-US')}`,
      ...(r.errorMessage ? [r.errorMessage] : []),
      path.relative(node.root, r.file),
    ].join('\n');
    item.iconPath =
      r.baseline && r.status === 'complete'
        ? new vscode.ThemeIcon('beaker')
        : (ICONS[r.status] ?? ICONS['error']);
    // `.answered`: complete with an answer (Compare with gold); `.failed`: an error (Clear Failed Runs).
    item.contextValue = isAnswered(r)
      ? 'medalign.run.answered'
      : r.status === 'error'
        ? 'medalign.run.failed'
        : 'medalign.run';
    item.command = { command: 'medalign.runs.open', title: 'Open Run', arguments: [node] };
    return item;
  }

  dispose(): void {
    this.sub.dispose();
    this.changed.dispose();
  }
}

function isRunNode(x: unknown): x is RunNode {
  return (
    x !== null &&
    typeof x === 'object' &&
    (x as RunNode).kind === 'run' &&
    typeof (x as RunNode).summary?.file === 'string'
  );
}

function isInstructionNode(x: unknown): x is InstructionNode {
  return x !== null && typeof x === 'object' && (x as InstructionNode).kind === 'instruction';
}

function skipConfirmation(testMode: boolean, opts: unknown): boolean {
  return (
    testMode &&
    opts !== null &&
    typeof opts === 'object' &&
    (opts as { skipConfirmation?: unknown }).skipConfirmation === true
  );
}

function instructionUri(root: string, relFile: string): vscode.Uri {
  return vscode.Uri.file(path.join(root, ...relFile.split('/')));
}

export function registerRunsView(
  s: RunServices,
  testMode: boolean,
): { tree: RunsTree; disposables: vscode.Disposable[] } {
  const tree = new RunsTree(s);
  const view = vscode.window.createTreeView(RUNS_VIEW_ID, { treeDataProvider: tree, showCollapseAll: true });
  const disposables: vscode.Disposable[] = [
    tree,
    view,
    vscode.commands.registerCommand('medalign.runs.refresh', () => s.runs.notifyChanged()),
    vscode.commands.registerCommand('medalign.runs.open', async (node?: unknown) => {
      if (!isRunNode(node)) return undefined;
      return showRunFile(s, node.summary.file, instructionUri(node.root, node.summary.instructionFile));
    }),
    vscode.commands.registerCommand('medalign.runs.rerun', async (node?: unknown) => {
      if (isRunNode(node)) {
        const r = node.summary;
        const doc = await vscode.workspace.openTextDocument(instructionUri(node.root, r.instructionFile));
        return runInstruction(s, doc, { model: r.endpointId, context: r.contextLabel, strategy: r.strategy });
      }
      if (isInstructionNode(node)) {
        const doc = await vscode.workspace.openTextDocument(instructionUri(node.root, node.file));
        return runInstruction(s, doc);
      }
      return undefined;
    }),
    vscode.commands.registerCommand('medalign.runs.compare', (node?: unknown) => {
      if (!isRunNode(node)) return undefined;
      return vscode.commands.executeCommand(
        COMPARE_COMMAND,
        instructionUri(node.root, node.summary.instructionFile),
        node.summary.file,
      );
    }),
    vscode.commands.registerCommand('medalign.runs.openFile', async (node?: unknown) => {
      if (!isRunNode(node)) return;
      await vscode.window.showTextDocument(vscode.Uri.file(node.summary.file), { preview: true });
    }),
    /**
     * Deletes every failed run (status `error`) in the open projects, after one question;
     * `{ skipConfirmation: true }` is honoured only in the extension's tests. Resolves to the number deleted.
     */
    vscode.commands.registerCommand(CLEAR_FAILED_COMMAND, async (opts?: unknown) => {
      const failed: { root: string; file: string }[] = [];
      for (const root of await workspaceProjects()) {
        for (const r of await s.runs.store(root).list()) {
          if (r.status === 'error') failed.push({ root, file: r.file });
        }
      }
      if (failed.length === 0) {
        void vscode.window.showInformationMessage('MedAlign: there are no failed runs to clear.');
        return 0;
      }
      if (!skipConfirmation(testMode, opts)) {
        const del = `Delete ${failed.length} Failed Run${failed.length === 1 ? '' : 's'}`;
        const answer = await vscode.window.showWarningMessage(
          `Delete ${failed.length} failed run${failed.length === 1 ? '' : 's'}?`,
          {
            modal: true,
            detail:
              'Runs that ended with an error are removed from .medalign/runs/. Complete and cancelled runs are kept.',
          },
          del,
        );
        if (answer !== del) return 0;
      }
      let deleted = 0;
      for (const f of failed) if (await s.runs.store(f.root).delete(f.file)) deleted++;
      s.runs.notifyChanged();
      if (deleted < failed.length) {
        void vscode.window.showErrorMessage(
          `MedAlign: deleted ${deleted} of ${failed.length} failed runs; the others could not be removed.`,
        );
      }
      return deleted;
    }),
    /** Asks first; `{ skipConfirmation: true }` is honoured only in the extension's tests. */
    vscode.commands.registerCommand('medalign.runs.delete', async (node?: unknown, opts?: unknown) => {
      if (!isRunNode(node)) return false;
      const r = node.summary;
      if (!skipConfirmation(testMode, opts)) {
        const del = 'Delete';
        const answer = await vscode.window.showWarningMessage(
          `Delete the run of ${r.instructionId} on ${r.endpointId} · ${r.contextLabel} from ${new Date(r.createdAt).toLocaleString()}?`,
          { modal: true, detail: `${path.relative(node.root, r.file)} will be removed from disk.` },
          del,
        );
        if (answer !== del) return false;
      }
      const ok = await s.runs.store(node.root).delete(r.file);
      s.runs.notifyChanged();
      if (!ok) void vscode.window.showErrorMessage(`MedAlign: could not delete ${path.basename(r.file)}.`);
      return ok;
    }),
  ];
  return { tree, disposables };
}
