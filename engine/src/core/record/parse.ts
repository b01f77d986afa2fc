/**
 * `parseRecord(xml)`: MedAlign EHR XML -> typed model with source ranges. Never throws.
 *
 * One pass: the offset-keeping scanner in ./xmlScan.ts judges well-formedness (as fast-xml-parser's
 * `XMLValidator` would, or stricter; test/unit/xmlWellFormed.test.ts) while it builds the tree. It
 * is tolerant, so a broken record still yields whatever visits could be read (`ok: false`).
 */
import type { CodeMemo } from './codes';
import { VALUE_KINDS, newCodeMemo, parseCode } from './codes';
import { parseRecordDate } from './dates';
import type {
  CodeEntry,
  Day,
  EhrRecord,
  Person,
  RecordDate,
  RecordDiagnostic,
  RecordEvent,
  SourceRange,
  Visit,
} from './model';
import type { XmlNode } from './xmlScan';
import { attr, nodeText, scanXml } from './xmlScan';
import { collapseWhitespace } from '../util/format';

/** Offset of a 1-based line/column in `text`. Columns beyond the line are clamped to its end. */
export function offsetAt(text: string, line: number, col: number): number {
  let off = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', off);
    if (nl < 0) return text.length;
    off = nl + 1;
  }
  let lineEnd = text.indexOf('\n', off);
  if (lineEnd < 0) lineEnd = text.length;
  return Math.min(off + Math.max(0, col - 1), lineEnd);
}

interface Ctx {
  xml: string;
  diagnostics: RecordDiagnostic[];
  persons: Person[];
  first?: RecordDate;
  last?: RecordDate;
  eventCount: number;
  noteCount: number;
  codes: CodeMemo;
}

function diag(
  ctx: Ctx,
  range: SourceRange,
  severity: RecordDiagnostic['severity'],
  code: string,
  message: string,
): void {
  ctx.diagnostics.push({ range, severity, code, message });
}

function noteDate(ctx: Ctx, d: RecordDate): void {
  if (ctx.first === undefined || d.epochMs < ctx.first.epochMs) ctx.first = d;
  if (ctx.last === undefined || d.epochMs > ctx.last.epochMs) ctx.last = d;
}

/** The `start` attribute as a date, with a warning when it is present but unparseable. */
function startDate(ctx: Ctx, node: XmlNode): RecordDate | undefined {
  const a = attr(node, 'start');
  if (a === undefined) return undefined;
  const d = parseRecordDate(a.value);
  if (d === undefined) {
    diag(
      ctx,
      { start: a.valueStart, end: a.valueEnd },
      'warning',
      'date-unparseable',
      `Unparseable date "${a.value}" on <${node.name}> (expected e.g. 10/08/2018 20:00, 10/08/2018 08:00 PM or 2018-10-08T20:00).`,
    );
    return undefined;
  }
  noteDate(ctx, d);
  return d;
}

const PERSON_KEYS: Record<string, 'birth' | 'race' | 'gender' | 'ethnicity' | 'ageInDays' | 'ageInYears'> = {
  birth: 'birth',
  'birth date': 'birth',
  birthdate: 'birth',
  'date of birth': 'birth',
  dob: 'birth',
  race: 'race',
  gender: 'gender',
  sex: 'gender',
  ethnicity: 'ethnicity',
  'age in days': 'ageInDays',
  'age in years': 'ageInYears',
  age: 'ageInYears',
};

const PERSON_KEY_RE =
  /(?<![A-Za-z])(birth date|date of birth|birthdate|birth|dob|race|gender|sex|ethnicity|age in days|age in years|age)\s*:/gi;

