/**
 * Parses a `.medalign` instruction file: a YAML front matter block between `---` lines, then
 * sections introduced by `## ` headings. Never throws; syntax problems are collected with offsets.
 * See docs/format.md.
 */
import { isScalar, LineCounter, parseDocument, visit } from 'yaml';
import type { Document, ParseOptions, DocumentOptions, SchemaOptions } from 'yaml';

/** Half-open offset range into the file text. */
export interface Span {
  start: number;
  end: number;
}

export interface FrontMatter {
  /** From the opening `---` to the end of the closing `---` line (or of the YAML when unclosed). */
  span: Span;
  /** The opening `---` line. */
  open: Span;
  /** The closing `---` line, when there is one. */
  close?: Span;
  /** The YAML text between the fences. Node ranges in `doc` are relative to `content.start`. */
  content: Span;
  doc: Document.Parsed;
}

export interface Section {
  /** Heading text after `## `, trimmed. */
  name: string;
  /** The whole heading line (without its line break). */
  heading: Span;
  /** The heading's name text. */
  nameSpan: Span;
  /** From the line after the heading to the next heading (or end of file). */
  body: Span;
}

export type ProblemCode =
  | 'front-matter-missing'
  | 'front-matter-unclosed'
  | 'yaml-syntax'
  | 'yaml-warning'
  | 'front-matter-not-map'
  | 'front-matter-too-large'
  | 'stray-text';

export interface FormatProblem {
  code: ProblemCode;
  message: string;
  span: Span;
  severity: 'error' | 'warning';
}

export interface InstructionFile {
  text: string;
  frontMatter?: FrontMatter;
  /** The front matter as plain data, when it is a YAML mapping. */
  data?: Record<string, unknown>;
  sections: Section[];
  problems: FormatProblem[];
}

const FENCE = /^(---|\.\.\.)[ \t]*$/;
const HEADING = /^##[ \t]+(.*?)[ \t]*#*[ \t]*$/;

interface Line {
  start: number;
  /** End of the line's text, before `\r?\n`. */
  end: number;
  /** Start of the next line. */
  next: number;
}

export function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start <= text.length) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) {
      lines.push({ start, end: text.length, next: text.length + 1 });
      break;
    }
    const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    lines.push({ start, end, next: nl + 1 });
    start = nl + 1;
  }
  return lines;
}

