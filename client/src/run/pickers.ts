/**
 * Quick picks for the model (`baseline` + the config's endpoint ids) and the context (2k…128k or a
 * custom size), and where to keep the choice: for this window, or written into the front matter.
 */
import * as vscode from 'vscode';
import { approvalQuery, endpointNeedsKey } from '../../../engine/src';
import type { InstructionInfo } from './project';
import {
  BASELINE_MODEL,
  labelTokens,
  contextProblem,
  endpointOrigin,
  frontMatterEdit,
  instructionDocument,
  instructionInfo,
} from './project';
import type { RunServices } from './services';

export const PICK_MODEL_COMMAND = 'medalign.pickModel';
export const PICK_CONTEXT_COMMAND = 'medalign.pickContext';
export const RUN_SETTINGS_COMMAND = 'medalign.runSettings';

export type Scope = 'window' | 'file';

export async function pickModels(
  s: RunServices,
  info: InstructionInfo,
  many: boolean,
  title: string,
): Promise<string[] | undefined> {
  type Item = vscode.QuickPickItem & { id: string };
  const items: Item[] = [
    {
      id: BASELINE_MODEL,
      label: BASELINE_MODEL,
      description: 'built in · no network, no key',
      detail: 'Extractive baseline: the record passages that best match the question (BM25).',
    },
  ];
  for (const e of info.config.endpoints) {
    const where = endpointOrigin(e);
    const q = approvalQuery(e.id, e);
    const notes: string[] = [];
    if (!where) notes.push('$(error) no valid baseUrl');
    else if (where.loopback) notes.push('on this machine');
    else if (q && s.approvals.isApproved(q)) notes.push('$(pass) approved for patient data');
    else notes.push('$(shield) not approved for patient data (you will be asked)');
    if (await s.keys.has(e)) notes.push('$(key) key set');
    else if (endpointNeedsKey(e)) notes.push('no key set');
    items.push({
      id: e.id,
      label: e.id,
      description: `${e.model} · ${where?.host ?? e.kind}`,
      detail: notes.join(' · '),
    });
  }
  for (const i of items) if (i.id === info.model) i.picked = true;
  if (many) {
    const picked = await vscode.window.showQuickPick(items, {
      title,
      canPickMany: true,
      placeHolder: 'Models to run',
    });
    return picked && picked.length > 0 ? picked.map((p) => p.id) : undefined;
  }
  const current = items.find((i) => i.id === info.model);
  if (current) current.description = `${current.description ?? ''} · current`;
  const picked = await vscode.window.showQuickPick(items, {
    title,
    placeHolder: `Model (now ${info.model})`,
  });
  return picked ? [picked.id] : undefined;
}

async function customContext(): Promise<string | undefined> {
  const v = await vscode.window.showInputBox({
    title: 'MedAlign: custom context size',
    prompt: 'A number of tokens, e.g. 20000',
    // The server checks it against the schema: the same message as diagnostics, preview and runs.
    validateInput: async (x) => (await contextProblem(x.trim())) ?? null,
  });
  return v?.trim();
}

export async function pickContexts(
  info: InstructionInfo,
  many: boolean,
  title: string,
): Promise<string[] | undefined> {
  type Item = vscode.QuickPickItem & { value?: string };
  const sizes = [...info.contextSizes];
  if (!sizes.includes(info.context)) sizes.push(info.context);
  const items: Item[] = sizes.map((c) => ({
    label: c,
    value: c,
    description: `${labelTokens(c).toLocaleString('en-US')} tokens${c === info.context ? ' · current' : ''}`,
    picked: c === info.context,
  }));
  items.push({ label: '$(edit) Custom…', description: 'another size' });
  if (many) {
    const picked = await vscode.window.showQuickPick(items, {
      title,
      canPickMany: true,
      placeHolder: 'Context lengths',
    });
    if (!picked || picked.length === 0) return undefined;
    const out = picked.filter((p) => p.value !== undefined).map((p) => p.value!);
    if (picked.some((p) => p.value === undefined)) {
      const c = await customContext();
      if (c) out.push(c);
    }
    return out.length > 0 ? out : undefined;
  }
  const picked = await vscode.window.showQuickPick(items, {
    title,
    placeHolder: `Context (now ${info.context})`,
  });
  if (!picked) return undefined;
  const value = picked.value ?? (await customContext());
  return value ? [value] : undefined;
}

async function pickScope(key: 'model' | 'context', value: string): Promise<Scope | undefined> {
  const items: (vscode.QuickPickItem & { scope: Scope })[] = [
    { label: 'For this window', description: 'until the window closes', scope: 'window' },
    { label: 'Write to the front matter', description: `${key}: ${value}`, scope: 'file' },
  ];
  return (await vscode.window.showQuickPick(items, { title: `MedAlign: use ${key} ${value}` }))?.scope;
}

