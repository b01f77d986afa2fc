/**
 * How a record's text is cut into chunks for token counting and packing.
 *
 * The BPE pre-tokenizer never merges across a line break that follows a tag (`>\n` is one piece and
 * the indentation after it starts a new one), so a cut placed **just after the last line break
 * before an element's indentation** splits the token stream exactly: the chunks' counts add up to
 * the whole text's count, for cl100k_base and o200k_base alike. Concretely a visit's chunk is its
 * whole lines: from the indentation before `<visit` through the line break after `</visit>`.
 *
 * (Cutting *just before* `<visit` with the whitespace kept by the previous visit is exact only
 * for some indentations: with a one-space or tab indent, ` <` is one token in the whole text but
 * two in the chunks. A test pins this down.)
 *
 * Where no line break separates two elements (`</visit><visit`, `><` is one token) or other
 * content precedes the indentation, the seam is marked inexact; counting then tokenizes the
 * glued chunks together so totals stay exact.
 */
import type { Day, EhrRecord, SourceRange, Visit } from './model';

export interface Span {
  start: number;
  end: number;
}

export interface Cut {
  pos: number;
  /** True when counting the two sides separately gives exactly the count of the whole. */
  exact: boolean;
}

function isSpaceOrTab(c: number): boolean {
  return c === 32 || c === 9;
}

/** Where to cut in the gap `text[gapStart, gapEnd)` between an element's end and the next element's start. */
export function cutBetween(text: string, gapStart: number, gapEnd: number): Cut {
  let q = gapEnd;
  while (q > gapStart && isSpaceOrTab(text.charCodeAt(q - 1))) q--;
  if (q > gapStart) {
    const c = text.charCodeAt(q - 1);
    return { pos: q, exact: c === 10 || c === 13 };
  }
  // The gap is only spaces/tabs (exact: `>` is a piece of its own before a space), or empty (`><`).
  return { pos: gapStart, exact: gapEnd > gapStart };
}

/** An element split into its opening part, its children's chunks and its closing part. */
export interface Split {
  /** The whole chunk: `open`, then `parts`, then `close`, contiguous. */
  chunk: Span;
  /** From the chunk start to the first child's chunk (start tag, and anything before the first child). */
  open: Span;
  /** One chunk per child, in order. */
  parts: Span[];
  /** From the last child's chunk to the chunk end (end tag and trailing line break). */
  close: Span;
  /** `exact[i]` is the seam before parts[i]; `exact[parts.length]` the seam before `close`. */
  exact: boolean[];
}

/**
 * Splits the chunk of an element (`chunk`, which starts at or before the element's start and ends
 * at or after its end) around its children.
 */
export function splitElement(
  text: string,
  chunk: Span,
  openEnd: number,
  closeStart: number,
  children: readonly SourceRange[],
): Split {
  if (children.length === 0) {
    return { chunk, open: chunk, parts: [], close: { start: chunk.end, end: chunk.end }, exact: [true] };
  }
  const cuts: Cut[] = [];
  let prevEnd = openEnd;
  for (const c of children) {
    cuts.push(cutBetween(text, prevEnd, c.start));
    prevEnd = c.end;
  }
  cuts.push(cutBetween(text, prevEnd, Math.max(prevEnd, closeStart)));
  const parts: Span[] = [];
  for (let i = 0; i < children.length; i++) parts.push({ start: cuts[i].pos, end: cuts[i + 1].pos });
  return {
    chunk,
    open: { start: chunk.start, end: cuts[0].pos },
    parts,
    close: { start: cuts[children.length].pos, end: chunk.end },
    exact: cuts.map((c) => c.exact),
  };
}

/** Offset of the end tag's `<` of an element ending at `end` (the element's own text). */
function closeTagStart(text: string, range: SourceRange): number {
  if (text.charCodeAt(range.end - 2) === 47 /* / */) return range.end; // self-closing: no end tag
  const lt = text.lastIndexOf('<', range.end - 1);
  return lt > range.start ? lt : range.end;
}

function openTagEnd(text: string, range: SourceRange): number {
  // Attribute values in records do not contain `>` unescaped in practice; a quoted `>` only makes
  // the open part longer, which stays correct (it is a contiguous prefix of the chunk).
  const gt = text.indexOf('>', range.start);
  return gt < 0 || gt >= range.end ? range.end : gt + 1;
}

