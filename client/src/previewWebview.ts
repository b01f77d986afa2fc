/**
 * The prompt preview's HTML: the budget header kept in view (sticky) above the chat messages, each
 * labelled with its role (system, user, assistant) as Prompty shows them, text wrapped. A strict CSP
 * (nonce'd script and style, nothing remote) and `textContent` only: the prompt holds record text.
 *
 * The script is `previewMain` below, type-checked against the few DOM members it uses and inlined as
 * source text (self-contained: no imports or outer variables inside it).
 */
import { webviewHtml } from './webviewDocument';

/** What the preview shows: the server's `medalign/previewPrompt` answer, trimmed to what is drawn. */
export interface PreviewView {
  /** The instruction, relative to the workspace (the panel's subject). */
  file: string;
  ok: boolean;
  error?: string;
  header: string[];
  messages: { role: string; content: string }[];
  promptTokens?: number;
}

export type ToPreview = { type: 'show'; view: PreviewView } | { type: 'snapshot'; requestId: number };

/** What the webview's DOM shows, read back from it (tests). */
export interface PreviewSnapshot {
  header: string[];
  error: string;
  messages: { role: string; content: string }[];
  /** Computed styles that make it readable: the header's `position`, the messages' `white-space`. */
  headerPosition: string;
  contentWhiteSpace: string;
}

export type FromPreview =
  | { type: 'ready' }
  | { type: 'openAsText' }
  | { type: 'snapshot'; requestId: number; snapshot: PreviewSnapshot };

export function isFromPreview(x: unknown): x is FromPreview {
  if (x === null || typeof x !== 'object') return false;
  const t = (x as { type?: unknown }).type;
  return t === 'ready' || t === 'openAsText' || t === 'snapshot';
}

interface El {
  className: string;
  textContent: string | null;
  hidden: boolean;
  readonly children: ArrayLike<El> & Iterable<El>;
  appendChild(child: El): El;
  replaceChildren(...children: El[]): void;
  setAttribute(name: string, value: string): void;
  addEventListener(type: 'click', listener: () => void): void;
  querySelector(selector: string): El | null;
}
interface Doc {
  getElementById(id: string): El | null;
  createElement(tag: string): El;
}
interface Win {
  addEventListener(type: 'message', listener: (e: { data: unknown }) => void): void;
  getComputedStyle(e: El): { position: string; whiteSpace: string };
}
interface VsCodeApi {
  postMessage(message: FromPreview): void;
}

export function previewMain(win: Win, doc: Doc, api: VsCodeApi): void {
  const header = doc.getElementById('header-lines')!;
  const title = doc.getElementById('title')!;
  const error = doc.getElementById('error')!;
  const list = doc.getElementById('messages')!;
  const el = (tag: string, cls: string, parent?: El): El => {
    const e = doc.createElement(tag);
    e.className = cls;
    if (parent) parent.appendChild(e);
    return e;
  };
  const show = (v: PreviewView): void => {
    title.textContent = v.file;
    // The header's first line repeats the file name, drawn as the title above.
    const lines = v.header.filter((l, i) => !(i === 0 && l.startsWith('MedAlign prompt preview — ')));
    header.replaceChildren(
      ...lines
        .filter((l) => l !== '')
        .map((l) => {
          const d = el('div', /^(prompt:|Budget at )/.test(l) ? 'line strong' : 'line');
          d.textContent = l;
          return d;
        }),
    );
    error.textContent = v.error ? `Not runnable as it stands: ${v.error}` : '';
    error.hidden = !v.error;
    list.replaceChildren(
      ...v.messages.map((m) => {
        const s = el('section', `message role-${/^[a-z]+$/.test(m.role) ? m.role : 'other'}`);
        const head = el('div', 'message-head', s);
        const role = el('span', 'role', head);
        role.textContent = m.role;
        const size = el('span', 'size', head);
        size.textContent = `${m.content.length.toLocaleString('en-US')} characters`;
        const body = el('pre', 'content', s);
        body.textContent = m.content;
        body.setAttribute('tabindex', '0');
        return s;
      }),
    );
  };
  doc.getElementById('open-text')!.addEventListener('click', () => api.postMessage({ type: 'openAsText' }));
  win.addEventListener('message', (e) => {
    const m = e.data as ToPreview;
    if (m.type === 'show') show(m.view);
    else if (m.type === 'snapshot') {
      const first = list.querySelector('.content');
      const snapshot: PreviewSnapshot = {
        header: [...header.children].map((c) => c.textContent ?? ''),
        error: error.hidden ? '' : (error.textContent ?? ''),
        messages: [...list.children].map((s) => ({
          role: s.querySelector('.role')?.textContent ?? '',
          content: s.querySelector('.content')?.textContent ?? '',
        })),
        headerPosition: win.getComputedStyle(doc.getElementById('top')!).position,
        contentWhiteSpace: first ? win.getComputedStyle(first).whiteSpace : '',
      };
      api.postMessage({ type: 'snapshot', requestId: m.requestId, snapshot });
    }
  });
  api.postMessage({ type: 'ready' });
}

