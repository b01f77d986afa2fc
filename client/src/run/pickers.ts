/**
 * Quick picks for the model (`baseline` + the config's endpoint ids), the context (2k…128k with
 * what fits at each size, or a custom size) and the strategy (every strategy of the schema with what
 * it keeps at the instruction's model and context), and where to keep the choice: for this window, or
 * written into the front matter. Multi-step (quickInput.ts): "step n of m", Back, the current value
 * preselected, titles naming the file.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { approvalQuery, endpointNeedsKey } from '../../../engine/src';
import type { InstructionInfo } from './project';
import {
  BASELINE_MODEL,
  labelTokens,
  contextFit,
  contextProblem,
  endpointOrigin,
  strategyFit,
  strategyProblem,
  frontMatterEdit,
  instructionDocument,
  instructionInfo,
} from './project';
import type { RunServices } from './services';
import { BACK, inputStep, pickStep } from './quickInput';
import type { Back, StepPosition } from './quickInput';

export const PICK_MODEL_COMMAND = 'medalign.pickModel';
export const PICK_CONTEXT_COMMAND = 'medalign.pickContext';
export const PICK_STRATEGY_COMMAND = 'medalign.pickStrategy';
export const RUN_SETTINGS_COMMAND = 'medalign.runSettings';

type Key = 'model' | 'context' | 'strategy';

export type Scope = 'window' | 'file';

/** `MedAlign: model for 2000002-bp-2020.medalign`: pickers name the file, not its numeric id. */
export function pickerTitle(what: string, file: string): string {
  return `MedAlign: ${what} ${path.basename(file)}`;
}

const FROM: Record<InstructionInfo['modelFrom'], string> = {
  window: 'this window',
  file: 'front matter',
  default: 'config default',
};

/**
 * The model step: `baseline` and the config's endpoints, the current model active (or checked when
 * picking many). `current` overrides which is preselected (the value chosen before going Back).
 */
export async function pickModels(
  s: RunServices,
  info: InstructionInfo,
  many: boolean,
  title: string,
  pos: Partial<StepPosition> = {},
  current: readonly string[] = [info.model],
): Promise<string[] | Back | undefined> {
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
  const now = items.find((i) => i.id === info.model);
  if (now) now.description = `${now.description ?? ''} · current (${FROM[info.modelFrom]})`;
  const picked = await pickStep({
    title,
    ...pos,
    items,
    many,
    placeholder: many ? 'Models to run (Space to check, Enter to go on)' : `Model (now ${info.model})`,
    active: (i) => i.id === current[0],
    selected: (i) => current.includes(i.id),
  });
  if (picked === BACK || picked === undefined) return picked;
  return picked.map((p) => p.id);
}

/** A context size typed by the user, checked by the server as it is typed. */
function customContext(title: string, pos: Partial<StepPosition>, value?: string) {
  return inputStep({
    title,
    ...pos,
    prompt: 'A context size in tokens, e.g. 20000, or a label such as 24k',
    placeholder: '20000',
    ...(value !== undefined ? { value } : {}),
    // The server checks it against the schema: the same message as diagnostics, preview and runs.
    validate: contextProblem,
  });
}

export interface ContextChoice {
  values: string[];
  /** A custom size was typed (one step more than planned). */
  custom: boolean;
}

/**
 * The context step: the schema's sizes, each with what the instruction's record keeps at that size
 * and back to which date (`medalign/contextFit`, filled in once the server answers), and `Custom…`.
 */
