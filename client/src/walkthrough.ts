/**
 * The Getting Started walkthrough's commands (package.json `contributes.walkthroughs`). A step's link
 * runs while the walkthrough page is the active editor, so each command acts on "the instruction of
 * the tour": the .medalign editor the user last had active, else the sample
 * `instructions/1234555-ed-antihypertensives.medalign`, else the first instruction in the workspace.
 * They open that file beside the walkthrough and call the real commands with its URI.
 */
import * as vscode from 'vscode';

export const WALKTHROUGH_ID = 'medalign-studio.medalign-studio#gettingStarted';
export const SAMPLE_INSTRUCTION = '1234555-ed-antihypertensives.medalign';

export const WALKTHROUGH_COMMANDS = {
  show: 'medalign.showGettingStarted',
  openSample: 'medalign.walkthrough.openSample',
  hoverPatient: 'medalign.walkthrough.hoverPatient',
  previewPrompt: 'medalign.walkthrough.previewPrompt',
  runBaseline: 'medalign.walkthrough.runBaseline',
  compareWithGold: 'medalign.walkthrough.compareWithGold',
  openConfig: 'medalign.walkthrough.openConfig',
} as const;

const isInstruction = (doc: vscode.TextDocument | undefined): doc is vscode.TextDocument =>
  !!doc && doc.uri.path.endsWith('.medalign');

export function registerWalkthrough(): vscode.Disposable[] {
  let last: vscode.Uri | undefined = isInstruction(vscode.window.activeTextEditor?.document)
    ? vscode.window.activeTextEditor.document.uri
    : undefined;

  /** The tour's instruction, shown beside the walkthrough (focused). */
  const showInstruction = async (): Promise<vscode.TextEditor | undefined> => {
    const uri = last ?? (await findSample());
    if (!uri) {
      void vscode.window.showWarningMessage(
        'MedAlign: this workspace has no .medalign instruction. Open a folder with instructions (try samples/).',
      );
      return undefined;
    }
    const visible = vscode.window.visibleTextEditors.find(
      (e) => e.document.uri.toString() === uri.toString(),
    );
    const editor = await vscode.window.showTextDocument(uri, {
      viewColumn: visible?.viewColumn ?? vscode.ViewColumn.Beside,
      preview: false,
    });
    last = editor.document.uri;
    return editor;
  };
  const withInstruction =
    (act: (editor: vscode.TextEditor) => Thenable<unknown>) => async (): Promise<unknown> => {
      const editor = await showInstruction();
      return editor ? act(editor) : undefined;
    };

  return [
    vscode.window.onDidChangeActiveTextEditor((e) => {
      if (isInstruction(e?.document)) last = e.document.uri;
    }),
    vscode.commands.registerCommand(WALKTHROUGH_COMMANDS.show, () =>
      vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH_ID, false),
    ),
    vscode.commands.registerCommand(
      WALKTHROUGH_COMMANDS.openSample,
      async (): Promise<vscode.Uri | undefined> => {
        // "Open a sample" opens the sample itself, even after another instruction was active.
        const sample = await findSample();
        if (sample) last = sample;
        return (await showInstruction())?.document.uri;
      },
    ),
    vscode.commands.registerCommand(
      WALKTHROUGH_COMMANDS.hoverPatient,
      withInstruction(async (editor) => {
        const line = findKeyLine(editor.document, ['patient', 'record']);
        if (line === undefined) {
          void vscode.window.showInformationMessage(
            `MedAlign: ${vscode.workspace.asRelativePath(editor.document.uri)} names no patient or record.`,
          );
          return undefined;
        }
        const text = editor.document.lineAt(line).text;
        const pos = new vscode.Position(line, text.indexOf(':') + 2);
        editor.selection = new vscode.Selection(pos, pos);
        editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
        await vscode.commands.executeCommand('editor.action.showHover');
        return pos;
      }),
    ),
    vscode.commands.registerCommand(
      WALKTHROUGH_COMMANDS.previewPrompt,
      withInstruction((editor) =>
        vscode.commands.executeCommand('medalign.previewPrompt', editor.document.uri),
      ),
    ),
    vscode.commands.registerCommand(
      WALKTHROUGH_COMMANDS.runBaseline,
      withInstruction((editor) =>
        vscode.commands.executeCommand('medalign.run', editor.document.uri, { model: 'baseline' }),
      ),
    ),
    vscode.commands.registerCommand(
      WALKTHROUGH_COMMANDS.compareWithGold,
      withInstruction((editor) =>
        vscode.commands.executeCommand('medalign.compareWithGold', editor.document.uri),
      ),
    ),
    vscode.commands.registerCommand(WALKTHROUGH_COMMANDS.openConfig, async () => {
      const configs = await vscode.workspace.findFiles('**/medalign.config.json', '**/node_modules/**', 20);
      const from = last;
      const near = from && configs.find((c) => from.path.startsWith(c.path.replace(/[^/]*$/, '')));
      const uri = near ?? configs.sort((a, b) => a.path.length - b.path.length)[0];
      if (!uri) {
        void vscode.window.showInformationMessage(
          'MedAlign: no medalign.config.json in this workspace. Create one at the folder root; its schema completes every key.',
        );
        return undefined;
      }
      const editor = await vscode.window.showTextDocument(uri, {
        viewColumn: vscode.ViewColumn.Beside,
        preview: false,
      });
      const line = findKeyLine(editor.document, ['"endpoints"']);
      if (line !== undefined) {
        const pos = new vscode.Position(line, editor.document.lineAt(line).firstNonWhitespaceCharacterIndex);
        editor.selection = new vscode.Selection(pos, pos);
        editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.AtTop);
      }
      return uri;
    }),
  ];
}

async function findSample(): Promise<vscode.Uri | undefined> {
  const exclude = '{**/node_modules/**,**/.medalign/**}';
  const [sample] = await vscode.workspace.findFiles(`**/${SAMPLE_INSTRUCTION}`, exclude, 1);
  if (sample) return sample;
  const any = await vscode.workspace.findFiles('**/*.medalign', exclude, 50);
  return any.sort((a, b) => a.path.localeCompare(b.path))[0];
}

/** The first line whose text starts with one of `keys` followed by ':' (front matter or JSON). */
function findKeyLine(doc: vscode.TextDocument, keys: string[]): number | undefined {
  for (let i = 0; i < Math.min(doc.lineCount, 200); i++) {
    const text = doc.lineAt(i).text.trimStart();
    if (keys.some((k) => text.startsWith(`${k}:`))) return i;
  }
  return undefined;
}
