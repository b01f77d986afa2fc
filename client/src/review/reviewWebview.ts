/**
 * The review panel's HTML: the strict CSP every MedAlign webview has (webviewDocument.ts: nothing
 * remote, only the nonce'd script and style), theme colours from `--vscode-*` variables, and a
 * script that builds every element with `createElement` and puts every string (instruction, gold,
 * answers, comments, model names) in `textContent`, so nothing from a record or a model is ever
 * parsed as HTML.
 *
 * Keyboard-first (the keys are listed in the panel): ←/→ (or h/l) move between answers; c correct,
 * x incorrect; 1–9 rank (equal numbers tie), 0 clears the rank; d word diff against gold; t the first
 * error tag, m the comment; Ctrl+Enter submits; n / p next / previous instruction, u next unreviewed.
 * In a text field only Escape (back to the answer) and Ctrl+Enter act. Ranks can also be dragged:
 * each answer is a chip in a row of rank buckets.
 *
 * The script is `reviewMain` below, type-checked here against the DOM members it uses and inlined as
 * source text (self-contained: no imports or outer variables inside it).
 */
import { webviewHtml } from '../webviewDocument';
import type { FromReview, Judgement, ReviewSnapshot, ReviewViewState, ToReview } from './reviewMessages';

/** The DOM members the script uses (the extension's tsconfig has no DOM library). */
interface El {
  className: string;
  textContent: string | null;
  title: string;
  hidden: boolean;
  value: string;
  draggable: boolean;
  tabIndex: number;
  readonly tagName: string;
  readonly children: ArrayLike<El> & Iterable<El>;
  appendChild(child: El): El;
  replaceChildren(...children: El[]): void;
  setAttribute(name: string, value: string): void;
  getAttribute(name: string): string | null;
  addEventListener(type: string, listener: (e: Ev) => void): void;
  querySelectorAll(selector: string): ArrayLike<El>;
  contains(other: El | null): boolean;
  focus(): void;
  scrollIntoView(o?: { block?: string; inline?: string }): void;
}
interface Ev {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  readonly target: El | null;
  dataTransfer: {
    setData(t: string, v: string): void;
    getData(t: string): string;
    dropEffect: string;
  } | null;
  preventDefault(): void;
  stopPropagation(): void;
}
interface Doc {
  getElementById(id: string): El | null;
  createElement(tag: string): El;
  addEventListener(type: 'keydown', listener: (e: Ev) => void): void;
  readonly activeElement: El | null;
  querySelectorAll(selector: string): ArrayLike<El>;
}
interface Win {
  readonly __pwned?: unknown;
  readonly performance: { now(): number; readonly timeOrigin: number };
  addEventListener(type: 'message', listener: (e: { data: unknown }) => void): void;
}
interface VsCodeApi {
  postMessage(message: FromReview): void;
}