/** Sets the model or context for an instruction: in this window, or in its front matter. */
export async function applyChoice(
  s: RunServices,
  doc: vscode.TextDocument,
  key: 'model' | 'context',
  value: string,
  scope: Scope,
): Promise<boolean> {
  if (scope === 'window') {
    s.selection.set(doc.uri, key, value);
    return true;
  }
  const edit = await frontMatterEdit(doc, key, value);
  if (!edit) {
    void vscode.window.showErrorMessage(
      `MedAlign: ${vscode.workspace.asRelativePath(doc.uri)} has no closed front matter to write '${key}' into.`,
    );
    return false;
  }
  const wasDirty = doc.isDirty;
  const we = new vscode.WorkspaceEdit();
  we.set(doc.uri, [edit]);
  if (!(await vscode.workspace.applyEdit(we))) return false;
  if (!wasDirty) await doc.save();
  s.selection.set(doc.uri, key, undefined);
  return true;
}

/**
 * `medalign.pickModel(uri?, model?, scope?)` and `medalign.pickContext(uri?, context?, scope?)`:
 * with all arguments nothing is asked (tests, other commands).
 */
export function registerPickers(s: RunServices): vscode.Disposable[] {
  const choose = async (
    key: 'model' | 'context',
    arg: unknown,
    value: unknown,
    scopeArg: unknown,
  ): Promise<boolean> => {
    const doc = await instructionDocument(arg);
    if (!doc) {
      void vscode.window.showWarningMessage('MedAlign: open a .medalign instruction file first.');
      return false;
    }
    const info = await instructionInfo(doc, s.selection.get(doc.uri));
    let v: string | undefined = typeof value === 'string' && value !== '' ? value : undefined;
    if (v === undefined) {
      const picked =
        key === 'model'
          ? await pickModels(s, info, false, `MedAlign: model for ${info.id ?? 'this instruction'}`)
          : await pickContexts(info, false, `MedAlign: context for ${info.id ?? 'this instruction'}`);
      v = picked?.[0];
    }
    if (v === undefined) return false;
    const problem = key === 'context' ? await contextProblem(v) : undefined;
    if (problem !== undefined) {
      void vscode.window.showErrorMessage(`MedAlign: ${problem}`);
      return false;
    }
    if (key === 'model' && v !== BASELINE_MODEL && !info.config.endpoints.some((e) => e.id === v)) {
      void vscode.window.showErrorMessage(
        `MedAlign: '${v}' is neither baseline nor an endpoint id in medalign.config.json.`,
      );
      return false;
    }
    const scope = scopeArg === 'window' || scopeArg === 'file' ? scopeArg : await pickScope(key, v);
    if (!scope) return false;
    return applyChoice(s, doc, key, v, scope);
  };
  return [
    vscode.commands.registerCommand(PICK_MODEL_COMMAND, (arg?: unknown, value?: unknown, scope?: unknown) =>
      choose('model', arg, value, scope),
    ),
    vscode.commands.registerCommand(PICK_CONTEXT_COMMAND, (arg?: unknown, value?: unknown, scope?: unknown) =>
      choose('context', arg, value, scope),
    ),
    vscode.commands.registerCommand(RUN_SETTINGS_COMMAND, async (arg?: unknown) => {
      const doc = await instructionDocument(arg);
      if (!doc) return;
      const info = await instructionInfo(doc, s.selection.get(doc.uri));
      const o = s.selection.get(doc.uri);
      type Item = vscode.QuickPickItem & { run: () => Thenable<unknown> };
      const items: Item[] = [
        {
          label: '$(play) Run',
          description: `${info.model} · ${info.context}`,
          run: () => vscode.commands.executeCommand('medalign.run', doc.uri),
        },
        {
          label: '$(server) Model…',
          description: `${info.model} (${info.modelFrom === 'window' ? 'this window' : info.modelFrom === 'file' ? 'front matter' : 'config default'})`,
          run: () => vscode.commands.executeCommand(PICK_MODEL_COMMAND, doc.uri),
        },
        {
          label: '$(symbol-ruler) Context…',
          description: `${info.context} (${info.contextFrom === 'window' ? 'this window' : info.contextFrom === 'file' ? 'front matter' : 'config default'})`,
          run: () => vscode.commands.executeCommand(PICK_CONTEXT_COMMAND, doc.uri),
        },
      ];
      if (o.model !== undefined || o.context !== undefined) {
        items.push({
          label: '$(save) Write this window’s choice to the front matter',
          description: [o.model && `model: ${o.model}`, o.context && `context: ${o.context}`]
            .filter(Boolean)
            .join(', '),
          run: async () => {
            if (o.model !== undefined) await applyChoice(s, doc, 'model', o.model, 'file');
            if (o.context !== undefined) await applyChoice(s, doc, 'context', o.context, 'file');
          },
        });
        items.push({
          label: '$(discard) Forget this window’s choice',
          description: 'use the front matter again',
          run: () => {
            s.selection.set(doc.uri, 'model', undefined);
            s.selection.set(doc.uri, 'context', undefined);
            return Promise.resolve();
          },
        });
      }
      const picked = await vscode.window.showQuickPick(items, {
        title: `MedAlign: ${info.id ?? 'instruction'}`,
      });
      await picked?.run();
    }),
  ];
}
