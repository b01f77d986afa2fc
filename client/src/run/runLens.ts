/**
 * The run-lens: CodeLens above `## Instruction` — `▶ Run · <model> · <context>`, `Model…`,
 * `Context…`, `Strategy…`, and once the file has runs, `Compare with gold` (a complete run with an answer) and
 * `Last run`. A file that cannot run (broken front matter, an invalid context…) gets
 * `Cannot run: <why>` instead of ▶ Run, which goes to the problem. (The language server adds
 * `Preview prompt` on the same line.)
 */
import * as vscode from 'vscode';
import { CONFIG_FILE_NAME, isAnswered } from '../../../engine/src';
import { instructionInfo } from './project';
import { PICK_CONTEXT_COMMAND, PICK_MODEL_COMMAND, PICK_STRATEGY_COMMAND } from './pickers';
import { LAST_RUN_COMMAND, RUN_COMMAND } from './runCommands';
import { COMPARE_COMMAND } from './goldDiff';
import { REVIEW_COMMAND } from '../review';
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
    const line = info.instructionLine ?? (info.blocker ? 0 : undefined);
    if (line === undefined) return [];
    const range = new vscode.Range(line, 0, line, 0);
    const uri = doc.uri.toString();
    const lenses: vscode.CodeLens[] = [];
    if (info.blocker) {
      // Not offered to run: say why, and go to the problem on click.
      const b = info.blocker;
      lenses.push(
        new vscode.CodeLens(range, {
          title: `$(warning) Cannot run: ${clip(b.message, 70)}`,
          tooltip: `${b.message}\nClick to go to the problem.`,
          command: 'vscode.open',
          arguments: [
            doc.uri,
            { selection: b.range, preview: false } satisfies vscode.TextDocumentShowOptions,
          ],
        }),
      );
    } else if (vscode.workspace.isTrusted) {
      // Restricted Mode: no Run (runs read records and send them; see runsAllowed).
      lenses.push(
        new vscode.CodeLens(range, {
          title: `▶ Run · ${info.model} · ${info.context}${info.refineSteps !== undefined ? ` · refine · ${info.refineSteps} step${info.refineSteps === 1 ? '' : 's'}` : ''}`,
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
      new vscode.CodeLens(range, {
        title: 'Strategy…',
        tooltip: `Choose how the record is fitted into the context (now ${info.strategy}, ${FROM[info.strategyFrom]}): each strategy with what it keeps at ${info.context}`,
        command: PICK_STRATEGY_COMMAND,
        arguments: [uri],
      }),
    );
    if (info.id === undefined) return lenses;
    // Runs are keyed by file and id: another file with the same id does not lend its runs here.
    const runs = await this.s.runs.runsOf(info.root, info.id, doc.uri.fsPath);
    const shared =
      runs.otherFiles.length > 0
        ? `\nId ${info.id} is also used by ${runs.otherFiles.join(', ')}; their runs are not shown here. Give each file its own id.`
        : '';
    if (runs.answered && info.gold !== '') {
      lenses.push(
        new vscode.CodeLens(range, {
          title: 'Compare with gold',
          tooltip: `Word diff of the gold response and the latest complete run (${runs.answered.endpointId} · ${runs.answered.contextLabel})${shared}`,
          command: COMPARE_COMMAND,
          arguments: [uri],
        }),
      );
    }
    // Review once two or more endpoint/context pairs have a complete answer to compare.
    const pairs = new Set(
      runs.runs.filter(isAnswered).map((r) => `${r.endpointId}\u0000${r.model}\u0000${r.context}`),
    );
    if (pairs.size >= 2) {
      lenses.push(
        new vscode.CodeLens(range, {
          title: 'Review',
          tooltip: `Judge and rank the latest answers of ${pairs.size} models/contexts (blinded), in the review panel${shared}`,
          command: REVIEW_COMMAND,
          arguments: [uri],
        }),
      );
    }
    const last = runs.runs[0];
    if (last) {
      lenses.push(
        new vscode.CodeLens(range, {
          title: runs.otherFiles.length > 0 ? '$(warning) Last run' : 'Last run',
          tooltip: `Show the last run of this file in the response view (${last.endpointId} · ${last.contextLabel} · ${last.status})${shared}`,
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

function clip(text: string, max: number): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

export function registerRunLens(s: RunServices): vscode.Disposable[] {
  const provider = new RunLensProvider(s);
  return [
    provider,
    vscode.languages.registerCodeLensProvider({ language: 'medalign', scheme: 'file' }, provider),
  ];
}