export function reviewMain(win: Win, doc: Doc, api: VsCodeApi): void {
  const $ = (id: string): El => doc.getElementById(id)!;
  const heading = $('heading');
  const position = $('position');
  const progress = $('progress');
  const reviewer = $('reviewer');
  const statusEl = $('status');
  const notice = $('notice');
  const instructionEl = $('instruction');
  const goldEl = $('gold');
  const answersEl = $('answers');
  const ranking = $('ranking');
  const empty = $('empty');

  interface Card {
    root: El;
    label: string;
    model: El;
    stale: El;
    text: El;
    diff: El;
    diffShown: boolean;
    diffButton: El;
    correct: El;
    incorrect: El;
    tags: El[];
    comment: El;
    rank: El;
    judgement: Judgement;
  }
  let state: ReviewViewState | undefined;
  let cards: Card[] = [];
  let focused = 0;

  const el = (tag: string, cls: string, parent?: El, text?: string): El => {
    const e = doc.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  };
  const button = (parent: El, text: string, cls: string, onClick: () => void, title = ''): El => {
    const b = el('button', cls, parent, text);
    b.setAttribute('type', 'button');
    if (title) b.title = title;
    b.addEventListener('click', onClick);
    return b;
  };
  const pressed = (b: El, on: boolean) => b.setAttribute('aria-pressed', on ? 'true' : 'false');

  const send = (i: number): void => {
    if (!state) return;
    api.postMessage({ type: 'edit', session: state.session, index: i, judgement: cards[i].judgement });
  };

  const paint = (c: Card): void => {
    const j = c.judgement;
    pressed(c.correct, j.label === 'correct');
    pressed(c.incorrect, j.label === 'incorrect');
    c.tags.forEach((t) => pressed(t, j.tags.includes(t.getAttribute('data-tag') ?? '')));
    if (c.comment.value !== j.comment) c.comment.value = j.comment;
    c.rank.value = j.rank === null ? '' : String(j.rank);
    c.root.className = `card${j.label ? ` label-${j.label}` : ''}${cards.indexOf(c) === focused ? ' focused' : ''}`;
  };

  const paintRanking = (): void => {
    const n = cards.length;
    const buckets: El[] = [];
    const row: El[] = [];
    const chip = (c: Card, i: number): El => {
      const k = el('span', 'chip', undefined, c.label);
      k.draggable = true;
      k.tabIndex = -1;
      k.title = `Drag ${c.label} to a rank (or focus ${c.label} and press 1–${Math.min(9, n)})`;
      k.addEventListener('dragstart', (e) => e.dataTransfer?.setData('text/plain', String(i)));
      return k;
    };
    for (let r = 0; r <= n; r++) {
      const b = el('div', r === 0 ? 'bucket unranked' : 'bucket');
      el('div', 'bucket-head', b, r === 0 ? 'Unranked' : `#${r}`);
      b.setAttribute('data-rank', String(r));
      b.setAttribute('aria-label', r === 0 ? 'Unranked answers' : `Rank ${r}`);
      b.addEventListener('dragover', (e) => {
        e.preventDefault();
        if (e.dataTransfer) e.dataTransfer.dropEffect = 'move';
      });
      b.addEventListener('drop', (e) => {
        e.preventDefault();
        const i = Number(e.dataTransfer?.getData('text/plain'));
        if (!Number.isInteger(i) || !cards[i]) return;
        cards[i].judgement.rank = r === 0 ? null : r;
        paint(cards[i]);
        paintRanking();
        send(i);
      });
      buckets.push(b);
      row.push(b);
    }
    cards.forEach((c, i) => buckets[c.judgement.rank ?? 0]?.appendChild(chip(c, i)));
    ranking.replaceChildren(el('span', 'ranking-label', undefined, 'Rank'), ...row);
  };

  const setFocus = (i: number, focusCard = true): void => {
    if (cards.length === 0) return;
    focused = Math.max(0, Math.min(cards.length - 1, i));
    cards.forEach((c) => paint(c));
    if (focusCard) {
      cards[focused].root.focus();
      cards[focused].root.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    }
  };

  const setLabel = (i: number, label: 'correct' | 'incorrect'): void => {
    const c = cards[i];
    if (!c) return;
    c.judgement.label = c.judgement.label === label ? null : label;
    paint(c);
    send(i);
  };

  const setRank = (i: number, rank: number | null): void => {
    const c = cards[i];
    if (!c) return;
    c.judgement.rank = rank !== null && rank >= 1 && rank <= cards.length ? rank : null;
    paint(c);
    paintRanking();
    send(i);
  };

  const toggleDiff = (i: number): void => {
    const c = cards[i];
    if (!c || !state) return;
    if (c.diffShown) {
      c.diffShown = false;
      c.diff.hidden = true;
      c.text.hidden = false;
      c.diffButton.textContent = 'Diff with gold';
      pressed(c.diffButton, false);
      return;
    }
    api.postMessage({ type: 'diff', session: state.session, index: i });
  };

  const makeCard = (i: number, a: ReviewViewState['answers'][number], s: ReviewViewState): Card => {
    const root = el('section', 'card');
    root.tabIndex = 0;
    root.setAttribute('aria-label', `Answer ${a.label}`);
    root.addEventListener('focus', () => {
      if (focused !== i) setFocus(i, false);
    });
    const head = el('header', 'card-head', root);
    el('span', 'label', head, a.label);
    const model = el('span', 'model', head, a.model ?? '');
    model.hidden = !a.model;
    const stale = el(
      'div',
      'stale',
      root,
      a.stale ? `Stale: ${a.stale}.${a.was ? ` Was: ${a.was}.` : ''}` : '',
    );
    stale.hidden = !a.stale;
    stale.setAttribute('role', 'note');
    const text = el('pre', 'text', root, a.text);
    text.tabIndex = 0;
    text.setAttribute('aria-label', `Answer ${a.label} text`);
    const diff = el('div', 'text diff', root);
    diff.hidden = true;
    diff.tabIndex = 0;
    const controls = el('div', 'controls', root);
    const verdict = el('div', 'verdict', controls);
    verdict.setAttribute('role', 'group');
    verdict.setAttribute('aria-label', `Answer ${a.label}: correct or incorrect`);
    const correct = button(
      verdict,
      '✓ Correct',
      'action verdict-correct',
      () => setLabel(i, 'correct'),
      'Correct (c)',
    );
    const incorrect = button(
      verdict,
      '✗ Incorrect',
      'action verdict-incorrect',
      () => setLabel(i, 'incorrect'),
      'Incorrect (x)',
    );
    const rankLabel = el('label', 'rank-label', verdict, 'Rank ');
    const rank = el('select', 'rank', rankLabel);
    rank.setAttribute('aria-label', `Rank of answer ${a.label} (1 is best; equal ranks tie)`);
    el('option', '', rank, '–').setAttribute('value', '');
    for (let r = 1; r <= s.answers.length; r++)
      el('option', '', rank, String(r)).setAttribute('value', String(r));
    rank.addEventListener('change', () => setRank(i, rank.value === '' ? null : Number(rank.value)));
    const diffButton = button(
      verdict,
      'Diff with gold',
      'action',
      () => toggleDiff(i),
      'Word diff against the gold response (d)',
    );
    pressed(diffButton, false);
    if (!s.gold) diffButton.hidden = true;
    const tagsEl = el('div', 'tags', controls);
    tagsEl.setAttribute('role', 'group');
    tagsEl.setAttribute('aria-label', `Error tags of answer ${a.label}`);
    const tags = s.errorTags.map((t) => {
      const b = button(tagsEl, t, 'tag', () => {
        const j = cards[i].judgement;
        j.tags = j.tags.includes(t) ? j.tags.filter((x) => x !== t) : [...j.tags, t];
        paint(cards[i]);
        send(i);
      });
      b.setAttribute('data-tag', t);
      return b;
    });
    const comment = el('textarea', 'comment', controls);
    comment.setAttribute('rows', '2');
    comment.setAttribute('placeholder', 'Comment (optional; m)');
    comment.setAttribute('aria-label', `Comment on answer ${a.label}`);
    comment.addEventListener('change', () => {
      cards[i].judgement.comment = comment.value;
      send(i);
    });
    return {
      root,
      label: a.label,
      model,
      stale,
      text,
      diff,
      diffShown: false,
      diffButton,
      correct,
      incorrect,
      tags,
      comment,
      rank,
      judgement: { ...a.judgement, tags: [...a.judgement.tags] },
    };
  };

  const render = (s: ReviewViewState): void => {
    const sameInstruction = state?.session === s.session;
    state = s;
    heading.textContent = s.heading;
    position.textContent = s.position;
    progress.textContent = s.progress;
    reviewer.textContent = s.reviewer ? `Reviewer: ${s.reviewer}` : '';
    statusEl.textContent = s.status;
    statusEl.className = `badge status-${s.status.replace(/[^a-z]+/g, '-')}`;
    notice.textContent = s.notice;
    notice.hidden = !s.notice;
    instructionEl.textContent = s.instruction;
    goldEl.textContent = s.gold || '(no gold response in this file)';
    cards = s.answers.map((a, i) => makeCard(i, a, s));
    answersEl.replaceChildren(...cards.map((c) => c.root));
    empty.hidden = cards.length > 0;
    if (!sameInstruction) focused = 0;
    cards.forEach((c) => paint(c));
    paintRanking();
    if (cards.length > 0) setFocus(focused, !sameInstruction);
    // performance.now(): since this page started loading (its share of opening the panel).
    api.postMessage({ type: 'rendered', session: s.session, pageMs: win.performance.now() });
  };

  const showDiff = (m: Extract<ToReview, { type: 'diff' }>): void => {
    const c = cards[m.index];
    if (!c || !state || m.session !== state.session) return;
    c.diff.replaceChildren(
      ...m.parts.map((p) => {
        const e = el(p.op === 'equal' ? 'span' : p.op === 'delete' ? 'del' : 'ins', '');
        e.textContent = p.text;
        if (p.op !== 'equal') e.title = p.op === 'delete' ? 'only in gold' : 'only in this answer';
        return e;
      }),
    );
    if (m.approximate)
      el('div', 'note', c.diff, 'Too long to align word by word: the differing middle is shown whole.');
    c.diffShown = true;
    c.diff.hidden = false;
    c.text.hidden = true;
    c.diffButton.textContent = 'Hide diff';
    pressed(c.diffButton, true);
  };

  const inField = (t: El | null): boolean =>
    !!t && (t.tagName === 'TEXTAREA' || t.tagName === 'INPUT' || t.tagName === 'SELECT');

  /** One handler for real key presses and the tests' `key` messages. Returns whether it acted. */
  const onKey = (key: string, ctrl: boolean, target: El | null): boolean => {
    if (!state) return false;
    if (ctrl && key === 'Enter') {
      api.postMessage({ type: 'submit', session: state.session });
      return true;
    }
    if (inField(target)) {
      if (key === 'Escape') {
        setFocus(focused);
        return true;
      }
      return false;
    }
    if (ctrl) return false;
    const i = focused;
    if (key === 'ArrowRight' || key === 'l') setFocus(i + 1);
    else if (key === 'ArrowLeft' || key === 'h') setFocus(i - 1);
    else if (key === 'c') setLabel(i, 'correct');
    else if (key === 'x') setLabel(i, 'incorrect');
    else if (/^[1-9]$/.test(key)) setRank(i, Number(key));
    else if (key === '0') setRank(i, null);
    else if (key === 'd') toggleDiff(i);
    else if (key === 't') cards[i]?.tags[0]?.focus();
    else if (key === 'm') cards[i]?.comment.focus();
    else if (key === 'n') api.postMessage({ type: 'navigate', direction: 'next' });
    else if (key === 'p') api.postMessage({ type: 'navigate', direction: 'previous' });
    else if (key === 'u') api.postMessage({ type: 'navigate', direction: 'nextUnreviewed' });
    else return false;
    return true;
  };

  doc.addEventListener('keydown', (e) => {
    if (e.altKey) return;
    if (onKey(e.key, e.ctrlKey || e.metaKey, e.target)) e.preventDefault();
  });
  button($('nav'), '← Previous (p)', 'action', () =>
    api.postMessage({ type: 'navigate', direction: 'previous' }),
  );
  button($('nav'), 'Next (n) →', 'action', () => api.postMessage({ type: 'navigate', direction: 'next' }));
  button($('nav'), 'Next unreviewed (u)', 'action', () =>
    api.postMessage({ type: 'navigate', direction: 'nextUnreviewed' }),
  );
  button($('nav'), 'Submit (Ctrl+Enter)', 'action primary', () => {
    if (state) api.postMessage({ type: 'submit', session: state.session });
  });

  const snapshot = (requestId: number): void => {
    const buckets = Array.from(ranking.querySelectorAll('.bucket'));
    const ranked = buckets
      .filter((b) => b.getAttribute('data-rank') !== '0')
      .map((b) => Array.from(b.querySelectorAll('.chip'), (c) => c.textContent ?? ''))
      .filter((x) => x.length > 0);
    const snap: ReviewSnapshot = {
      session: state?.session ?? -1,
      heading: heading.textContent ?? '',
      position: position.textContent ?? '',
      progress: progress.textContent ?? '',
      status: statusEl.textContent ?? '',
      notice: notice.hidden ? '' : (notice.textContent ?? ''),
      instruction: instructionEl.textContent ?? '',
      gold: goldEl.textContent ?? '',
      answers: cards.map((c, i) => ({
        label: c.label,
        model: c.model.hidden ? '' : (c.model.textContent ?? ''),
        text: c.text.textContent ?? '',
        correct: c.correct.getAttribute('aria-pressed') === 'true',
        incorrect: c.incorrect.getAttribute('aria-pressed') === 'true',
        tags: c.tags.filter((t) => t.getAttribute('aria-pressed') === 'true').map((t) => t.textContent ?? ''),
        comment: c.comment.value,
        rank: c.rank.value,
        stale: !c.stale.hidden,
        staleText: c.stale.hidden ? '' : (c.stale.textContent ?? ''),
        diff: c.diffShown,
        focused: i === focused,
      })),
      ranking: ranked,
      injected: doc.querySelectorAll(
        ['#answers', '#prompt', '#notice']
          .map((r) => `${r} script, ${r} img, ${r} iframe, ${r} object`)
          .join(', '),
      ).length,
      pwned: win.__pwned !== undefined,
    };
    api.postMessage({ type: 'snapshot', requestId, snapshot: snap });
  };

  win.addEventListener('message', (e) => {
    const m = e.data as ToReview;
    if (m.type === 'state') render(m.state);
    else if (m.type === 'diff') showDiff(m);
    else if (m.type === 'notice') {
      if (!state || m.session !== state.session) return;
      notice.textContent = m.notice;
      notice.hidden = !m.notice;
      if (m.status !== undefined) {
        state.status = m.status;
        statusEl.textContent = m.status;
        statusEl.className = `badge status-${m.status.replace(/[^a-z]+/g, '-')}`;
      }
    } else if (m.type === 'progress') {
      progress.textContent = m.progress;
      position.textContent = m.position;
      if (state) {
        state.progress = m.progress;
        state.position = m.position;
      }
    } else if (m.type === 'snapshot') snapshot(m.requestId);
    else if (m.type === 'key') onKey(m.key, m.ctrlKey === true, doc.activeElement);
  });
  api.postMessage({ type: 'ready', pageStart: win.performance.timeOrigin, scriptMs: win.performance.now() });
}

