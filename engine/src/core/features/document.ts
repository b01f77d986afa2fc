/**
 * Shared helpers of the language features: the parsed view of a document, YAML navigation by
 * offset or path, and span/range conversion.
 */
import { isMap, isPair, isScalar, isSeq } from 'yaml';
import type { Node, Pair } from 'yaml';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { Diagnostic, DiagnosticSeverity, Range } from 'vscode-languageserver-types';
import type { InstructionFile, Span } from '../format/parse';

export const SOURCE = 'medalign';

export interface ParsedDocument {
  document: TextDocument;
  file: InstructionFile;
}

export interface KeyValue {
  key: string;
  keySpan: Span;
  /** The value node's span, when there is a value. */
  valueSpan?: Span;
  value: unknown;
  pair: Pair;
}

export function toRange(document: TextDocument, span: Span): Range {
  return Range.create(document.positionAt(span.start), document.positionAt(span.end));
}

export function makeDiagnostic(
  document: TextDocument,
  span: Span,
  severity: DiagnosticSeverity,
  code: string,
  message: string,
  data?: unknown,
): Diagnostic {
  const d = Diagnostic.create(toRange(document, span), message, severity, code, SOURCE);
  if (data !== undefined) d.data = data;
  return d;
}

function nodeSpan(file: InstructionFile, node: Node | null | undefined): Span | undefined {
  const fm = file.frontMatter;
  if (!fm || !node?.range) return undefined;
  const [start, valueEnd] = node.range;
  return { start: fm.content.start + start, end: fm.content.start + valueEnd };
}

/** Top-level `key: value` pairs of the front matter, in order. */
export function frontMatterPairs(file: InstructionFile): KeyValue[] {
  const contents = file.frontMatter?.doc.contents;
  if (!isMap(contents)) return [];
  const out: KeyValue[] = [];
  for (const pair of contents.items) {
    if (!isPair(pair) || !isScalar(pair.key)) continue;
    const keySpan = nodeSpan(file, pair.key);
    if (!keySpan) continue;
    const valueNode = pair.value as Node | null;
    const kv: KeyValue = {
      key: String(pair.key.value),
      keySpan,
      value: isScalar(valueNode) ? valueNode.value : valueNode ? valueNode.toJSON() : null,
      pair,
    };
    const vs = nodeSpan(file, valueNode);
    if (vs && vs.end > vs.start) kv.valueSpan = vs;
    out.push(kv);
  }
  return out;
}

export function pairFor(file: InstructionFile, key: string): KeyValue | undefined {
  return frontMatterPairs(file).find((p) => p.key === key);
}

/** The span of the node at a JSON-pointer-like path (`/tags/0`), or of its key for `keyOnly`. */
export function spanAtPath(file: InstructionFile, path: string, keyOnly = false): Span | undefined {
  const segs = path
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (segs.length === 0) return undefined;
  let node: unknown = file.frontMatter?.doc.contents;
  let keyNode: unknown;
  for (const seg of segs) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === seg);
      if (!pair) return undefined;
      keyNode = pair.key;
      node = pair.value;
    } else if (isSeq(node)) {
      node = node.items[Number(seg)];
      keyNode = undefined;
    } else return undefined;
  }
  const target = keyOnly && keyNode ? keyNode : (node ?? keyNode);
  return nodeSpan(file, target as Node);
}

/** Where the cursor is in the front matter: on a key, on a value, or on an empty/new line. */
export type FrontMatterLocation =
  | { kind: 'key'; pair?: KeyValue; prefix: string; span: Span }
  | { kind: 'value'; key: string; pair?: KeyValue; prefix: string; span: Span }
  | { kind: 'none' };

export function locateInFrontMatter(file: InstructionFile, offset: number): FrontMatterLocation {
  const fm = file.frontMatter;
  if (!fm || offset < fm.content.start || offset > fm.content.end) return { kind: 'none' };
  const text = file.text;
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  let lineEnd = text.indexOf('\n', offset);
  if (lineEnd < 0) lineEnd = text.length;
  if (text.charCodeAt(lineEnd - 1) === 13) lineEnd--;
  const line = text.slice(lineStart, lineEnd);
  const before = text.slice(lineStart, offset);
  const m = /^([A-Za-z_$][\w$-]*)?(\s*:\s*)?/.exec(line);
  const keyText = m?.[1] ?? '';
  const colon = m?.[2];
  const pairs = frontMatterPairs(file);
  if (colon === undefined || offset <= lineStart + keyText.length) {
    // On the key (or on a line with no colon yet).
    const word = trailingWord(before);
    const pair = pairs.find((p) => p.keySpan.start === lineStart);
    const loc: FrontMatterLocation = {
      kind: 'key',
      prefix: word,
      span: { start: offset - word.length, end: lineStart + keyText.length },
    };
    if (pair) loc.pair = pair;
    return /^\s/.test(line) && keyText === '' && before.trim() !== '' ? { kind: 'none' } : loc;
  }
  const valueStart = lineStart + keyText.length + colon.length;
  const pair = pairs.find((p) => p.key === keyText && p.keySpan.start === lineStart);
  const raw = text.slice(valueStart, lineEnd);
  const hash = raw.search(/\s#/);
  const rawTrim = (hash >= 0 ? raw.slice(0, hash) : raw).trimEnd();
  const prefix = text.slice(valueStart, Math.max(valueStart, offset));
  const loc: FrontMatterLocation = {
    kind: 'value',
    key: keyText,
    prefix,
    span: { start: valueStart, end: valueStart + rawTrim.length },
  };
  if (pair) loc.pair = pair;
  return loc;
}

/** The identifier-like characters at the end of `s` (a backwards scan: linear on long lines). */
function trailingWord(s: string): string {
  let i = s.length;
  while (i > 0 && /[\w$-]/.test(s[i - 1])) i--;
  return s.slice(i);
}

/** Edit distance (Damerau, optimal string alignment), case-insensitive. */
export function editDistance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2][j - 2] + 1);
      d[i][j] = v;
    }
  }
  return d[a.length][b.length];
}

/** The closest candidate within a distance that scales with length, or `undefined`. */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
  if (input.length > 200) return undefined;
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dist = editDistance(input, c);
    if (dist < bestD) {
      bestD = dist;
      best = c;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(2, Math.floor(Math.max(input.length, best.length) / 3));
  if (bestD <= limit) return best;
  // A prefix typed in full (`retrieve medication` for `retrieve medication information`).
  const lower = input.toLowerCase();
  const prefixed = candidates.filter((c) => lower.length >= 4 && c.toLowerCase().startsWith(lower));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

export { DiagnosticSeverity };