/** `Key: value` pairs of a person block; values end at a line break or at the next known key. */
function parsePerson(ctx: Ctx, node: XmlNode): Person {
  const person: Person = { range: { start: node.start, end: node.end } };
  const t = node.text;
  for (let k = 0; k < t.length; k += 2) {
    const raw = ctx.xml.slice(t[k], t[k + 1]);
    const base = t[k];
    const matches = [...raw.matchAll(PERSON_KEY_RE)];
    for (let m = 0; m < matches.length; m++) {
      const match = matches[m];
      const key = PERSON_KEYS[match[1].replace(/\s+/g, ' ').toLowerCase()];
      const vFrom = match.index + match[0].length;
      let vTo = m + 1 < matches.length ? matches[m + 1].index : raw.length;
      const nl = raw.indexOf('\n', vFrom);
      if (nl >= 0 && nl < vTo) vTo = nl;
      const rawValue = raw.slice(vFrom, vTo);
      const value = rawValue.trim();
      if (key === undefined || value === '') continue;
      const vStart = base + vFrom + (rawValue.length - rawValue.trimStart().length);
      const range = { start: vStart, end: vStart + value.length };
      if (key === 'birth') {
        const d = parseRecordDate(value);
        if (d === undefined) {
          diag(ctx, range, 'warning', 'date-unparseable', `Unparseable birth date "${value}".`);
        } else person.birth = d;
      } else if (key === 'ageInDays' || key === 'ageInYears') {
        const num = Number(value);
        if (Number.isFinite(num)) person[key] = num;
        else diag(ctx, range, 'warning', 'person-value', `"${value}" is not a number.`);
      } else {
        person[key] = value;
      }
    }
  }
  ctx.persons.push(person);
  return person;
}

function collectCodes(ctx: Ctx, node: XmlNode, withValue: boolean, out: CodeEntry[]): void {
  for (const child of node.children) {
    if (child.name === 'code') {
      out.push(
        parseCode(nodeText(ctx.xml, child), { start: child.start, end: child.end }, withValue, ctx.codes),
      );
    } else {
      collectCodes(ctx, child, withValue, out);
    }
  }
}

function parseEvent(ctx: Ctx, node: XmlNode): RecordEvent {
  const event: RecordEvent = { kind: node.name, codes: [], range: { start: node.start, end: node.end } };
  const type = attr(node, 'type');
  if (type !== undefined) event.type = type.value;
  const start = startDate(ctx, node);
  if (start !== undefined) event.start = start;
  collectCodes(ctx, node, VALUE_KINDS.has(node.name), event.codes);
  if (node.text.length > 0) {
    const text = collapseWhitespace(nodeText(ctx.xml, node));
    if (text !== '') event.text = text;
  }
  ctx.eventCount++;
  if (node.name === 'note') ctx.noteCount++;
  return event;
}

function parseDay(ctx: Ctx, node: XmlNode): Day {
  const day: Day = { events: [], range: { start: node.start, end: node.end } };
  const start = startDate(ctx, node);
  if (start !== undefined) day.start = start;
  for (const child of node.children) {
    if (child.name === 'person') parsePerson(ctx, child);
    else day.events.push(parseEvent(ctx, child));
  }
  return day;
}

function parseVisit(ctx: Ctx, node: XmlNode): Visit {
  const visit: Visit = { days: [], range: { start: node.start, end: node.end } };
  const type = attr(node, 'type');
  if (type !== undefined) visit.type = type.value;
  const start = startDate(ctx, node);
  if (start !== undefined) visit.start = start;
  for (const child of node.children) {
    if (child.name === 'day') visit.days.push(parseDay(ctx, child));
    else if (child.name === 'person') parsePerson(ctx, child);
    else {
      diag(
        ctx,
        { start: child.start, end: child.openEnd },
        'information',
        'record-structure',
        `<${child.name}> directly inside <visit> (expected inside a <day>); it is read as a day of its own.`,
      );
      visit.days.push({ events: [parseEvent(ctx, child)], range: { start: child.start, end: child.end } });
    }
  }
  return visit;
}

/**
 * The largest record read (docs/records.md, "Limits"): 8 MiB (bytes on disk, checked before the
 * file is read; characters for an editor's text) and 400,000 tags (`<`, counted before parsing; an
 * element has one or two). Real MedAlign records reach ~2.3 MB. Beyond either, a record is refused
 * with `record-too-large` instead of parsed: parsing takes ~20x the text size in memory at its peak.
 */
export const RECORD_LIMITS = { bytes: 8 * 1024 * 1024, tags: 400_000 } as const;