const STYLE = `
:root { color-scheme: light dark; }
body {
  margin: 0; padding: 0; height: 100vh; display: flex; flex-direction: column; overflow: hidden;
  color: var(--vscode-foreground); background: var(--vscode-editor-background);
  font-family: var(--vscode-font-family); font-size: var(--vscode-font-size);
}
#top { padding: 8px 12px 6px; border-bottom: 1px solid var(--vscode-panel-border, transparent); display: flex; flex-wrap: wrap; gap: 4px 12px; align-items: baseline; }
#heading { font-weight: 600; margin-right: auto; }
.dim { color: var(--vscode-descriptionForeground); }
.badge {
  padding: 1px 7px; border-radius: 9px; font-size: 0.85em; white-space: nowrap;
  background: var(--vscode-badge-background); color: var(--vscode-badge-foreground);
  border: 1px solid var(--vscode-contrastBorder, transparent);
}
.badge.status-submitted { background: var(--vscode-testing-iconPassed, var(--vscode-badge-background)); color: var(--vscode-editor-background); }
.badge.status-stale { background: var(--vscode-editorWarning-foreground); color: var(--vscode-editor-background); }
#notice { margin: 6px 12px 0; padding: 6px 8px; white-space: pre-wrap; border-left: 3px solid var(--vscode-editorWarning-foreground); background: var(--vscode-textBlockQuote-background); }
#prompt { display: flex; gap: 12px; padding: 6px 12px; max-height: 24vh; overflow: auto; border-bottom: 1px solid var(--vscode-panel-border, transparent); }
#prompt > div { flex: 1 1 0; min-width: 0; }
h2 { font-size: 0.9em; margin: 0 0 2px; color: var(--vscode-descriptionForeground); text-transform: uppercase; letter-spacing: 0.04em; }
pre, .text { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); color: var(--vscode-editor-foreground); }
#ranking { display: flex; flex-wrap: wrap; gap: 6px; align-items: stretch; padding: 6px 12px; border-bottom: 1px solid var(--vscode-panel-border, transparent); }
.ranking-label { align-self: center; font-weight: 600; margin-right: 4px; }
.bucket { min-width: 3.2em; padding: 2px 4px 4px; border: 1px dashed var(--vscode-editorWidget-border, var(--vscode-contrastBorder, #8888)); border-radius: 3px; display: flex; flex-wrap: wrap; gap: 3px; align-items: center; }
.bucket-head { width: 100%; font-size: 0.8em; color: var(--vscode-descriptionForeground); }
.bucket.unranked { border-style: dotted; }
.chip { cursor: grab; padding: 0 7px; border-radius: 9px; font-weight: 600; background: var(--vscode-badge-background); color: var(--vscode-badge-foreground); border: 1px solid var(--vscode-contrastBorder, transparent); }
#answers { flex: 1; display: flex; overflow-x: auto; min-height: 0; }
#empty { padding: 16px 12px; color: var(--vscode-descriptionForeground); }
.card { flex: 1 1 0; min-width: 280px; display: flex; flex-direction: column; min-height: 0; border-right: 1px solid var(--vscode-panel-border, var(--vscode-contrastBorder, transparent)); outline: none; }
.card:last-child { border-right: none; }
.card.focused { box-shadow: inset 0 2px 0 var(--vscode-focusBorder); }
.card:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: -1px; }
.card-head { display: flex; align-items: baseline; gap: 8px; padding: 6px 12px; }
.label { font-weight: 700; font-size: 1.3em; }
.model { color: var(--vscode-descriptionForeground); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.label-correct .label { color: var(--vscode-testing-iconPassed, var(--vscode-foreground)); }
.label-incorrect .label { color: var(--vscode-errorForeground); }
.stale { margin: 0 12px 6px; padding: 4px 8px; border-left: 3px solid var(--vscode-editorWarning-foreground); background: var(--vscode-textBlockQuote-background); }
.card .text { flex: 1; min-height: 0; overflow: auto; padding: 4px 12px 8px; }
.text:focus { outline: 1px solid var(--vscode-focusBorder); outline-offset: -1px; }
del { text-decoration: line-through; color: var(--vscode-gitDecoration-deletedResourceForeground, var(--vscode-errorForeground)); background: var(--vscode-diffEditor-removedTextBackground); }
ins { text-decoration: underline; color: var(--vscode-gitDecoration-addedResourceForeground, var(--vscode-foreground)); background: var(--vscode-diffEditor-insertedTextBackground); }
.note { margin-top: 6px; color: var(--vscode-descriptionForeground); }
.controls { padding: 6px 12px 8px; border-top: 1px solid var(--vscode-panel-border, var(--vscode-contrastBorder, transparent)); display: flex; flex-direction: column; gap: 6px; }
.verdict, .tags { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
button.action, button.tag {
  font: inherit; line-height: 18px; padding: 2px 9px; border-radius: 2px; cursor: pointer; white-space: nowrap;
  color: var(--vscode-button-secondaryForeground, var(--vscode-button-foreground));
  background: var(--vscode-button-secondaryBackground, var(--vscode-button-background));
  border: 1px solid var(--vscode-button-border, var(--vscode-contrastBorder, transparent));
}
button.tag { border-radius: 9px; padding: 0 8px; font-size: 0.9em; }
button.action:hover, button.tag:hover { background: var(--vscode-button-secondaryHoverBackground, var(--vscode-button-hoverBackground)); }
button[aria-pressed="true"] { color: var(--vscode-button-foreground); background: var(--vscode-button-background); outline: 1px solid var(--vscode-contrastActiveBorder, transparent); }
button.verdict-incorrect[aria-pressed="true"] { background: var(--vscode-errorForeground); color: var(--vscode-editor-background); }
button.action.primary { color: var(--vscode-button-foreground); background: var(--vscode-button-background); }
button:focus-visible, select:focus-visible, textarea:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 1px; }
select, textarea {
  font: inherit; color: var(--vscode-input-foreground); background: var(--vscode-input-background);
  border: 1px solid var(--vscode-input-border, var(--vscode-contrastBorder, transparent)); border-radius: 2px;
}
textarea { resize: vertical; width: 100%; box-sizing: border-box; }
#bottom { display: flex; flex-wrap: wrap; gap: 6px 12px; align-items: center; padding: 6px 12px; border-top: 1px solid var(--vscode-panel-border, transparent); }
#nav { display: flex; flex-wrap: wrap; gap: 6px; margin-left: auto; }
#keys { color: var(--vscode-descriptionForeground); font-size: 0.9em; }
kbd { font-family: var(--vscode-editor-font-family); padding: 0 3px; border: 1px solid var(--vscode-editorWidget-border, #8888); border-radius: 3px; }
[hidden] { display: none !important; }
`;

