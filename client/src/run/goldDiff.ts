/**
 * "Compare with gold": a diff editor between the instruction's `## Gold response` and a run's
 * response, both read-only virtual documents (scheme `medalign-run`). The gold side follows edits
 * of the instruction.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { instructionDocument, instructionInfo } from './project';
import type { RunServices } from './services';

export const RUN_DOC_SCHEME = 'medalign-run';
export const COMPARE_COMMAND = 'medalign.compareWithGold';

export class RunDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly s: RunServices) {
    this.disposables.push(
      vscode.workspace.onDidChangeTextDocument((e) => {
        const source = e.document.uri.toString();
        for (const d of vscode.workspace.textDocuments) {
          if (d.uri.scheme === RUN_DOC_SCHEME && new URLSearchParams(d.uri.query).get('gold') === source) {
            this.changed.fire(d.uri);
          }
        }
      }),
    );
  }

  static goldUri(source: vscode.Uri, id: string): vscode.Uri {
    return vscode.Uri.from({
      scheme: RUN_DOC_SCHEME,
      path: `/${id}/Gold response.md`,
      query: new URLSearchParams({ gold: source.toString() }).toString(),
    });
  }

  static runUri(file: string, id: string, label: string): vscode.Uri {
    return vscode.Uri.from({
      scheme: RUN_DOC_SCHEME,
      path: `/${id}/${label.replace(/[/\\]/g, '_')}.md`,
      query: new URLSearchParams({ run: file }).toString(),
    });
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const q = new URLSearchParams(uri.query);
    const gold = q.get('gold');
    if (gold) {
      const info = await instructionInfo(await vscode.workspace.openTextDocument(vscode.Uri.parse(gold)));
      return info.gold === '' ? '' : `${info.gold}\n`;
    }
    const file = q.get('run');
    if (file) {
      const root = path.resolve(path.dirname(file), '..', '..', '..');
      const run = await this.s.runs.store(root).read(file);
      if (!run) return `(${path.basename(file)} is not a readable run file)\n`;
      return run.response.endsWith('\n') || run.response === '' ? run.response : `${run.response}\n`;
    }
    return '';
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
  }
}

/** Opens the diff; resolves to the two documents' URIs (or `undefined` when there is nothing to compare). */
export async function compareWithGold(
  s: RunServices,
  arg: unknown,
  runFile?: string,
): Promise<{ gold: vscode.Uri; run: vscode.Uri } | undefined> {
  const doc = await instructionDocument(arg);
  if (!doc) {
    void vscode.window.showWarningMessage('MedAlign: open a .medalign instruction file first.');
    return undefined;
  }
  const info = await instructionInfo(doc);
  if (info.id === undefined) return undefined;
  if (info.gold === '') {
    void vscode.window.showInformationMessage(
      `MedAlign: ${info.id} has no '## Gold response' to compare with.`,
    );
    return undefined;
  }
  const store = s.runs.store(info.root);
  const found = runFile ? { file: runFile, run: await store.read(runFile) } : await store.latest(info.id);
  if (!found?.run) {
    void vscode.window.showInformationMessage(`MedAlign: ${info.id} has not been run yet.`);
    return undefined;
  }
  const label = `${found.run.endpoint.id} · ${found.run.contextLabel}`;
  const gold = RunDocuments.goldUri(doc.uri, info.id);
  const run = RunDocuments.runUri(found.file, info.id, `${label} · ${found.run.id}`);
  await vscode.commands.executeCommand('vscode.diff', gold, run, `${info.id}: gold ↔ ${label}`, {
    preview: true,
  } satisfies vscode.TextDocumentShowOptions);
  return { gold, run };
}

export function registerGoldDiff(s: RunServices): vscode.Disposable[] {
  const docs = new RunDocuments(s);
  return [
    docs,
    vscode.workspace.registerTextDocumentContentProvider(RUN_DOC_SCHEME, docs),
    /** `medalign.compareWithGold(uri?, runFile?)`: the last run unless a run file is given. */
    vscode.commands.registerCommand(COMPARE_COMMAND, (arg?: unknown, runFile?: unknown) =>
      compareWithGold(s, arg, typeof runFile === 'string' ? runFile : undefined),
    ),
  ];
}
