/**
 * The response panel's HTML: a strict CSP (nothing remote, no inline code but the nonce'd script and
 * style below), theme colours from `--vscode-*` variables, and a script that renders the columns
 * with `textContent` only, so no string from a record, a prompt or a model is ever parsed as HTML.
 *
 * The script is `webviewMain` below, type-checked here against the few DOM members it uses and
 * inlined as source text (it must stay self-contained: no imports or outer variables inside it).
 */
import { webviewHtml } from '../webviewDocument';
import type {
  ColumnStatus,
  FromWebview,
  PanelAction,
  PanelColumn,
  PanelState,
  PanelStep,
  RenderedColumn,
  ToWebview,
} from './panelMessages';

/** The DOM members the script uses (the extension's tsconfig has no DOM library). */
interface El {
  className: string;
  textContent: string | null;
  title: string;
  hidden: boolean;
  scrollTop: number;
  readonly scrollHeight: number;
  readonly clientHeight: number;
  readonly children: ArrayLike<El> & Iterable<El>;
  appendChild(child: El): El;
  replaceChildren(...children: El[]): void;
  setAttribute(name: string, value: string): void;
  addEventListener(type: 'click', listener: () => void): void;
  click(): void;
}
interface Doc {
  getElementById(id: string): El | null;
  createElement(tag: string): El;
}
interface Win {
  addEventListener(type: 'message', listener: (e: { data: unknown }) => void): void;
}
interface VsCodeApi {
  postMessage(message: FromWebview): void;
}