const STYLE = `
:root { color-scheme: light dark; }
body {
  margin: 0; padding: 0 0 24px; color: var(--vscode-foreground); background: var(--vscode-editor-background);
  font-family: var(--vscode-font-family); font-size: var(--vscode-font-size);
}
#top {
  position: sticky; top: 0; z-index: 1; padding: 8px 14px 8px;
  background: var(--vscode-editor-background);
  border-bottom: 1px solid var(--vscode-panel-border, var(--vscode-contrastBorder, transparent));
  box-shadow: 0 2px 4px -2px var(--vscode-widget-shadow, transparent);
}
#title-row { display: flex; align-items: center; gap: 8px; }
#title { font-weight: 600; overflow-wrap: anywhere; margin-right: auto; }
#header-lines { margin-top: 4px; color: var(--vscode-descriptionForeground); }
.line { overflow-wrap: anywhere; }
.line.strong { color: var(--vscode-foreground); }
#error {
  margin: 10px 14px 0; padding: 6px 8px; white-space: pre-wrap;
  border-left: 3px solid var(--vscode-errorForeground); background: var(--vscode-textBlockQuote-background);
}
#messages { padding: 6px 14px; display: flex; flex-direction: column; gap: 12px; }
.message {
  border: 1px solid var(--vscode-panel-border, var(--vscode-contrastBorder, transparent));
  border-left: 3px solid var(--vscode-textLink-foreground); border-radius: 3px;
}
.role-system { border-left-color: var(--vscode-editorWarning-foreground); }
.role-assistant { border-left-color: var(--vscode-testing-iconPassed, var(--vscode-textLink-foreground)); }
.message-head {
  display: flex; align-items: baseline; gap: 8px; padding: 4px 10px;
  background: var(--vscode-sideBarSectionHeader-background, var(--vscode-textBlockQuote-background));
}
.role { font-weight: 700; text-transform: uppercase; letter-spacing: 0.06em; font-size: 0.85em; }
.size { margin-left: auto; color: var(--vscode-descriptionForeground); font-size: 0.85em; }
.content {
  margin: 0; padding: 8px 10px; white-space: pre-wrap; overflow-wrap: anywhere;
  font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size);
  color: var(--vscode-editor-foreground);
}
.content:focus { outline: 1px solid var(--vscode-focusBorder); outline-offset: -1px; }
button {
  font: inherit; line-height: 18px; padding: 3px 10px; border-radius: 2px; cursor: pointer; white-space: nowrap;
  color: var(--vscode-button-secondaryForeground, var(--vscode-button-foreground));
  background: var(--vscode-button-secondaryBackground, var(--vscode-button-background));
  border: 1px solid var(--vscode-button-border, var(--vscode-contrastBorder, transparent));
}
button:hover { background: var(--vscode-button-secondaryHoverBackground, var(--vscode-button-hoverBackground)); }
button:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 1px; }
[hidden] { display: none !important; }
`;

/** The preview's whole document. Nothing in it comes from a record, a prompt or a model. */
export function previewHtml(nonce: string): string {
  return webviewHtml({
    nonce,
    title: 'MedAlign prompt preview',
    style: STYLE,
    body: `<header id="top"><div id="title-row"><span id="title">MedAlign prompt preview</span><button id="open-text" type="button" title="The same prompt as a read-only text document (copy, search, diff)">Open as text</button></div><div id="header-lines"></div></header>
<div id="error" hidden></div>
<main id="messages"></main>`,
    script: `(${previewMain.toString()})(window, document, acquireVsCodeApi());`,
  });
}
