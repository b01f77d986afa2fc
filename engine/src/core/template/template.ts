/**
 * Prompt templates (`.prompt` files, see docs/templates.md): optional YAML front matter, then chat
 * messages introduced by `## system`, `## user` or `## assistant` lines (no heading at all: the
 * whole body is one user message), with `{{placeholder}}`s filled at render time.
 */
import { parseFrontMatterYaml } from '../format/parse';
import type { SourceRange } from '../record/model';

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export type PlaceholderName =
  'ehr' | 'instruction' | 'age' | 'sex' | 'record_start' | 'record_end' | 'answer';

export interface PlaceholderInfo {
  name: PlaceholderName;
  /** One-line description, for completion and hover. */
  description: string;
  /** Whether every template must use it. */
  required: boolean;
}

/** The known placeholders, in the order completion should offer them. */
export const PLACEHOLDERS: readonly PlaceholderInfo[] = [
  {
    name: 'ehr',
    required: true,
    description: "The patient's EHR XML, packed to fit the context (strategy recent, bm25 or none).",
  },
  { name: 'instruction', required: true, description: 'The instruction (question) of the `.medalign` file.' },
  {
    name: 'age',
    required: false,
    description: "The patient's age in years at the end of the record (`unknown` when the record has none).",
  },
  {
    name: 'sex',
    required: false,
    description: "The patient's sex as recorded (`female`, `male`, ... or `unknown`).",
  },
  {
    name: 'record_start',
    required: false,
    description: 'Date of the first event in the whole record, `YYYY-MM-DD`.',
  },
  {
    name: 'record_end',
    required: false,
    description: 'Date of the last event in the whole record, `YYYY-MM-DD`.',
  },
  {
    name: 'answer',
    required: false,
    description:
      "`strategy: refine`'s refine prompt: the previous step's answer (empty in any other prompt).",
  },
];

const KNOWN = new Set<string>(PLACEHOLDERS.map((p) => p.name));

export function isPlaceholderName(name: string): name is PlaceholderName {
  return KNOWN.has(name);
}

export type TemplateSegment =
  { kind: 'text'; text: string } | { kind: 'placeholder'; name: string; known: boolean; range: SourceRange };

export interface TemplateMessage {
  role: ChatRole;
  segments: TemplateSegment[];
  /** The message's content in the source (after trimming blank lines). */
  range: SourceRange;
  /** The `## role` line, when there is one. */
  headingRange?: SourceRange;
}

export interface PlaceholderUse {
  name: string;
  known: boolean;
  /** From `{{` to `}}` inclusive. */
  range: SourceRange;
  /** The name inside the braces. */
  nameRange: SourceRange;
}

export interface TemplateDiagnostic {
  range: SourceRange;
  severity: 'error' | 'warning' | 'information';
  /** `template-front-matter`, `template-unknown-key`, `template-unknown-placeholder`,
   * `template-unclosed-placeholder`, `template-missing-ehr`, `template-missing-instruction`,
   * `template-duplicate-ehr`, `template-empty-message`, `template-stray-text`. */
  code: string;
  message: string;
  /** For `template-unknown-placeholder`: the closest known name, when one is close. */
  suggestion?: string;
}

export interface PromptTemplate {
  name?: string;
  description?: string;
  messages: TemplateMessage[];
  placeholders: PlaceholderUse[];
  diagnostics: TemplateDiagnostic[];
  /** The front matter block including its `---` lines, when present. */
  frontMatterRange?: SourceRange;
  source: string;
}

