/** The status bar item: the active instruction's model and context; a click offers run and the pickers. */
import * as vscode from 'vscode';
import { CONFIG_FILE_NAME } from '../../../engine/src';
import { instructionInfo } from './project';
import { RUN_SETTINGS_COMMAND } from './pickers';
import type { RunServices } from './services';

const FROM = { window: 'this window', file: 'front matter', default: 'config default' } as const;

export class RunStatusBar implements vscode.Disposable {
  readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private generation = 0;

  constructor(private readonly s: RunServices) {
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
