/**
 * The status bar items: the active instruction's model and context (a click offers run and the
 * pickers), and while runs are in flight a spinner with what runs and for how long (a click cancels
 * them, as REST Client's item does).
 */
import * as vscode from 'vscode';
import { CONFIG_FILE_NAME } from '../../../engine/src';
import { instructionInfo } from './project';
import { RUN_SETTINGS_COMMAND } from './pickers';
import type { RunServices } from './services';
import { CANCEL_COMMAND } from './runCommands';

const FROM = { window: 'this window', file: 'front matter', default: 'config default' } as const;

export class RunStatusBar implements vscode.Disposable {
  readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private generation = 0;

  constructor(
    private readonly s: RunServices,
    private readonly running: RunningItem,
  ) {
    this.item = vscode.window.createStatusBarItem(
      'medalign.runSettings',
      vscode.StatusBarAlignment.Right,
      100,
    );
    this.item.name = 'MedAlign Run Settings';
    const config = vscode.workspace.createFileSystemWatcher(`**/${CONFIG_FILE_NAME}`);
    const soon = () => this.schedule();
    this.disposables.push(
      this.item,
      config,
      config.onDidChange(soon),
      config.onDidCreate(soon),
      config.onDidDelete(soon),
      vscode.window.onDidChangeActiveTextEditor(() => void this.update()),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document === vscode.window.activeTextEditor?.document) this.schedule();
      }),
      s.selection.onDidChange(() => void this.update()),
    );
    void this.update();
  }

  /** What the item shows (`undefined` when hidden). */
  text: string | undefined;

  /** What the in-flight item shows (`undefined` when no run is in flight). */
  get runningText(): string | undefined {
    return this.running.text;
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.update(), 300);
  }

  async update(): Promise<void> {
    const gen = ++this.generation;
    const doc = vscode.window.activeTextEditor?.document;
    if (!doc || doc.languageId !== 'medalign' || doc.uri.scheme !== 'file') {
      this.item.hide();
      this.text = undefined;
      return;
    }
    const info = await instructionInfo(doc, this.s.selection.get(doc.uri));
    if (gen !== this.generation) return;
    this.text = `$(beaker) ${info.model} · ${info.context}`;
    this.item.text = this.text;
    this.item.tooltip = `MedAlign run settings for ${info.id ?? 'this instruction'}\nModel: ${info.model} (${FROM[info.modelFrom]})\nContext: ${info.context} (${FROM[info.contextFrom]})\nClick to run or change them.`;
    this.item.command = { command: RUN_SETTINGS_COMMAND, title: 'Run settings', arguments: [doc.uri] };
    this.item.show();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}

/** The in-flight item: `$(sync~spin) <what> · 12 s`, click to cancel; one item for every run in flight. */
export class RunningItem implements vscode.Disposable {
  readonly item: vscode.StatusBarItem;
  private readonly jobs = new Map<number, { label: string; since: number }>();
  private next = 1;
  private ticker: ReturnType<typeof setInterval> | undefined;
  text: string | undefined;

  constructor() {
    this.item = vscode.window.createStatusBarItem('medalign.running', vscode.StatusBarAlignment.Right, 101);
    this.item.name = 'MedAlign Run in Progress';
  }

  /** A run (or a matrix, a batch) started; call the result when it ends. */
  begin(label: string): () => void {
    const id = this.next++;
    this.jobs.set(id, { label, since: Date.now() });
    this.render();
    // The elapsed time ticks once a second while anything runs (a display clock, not a test timer).
    this.ticker ??= setInterval(() => this.render(), 1000);
    return () => {
      this.jobs.delete(id);
      this.render();
    };
  }

  private render(): void {
    if (this.jobs.size === 0) {
      if (this.ticker) clearInterval(this.ticker);
      this.ticker = undefined;
      this.text = undefined;
      this.item.hide();
      return;
    }
    const oldest = Math.min(...[...this.jobs.values()].map((j) => j.since));
    const secs = Math.floor((Date.now() - oldest) / 1000);
    const elapsed = secs < 60 ? `${secs} s` : `${Math.floor(secs / 60)} min ${secs % 60} s`;
    const first = [...this.jobs.values()][0];
    const what = this.jobs.size === 1 ? first.label : `${this.jobs.size} runs`;
    this.text = `$(sync~spin) ${what} · ${elapsed}`;
    this.item.text = this.text;
    this.item.tooltip = `MedAlign: ${[...this.jobs.values()].map((j) => j.label).join('\n')}\nRunning for ${elapsed}. Click to cancel.`;
    this.item.command = { command: CANCEL_COMMAND, title: 'Cancel runs' };
    this.item.show();
  }

  dispose(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.item.dispose();
  }
}