const FRONT_MATTER_KEYS = new Set(['name', 'description']);
const HEADING = /^##[ \t]+(system|user|assistant)[ \t]*$/i;
const PLACEHOLDER = /(\\?)\{\{([^{}\n]*)\}\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface Line {
  start: number;
  /** End of the line's text (before `\r\n`/`\n`). */
  end: number;
  /** Start of the next line. */
  next: number;
}

function splitLines(source: string, from: number): Line[] {
  const lines: Line[] = [];
  let i = from;
  while (i <= source.length) {
    let nl = source.indexOf('\n', i);
    if (nl < 0) nl = source.length;
    const end = nl > i && source.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    lines.push({ start: i, end, next: nl + 1 });
    if (nl >= source.length) break;
    i = nl + 1;
  }
  return lines;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}

/** The known placeholder closest to `name` (case-insensitive; edit distance ≤ 2, or a prefix), if any. */
export function suggestPlaceholder(name: string): PlaceholderName | undefined {
  const n = name.trim().toLowerCase();
  let best: PlaceholderName | undefined;
  let bestD = Infinity;
  for (const p of PLACEHOLDERS) {
    const d = p.name.startsWith(n) && n.length >= 2 ? 0.5 : editDistance(n, p.name);
    if (d < bestD) {
      bestD = d;
      best = p.name;
    }
  }
  // Synonyms people reach for.
  const synonyms: Record<string, PlaceholderName> = {
    question: 'instruction',
    record: 'ehr',
    gender: 'sex',
    emr: 'ehr',
  };
  if (synonyms[n] !== undefined) return synonyms[n];
  return bestD <= (n.length <= 4 ? 1 : 2) ? best : undefined;
}

function parseFrontMatter(t: PromptTemplate, source: string, lines: Line[]): number {
  const first = lines[0];
  const firstText = source.slice(first.start, first.end).replace(/^\uFEFF/, '');
  if (firstText.trimEnd() !== '---') return first.start === 0 && source.startsWith('\uFEFF') ? 1 : 0;
  let close = -1;
  for (let k = 1; k < lines.length; k++) {
    const text = source.slice(lines[k].start, lines[k].end).trimEnd();
    if (text === '---' || text === '...') {
      close = k;
      break;
    }
  }
  if (close < 0) {
    t.diagnostics.push({
      range: { start: first.start, end: first.end },
      severity: 'error',
      code: 'template-front-matter',
      message: 'The front matter is not closed: add a `---` line after it.',
    });
    return first.next;
  }
  const yamlStart = first.next;
  const yamlEnd = lines[close].start;
  t.frontMatterRange = { start: first.start, end: lines[close].end };
  const yamlText = source.slice(yamlStart, yamlEnd);
  const parsed = parseFrontMatterYaml(yamlText);
  if (parsed.tooLarge !== undefined) {
    t.diagnostics.push({
      range: { start: first.start, end: first.end },
      severity: 'error',
      code: 'template-front-matter',
      message: parsed.tooLarge,
    });
    return lines[close].next;
  }
  const doc = parsed.doc;
  for (const e of [...doc.errors, ...parsed.duplicates]) {
    let [s, en] = e.pos;
    if (s >= yamlText.trimEnd().length) {
      // Reported at the end of the block (e.g. an unclosed bracket): point at its last line instead.
      en = yamlText.trimEnd().length;
      s = yamlText.lastIndexOf('\n', en - 1) + 1;
    }
    t.diagnostics.push({
      range: { start: yamlStart + s, end: yamlStart + Math.max(s, Math.min(en, yamlText.length)) },
      severity: 'error',
      code: 'template-front-matter',
      message: `Front matter: ${e.message.split('\n')[0]}`,
    });
  }
  if (doc.errors.length === 0 && parsed.duplicates.length === 0) {
    const data: unknown = doc.toJS({ maxAliasCount: 50 });
    if (data !== null && data !== undefined && (typeof data !== 'object' || Array.isArray(data))) {
      t.diagnostics.push({
        range: { start: yamlStart, end: yamlEnd },
        severity: 'error',
        code: 'template-front-matter',
        message: 'Front matter must be a mapping of `key: value` lines (name, description).',
      });
    } else if (data !== null && data !== undefined) {
      const obj = data as Record<string, unknown>;
      for (const [key, value] of Object.entries(obj)) {
        const at = source.indexOf(key, yamlStart);
        const range =
          at >= 0 && at < yamlEnd ? { start: at, end: at + key.length } : { start: yamlStart, end: yamlEnd };
        if (!FRONT_MATTER_KEYS.has(key)) {
          t.diagnostics.push({
            range,
            severity: 'warning',
            code: 'template-unknown-key',
            message: `Unknown front matter key \`${key}\` (known: name, description).`,
          });
        } else if (typeof value !== 'string') {
          t.diagnostics.push({
            range,
            severity: 'warning',
            code: 'template-front-matter',
            message: `\`${key}\` should be a string.`,
          });
        } else if (key === 'name') t.name = value;
        else t.description = value;
      }
    }
  }
  return lines[close].next;
}

function scanPlaceholders(t: PromptTemplate, source: string, start: number, end: number): TemplateSegment[] {
  const segments: TemplateSegment[] = [];
  const text = source.slice(start, end);
  let last = 0;
  const pushText = (s: string): void => {
    if (s === '') return;
    const norm = s.replace(/\r\n/g, '\n');
    const prev = segments[segments.length - 1];
    if (prev?.kind === 'text') prev.text += norm;
    else segments.push({ kind: 'text', text: norm });
  };
  PLACEHOLDER.lastIndex = 0;
  for (let m = PLACEHOLDER.exec(text); m !== null; m = PLACEHOLDER.exec(text)) {
    const [whole, escape, inner] = m;
    if (escape === '\\') {
      pushText(text.slice(last, m.index) + whole.slice(1));
      last = m.index + whole.length;
      continue;
    }
    pushText(text.slice(last, m.index));
    last = m.index + whole.length;
    const name = inner.trim();
    const nameOffset = inner.indexOf(name);
    const range = { start: start + m.index, end: start + m.index + whole.length };
    const nameRange = {
      start: range.start + 2 + Math.max(0, nameOffset),
      end: range.start + 2 + Math.max(0, nameOffset) + name.length,
    };
    const known = isPlaceholderName(name);
    t.placeholders.push({ name, known, range, nameRange });
    segments.push({ kind: 'placeholder', name, known, range });
    if (!known) {
      const suggestion = suggestPlaceholder(name);
      t.diagnostics.push({
        range,
        severity: 'error',
        code: 'template-unknown-placeholder',
        message:
          name === '' || !NAME.test(name)
            ? `\`{{${inner}}}\` is not a placeholder name. Known: ${PLACEHOLDERS.map((p) => p.name).join(', ')}.`
            : `Unknown placeholder \`{{${name}}}\`${suggestion !== undefined ? ` (did you mean \`{{${suggestion}}}\`?)` : ''}. Known: ${PLACEHOLDERS.map((p) => p.name).join(', ')}.`,
        ...(suggestion !== undefined ? { suggestion } : {}),
      });
    }
  }
  // `{{` with no `}}` on the same line.
  const rest = text.slice(last);
  pushText(rest);
  const leftovers = text.replace(PLACEHOLDER, (s) => ' '.repeat(s.length));
  for (let i = leftovers.indexOf('{{'); i >= 0; i = leftovers.indexOf('{{', i + 2)) {
    if (i > 0 && leftovers[i - 1] === '\\') continue;
    const lineEnd = leftovers.indexOf('\n', i);
    t.diagnostics.push({
      range: { start: start + i, end: start + (lineEnd < 0 ? leftovers.length : lineEnd) },
      severity: 'warning',
      code: 'template-unclosed-placeholder',
      message: '`{{` without a closing `}}` on the same line: it is sent as written.',
    });
  }
  return segments;
}

function trimmedContent(source: string, start: number, end: number): SourceRange {
  let s = start;
  let e = end;
  // Drop leading blank lines.
  for (;;) {
    const m = /^[ \t]*\r?\n/.exec(source.slice(s, e));
    if (m === null) break;
    s += m[0].length;
  }
  // Drop trailing line breaks and blank lines.
  const tail = /(?:\r?\n[ \t]*)+$/.exec(source.slice(s, e));
  if (tail !== null) e -= tail[0].length;
  if (source.slice(s, e).trim() === '') e = s;
  return { start: s, end: Math.max(s, e) };
}

/** Parses a `.prompt` template. Never throws; problems are in `diagnostics`. */
export function parseTemplate(source: string): PromptTemplate {
  const t: PromptTemplate = { messages: [], placeholders: [], diagnostics: [], source };
  const lines = splitLines(source, 0);
  const bodyStart = parseFrontMatter(t, source, lines);
  const bodyLines = lines.filter((l) => l.start >= bodyStart);
  const headings = bodyLines
    .map((l) => ({ line: l, m: HEADING.exec(source.slice(l.start, l.end)) }))
    .filter((h): h is { line: Line; m: RegExpExecArray } => h.m !== null);
  const sections: { role: ChatRole; heading?: SourceRange; start: number; end: number }[] = [];
  if (headings.length === 0) {
    sections.push({ role: 'user', start: bodyStart, end: source.length });
  } else {
    const before = source.slice(bodyStart, headings[0].line.start);
    if (before.trim() !== '') {
      const r = trimmedContent(source, bodyStart, headings[0].line.start);
      t.diagnostics.push({
        range: r,
        severity: 'warning',
        code: 'template-stray-text',
        message: 'Text before the first `## system` / `## user` / `## assistant` heading is ignored.',
      });
    }
    headings.forEach((h, k) => {
      const next = headings[k + 1];
      sections.push({
        role: h.m[1].toLowerCase() as ChatRole,
        heading: { start: h.line.start, end: h.line.end },
        start: Math.min(h.line.next, source.length),
        end: next === undefined ? source.length : next.line.start,
      });
    });
  }
  for (const s of sections) {
    const range = trimmedContent(source, s.start, s.end);
    const segments = scanPlaceholders(t, source, range.start, range.end);
    const message: TemplateMessage = { role: s.role, segments, range };
    if (s.heading !== undefined) message.headingRange = s.heading;
    t.messages.push(message);
    if (range.end === range.start) {
      t.diagnostics.push({
        range: s.heading ?? range,
        severity: 'warning',
        code: 'template-empty-message',
        message: `The ${s.role} message is empty.`,
      });
    }
  }
  const anchor: SourceRange = t.messages[0]?.headingRange ?? {
    start: bodyStart,
    end: lines.find((l) => l.start >= bodyStart)?.end ?? bodyStart,
  };
  const ehrUses = t.placeholders.filter((p) => p.name === 'ehr');
  for (const req of PLACEHOLDERS.filter((p) => p.required)) {
    if (!t.placeholders.some((p) => p.name === req.name)) {
      t.diagnostics.push({
        range: anchor,
        severity: 'error',
        code: `template-missing-${req.name}`,
        message: `The template never uses \`{{${req.name}}}\`: ${req.description}`,
      });
    }
  }
  for (const dup of ehrUses.slice(1)) {
    t.diagnostics.push({
      range: dup.range,
      severity: 'warning',
      code: 'template-duplicate-ehr',
      message: '`{{ehr}}` appears more than once: the record is sent (and budgeted) that many times.',
    });
  }
  return t;
}

/** Every placeholder's value; `answer` (the refine prompt's previous answer) is empty when absent. */
export type TemplateValues = Record<Exclude<PlaceholderName, 'answer'>, string> & { answer?: string };

/** Renders the template's messages; unknown placeholders are sent as written. */
export function renderTemplate(t: PromptTemplate, values: TemplateValues): ChatMessage[] {
  return t.messages.map((m) => ({
    role: m.role,
    content: m.segments
      .map((s) =>
        s.kind === 'text'
          ? s.text
          : s.known
            ? (values[s.name as PlaceholderName] ?? '')
            : t.source.slice(s.range.start, s.range.end),
      )
      .join(''),
  }));
}

/** How many times a placeholder is used. */
export function placeholderCount(t: PromptTemplate, name: PlaceholderName): number {
  return t.placeholders.filter((p) => p.name === name).length;
}

/** The placeholder whose `{{...}}` contains `offset`, for hover. */
export function placeholderAt(t: PromptTemplate, offset: number): PlaceholderUse | undefined {
  return t.placeholders.find((p) => offset >= p.range.start && offset <= p.range.end);
}

export interface PlaceholderCompletion {
  /** What the chosen item replaces: from after `{{` (and spaces) to the cursor, plus a `}}` already there. */
  range: SourceRange;
  /** Whether the `}}` is already there (insert only the name) or must be added. */
  closed: boolean;
  items: readonly PlaceholderInfo[];
}

/**
 * Placeholder completion at `offset`: when the cursor is inside an opened `{{`, the names that
 * match what is typed so far; otherwise `undefined`.
 */
export function completePlaceholder(source: string, offset: number): PlaceholderCompletion | undefined {
  const lineStart = source.lastIndexOf('\n', offset - 1) + 1;
  const before = source.slice(lineStart, offset);
  const m = /\{\{[ \t]*([A-Za-z0-9_]*)$/.exec(before);
  if (m === null) return undefined;
  if (m.index > 0 && before[m.index - 1] === '\\') return undefined;
  const typed = m[1].toLowerCase();
  let end = offset;
  while (end < source.length && /[A-Za-z0-9_]/.test(source[end])) end++;
  const after = /^[ \t]*\}\}/.exec(source.slice(end));
  return {
    range: { start: offset - m[1].length, end },
    closed: after !== null,
    items: PLACEHOLDERS.filter((p) => p.name.startsWith(typed)),
  };
}