export function parseInstruction(text: string): InstructionFile {
  const problems: FormatProblem[] = [];
  const lines = splitLines(text);
  const bom = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let bodyLine = 0;
  let frontMatter: FrontMatter | undefined;
  let data: Record<string, unknown> | undefined;

  const first = lines[0];
  if (text.slice(first.start + bom, first.end).trimEnd() === '---') {
    const open = { start: first.start + bom, end: first.end };
    let closeIdx = -1;
    for (let i = 1; i < lines.length; i++) {
      const l = lines[i];
      const s = text.slice(l.start, l.end);
      if (FENCE.test(s)) {
        closeIdx = i;
        break;
      }
      // An unclosed front matter ends where the first section starts, so sections still parse.
      if (HEADING.test(s)) break;
    }
    let contentEnd: number;
    let close: Span | undefined;
    if (closeIdx >= 0) {
      const l = lines[closeIdx];
      close = { start: l.start, end: l.end };
      contentEnd = l.start;
      bodyLine = closeIdx + 1;
    } else {
      let i = 1;
      while (i < lines.length && !HEADING.test(text.slice(lines[i].start, lines[i].end))) i++;
      contentEnd = i < lines.length ? lines[i].start : text.length;
      bodyLine = i;
      problems.push({
        code: 'front-matter-unclosed',
        message: 'The front matter is not closed: add a line with `---` after the last key.',
        span: open,
        severity: 'error',
      });
    }
    const content = { start: Math.min(first.next, text.length), end: Math.max(contentEnd, first.next) };
    if (content.end > text.length) content.end = text.length;
    const yamlText = text.slice(content.start, content.end);
    const parsedYaml = parseFrontMatterYaml(yamlText, {
      lineCounter: new LineCounter(),
      strict: true,
      // Problems come back as data; nothing is printed (it would go to the server's stderr).
      logLevel: 'error',
    });
    const doc = parsedYaml.doc;
    if (parsedYaml.tooLarge !== undefined) {
      problems.push({
        code: 'front-matter-too-large',
        message: parsedYaml.tooLarge,
        span: open,
        severity: 'error',
      });
    }
    const yamlProblems = [
      ...doc.errors.map((e) => ({ e, code: 'yaml-syntax' as const, severity: 'error' as const })),
      ...parsedYaml.duplicates.map((e) => ({ e, code: 'yaml-syntax' as const, severity: 'error' as const })),
      ...doc.warnings.map((e) => ({ e, code: 'yaml-warning' as const, severity: 'warning' as const })),
    ];
    for (const { e, code, severity } of yamlProblems) {
      problems.push({
        code,
        message: yamlMessage(e.message),
        span: clampSpan({ start: content.start + e.pos[0], end: content.start + e.pos[1] }, content),
        severity,
      });
    }
    const end = close ? close.end : content.end;
    frontMatter = { span: { start: open.start, end }, open, content, doc };
    if (close) frontMatter.close = close;
    if (doc.errors.length === 0 && parsedYaml.duplicates.length === 0 && parsedYaml.tooLarge === undefined) {
      let js: unknown;
      try {
        js = doc.toJS({ maxAliasCount: 50 });
      } catch (err) {
        problems.push({
          code: 'yaml-syntax',
          message: yamlMessage(err instanceof Error ? err.message : String(err)),
          span: open,
          severity: 'error',
        });
      }
      // Only a plain mapping is front matter (`!!binary`, `!!set` ... give typed arrays and sets).
      if (js !== null && typeof js === 'object' && Object.getPrototypeOf(js) === Object.prototype) {
        data = js as Record<string, unknown>;
      } else if (js !== undefined) {
        problems.push({
          code: 'front-matter-not-map',
          message: 'The front matter must be a set of `key: value` lines.',
          span: js === null ? open : content,
          severity: 'error',
        });
      } else if (doc.contents === null) {
        data = {};
      }
    }
  } else {
    problems.push({
      code: 'front-matter-missing',
      message:
        'An instruction file starts with a front matter block: `---`, `id: ...`, `patient: ...`, `---`.',
      span: { start: first.start, end: first.end },
      severity: 'error',
    });
  }

  const sections: Section[] = [];
  let stray: Span | undefined;
  let inComment = false;
  for (let i = bodyLine; i < lines.length; i++) {
    const l = lines[i];
    const s = text.slice(l.start, l.end);
    if (inComment) {
      if (s.includes('-->')) inComment = false;
      continue;
    }
    const m = HEADING.exec(s);
    if (m) {
      const name = m[1];
      const nameStart = l.start + s.indexOf(name, 2);
      const prev = sections[sections.length - 1];
      if (prev) prev.body.end = l.start;
      sections.push({
        name,
        heading: { start: l.start, end: l.end },
        nameSpan: { start: nameStart, end: nameStart + name.length },
        body: { start: Math.min(l.next, text.length), end: text.length },
      });
      continue;
    }
    if (sections.length === 0 && s.trim() !== '') {
      if (s.trimStart().startsWith('<!--')) {
        if (!s.includes('-->')) inComment = true;
        continue;
      }
      if (!stray) stray = { start: l.start, end: l.end };
    }
  }
  if (stray) {
    problems.push({
      code: 'stray-text',
      message: 'Text outside any section is ignored: put it under a `## ` heading (e.g. `## Notes`).',
      span: stray,
      severity: 'warning',
    });
  }

  const result: InstructionFile = { text, sections, problems };
  if (frontMatter) result.frontMatter = frontMatter;
  if (data) result.data = data;
  return result;
}