/** The record split into head (`<record>` line...), one chunk per visit, and tail (`</record>`...). */
export interface RecordLayout {
  /** Text length the layout was computed for. */
  size: number;
  /** `<record>` start tag and anything before the first visit's chunk. Whole text when there are no visits. */
  head: Span;
  visits: Span[];
  tail: Span;
  /** `exact[i]` is the seam before visits[i]; `exact[visits.length]` the seam before `tail`. */
  exact: boolean[];
}

export function recordLayout(text: string, record: EhrRecord): RecordLayout {
  return layoutOfVisits(
    text,
    record.visits.map((v) => v.range),
  );
}

/** The layout for visits at `ranges` (each from its `<visit` to just past its end tag), in order. */
export function layoutOfVisits(text: string, ranges: readonly SourceRange[]): RecordLayout {
  const all: Span = { start: 0, end: text.length };
  if (ranges.length === 0) {
    return {
      size: text.length,
      head: all,
      visits: [],
      tail: { start: text.length, end: text.length },
      exact: [true],
    };
  }
  const first = ranges[0];
  const last = ranges[ranges.length - 1];
  // The record's own tags: the first visit's parent opened before it; the tail starts at `</record>`.
  const recordOpenEnd = text.lastIndexOf('>', first.start - 1) + 1;
  const endTag = text.indexOf('</record', last.end);
  const recordCloseStart = endTag < 0 ? text.length : endTag;
  const s = splitElement(text, all, recordOpenEnd, recordCloseStart, ranges);
  return { size: text.length, head: s.open, visits: s.parts, tail: s.close, exact: s.exact };
}

function isTagNameEnd(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 62 || c === 47;
}

/**
 * A guess at the visits' ranges without parsing: every `<visit` start tag (not `<visit_detail`) to
 * the end of the next `</visit>` (or its own `/>`). Right for every well-formed MedAlign record; a
 * `<visit` in a comment or CDATA, or nesting, makes it wrong, so whatever is computed from it must be
 * checked against the parsed record's layout (`medalign count` counts chunks from this guess in a
 * worker while the record is parsed, and recounts any chunk the parse disagrees with).
 */
export function guessVisitRanges(text: string): SourceRange[] {
  const ranges: SourceRange[] = [];
  let at = 0;
  for (;;) {
    const start = text.indexOf('<visit', at);
    if (start < 0) return ranges;
    // Only `<visit` followed by whitespace, `>` or `/`.
    if (!isTagNameEnd(text.charCodeAt(start + 6))) {
      at = start + 6;
      continue;
    }
    const gt = text.indexOf('>', start + 6);
    if (gt < 0) return ranges;
    if (text.charCodeAt(gt - 1) === 47) {
      ranges.push({ start, end: gt + 1 });
      at = gt + 1;
      continue;
    }
    let close = text.indexOf('</visit', gt);
    // Not `</visit_detail>`.
    while (close >= 0 && !isTagNameEnd(text.charCodeAt(close + 7)))
      close = text.indexOf('</visit', close + 7);
    const closeGt = close < 0 ? -1 : text.indexOf('>', close);
    if (closeGt < 0) return ranges;
    ranges.push({ start, end: closeGt + 1 });
    at = closeGt + 1;
  }
}

/** A visit's chunk split into its days; each day's chunk split into its events. */
export interface VisitSplit extends Split {
  days: Split[];
}

export function splitVisit(text: string, visit: Visit, chunk: Span): VisitSplit {
  const s = splitElement(
    text,
    chunk,
    openTagEnd(text, visit.range),
    closeTagStart(text, visit.range),
    visit.days.map((d) => d.range),
  );
  const days = visit.days.map((d, i) => splitDay(text, d, s.parts[i]));
  return { ...s, days };
}

export function splitDay(text: string, day: Day, chunk: Span): Split {
  // An event read as a day of its own (it sat directly in the visit) is not split further.
  if (day.events.length === 1 && day.events[0].range.start === day.range.start) {
    return splitElement(text, chunk, day.range.end, day.range.end, []);
  }
  return splitElement(
    text,
    chunk,
    openTagEnd(text, day.range),
    closeTagStart(text, day.range),
    day.events.map((e) => e.range),
  );
}
