/**
 * Which instructions have runs, for the lens ("Compare with gold", "Last run") and the Runs view:
 * looks at `.medalign/runs/<id>/` (cached until a run file changes), and one RunStore per project.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { MEDALIGN_DIR, RUNS_DIR, RunStore, runDirName } from '../../../engine/src';

export class RunsIndex implements vscode.Disposable {
  private readonly exists = new Map<string, Promise<boolean>>();
  private readonly stores = new Map<string, RunStore>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    const watcher = vscode.workspace.createFileSystemWatcher(`**/${MEDALIGN_DIR}/${RUNS_DIR}/**`);
    const on = () => this.changedOnDisk();
    this.disposables.push(watcher, watcher.onDidCreate(on), watcher.onDidDelete(on), watcher.onDidChange(on));
  }

  store(root: string): RunStore {
    let s = this.stores.get(root);
    if (!s) this.stores.set(root, (s = new RunStore(root)));
    return s;
  }

  /** True when `.medalign/runs/<id>/` holds at least one run file. */
  hasRuns(root: string, instructionId: string): Promise<boolean> {
    const dir = path.join(root, MEDALIGN_DIR, RUNS_DIR, runDirName(instructionId));
    let p = this.exists.get(dir);
    if (!p) {
      p = fsp
        .readdir(dir)
        .then((names) => names.some((n) => n.endsWith('.json') && !n.startsWith('.')))
        .catch(() => false);
      this.exists.set(dir, p);
    }
    return p;
  }

  /** Runs were saved or deleted (by this window: immediately; on disk: debounced). */
  notifyChanged(): void {
    this.exists.clear();
    this.changed.fire();
  }

  private changedOnDisk(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.notifyChanged();
    }, 200);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
  }
}