export async function pickContexts(
  doc: vscode.TextDocument,
  s: RunServices,
  info: InstructionInfo,
  many: boolean,
  title: string,
  pos: Partial<StepPosition> = {},
  current: readonly string[] = [info.context],
): Promise<ContextChoice | Back | undefined> {
  type Item = vscode.QuickPickItem & { value?: string; disabled?: string };
  const sizes = [...info.contextSizes];
  for (const c of current) if (!sizes.includes(c)) sizes.push(c);
  // Sizes above the endpoint's context window are greyed out, with the reason (the server's words).
  const window = info.contextWindow;
  const above = (c: string) =>
    window !== undefined && labelTokens(c) > window
      ? `$(circle-slash) above the context window of '${info.model}' (${window.toLocaleString('en-US')} tokens, contextWindow in medalign.config.json)`
      : undefined;
  const base = (): Item[] => [
    ...sizes.map((c) => {
      const disabled = above(c);
      const item: Item = {
        label: c,
        value: c,
        description: `${labelTokens(c).toLocaleString('en-US')} tokens${c === info.context ? ` · current (${FROM[info.contextFrom]})` : ''}`,
        detail:
          disabled ?? (info.contextSizes.includes(c) ? '$(loading~spin) counting what fits…' : 'custom size'),
      };
      if (disabled !== undefined) item.disabled = disabled;
      return item;
    }),
    { label: CUSTOM, description: 'another size in tokens' },
  ];
  const refine = async (): Promise<Item[]> => {
    const fit = await contextFit(doc, s.selection.get(doc.uri));
    const items = base();
    for (const i of items) {
      if (i.value === undefined || i.disabled !== undefined) continue;
      const row = fit.rows.find((r) => r.label === i.value);
      if (row) {
        i.detail = `${row.kept}${row.backTo ? ` · back to ${row.backTo}` : ''}`;
        // tokenizer: server without the endpoint's counts: the current size says why these are estimates.
        if (fit.warning !== undefined) i.detail += row.current ? ` · ${fit.warning}` : ' · estimate';
      } else if (fit.ok || !info.contextSizes.includes(i.value)) i.detail = 'custom size';
      else i.detail = `no fit: ${fit.message ?? 'the record could not be measured'}`;
    }
    return items;
  };
  let values: string[] = [...current];
  for (;;) {
    const picked = await pickStep<Item>({
      title,
      ...pos,
      items: base(),
      many,
      placeholder: `${many ? 'Context lengths to run (Space to check, Enter to go on)' : `Context (now ${info.context})`} · what the ${info.strategy} strategy keeps of the record`,
      active: (i) => i.value === values[0],
      selected: (i) => i.value !== undefined && values.includes(i.value),
      refine,
    });
    if (picked === BACK || picked === undefined) return picked;
    const refused = picked.find((p) => p.disabled !== undefined);
    if (refused !== undefined) {
      // A greyed-out size: say why and ask again.
      void vscode.window.showWarningMessage(
        `${refused.label} is ${refused.disabled!.replace('$(circle-slash) ', '')}.`,
      );
      values = picked.filter((p) => p.value !== undefined && p.disabled === undefined).map((p) => p.value!);
      continue;
    }
    values = picked.filter((p) => p.value !== undefined).map((p) => p.value!);
    if (!picked.some((p) => p.value === undefined))
      return values.length > 0 ? { values, custom: false } : undefined;
    const more: Partial<StepPosition> =
      pos.step !== undefined && pos.totalSteps !== undefined
        ? { step: pos.step + 1, totalSteps: pos.totalSteps + 1 }
        : { step: 2, totalSteps: 2 };
    const c = await customContext(`${title} — custom size`, more);
    if (c === BACK) continue;
    if (c === undefined) return undefined;
    if (!values.includes(c)) values.push(c);
    return { values, custom: true };
  }
}

const CUSTOM = '$(edit) Custom…';

/**
 * The strategy step: every strategy of the schema, each with what it keeps of the record at the
 * instruction's model and context (`medalign/strategyFit`: tokens kept, whether the XML sent is
 * well-formed, where the cut falls, refine's steps; filled in once the server answers), the current
 * strategy active.
 */