/** The panel's whole document. Nothing in it comes from a record, a prompt or a model. */
export function reviewHtml(nonce: string): string {
  return webviewHtml({
    nonce,
    title: 'MedAlign review',
    style: STYLE,
    body: `<header id="top"><span id="heading">MedAlign review</span><span id="position" class="dim"></span><span id="progress" class="dim" role="status" aria-live="polite"></span><span id="reviewer" class="dim"></span><span id="status" class="badge"></span></header>
<div id="notice" role="alert" hidden></div>
<section id="prompt" aria-label="Instruction and gold response"><div><h2>Instruction</h2><pre id="instruction"></pre></div><div><h2>Gold response</h2><pre id="gold"></pre></div></section>
<section id="ranking" aria-label="Ranking (drag answers between ranks; equal ranks are ties)"></section>
<main id="answers" aria-label="Answers"></main>
<div id="empty" hidden>No complete answers to review for this instruction yet: run it on two or more models or contexts.</div>
<footer id="bottom"><span id="keys"><kbd>←</kbd><kbd>→</kbd> answer · <kbd>c</kbd> correct · <kbd>x</kbd> incorrect · <kbd>1</kbd>–<kbd>9</kbd> rank (ties allowed), <kbd>0</kbd> clear · <kbd>d</kbd> diff · <kbd>t</kbd> tags · <kbd>m</kbd> comment · <kbd>Ctrl</kbd>+<kbd>Enter</kbd> submit · <kbd>n</kbd>/<kbd>p</kbd> next/previous · <kbd>u</kbd> next unreviewed</span><span id="nav"></span></footer>`,
    script: `(${reviewMain.toString()})(window, document, acquireVsCodeApi());`,
  });
}
