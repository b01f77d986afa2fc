/**
 * The model, context and strategy chosen for an instruction in this window (quick picks, status bar). They
 * override the front matter until the window closes, unless the user writes them into the file.
 */
import * as vscode from 'vscode';
import type { Overrides } from './project';

export class RunSelection implements vscode.Disposable {
  private readonly map = new Map<string, Overrides>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  get(uri: vscode.Uri): Overrides {
    return { ...(this.map.get(uri.toString()) ?? {}) };
  }

  set(uri: vscode.Uri, key: keyof Overrides, value: string | undefined): void {
    const k = uri.toString();
    const o = { ...(this.map.get(k) ?? {}) };
    if (value === undefined) delete o[key];
    else o[key] = value;
    if (o.model === undefined && o.context === undefined && o.strategy === undefined) this.map.delete(k);
    else this.map.set(k, o);
    this.changed.fire(uri);
  }

  dispose(): void {
    this.changed.dispose();
  }
}
