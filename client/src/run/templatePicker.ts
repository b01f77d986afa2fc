/**
 * The template step of the run matrix: the instruction's own template ("as written"), MedAlign's
 * built-in prompt, and every `.prompt` file of the project, several at once. A chosen template
 * becomes the run's `template` override (a file URI, or `builtin`), resolved and bounds-checked by
 * the language server like the front matter's own.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { InstructionInfo } from './project';
import { BACK, pickStep } from './quickInput';
import type { Back, StepPosition } from './quickInput';

export const AS_WRITTEN = 'As written in the file';
export const BUILTIN = 'builtin';

export interface TemplateChoice {
  /** `undefined`: as written; `builtin`; else a file URI. */
  value: string | undefined;
  /** As shown in column titles (`as written`, `builtin`, `templates/terse.prompt`). */
  label: string;
}

/** The `.prompt` files of the instruction's project (at most 200), sorted. */
async function projectTemplates(root: string): Promise<vscode.Uri[]> {
  const found = await vscode.workspace.findFiles(
    new vscode.RelativePattern(vscode.Uri.file(root), '**/*.prompt'),
    '**/{node_modules,.medalign,.git}/**',
    200,
  );
  return found.sort((a, b) => (a.fsPath < b.fsPath ? -1 : 1));
}

export async function pickTemplates(
  info: InstructionInfo,
  title: string,
  pos: Partial<StepPosition>,
  current: readonly TemplateChoice[] | undefined,
): Promise<TemplateChoice[] | Back | undefined> {
  type Item = vscode.QuickPickItem & { choice: TemplateChoice };
  const items: Item[] = [
    {
      label: AS_WRITTEN,
      description: 'the template the file names, else the config default',
      choice: { value: undefined, label: 'as written' },
    },
    {
      label: BUILTIN,
      description: "MedAlign's own prompt",
      choice: { value: BUILTIN, label: BUILTIN },
    },
  ];
  for (const uri of await projectTemplates(info.root)) {
    const rel = path.relative(info.root, uri.fsPath).split(path.sep).join('/');
    items.push({ label: rel, description: 'prompt template', choice: { value: uri.toString(), label: rel } });
  }
  const chosen = current?.map((c) => c.value) ?? [undefined];
  const picked = await pickStep({
    title,
    ...pos,
    items,
    many: true,
    placeholder: 'Templates to run (Space to check, Enter to run)',
    active: (i) => i.choice.value === chosen[0],
    selected: (i) => chosen.includes(i.choice.value),
  });
  if (picked === BACK || picked === undefined) return picked;
  return picked.length > 0 ? picked.map((p) => p.choice) : [{ value: undefined, label: 'as written' }];
}
