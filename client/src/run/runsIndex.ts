/**
 * Which instruction files have runs, for the lens ("Compare with gold", "Last run") and the Runs
 * view: reads `.medalign/runs/<id>/` (cached until a run file changes) and keeps the runs of each
 * file apart; one RunStore per project.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { StoredSummary } from '../../../engine/src';
import { MEDALIGN_DIR, RUNS_DIR, RunStore, isAnswered, runDirName } from '../../../engine/src';

/** A file's path as a run records it: relative to the project root, `/`-separated. */
export function relativeRunFile(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}

/** What the lens needs to know about one instruction file's runs. */
export interface FileRuns {
  /** This file's runs, newest first. */
  runs: StoredSummary[];
  /** The newest complete run with an answer (what "Compare with gold" shows). */
  answered?: StoredSummary;
  /** Other instruction files whose runs carry the same id. */
  otherFiles: string[];
}

export class RunsIndex implements vscode.Disposable {
  private readonly lists = new Map<string, Promise<StoredSummary[]>>();
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

  /**
   * The runs of one instruction file (runs are keyed by file and id: two files that share an id do
   * not share "Last run"), and the other files whose runs carry the same id. Cached per
   * `.medalign/runs/<id>/` until a run file changes.
   */
  async runsOf(root: string, instructionId: string, file: string): Promise<FileRuns> {
    const dir = path.join(root, MEDALIGN_DIR, RUNS_DIR, runDirName(instructionId));
    let p = this.lists.get(dir);
    if (!p) {
      p = this.store(root)
        .list({ instructionId })
        .catch(() => []);
      this.lists.set(dir, p);
    }
    const relFile = relativeRunFile(root, file);
    const all = await p;
    const mine = all.filter((r) => r.instructionFile === relFile);
    const others = [
      ...new Set(all.filter((r) => r.instructionFile !== relFile).map((r) => r.instructionFile)),
    ];
    const out: FileRuns = { runs: mine, otherFiles: others };
    const answered = mine.find(isAnswered);
    if (answered) out.answered = answered;
    return out;
  }

  /** Runs were saved or deleted (by this window: immediately; on disk: debounced). */
  notifyChanged(): void {
    this.lists.clear();
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
