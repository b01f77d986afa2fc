/**
 * `MedAlign: Import Instructions…`: a MedAlign file or release folder → `.medalign` files in the
 * workspace's instructions folder, through the engine's `importDataset` (the CLI's `medalign import`).
 * A file picker (or a URI argument), progress with Cancel, and the summary as a notification whose
 * "Show problems" opens the "MedAlign Import" output with every problem and its line.
 */
import * as vscode from 'vscode';
import { DatasetError, formatImportSummary, importDataset, importTargets } from '../../engine/src';
import type { ImportSummary } from '../../engine/src';

export const IMPORT_COMMAND = 'medalign.importInstructions';
export const SHOW_PROBLEMS = 'Show problems';

/** Options a caller (or a test) may pass after the source URI. */
export interface ImportCommandOptions {
  into?: vscode.Uri;
  records?: vscode.Uri;
  linkRecords?: boolean;
  overwrite?: boolean;
  dryRun?: boolean;
}

/** Where the picker last found a source, per workspace. */
const LAST_SOURCE_FOLDER = 'medalign.import.lastSourceFolder';

/**
 * The folder the file dialog opens in: the one the user last imported from in this workspace, else
 * the workspace folder's root (VS Code's own default is the last active editor's folder, usually
 * `instructions/`, where the MedAlign files are not).
 */
async function dialogStart(state: vscode.Memento): Promise<vscode.Uri | undefined> {
  const last = state.get<string>(LAST_SOURCE_FOLDER);
  if (last) {
    const uri = vscode.Uri.parse(last);
    try {
      if ((await vscode.workspace.fs.stat(uri)).type & vscode.FileType.Directory) return uri;
    } catch {
      // gone since: the workspace root
    }
  }
  return vscode.workspace.workspaceFolders?.[0]?.uri;
}

async function pickSource(state: vscode.Memento): Promise<vscode.Uri | undefined> {
  const defaultUri = await dialogStart(state);
  const picked = await vscode.window.showOpenDialog({
    ...(defaultUri ? { defaultUri } : {}),
    title: 'Import MedAlign instructions: instructions-sample.csv, a release .tsv, or the release folder',
    openLabel: 'Import',
    canSelectFiles: true,
    canSelectFolders: true,
    canSelectMany: false,
    filters: { 'MedAlign files': ['csv', 'tsv'], 'All files': ['*'] },
  });
  const source = picked?.[0];
  if (source) {
    // Next time, start in the folder that holds what was picked (a file's folder, or beside a release folder).
    const parent = vscode.Uri.joinPath(source, '..');
    await state.update(LAST_SOURCE_FOLDER, parent.toString());
  }
  return source;
}

async function pickFolder(): Promise<vscode.WorkspaceFolder | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length <= 1) return folders[0];
  return vscode.window.showWorkspaceFolderPick({ placeHolder: 'Import into which folder?' });
}

export function registerImport(state: vscode.Memento): vscode.Disposable[] {
  const output = vscode.window.createOutputChannel('MedAlign Import');
  const command = vscode.commands.registerCommand(
    IMPORT_COMMAND,
    async (arg?: vscode.Uri, options: ImportCommandOptions = {}): Promise<ImportSummary | undefined> => {
      const source = arg instanceof vscode.Uri ? arg : await pickSource(state);
      if (!source) return undefined;
      const folder = await pickFolder();
      if (!folder && !options.into) {
        void vscode.window.showErrorMessage('MedAlign: open a folder to import instructions into.');
        return undefined;
      }
      const targets = folder ? await importTargets(folder.uri.fsPath) : undefined;
      const into = options.into?.fsPath ?? targets!.into;
      let summary: ImportSummary;
      try {
        summary = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: 'MedAlign: importing', cancellable: true },
          async (progress, token) => {
            const abort = new AbortController();
            const sub = token.onCancellationRequested(() => abort.abort());
            let done = 0;
            try {
              return await importDataset({
                source: source.fsPath,
                into,
                recordsFolder:
                  targets?.recordsFolder ??
                  vscode.Uri.joinPath(vscode.Uri.file(into), '..', 'records').fsPath,
                ...(options.records ? { records: options.records.fsPath } : {}),
                recordsMode: options.linkRecords ? 'link' : 'copy',
                dryRun: options.dryRun === true,
                overwrite: options.overwrite === true,
                signal: abort.signal,
                onProgress: (message, fraction) => {
                  const increment = fraction !== undefined ? Math.max(0, fraction * 100 - done) : undefined;
                  if (increment !== undefined) done += increment;
                  progress.report({ message, ...(increment !== undefined ? { increment } : {}) });
                },
              });
            } finally {
              sub.dispose();
            }
          },
        );
      } catch (err) {
        const message = err instanceof DatasetError ? err.message : `import failed: ${String(err)}`;
        output.appendLine(`[${new Date().toISOString()}] ${source.fsPath}: ${message}`);
        void vscode.window.showErrorMessage(`MedAlign: ${message}`);
        return undefined;
      }
      const root = folder?.uri.fsPath;
      const rel = (p: string) => (root && p.startsWith(root) ? vscode.workspace.asRelativePath(p, false) : p);
      const text = formatImportSummary(summary, rel);
      output.appendLine(`[${new Date().toISOString()}] medalign import ${source.fsPath}`);
      output.append(text);
      const [head] = text.split('\n');
      const detail = summary.problems.length + summary.conflicts.length + summary.notes.length;
      const show = detail > 0 ? [SHOW_PROBLEMS] : [];
      const notify =
        summary.problems.some((p) => p.severity === 'error') || summary.conflicts.length
          ? vscode.window.showWarningMessage
          : vscode.window.showInformationMessage;
      // Not awaited: the command returns the summary while the notification waits for the user.
      void notify(`MedAlign: ${head}`, ...show).then((choice) => {
        if (choice === SHOW_PROBLEMS) output.show(true);
      });
      return summary;
    },
  );
  return [output, command];
}
