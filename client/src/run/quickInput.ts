/**
 * Multi-step quick inputs (VS Code's multi-step pattern): each step shows "step n of m" in its
 * title bar and a Back button from the second step on, opens with the current value active (or
 * checked), and may fill its items in after opening (the context picker's "what fits", asked of the
 * server). The test hooks read the open step through `quickInputState`.
 */
import * as vscode from 'vscode';

/** Returned by a step when the user pressed Back. */
export const BACK = Symbol('back');
export type Back = typeof BACK;

export interface StepPosition {
  step: number;
  totalSteps: number;
}

export interface PickStep<I extends vscode.QuickPickItem> extends Partial<StepPosition> {
  title: string;
  placeholder?: string;
  items: I[];
  many?: boolean;
  /** The item active at open (single choice), e.g. the current value. */
  active?: (item: I) => boolean;
  /** The items checked at open (many). */
  selected?: (item: I) => boolean;
  /** Fills in the items after the picker opened (the picker shows its busy bar meanwhile). */
  refine?: (items: I[]) => Promise<I[] | undefined>;
}

/** What the open quick input shows (tests). */
export interface QuickInputState {
  kind: 'pick' | 'input';
  title: string;
  step?: number;
  totalSteps?: number;
  placeholder: string;
  back: boolean;
  busy: boolean;
  items: { label: string; description: string; detail: string }[];
  active: string[];
  selected: string[];
  value: string;
  validationMessage: string;
}

let open: vscode.QuickPick<vscode.QuickPickItem> | vscode.InputBox | undefined;

/** The quick input this extension shows now, as a plain object (`undefined`: none). */
export function quickInputState(): QuickInputState | undefined {
  if (!open) return undefined;
  const base = {
    title: open.title ?? '',
    placeholder: open.placeholder ?? '',
    back: open.buttons.includes(vscode.QuickInputButtons.Back),
    busy: open.busy,
  };
  const pos: { step?: number; totalSteps?: number } = {};
  if (open.step !== undefined) pos.step = open.step;
  if (open.totalSteps !== undefined) pos.totalSteps = open.totalSteps;
  if ('items' in open) {
    return {
      kind: 'pick',
      ...base,
      ...pos,
      items: open.items.map((i) => ({
        label: i.label,
        description: i.description ?? '',
        detail: i.detail ?? '',
      })),
      active: open.activeItems.map((i) => i.label),
      selected: open.selectedItems.map((i) => i.label),
      value: open.value,
      validationMessage: '',
    };
  }
  const vm = open.validationMessage;
  return {
    kind: 'input',
    ...base,
    ...pos,
    items: [],
    active: [],
    selected: [],
    value: open.value,
    validationMessage: typeof vm === 'string' ? vm : (vm?.message ?? ''),
  };
}

/**
 * Marks the open picker's items with these labels as chosen (checked when it picks many, else
 * active), as clicking them would; the test then accepts with `workbench.action.acceptSelectedQuickOpenItem`.
 * Resolves once the workbench reports that choice back (a picker just shown may still report its
 * initial choice afterwards, which would undo an earlier one: the choice is made again then).
 */
export async function chooseInQuickInput(labels: string[]): Promise<boolean> {
  const same = (xs: readonly vscode.QuickPickItem[]) =>
    xs.length === labels.length && xs.every((x) => labels.includes(x.label));
  for (let attempt = 0; attempt < 5; attempt++) {
    const q = open;
    if (!q || !('items' in q)) return false;
    const items = q.items.filter((i) => labels.includes(i.label));
    if (items.length !== labels.length) return false;
    const echoed = new Promise<boolean>((resolve) => {
      const event = q.canSelectMany ? q.onDidChangeSelection : q.onDidChangeActive;
      const sub = event((xs) => {
        if (!same(xs)) return;
        clearTimeout(timer);
        sub.dispose();
        resolve(true);
      });
      const timer = setTimeout(() => {
        sub.dispose();
        resolve(false);
      }, 1500);
    });
    if (q.canSelectMany) q.selectedItems = items;
    else q.activeItems = items;
    await echoed;
    if (open === q && same(q.canSelectMany ? q.selectedItems : q.activeItems)) return true;
  }
  return false;
}