export function webviewMain(win: Win, doc: Doc, api: VsCodeApi): void {
  const LABELS: Record<ColumnStatus, string> = {
    queued: 'queued',
    packing: 'packing…',
    sending: 'sending…',
    streaming: 'streaming…',
    complete: 'complete',
    cancelled: 'cancelled',
    error: 'error',
    refused: 'refused',
    skipped: 'already ran',
  };
  /** Past this many columns, the ones after it start collapsed (the summary grid shows them all). */
  const OPEN_AT_START = 3;
  interface StepView {
    root: El;
    toggle: El;
    label: El;
    text: El;
    collapsed: boolean;
  }
  interface ColumnView {
    root: El;
    toggle: El;
    title: El;
    status: El;
    message: El;
    fixes: El;
    /** The fix buttons' labels as shown (rebuilt only when they change). */
    fixKey: string;
    text: El;
    meta: El;
    compare: El;
    open: El;
    stop: El;
    resume: El;
    /** Refine: the earlier steps (collapsible) and the line over the answer. */
    steps: El;
    stepViews: StepView[];
    stepLine: El;
    collapsed: boolean;
    /** Its row in the summary grid. */
    row: El;
    rowToggle: El;
    cells: El[];
    /** When the answer started streaming in. */
    streamStart?: number;
  }
  const heading = doc.getElementById('heading')!;
  const detail = doc.getElementById('detail')!;
  const columnsEl = doc.getElementById('columns')!;
  const empty = doc.getElementById('empty')!;
  const summary = doc.getElementById('summary')!;
  const summaryHead = doc.getElementById('summary-head')!;
  const summaryBody = doc.getElementById('summary-body')!;
  let session = -1;
  let views: ColumnView[] = [];

  const el = (tag: string, cls: string, parent?: El): El => {
    const e = doc.createElement(tag);
    e.className = cls;
    if (parent) parent.appendChild(e);
    return e;
  };

  const button = (parent: El, label: string, action: PanelAction, index: number, cls = 'action'): El => {
    const b = el('button', cls, parent);
    b.textContent = label;
    b.setAttribute('type', 'button');
    b.addEventListener('click', () => api.postMessage({ type: 'action', action, session, index }));
    return b;
  };

  const setCollapsed = (v: ColumnView, collapsed: boolean): void => {
    v.collapsed = collapsed;
    v.root.className = v.root.className.replace(/ collapsed$/, '') + (collapsed ? ' collapsed' : '');
    v.toggle.textContent = collapsed ? '▸' : '▾';
    v.toggle.setAttribute('aria-expanded', collapsed ? 'false' : 'true');
    v.toggle.title = collapsed ? 'Expand this column' : 'Collapse this column';
    v.rowToggle.textContent = collapsed ? '▸' : '▾';
    v.rowToggle.setAttribute('aria-expanded', collapsed ? 'false' : 'true');
    v.rowToggle.title = collapsed ? 'Show this answer' : 'Hide this answer';
    v.row.className = collapsed ? 'row-collapsed' : '';
  };

  const makeColumn = (index: number): ColumnView => {
    const root = el('section', 'column');
    const head = el('header', 'column-head', root);
    const toggle = el('button', 'toggle', head);
    toggle.setAttribute('type', 'button');
    const title = el('span', 'title', head);
    const status = el('span', 'status', head);
    const message = el('div', 'message', root);
    const fixes = el('div', 'fixes', root);
    const steps = el('div', 'steps', root);
    steps.setAttribute('role', 'list');
    steps.setAttribute('aria-label', 'Earlier steps');
    const stepLine = el('div', 'step-line', root);
    const text = el('pre', 'text', root);
    text.setAttribute('tabindex', '0');
    const foot = el('footer', 'column-foot', root);
    const meta = el('span', 'meta', foot);
    const actions = el('span', 'actions', foot);
    const compare = button(actions, 'Compare with gold', 'compareWithGold', index);
    compare.className = 'action primary';
    const open = button(actions, 'Open run file', 'openRunFile', index);
    const stop = button(actions, 'Stop', 'cancel', index);
    const resume = button(actions, 'Resume', 'resume', index);
    resume.className = 'action primary';
    const row = el('tr', '');
    const first = el('td', 'cell-toggle', row);
    const rowToggle = el('button', 'toggle', first);
    rowToggle.setAttribute('type', 'button');
    const cells: El[] = [];
    const LABEL = ['', '', '', 'prompt', 'kept', 'answer', 'latency'];
    for (let k = 0; k < 7; k++) {
      const td = el('td', k === 2 ? 'cell-status' : '', row);
      if (LABEL[k]) td.setAttribute('data-label', LABEL[k]);
      cells.push(td);
    }
    const v: ColumnView = {
      root,
      toggle,
      title,
      status,
      message,
      fixes,
      fixKey: '',
      text,
      meta,
      compare,
      open,
      stop,
      resume,
      steps,
      stepViews: [],
      stepLine,
      collapsed: false,
      row,
      rowToggle,
      cells,
    };
    const flip = () => setCollapsed(v, !v.collapsed);
    toggle.addEventListener('click', flip);
    rowToggle.addEventListener('click', flip);
    return v;
  };

  const RUNNING: readonly ColumnStatus[] = ['queued', 'packing', 'sending', 'streaming'];

  const setStepCollapsed = (sv: StepView, collapsed: boolean): void => {
    sv.collapsed = collapsed;
    sv.text.hidden = collapsed;
    sv.toggle.textContent = collapsed ? '▸' : '▾';
    sv.toggle.setAttribute('aria-expanded', collapsed ? 'false' : 'true');
  };

  const stepLabel = (st: PanelStep, of: number): string =>
    `Step ${st.step} of ${of} · ${LABELS[st.status]}${st.meta ? ` · ${st.meta}` : ''}${st.resumed ? ' · from an earlier run' : ''}`;

  /** The earlier steps of a refine column: kept across updates (and their open/closed state), added as they finish. */
  const fillSteps = (v: ColumnView, c: PanelColumn): void => {
    const r = c.refine;
    const earlier = r?.earlier ?? [];
    if (v.stepViews.length > earlier.length) {
      v.steps.replaceChildren();
      v.stepViews = [];
    }
    earlier.forEach((st, k) => {
      let sv = v.stepViews[k];
      if (!sv) {
        const root = el('section', 'step', v.steps);
        root.setAttribute('role', 'listitem');
        const head = el('div', 'step-head', root);
        const toggle = el('button', 'toggle', head);
        toggle.setAttribute('type', 'button');
        const label = el('span', 'step-label', head);
        const text = el('pre', 'step-text', root);
        text.setAttribute('tabindex', '0');
        sv = { root, toggle, label, text, collapsed: true };
        const view = sv;
        toggle.addEventListener('click', () => setStepCollapsed(view, !view.collapsed));
        v.stepViews.push(sv);
        setStepCollapsed(sv, true);
      }
      const label = stepLabel(st, r!.of);
      if (sv.label.textContent !== label) sv.label.textContent = label;
      sv.toggle.title = sv.collapsed ? `Show step ${st.step}’s answer` : `Hide step ${st.step}’s answer`;
      sv.toggle.setAttribute('aria-label', `Step ${st.step}’s answer`);
      if (sv.text.textContent !== st.text) sv.text.textContent = st.text;
    });
    v.steps.hidden = earlier.length === 0;
    v.stepLine.textContent = r?.line ?? '';
    v.stepLine.hidden = r === undefined;
    v.resume.hidden = r?.resumeFrom === undefined || RUNNING.includes(c.status);
    v.resume.textContent = r?.resumeFrom !== undefined ? `Resume from step ${r.resumeFrom}` : 'Resume';
  };

  /** What the extension sends is checked before it is used: anything malformed is dropped. */
  const isStr = (x: unknown): x is string => typeof x === 'string';
  const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0;
  const isColumn = (x: unknown): x is PanelColumn => {
    if (x === null || typeof x !== 'object') return false;
    const c = x as Record<string, unknown>;
    if (
      !isStr(c.title) ||
      !isStr(c.text) ||
      !isStr(c.status) ||
      !Object.prototype.hasOwnProperty.call(LABELS, c.status)
    )
      return false;
    for (const k of ['message', 'meta', 'runFile', 'runRef', 'runPath'])
      if (c[k] !== undefined && !isStr(c[k])) return false;
    if (c.fixes !== undefined) {
      if (!Array.isArray(c.fixes)) return false;
      for (const f of c.fixes as unknown[]) {
        const o = f as Record<string, unknown> | null;
        if (o === null || typeof o !== 'object' || !isStr(o.action) || !isStr(o.label)) return false;
      }
    }
    if (c.refine !== undefined) {
      const r = c.refine as Record<string, unknown> | null;
      if (r === null || typeof r !== 'object' || !isInt(r.of) || !isInt(r.current) || !isStr(r.line))
        return false;
      if (r.resumeFrom !== undefined && !isInt(r.resumeFrom)) return false;
      if (!Array.isArray(r.earlier)) return false;
      for (const st of r.earlier as unknown[]) {
        const o = st as Record<string, unknown> | null;
        if (o === null || typeof o !== 'object' || !isInt(o.step) || !isStr(o.text) || !isStr(o.meta))
          return false;
        if (!isStr(o.status) || !Object.prototype.hasOwnProperty.call(LABELS, o.status)) return false;
      }
    }
    return true;
  };
  const isMessage = (x: unknown): x is ToWebview => {
    if (x === null || typeof x !== 'object') return false;
    const m = x as Record<string, unknown>;
    switch (m.type) {
      case 'state': {
        const st = m.state as Record<string, unknown> | null;
        return (
          st !== null &&
          typeof st === 'object' &&
          isInt(st.session) &&
          isStr(st.heading) &&
          isStr(st.detail) &&
          Array.isArray(st.columns) &&
          (st.columns as unknown[]).every(isColumn)
        );
      }
      case 'column':
        return isInt(m.session) && isInt(m.index) && isColumn(m.column);
      case 'snapshot':
        return isInt(m.requestId);
      case 'collapse':
        return (m.index === 'all' || isInt(m.index)) && typeof m.collapsed === 'boolean';
      case 'collapseStep':
        return isInt(m.index) && isInt(m.step) && typeof m.collapsed === 'boolean';
      case 'press':
        return isInt(m.index) && isStr(m.label);
      default:
        return false;
    }
  };

  const fill = (v: ColumnView, c: PanelColumn): void => {
    v.root.className = `column status-${c.status}${v.collapsed ? ' collapsed' : ''}`;
    v.title.textContent = c.title;
    v.title.title = c.title;
    v.status.textContent = LABELS[c.status];
    v.message.textContent = c.message ?? '';
    v.message.hidden = !c.message;
    const fixes = c.fixes ?? [];
    const fixKey = fixes.map((f) => `${f.action}:${f.label}`).join('|');
    if (fixKey !== v.fixKey) {
      v.fixKey = fixKey;
      v.fixes.replaceChildren();
      const index = views.indexOf(v);
      fixes.forEach((f, i) =>
        button(v.fixes, f.label, f.action, index, i === 0 ? 'action fix primary' : 'action fix'),
      );
    }
    v.fixes.hidden = fixes.length === 0;
    // While an answer streams, follow its end unless the user scrolled up; otherwise start at the top.
    const follow =
      c.status === 'streaming' && v.text.scrollTop + v.text.clientHeight >= v.text.scrollHeight - 4;
    if (v.text.textContent !== c.text) {
      v.text.textContent = c.text;
      if (follow) v.text.scrollTop = v.text.scrollHeight;
    }
    if (c.status === 'streaming') v.streamStart ??= Date.now();
    else if (v.streamStart !== undefined && !RUNNING.includes(c.status)) {
      // An answer that arrived in a burst (the baseline, a fast server) is read from its start.
      if (Date.now() - v.streamStart < 1500) v.text.scrollTop = 0;
      v.streamStart = undefined;
    }
    v.text.hidden = c.text === '' && !!c.message;
    v.meta.textContent = c.meta ?? '';
    v.meta.title = c.runPath ?? '';
    // Only a complete run with an answer is compared with gold.
    v.compare.hidden = !(
      c.runFile &&
      c.hasGold &&
      (c.status === 'complete' || c.status === 'skipped') &&
      c.text.trim() !== ''
    );
    v.open.hidden = !c.runFile;
    v.open.title = c.runPath ?? '';
    v.stop.hidden = !RUNNING.includes(c.status);
    fillSteps(v, c);
    const f = c.facts;
    const cells = [
      f?.endpoint ?? c.title,
      f?.context ?? '',
      LABELS[c.status],
      f?.promptTokens ?? '',
      f?.kept ?? '',
      f?.answer ?? '',
      f?.latency ?? '',
    ];
    cells.forEach((t, k) => {
      v.cells[k].textContent = t;
    });
    v.cells[2].className = `cell-status status-${c.status}`;
    v.cells[4].title = f?.keptNote ?? '';
  };

  const render = (s: PanelState): void => {
    session = s.session;
    heading.textContent = s.heading;
    detail.textContent = s.detail;
    views = s.columns.map((_c, i) => makeColumn(i));
    columnsEl.replaceChildren(...views.map((v) => v.root));
    summaryBody.replaceChildren(...views.map((v) => v.row));
    s.columns.forEach((c, i) => {
      fill(views[i], c);
      setCollapsed(views[i], s.columns.length > OPEN_AT_START && i >= OPEN_AT_START);
    });
    summary.hidden = s.columns.length < 2;
    empty.hidden = s.columns.length > 0 || s.session > 0;
  };

  const texts = (row: El): string[] => {
    const out: string[] = [];
    for (const c of row.children) out.push(c.textContent ?? '');
    return out;
  };

  const snapshot = (requestId: number): void => {
    const columns: RenderedColumn[] = views.map((v) => ({
      title: v.title.textContent ?? '',
      status: v.status.textContent ?? '',
      text: v.text.textContent ?? '',
      message: v.message.hidden ? '' : (v.message.textContent ?? ''),
      meta: v.meta.textContent ?? '',
      collapsed: v.collapsed,
      fixes: v.fixes.hidden ? [] : Array.from(v.fixes.children, (b) => b.textContent ?? ''),
      stepLine: v.stepLine.hidden ? '' : (v.stepLine.textContent ?? ''),
      steps: v.stepViews.map((sv) => ({
        label: sv.label.textContent ?? '',
        text: sv.text.textContent ?? '',
        collapsed: sv.collapsed,
      })),
      actions: [v.compare, v.open, v.stop, v.resume].filter((b) => !b.hidden).map((b) => b.textContent ?? ''),
    }));
    const grid = summary.hidden
      ? []
      : [texts(summaryHead).slice(1), ...views.map((v) => v.cells.map((c) => c.textContent ?? ''))];
    api.postMessage({
      type: 'snapshot',
      requestId,
      snapshot: {
        session,
        heading: heading.textContent ?? '',
        detail: detail.textContent ?? '',
        columns,
        summary: grid,
        placeholder: !empty.hidden,
      },
    });
  };

  const all = (collapsed: boolean) => views.forEach((v) => setCollapsed(v, collapsed));
  doc.getElementById('expand-all')!.addEventListener('click', () => all(false));
  doc.getElementById('collapse-all')!.addEventListener('click', () => all(true));

  win.addEventListener('message', (e) => {
    const m = e.data;
    if (!isMessage(m)) return;
    if (m.type === 'state') render(m.state);
    else if (m.type === 'column') {
      if (m.session === session && views[m.index]) fill(views[m.index], m.column);
    } else if (m.type === 'snapshot') snapshot(m.requestId);
    else if (m.type === 'collapse') {
      if (m.index === 'all') all(m.collapsed);
      else if (views[m.index]) setCollapsed(views[m.index], m.collapsed);
    } else if (m.type === 'collapseStep') {
      const sv = views[m.index]?.stepViews[m.step - 1];
      if (sv) setStepCollapsed(sv, m.collapsed);
    } else if (m.type === 'press') {
      const v = views[m.index];
      const buttons = v ? [...Array.from(v.fixes.children), v.compare, v.open, v.stop, v.resume] : [];
      buttons.find((b) => !b.hidden && b.textContent === m.label)?.click();
    }
  });
  api.postMessage({ type: 'ready' });
}