/** The model of a record refused for its size: `ok: false`, one `record-too-large` error. */
export function tooLargeRecord(size: number, why: string): EhrRecord {
  return {
    ok: false,
    visits: [],
    eventCount: 0,
    noteCount: 0,
    size,
    diagnostics: [
      {
        range: { start: 0, end: 0 },
        severity: 'error',
        code: 'record-too-large',
        message: `The record is too large to read (${why}). Split it, or keep its most recent visits.`,
      },
    ],
  };
}

/** Why `xml` exceeds RECORD_LIMITS, or undefined. Linear, no allocation. */
export function recordSizeProblem(xml: string): string | undefined {
  if (xml.length > RECORD_LIMITS.bytes) {
    return `${xml.length} characters; at most ${RECORD_LIMITS.bytes}`;
  }
  let tags = 0;
  for (let i = xml.indexOf('<'); i >= 0; i = xml.indexOf('<', i + 1)) {
    if (++tags > RECORD_LIMITS.tags) return `more than ${RECORD_LIMITS.tags} tags`;
  }
  return undefined;
}

/** Parses a MedAlign EHR XML record. Never throws; see docs/records.md. */
export function parseRecord(xml: string): EhrRecord {
  const tooLarge = recordSizeProblem(xml);
  if (tooLarge !== undefined) return tooLargeRecord(xml.length, tooLarge);
  const ctx: Ctx = {
    xml,
    diagnostics: [],
    persons: [],
    eventCount: 0,
    noteCount: 0,
    codes: newCodeMemo(),
  };
  const result: EhrRecord = {
    ok: false,
    visits: [],
    eventCount: 0,
    noteCount: 0,
    size: xml.length,
    diagnostics: ctx.diagnostics,
  };
  try {
    let wellFormed = true;
    if (xml.trim() === '') {
      diag(
        ctx,
        { start: 0, end: xml.length },
        'error',
        'xml-malformed',
        'The file is empty: expected a <record> element.',
      );
      return result;
    }
    const scan = scanXml(xml);
    const root = scan.roots[0];
    if (scan.problems.length > 0) {
      wellFormed = false;
      const p = scan.problems[0];
      // The range runs to the end of the problem's line at most (an unclosed comment spans the rest).
      let end = xml.indexOf('\n', p.start);
      if (end < 0 || end > p.end) end = p.end;
      if (end <= p.start) end = Math.min(xml.length, p.start + 1);
      diag(ctx, { start: p.start, end }, 'error', 'xml-malformed', `Malformed XML: ${p.message}`);
    }
    if (root === undefined) {
      if (wellFormed) diag(ctx, { start: 0, end: xml.length }, 'error', 'xml-malformed', 'No root element.');
      return result;
    }
    result.rootName = root.name;
    if (root.name !== 'record') {
      diag(
        ctx,
        { start: root.start + 1, end: root.start + 1 + root.name.length },
        'error',
        'record-root',
        `The root element is <${root.name}>: a MedAlign record has a <record> root.`,
      );
      return result;
    }
    for (const child of root.children) {
      if (child.name === 'visit') result.visits.push(parseVisit(ctx, child));
      else if (child.name === 'person') parsePerson(ctx, child);
      else {
        diag(
          ctx,
          { start: child.start, end: child.openEnd },
          'warning',
          'record-structure',
          `<${child.name}> directly inside <record> is ignored (expected <visit>).`,
        );
      }
    }
    const person = ctx.persons[ctx.persons.length - 1];
    if (person !== undefined) result.person = person;
    result.personCount = ctx.persons.length;
    result.eventCount = ctx.eventCount;
    result.noteCount = ctx.noteCount;
    if (ctx.first !== undefined) result.firstDate = ctx.first;
    if (ctx.last !== undefined) result.lastDate = ctx.last;
    result.ok = wellFormed;
    return result;
  } catch (e) {
    // Defensive: the parser must never throw on any input.
    diag(ctx, { start: 0, end: 0 }, 'error', 'xml-malformed', `Could not read the record: ${String(e)}`);
    result.ok = false;
    return result;
  }
}