export async function pickStrategy(
  doc: vscode.TextDocument,
  s: RunServices,
  info: InstructionInfo,
  title: string,
  pos: Partial<StepPosition> = {},
  current: string = info.strategy,
): Promise<string | Back | undefined> {
  type Item = vscode.QuickPickItem & { value: string };
  const now = (name: string) => (name === info.strategy ? ` · current (${FROM[info.strategyFrom]})` : '');
  const names = [...info.strategies];
  if (!names.includes(info.strategy)) names.push(info.strategy);
  const base = (): Item[] =>
    names.map((name) => ({
      label: name,
      value: name,
      description: now(name).replace(/^ · /, ''),
      detail: info.strategies.includes(name)
        ? '$(loading~spin) packing the record with this strategy…'
        : '$(error) not a strategy of the schema',
    }));
  const refine = async (): Promise<Item[]> => {
    const fit = await strategyFit(doc, s.selection.get(doc.uri));
    return base().map((i) => {
      const known = fit.strategies.find((x) => x.name === i.value);
      if (!known) return i;
      const row = fit.rows.find((r) => r.name === i.value);
      const icon = !row
        ? '$(info)'
        : !row.ok
          ? '$(error)'
          : row.wellFormed === false
            ? '$(warning)'
            : '$(pass)';
      // What it keeps on the label's line; the XML and the cut below, then what the strategy is.
      return {
        ...i,
        description: row ? `${row.keptLine}${now(i.value)}` : `${known.summary}${now(i.value)}`,
        detail: row
          ? `${icon} ${row.cutLine} — ${known.summary}`
          : `${icon} not measured: ${fit.message ?? 'the record could not be packed'}`,
      };
    });
  };
  const picked = await pickStep<Item>({
    title,
    ...pos,
    items: base(),
    placeholder: `Strategy (now ${info.strategy}) · what each keeps of the record at ${info.context} for ${info.model}`,
    active: (i) => i.value === current,
    refine,
  });
  if (picked === BACK || picked === undefined) return picked;
  return picked[0].value;
}

async function pickScope(
  key: Key,
  value: string,
  info: InstructionInfo,
  title: string,
  pos: Partial<StepPosition>,
): Promise<Scope | Back | undefined> {
  const items: (vscode.QuickPickItem & { scope: Scope })[] = [
    {
      label: 'For this window',
      description: 'until the window closes; the file is not changed',
      scope: 'window',
    },
    { label: 'Write to the front matter', description: `${key}: ${value}`, scope: 'file' },
  ];
  const from = key === 'model' ? info.modelFrom : key === 'context' ? info.contextFrom : info.strategyFrom;
  const picked = await pickStep({
    title,
    ...pos,
    items,
    placeholder: `Where to keep ${key} ${value}`,
    active: (i) => i.scope === (from === 'file' ? 'file' : 'window'),
  });
  if (picked === BACK || picked === undefined) return picked;
  return picked[0].scope;
}