const STYLE = `
:root { color-scheme: light dark; }
body {
  margin: 0; padding: 0; height: 100vh; display: flex; flex-direction: column; overflow: hidden;
  color: var(--vscode-foreground); background: var(--vscode-editor-background);
  font-family: var(--vscode-font-family); font-size: var(--vscode-font-size);
}
#top { padding: 8px 12px 6px; border-bottom: 1px solid var(--vscode-panel-border, transparent); }
#heading { font-weight: 600; }
#detail { color: var(--vscode-descriptionForeground); margin-top: 2px; }
#empty { padding: 16px 12px; color: var(--vscode-descriptionForeground); }
#summary {
  flex: 0 0 auto; max-height: 40vh; overflow: auto; padding: 4px 12px 8px;
  border-bottom: 1px solid var(--vscode-panel-border, transparent);
}
#summary-tools { display: flex; gap: 6px; align-items: center; margin: 2px 0 6px; }
#summary-tools .label { color: var(--vscode-descriptionForeground); margin-right: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 2px 10px 2px 0; vertical-align: top; white-space: nowrap; }
th { font-weight: 600; color: var(--vscode-descriptionForeground); white-space: nowrap;
  border-bottom: 1px solid var(--vscode-panel-border, var(--vscode-contrastBorder, transparent)); }
tbody tr { border-bottom: 1px solid var(--vscode-editorWidget-border, transparent); }
tbody tr.row-collapsed td:not(.cell-toggle) { color: var(--vscode-descriptionForeground); }
td.cell-toggle, th.cell-toggle { width: 1.6em; padding-right: 2px; }
td.status-complete { color: var(--vscode-testing-iconPassed, var(--vscode-foreground)); }
td.status-error, td.status-refused { color: var(--vscode-errorForeground); }
td.status-cancelled { color: var(--vscode-editorWarning-foreground); }
/* A narrow panel (beside a wide instruction): each run's row wraps, its cells labelled. */
@media (max-width: 560px) {
  thead { display: none; }
  tbody tr { display: flex; flex-wrap: wrap; align-items: baseline; column-gap: 10px; padding: 3px 0; }
  tbody td { padding: 0; }
  tbody td[data-label]::before { content: attr(data-label) ' '; color: var(--vscode-descriptionForeground); }
}
#columns { flex: 1; display: flex; gap: 0; overflow-x: auto; min-height: 0; }
.column {
  flex: 1 1 0; min-width: 260px; display: flex; flex-direction: column; min-height: 0; overflow: hidden;
  border-right: 1px solid var(--vscode-panel-border, var(--vscode-contrastBorder, transparent));
}
.column:last-child { border-right: none; }
.column-head { display: flex; align-items: center; gap: 6px; padding: 6px 12px 6px 6px; min-width: 0; }
.title { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 0; }
.status {
  margin-left: auto; padding: 1px 7px; border-radius: 9px; font-size: 0.85em; white-space: nowrap;
  background: var(--vscode-badge-background); color: var(--vscode-badge-foreground);
  border: 1px solid var(--vscode-contrastBorder, transparent);
}
.status-complete .status { background: var(--vscode-testing-iconPassed, var(--vscode-badge-background)); color: var(--vscode-editor-background); }
.status-error .status, .status-refused .status { background: var(--vscode-errorForeground); color: var(--vscode-editor-background); }
.status-cancelled .status { background: var(--vscode-editorWarning-foreground); color: var(--vscode-editor-background); }
.column.collapsed { flex: 0 0 auto; min-width: 0; width: 2.6em; cursor: default; }
.column.collapsed .column-head { flex-direction: column; align-items: center; padding: 6px 2px; gap: 8px; }
.column.collapsed .title { writing-mode: vertical-rl; text-overflow: ellipsis; max-height: 60vh; }
.column.collapsed .status, .column.collapsed .message, .column.collapsed .text,
.column.collapsed .column-foot { display: none; }
.message {
  margin: 0 12px 6px; padding: 6px 8px; white-space: pre-wrap;
  border-left: 3px solid var(--vscode-editorWarning-foreground);
  background: var(--vscode-textBlockQuote-background);
}
.status-error .message, .status-refused .message { border-left-color: var(--vscode-errorForeground); }
.text {
  flex: 1; min-height: 0; overflow: auto; margin: 0; padding: 4px 12px 12px;
  white-space: pre-wrap; word-wrap: break-word;
  font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size);
  color: var(--vscode-editor-foreground);
}
.text:focus { outline: 1px solid var(--vscode-focusBorder); outline-offset: -1px; }
.column-foot {
  display: flex; flex-wrap: wrap; align-items: center; gap: 6px; padding: 6px 12px;
  border-top: 1px solid var(--vscode-panel-border, var(--vscode-contrastBorder, transparent));
  color: var(--vscode-descriptionForeground);
}
.meta { flex: 1 1 14em; min-width: 0; overflow-wrap: anywhere; }
.actions { margin-left: auto; display: flex; flex-wrap: wrap; gap: 6px; }
/* Buttons as VS Code draws them, in light, dark and high-contrast themes alike (HC: a border). */
button.action {
  font: inherit; line-height: 18px; padding: 3px 10px; border-radius: 2px; cursor: pointer; white-space: nowrap;
  color: var(--vscode-button-secondaryForeground, var(--vscode-button-foreground));
  background: var(--vscode-button-secondaryBackground, var(--vscode-button-background));
  border: 1px solid var(--vscode-button-border, var(--vscode-contrastBorder, transparent));
}
button.action:hover { background: var(--vscode-button-secondaryHoverBackground, var(--vscode-button-hoverBackground)); }
button.action.primary {
  color: var(--vscode-button-foreground); background: var(--vscode-button-background);
}
button.action.primary:hover { background: var(--vscode-button-hoverBackground); }
button.toggle {
  font: inherit; width: 1.6em; height: 1.6em; padding: 0; flex: 0 0 auto; cursor: pointer;
  color: var(--vscode-icon-foreground, var(--vscode-foreground)); background: transparent;
  border: 1px solid transparent; border-radius: 3px;
}
button.toggle:hover { background: var(--vscode-toolbar-hoverBackground); outline: 1px dashed var(--vscode-contrastActiveBorder, transparent); }
button:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 1px; }
.fixes { display: flex; flex-wrap: wrap; gap: 6px; margin: 0 12px 8px; }
/* Refine: the earlier steps (collapsed to one line each), then the line over the current answer. */
.steps { flex: 0 1 auto; max-height: 45%; overflow: auto; margin: 0 12px 4px;
  border-left: 2px solid var(--vscode-textBlockQuote-border, var(--vscode-panel-border, transparent)); }
.step-head { display: flex; align-items: center; gap: 4px; padding: 1px 0 1px 4px; min-width: 0; }
.step-label { color: var(--vscode-descriptionForeground); font-variant-numeric: tabular-nums;
  overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 0; }
.step-text { margin: 0 0 6px 2em; padding: 4px 8px; white-space: pre-wrap; word-wrap: break-word;
  max-height: 14em; overflow: auto; background: var(--vscode-textCodeBlock-background, transparent);
  font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size);
  color: var(--vscode-editor-foreground); }
.step-text:focus { outline: 1px solid var(--vscode-focusBorder); outline-offset: -1px; }
.step-line { margin: 2px 12px 0; padding: 2px 0; font-weight: 600; font-variant-numeric: tabular-nums;
  color: var(--vscode-foreground); border-bottom: 1px solid var(--vscode-panel-border, transparent); }
.status-complete .step-line { color: var(--vscode-testing-iconPassed, var(--vscode-foreground)); }
.column.collapsed .steps, .column.collapsed .step-line { display: none; }
[hidden] { display: none !important; }
`;

/** The panel's whole document. Nothing in it comes from a record, a prompt or a model. */
export function panelHtml(nonce: string): string {
  return webviewHtml({
    nonce,
    title: 'MedAlign response',
    style: STYLE,
    body: `<div id="top"><div id="heading">MedAlign response</div><div id="detail"></div></div>
<div id="empty" hidden>Run an instruction (▶ Run above its “## Instruction”) to see the answer stream in here.</div>
<section id="summary" hidden aria-label="Runs at a glance">
<div id="summary-tools"><span class="label" title="▸/▾ shows or hides a run’s answer below">Runs at a glance</span><button id="expand-all" class="action" type="button">Expand all</button><button id="collapse-all" class="action" type="button">Collapse all</button></div>
<table><thead><tr id="summary-head"><th class="cell-toggle"></th><th>Endpoint</th><th>Context</th><th>Status</th><th>Prompt</th><th>Kept record</th><th>Answer</th><th>Latency</th></tr></thead><tbody id="summary-body"></tbody></table>
</section>
<main id="columns"></main>`,
    script: `(${webviewMain.toString()})(window, document, acquireVsCodeApi());`,
  });
}