/**
 * Limits of a front matter (docs/format.md, `front-matter-too-large`). A real one is a dozen short
 * lines; beyond these the YAML is not read at all, so a hostile file cannot keep the editor busy.
 * The size, line and bracket-nesting caps (`[`/`{` counted even inside quotes, so a deeply nested flow
 * collection cannot exhaust the parser's stack) are checked before parsing; the key cap right after the parse, which is
 * linear (the unique-key check of `yaml` is quadratic, so keys are checked for uniqueness here with a
 * map instead). Under the caps the worst front matter parses in a few ms (`npm run bench`).
 */
export const FRONT_MATTER_LIMITS = { chars: 4096, lines: 100, keys: 50, nesting: 16 } as const;

export interface FrontMatterYaml {
  /** The parsed YAML; an empty document when the front matter is too large. */
  doc: Document.Parsed;
  /** Duplicate keys (the `yaml` library's message and the key's range in the YAML text). */
  duplicates: { message: string; pos: [number, number] }[];
  /** Why the YAML was not read, when it exceeds `FRONT_MATTER_LIMITS`. */
  tooLarge?: string;
}

type YamlOptions = ParseOptions & DocumentOptions & SchemaOptions;

/**
 * Parses the YAML of a front matter (instructions and `.prompt` templates) within
 * `FRONT_MATTER_LIMITS`, in time linear in its size.
 */
export function parseFrontMatterYaml(yamlText: string, options: YamlOptions = {}): FrontMatterYaml {
  const opts: YamlOptions = { prettyErrors: false, ...options, uniqueKeys: false };
  const refuse = (what: string): FrontMatterYaml => ({
    doc: parseDocument('', opts),
    duplicates: [],
    tooLarge:
      `The front matter is too large (${what}): it is not read. ` +
      `A front matter holds a few short \`key: value\` lines; put long text in a section.`,
  });
  const max = FRONT_MATTER_LIMITS;
  if (yamlText.length > max.chars) {
    return refuse(`${yamlText.length} characters; at most ${max.chars}`);
  }
  let lines = 1;
  for (let i = yamlText.indexOf('\n'); i >= 0 && lines <= max.lines; i = yamlText.indexOf('\n', i + 1))
    lines++;
  if (lines > max.lines) return refuse(`more than ${max.lines} lines`);
  let depth = 0;
  for (let i = 0; i < yamlText.length; i++) {
    const c = yamlText.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) {
      if (++depth > max.nesting) return refuse(`\`[\`/\`{\` nested more than ${max.nesting} deep`);
    } else if ((c === 0x5d || c === 0x7d) && depth > 0) depth--;
  }
  const doc = parseDocument(yamlText, opts);
  let keys = 0;
  const duplicates: FrontMatterYaml['duplicates'] = [];
  visit(doc, {
    Map(_, map) {
      keys += map.items.length;
      if (keys > max.keys) return visit.BREAK;
      // The same rule as `yaml`'s `uniqueKeys: true`: scalar keys with the same value.
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = pair.key;
        if (!isScalar(key) || Number.isNaN(key.value)) continue;
        if (seen.has(key.value)) {
          const at = key.range?.[0] ?? 0;
          duplicates.push({ message: 'Map keys must be unique', pos: [at, at + 1] });
        } else seen.add(key.value);
      }
      return undefined;
    },
  });
  if (keys > max.keys) return refuse(`more than ${max.keys} keys`);
  return { doc, duplicates };
}

/** The text of a section's body without HTML comments, trimmed. */
export function sectionText(file: InstructionFile, section: Section): string {
  return file.text
    .slice(section.body.start, section.body.end)
    .replace(/<!--[\s\S]*?(-->|$)/g, '')
    .trim();
}

function clampSpan(span: Span, within: Span): Span {
  const start = Math.max(within.start, Math.min(span.start, within.end));
  const end = Math.max(start, Math.min(span.end, within.end));
  return { start, end };
}

function yamlMessage(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return `YAML: ${first.replace(/ at line \d+, column \d+:?$/, '')}`;
}