function position(q: vscode.QuickInput, p: Partial<StepPosition>): void {
  if (p.step !== undefined && p.totalSteps !== undefined && p.totalSteps > 1) {
    q.step = p.step;
    q.totalSteps = p.totalSteps;
  }
}

/** One picker step: the chosen items, `BACK`, or `undefined` when dismissed. */
export function pickStep<I extends vscode.QuickPickItem>(p: PickStep<I>): Promise<I[] | Back | undefined> {
  const qp = vscode.window.createQuickPick<I>();
  qp.title = p.title;
  position(qp, p);
  qp.placeholder = p.placeholder ?? '';
  qp.canSelectMany = p.many === true;
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  if ((p.step ?? 1) > 1) qp.buttons = [vscode.QuickInputButtons.Back];
  const show = (items: I[], keepFrom?: { active: string[]; selected: string[] }) => {
    qp.items = items;
    if (keepFrom) {
      qp.selectedItems = items.filter((i) => keepFrom.selected.includes(i.label));
      qp.activeItems = items.filter((i) => keepFrom.active.includes(i.label));
      return;
    }
    if (qp.canSelectMany && p.selected) qp.selectedItems = items.filter(p.selected);
    const active = p.active ? items.find(p.active) : undefined;
    if (active) qp.activeItems = [active];
  };
  show(p.items);
  return new Promise((resolve) => {
    let done = false;
    const disposables: vscode.Disposable[] = [];
    const finish = (r: I[] | Back | undefined) => {
      if (done) return;
      done = true;
      resolve(r);
      if (open === qp) open = undefined;
      for (const d of disposables) d.dispose();
      qp.dispose();
    };
    disposables.push(
      qp.onDidTriggerButton((b) => {
        if (b === vscode.QuickInputButtons.Back) finish(BACK);
      }),
      qp.onDidAccept(() => {
        const chosen = qp.canSelectMany ? [...qp.selectedItems] : [...qp.activeItems].slice(0, 1);
        if (chosen.length > 0) finish(chosen);
      }),
      qp.onDidHide(() => finish(undefined)),
    );
    open = qp;
    qp.show();
    if (p.refine) {
      qp.busy = true;
      p.refine(p.items).then(
        (items) => {
          if (done) return;
          qp.busy = false;
          if (items) {
            show(items, {
              active: qp.activeItems.map((i) => i.label),
              selected: qp.selectedItems.map((i) => i.label),
            });
          }
        },
        () => {
          if (!done) qp.busy = false;
        },
      );
    }
  });
}

export interface InputStep extends Partial<StepPosition> {
  title: string;
  prompt: string;
  placeholder?: string;
  value?: string;
  /** `undefined`: valid; else the message shown under the box. */
  validate: (value: string) => Promise<string | undefined>;
}

/** One input-box step: the accepted (valid) value, `BACK`, or `undefined` when dismissed. */
export function inputStep(p: InputStep): Promise<string | Back | undefined> {
  const box = vscode.window.createInputBox();
  box.title = p.title;
  position(box, p);
  box.prompt = p.prompt;
  box.placeholder = p.placeholder ?? '';
  box.value = p.value ?? '';
  if ((p.step ?? 1) > 1) box.buttons = [vscode.QuickInputButtons.Back];
  return new Promise((resolve) => {
    let done = false;
    let checked = 0;
    const disposables: vscode.Disposable[] = [];
    const finish = (r: string | Back | undefined) => {
      if (done) return;
      done = true;
      resolve(r);
      if (open === box) open = undefined;
      for (const d of disposables) d.dispose();
      box.dispose();
    };
    const check = async (value: string): Promise<string | undefined> => {
      const n = ++checked;
      const message = await p.validate(value.trim());
      if (n === checked && !done) box.validationMessage = message;
      return message;
    };
    disposables.push(
      box.onDidTriggerButton((b) => {
        if (b === vscode.QuickInputButtons.Back) finish(BACK);
      }),
      box.onDidChangeValue((v) => void check(v)),
      box.onDidAccept(async () => {
        const value = box.value.trim();
        if (value === '') return;
        box.busy = true;
        const message = await check(value);
        box.busy = false;
        if (message === undefined) finish(value);
      }),
      box.onDidHide(() => finish(undefined)),
    );
    open = box;
    box.show();
  });
}
