/**
 * The record timeline model (issue 10): what the Record Timeline view draws and what
 * `medalign timeline --json` prints. Plain, structured-cloneable data, computed in the core
 * (`./build.ts`) from the parsed record and the cached per-element token counts, with its cut lines
 * taken from `packPrompt` (the same code path as `medalign pack`). See docs/timeline.md.
 */
import type { PackStrategy } from '../packing/pack';

/** Event kinds, derived from the element name (docs/timeline.md has the table). */
export type TimelineKind =
  'note' | 'measurement' | 'medication' | 'diagnosis' | 'procedure' | 'demographics' | 'other';

export const TIMELINE_KINDS: readonly TimelineKind[] = [
  'note',
  'measurement',
  'medication',
  'diagnosis',
  'procedure',
  'demographics',
  'other',
];

/**
 * A range in the record file, as LSP positions (0-based line, 0-based UTF-16 character), written as
 * a tuple to keep a 50k-event model small: `[startLine, startCharacter, endLine, endCharacter]`.
 */
export type TimelineRange = [number, number, number, number];

export interface TimelineEvent {
  /** Sequence number of the event in the record (0-based, record order): unique in the model. */
  id: number;
  kind: TimelineKind;
  /** The element name when `kind` is `other` (`visit_detail`, an unknown element). */
  tag?: string;
  /** `YYYY-MM-DDTHH:mm` (local time, as written; no zone), or null when neither the event, its day
   * nor its visit has a parseable date. */
  date: string | null;
  /** The event has no parseable date of its own: `date` is its day's (or visit's). */
  inferred?: true;
  /** Exact tokens of the event's chunk in the model's encoding (its lines, as packing cuts them). */
  tokens: number;
  range: TimelineRange;
  /** A short label: a note's type, a code's description (and value/unit), `Demographics`. */
  label: string;
  /** At most ~100 characters of the event's text; absent when it would repeat `label`. */
  preview?: string;
}

export interface TimelineDay {
  /** `YYYY-MM-DDTHH:mm` of the `<day start>`, or null when it is missing or unparseable. */
  date: string | null;
  /** Exact tokens of the day's chunk (its `<day>` line, person block, events and end tag). */
  tokens: number;
  /** Number of events in the day (the person block excluded). */
  events: number;
}

export type TimelineVisitState = 'kept' | 'partial' | 'cut';

export interface TimelineVisit {
  /** Index of the visit in the record (record order). */
  index: number;
  /** The `<visit type>`. */
  type?: string;
  /** Earliest and latest dates in the visit (its own start, its days' and events'), or null. */
  start: string | null;
  end: string | null;
  /** Exact tokens of the visit's chunk (the per-visit counts the hovers show). */
  tokens: number;
  range: TimelineRange;
  /** What the instruction's own context keeps of the visit, with the current strategy. */
  state: TimelineVisitState;
  /** Tokens of it kept at the instruction's own context. */
  keptTokens: number;
  /** For a `partial` visit: ids of its events that are kept. */
  kept?: number[];
  /** BM25 relevance to the instruction (strategy `bm25` only). */
  score?: number;
  /** Question terms found in the visit (strategy `bm25` only), as stemmed by BM25. */
  matched?: string[];
  days: TimelineDay[];
  events: TimelineEvent[];
}

/** What one context keeps, from `packPrompt` with the model's strategy (exactly what `medalign pack` keeps). */
export interface TimelineCut {
  /** Context window in tokens (k = 1024). */
  context: number;
  /** `2k` … `128k`, or the instruction's own value when it is not a standard size. */
  label: string;
  /** Exact tokens of the packed record. */
  keptTokens: number;
  /** Earliest date kept (`YYYY-MM-DDTHH:mm`), or null when nothing dated is kept. */
  keptFrom: string | null;
  keptVisits: number;
  keptEvents: number;
  /** The whole record fits (strategy `none`: it is sent; else nothing is cut). */
  fits: boolean;
  /** The pack succeeded (false: `none` that does not fit, or a prompt too long without any record). */
  ok: boolean;
  /** The instruction's own context (or the overridden one). */
  own: boolean;
  /**
   * Strategy `recent` only: the id of the first event it keeps (record order; the demographics
   * block aside), where its line goes even when visits are not in date order; null: none is kept.
   */
  firstKept?: number | null;
}

export interface TimelineQueryTerm {
  /** A term of the instruction's question, as BM25 reads it (lower-case, light plural stemming). */
  term: string;
  /** Occurrences in the whole record, and in how many visits. */
  hits: number;
  visits: number;
  /** Occurrences in what the instruction's own context keeps (visits kept whole or in part). */
  keptHits: number;
}

export interface TimelineModel {
  version: 1;
  /** The record's label (`records/1234555.xml`) and its URI. */
  record: string;
  uri?: string;
  /** The tokenizer counts are in, and whether it stands in for an unknown one (`estimated`). */
  encoding: string;
  estimated?: boolean;
  /** The model (endpoint id or `baseline`) the settings came from. */
  model?: string;
  /**
   * The record's structure only, its tokens not counted yet (the Record Timeline view's first paint
   * of a big record, `medalign/timelineView` with `progressive`): every token figure is 0, `cuts` is
   * empty and every visit is `kept` without meaning it. The counted model follows. Never set by
   * `medalign/timeline` or `medalign timeline`.
   */
  counting?: true;
  /** Exact tokens of the whole record. */
  tokens: number;
  strategy: PackStrategy;
  /** The instruction's own context (or the override), in tokens. */
  context: number;
  /** Record-wide counts: events, notes; and the earliest/latest dates. */
  events: number;
  first: string | null;
  last: string | null;
  visits: TimelineVisit[];
  cuts: TimelineCut[];
  /** The instruction's question terms and where they hit (absent for a record without instruction). */
  query?: { terms: TimelineQueryTerm[] };
  /** Why part of the model is missing or approximate (broken record, bad setting, date quirks). */
  problems: string[];
  /** A record that is not valid: its first error and where it is in the file (for a link to it). */
  error?: { message: string; code: string; range: TimelineRange };
  /** `strategy: refine`: the chunks at the instruction's context, in the order they are sent. */
  refine?: TimelineRefineStep[];
}

/** One chunk of a refine plan: the visits it covers (indices, a visit cut inside is in two), its dates. */
export interface TimelineRefineStep {
  step: number;
  firstVisit: number;
  lastVisit: number;
  events: number;
  from: string | null;
  to: string | null;
  /** The step's prompt without the previous answer, and its record chunk. */
  tokens: number;
  recordTokens: number;
  /** Where its record chunk is in the file: from its first piece's start to its last piece's end. */
  range: TimelineRange;
}

/** An empty model that says why (a missing or broken record, a bad setting). */
export function emptyTimeline(
  record: string,
  problems: string[],
  base: Partial<Pick<TimelineModel, 'encoding' | 'model' | 'strategy' | 'context' | 'uri'>> = {},
): TimelineModel {
  const m: TimelineModel = {
    version: 1,
    record,
    encoding: base.encoding ?? 'cl100k_base',
    tokens: 0,
    strategy: base.strategy ?? 'recent',
    context: base.context ?? 0,
    events: 0,
    first: null,
    last: null,
    visits: [],
    cuts: [],
    problems,
  };
  if (base.model !== undefined) m.model = base.model;
  if (base.uri !== undefined) m.uri = base.uri;
  return m;
}