/** Sets the model, context or strategy for an instruction: in this window, or in its front matter. */
export async function applyChoice(
  s: RunServices,
  doc: vscode.TextDocument,
  key: Key,
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
 * `medalign.pickModel(uri?, model?, scope?)`, `medalign.pickContext(uri?, context?, scope?)` and
 * `medalign.pickStrategy(uri?, strategy?, scope?)`: with all arguments nothing is asked (tests,
 * other commands).
 */
export function registerPickers(s: RunServices): vscode.Disposable[] {
  const choose = async (key: Key, arg: unknown, value: unknown, scopeArg: unknown): Promise<boolean> => {
    const doc = await instructionDocument(arg);
    if (!doc) {
      void vscode.window.showWarningMessage('MedAlign: open a .medalign instruction file first.');
      return false;
    }
    const info = await instructionInfo(doc, s.selection.get(doc.uri));
    const given: string | undefined = typeof value === 'string' && value !== '' ? value : undefined;
    const title = pickerTitle(`${key} for`, doc.uri.fsPath);
    const fixedScope = scopeArg === 'window' || scopeArg === 'file' ? scopeArg : undefined;
    // Step 1 the value (skipped when given), step 2 where to keep it; a custom size adds a step.
    let v = given;
    let chosen: string | undefined;
    let extra = 0;
    for (;;) {
      const steps = (given === undefined ? 1 + extra : 0) + (fixedScope ? 0 : 1);
      if (given === undefined && chosen === undefined) {
        const pos = { step: 1, totalSteps: fixedScope ? 1 : 2 };
        if (key === 'model') {
          const m = await pickModels(s, info, false, title, pos, v !== undefined ? [v] : undefined);
          if (m === BACK || m === undefined) return false;
          chosen = m[0];
          extra = 0;
        } else if (key === 'strategy') {
          const st = await pickStrategy(doc, s, info, title, pos, v);
          if (st === BACK || st === undefined) return false;
          chosen = st;
          extra = 0;
        } else {
          const c = await pickContexts(doc, s, info, false, title, pos, v !== undefined ? [v] : undefined);
          if (c === BACK || c === undefined) return false;
          chosen = c.values[c.values.length - 1];
          extra = c.custom ? 1 : 0;
        }
        v = chosen;
        continue;
      }
      if (v === undefined) return false;
      const problem =
        key === 'context'
          ? await contextProblem(v)
          : key === 'strategy'
            ? await strategyProblem(v)
            : undefined;
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
      const scope = fixedScope ?? (await pickScope(key, v, info, title, { step: steps, totalSteps: steps }));
      if (scope === BACK) {
        chosen = undefined;
        continue;
      }
      if (!scope) return false;
      return applyChoice(s, doc, key, v, scope);
    }
  };
  return [
    vscode.commands.registerCommand(PICK_MODEL_COMMAND, (arg?: unknown, value?: unknown, scope?: unknown) =>
      choose('model', arg, value, scope),
    ),
    vscode.commands.registerCommand(PICK_CONTEXT_COMMAND, (arg?: unknown, value?: unknown, scope?: unknown) =>
      choose('context', arg, value, scope),
    ),
    vscode.commands.registerCommand(
      PICK_STRATEGY_COMMAND,
      (arg?: unknown, value?: unknown, scope?: unknown) => choose('strategy', arg, value, scope),
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
          description: `${info.model} (${FROM[info.modelFrom]})`,
          run: () => vscode.commands.executeCommand(PICK_MODEL_COMMAND, doc.uri),
        },
        {
          label: '$(symbol-ruler) Context…',
          description: `${info.context} (${FROM[info.contextFrom]})`,
          run: () => vscode.commands.executeCommand(PICK_CONTEXT_COMMAND, doc.uri),
        },
        {
          label: '$(layers) Strategy…',
          description: `${info.strategy} (${FROM[info.strategyFrom]})`,
          run: () => vscode.commands.executeCommand(PICK_STRATEGY_COMMAND, doc.uri),
        },
      ];
      if (o.model !== undefined || o.context !== undefined || o.strategy !== undefined) {
        items.push({
          label: '$(save) Write this window’s choice to the front matter',
          description: [
            o.model && `model: ${o.model}`,
            o.context && `context: ${o.context}`,
            o.strategy && `strategy: ${o.strategy}`,
          ]
            .filter(Boolean)
            .join(', '),
          run: async () => {
            if (o.model !== undefined) await applyChoice(s, doc, 'model', o.model, 'file');
            if (o.context !== undefined) await applyChoice(s, doc, 'context', o.context, 'file');
            if (o.strategy !== undefined) await applyChoice(s, doc, 'strategy', o.strategy, 'file');
          },
        });
        items.push({
          label: '$(discard) Forget this window’s choice',
          description: 'use the front matter again',
          run: () => {
            s.selection.set(doc.uri, 'model', undefined);
            s.selection.set(doc.uri, 'context', undefined);
            s.selection.set(doc.uri, 'strategy', undefined);
            return Promise.resolve();
          },
        });
      }
      const picked = await pickStep({
        title: pickerTitle('run settings for', doc.uri.fsPath),
        items,
        placeholder: `${info.model} · ${info.context} · ${info.strategy}`,
      });
      if (picked !== BACK) await picked?.[0].run();
    }),
  ];
}
