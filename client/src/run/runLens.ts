/**
 * The run-lens: CodeLens above `## Instruction` — `▶ Run · <model> · <context>`, `Model…`,
 * `Context…`, and once the instruction has runs, `Compare with gold` and `Last run`. (The language
 * server adds `Preview prompt` on the same line.)
 */
import * as vscode from 'vscode';
import { CONFIG_FILE_NAME } from '../../../engine/src';
import { instructionInfo } from './project';
import { PICK_CONTEXT_COMMAND, PICK_MODEL_COMMAND } from './pickers';
import { LAST_RUN_COMMAND, RUN_COMMAND } from './runCommands';
import { COMPARE_COMMAND } from './goldDiff';
import type { RunServices } from './services';

const FROM = {
  window: 'chosen in this window',
  file: 'from the front matter',
  default: 'the config’s default',
} as const;

export class RunLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly s: RunServices) {
    const config = vscode.workspace.createFileSystemWatcher(`**/${CONFIG_FILE_NAME}`);
    const fire = () => this.changed.fire();
    this.disposables.push(
      config,
      config.onDidChange(fire),
      config.onDidCreate(fire),
      config.onDidDelete(fire),
      s.selection.onDidChange(fire),
      s.runs.onDidChange(fire),
      vscode.workspace.onDidGrantWorkspaceTrust(fire),
    );
  }

  async provideCodeLenses(doc: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    if (doc.uri.scheme !== 'file') return [];
    const info = await instructionInfo(doc, this.s.selection.get(doc.uri));
    if (info.instructionLine === undefined) return [];
    const range = new vscode.Range(info.instructionLine, 0, info.instructionLine, 0);
    const uri = doc.uri.toString();
    const lenses: vscode.CodeLens[] = [];
    // Restricted Mode: no Run (runs read records and send them; see runsAllowed).
    if (vscode.workspace.isTrusted) {
      lenses.push(
        new vscode.CodeLens(range, {
          title: `▶ Run · ${info.model} · ${info.context}`,
          tooltip: `Run this instruction on ${info.model} (${FROM[info.modelFrom]}) with a ${info.context} context (${FROM[info.contextFrom]}), streaming the answer beside the editor`,
          command: RUN_COMMAND,
          arguments: [uri],
        }),
      );
    }
    lenses.push(
      new vscode.CodeLens(range, {
        title: 'Model…',
        tooltip: 'Choose the model: baseline or an endpoint of medalign.config.json',
        command: PICK_MODEL_COMMAND,
        arguments: [uri],
      }),
      new vscode.CodeLens(range, {
        title: 'Context…',
        tooltip: 'Choose the context length the record is packed into',
        command: PICK_CONTEXT_COMMAND,
        arguments: [uri],
      }),
    );
    if (info.id !== undefined && (await this.s.runs.hasRuns(info.root, info.id))) {
      if (info.gold !== '') {
        lenses.push(
          new vscode.CodeLens(range, {
            title: 'Compare with gold',
            tooltip: 'Diff the gold response with the last run’s answer',
            command: COMPARE_COMMAND,
            arguments: [uri],
          }),
        );
      }
      lenses.push(
        new vscode.CodeLens(range, {
          title: 'Last run',
          tooltip: 'Show the last run in the response view',
          command: LAST_RUN_COMMAND,
          arguments: [uri],
        }),
      );
    }
    return lenses;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
  }
}

export function registerRunLens(s: RunServices): vscode.Disposable[] {
  const provider = new RunLensProvider(s);
  return [
    provider,
    vscode.languages.registerCodeLensProvider({ language: 'medalign', scheme: 'file' }, provider),
  ];
}
