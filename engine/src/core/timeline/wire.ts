/**
 * The timeline model on the wire (issue 10, speed): what the record worker posts to the language
 * server and the server sends the Record Timeline view (`medalign/timelineView`). The same
 * `TimelineModel` (./model.ts), in columns: one array per field of the visits, days and events
 * (numbers, no per-event objects), strings interned once (labels, tags, visit types, terms), dates as
 * minutes, line numbers as deltas. A 50k-event model is about a quarter of its JSON and is cloned and
 * parsed many times faster. Event previews (the events' text) are left out of a big model and fetched
 * by id when they are shown (`timelinePreviews`).
 *
 * `decodeTimeline(encodeTimeline(m))` is `m` (with the previews that were shipped); `isTimelineWire`
 * checks everything the decoder reads, so a malformed message is refused, never half-drawn.
 * `medalign timeline --json` and `medalign/timeline` keep the documented object model.
 */
import { TIMELINE_KINDS } from './model';
import type {
  TimelineDay,
  TimelineEvent,
  TimelineModel,
  TimelineRange,
  TimelineVisit,
  TimelineVisitState,
} from './model';

/**
 * A date: minutes since 1970-01-01T00:00 of the `YYYY-MM-DDTHH:mm` as written (no zone), a string
 * when it is not in that form, or null.
 */
export type WireDate = number | string | null;

/** `preview` column: the preview's index in `strings`, or one of these. */
export const PREVIEW_NONE = -1;
/** The event has a preview, not shipped: ask `timelinePreviews` for it. */
export const PREVIEW_LAZY = -2;

const STATES: readonly TimelineVisitState[] = ['kept', 'partial', 'cut'];

export interface TimelineWire {
  version: 1;
  format: 'columns';
  /** Names this model (record version and settings): previews answered for another are dropped. */
  stamp: string;
  /** Everything of the model but its visits (record, tokens, cuts, query, problems...). */
  header: Omit<TimelineModel, 'visits'>;
  strings: string[];
  visits: {
    index: number[];
    /** `strings` index, -1: none. */
    type: number[];
    start: WireDate[];
    end: WireDate[];
    tokens: number[];
    /** 4 numbers per visit. */
    range: number[];
    /** 0 kept, 1 partial, 2 cut. */
    state: number[];
    keptTokens: number[];
    /** Ids of a partial visit's kept events, else null. */
    kept: (number[] | null)[];
    score: (number | null)[];
    /** `strings` indices, or null. */
    matched: (number[] | null)[];
    /** How many days and events each visit has (in order in `days` and `events`). */
    days: number[];
    events: number[];
  };
  days: { date: WireDate[]; tokens: number[]; events: number[] };
  events: {
    id: number[];
    /** Index in TIMELINE_KINDS. */
    kind: number[];
    /** `strings` index, -1: none. */
    tag: number[];
    date: WireDate[];
    /** 1: the date is its day's or visit's. */
    inferred: number[];
    tokens: number[];
    /** 4 numbers per event: start line − the previous event's end line, start character, lines, end character. */
    range: number[];
    label: number[];
    /** `strings` index, PREVIEW_NONE or PREVIEW_LAZY. */
    preview: number[];
  };
}

const MINUTE_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/;
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** `YYYY-MM-DD` of days since 1970-01-01 (civil_from_days). */
function civilFromDays(z: number): string {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${pad(y, 4)}-${pad(m)}-${pad(d)}`;
}

const digits = (s: string, from: number, n: number): number => {
  let v = 0;
  for (let i = from; i < from + n; i++) v = v * 10 + s.charCodeAt(i) - 48;
  return v;
};

function encodeDate(d: string | null): WireDate {
  if (d === null) return null;
  if (!MINUTE_RE.test(d)) return d;
  const y = digits(d, 0, 4);
  const mo = digits(d, 5, 2);
  const day = digits(d, 8, 2);
  const h = digits(d, 11, 2);
  const mi = digits(d, 14, 2);
  if (mo < 1 || mo > 12 || day < 1 || h > 23 || mi > 59) return d;
  const days = daysFromCivil(y, mo, day);
  // A day past the month's end (2019-02-30) would come back as another date: kept as written.
  if (civilFromDays(days) !== d.slice(0, 10)) return d;
  return days * 1440 + h * 60 + mi;
}

/** `HH:mm` of each minute of a day. */
const CLOCK: string[] = Array.from({ length: 1440 }, (_, i) => `${pad(Math.floor(i / 60))}:${pad(i % 60)}`);

/** Decodes dates, remembering each day's text (events of a day share it). */
function dateDecoder(): (d: WireDate) => string | null {
  const days = new Map<number, string>();
  return (d) => {
    if (typeof d !== 'number') return d;
    const day = Math.floor(d / 1440);
    let text = days.get(day);
    if (text === undefined) days.set(day, (text = civilFromDays(day)));
    return `${text}T${CLOCK[d - day * 1440]}`;
  };
}

function decodeDate(d: WireDate): string | null {
  return dateDecoder()(d);
}

/** Milliseconds of a wire date as `Date.parse` reads the decoded string (local time), NaN for none. */
export function wireDateMs(d: WireDate): number {
  if (d === null) return NaN;
  const s = decodeDate(d);
  return s === null ? NaN : Date.parse(s);
}

export interface EncodeOptions {
  /**
   * Ship every preview (true), none (false: each is fetched when shown), or only when they are
   * small (a number: at most this many characters in all). Default 64 KiB.
   */
  previews?: boolean | number;
  stamp?: string;
}

/** What of the wire comes from the model's visits (everything but the stamp and the header). */
export type TimelineColumns = Pick<TimelineWire, 'strings' | 'visits' | 'days' | 'events'>;

/**
 * A model for the view with its columns gzipped: the record worker packs a big model's (the
 * 50k-event structure: 2.1 MB of JSON, 0.4 MB gzipped), which then crosses the language server
 * connection, the extension host and the workbench's way to the page as a fifth of the bytes, and
 * is inflated by the page (`DecompressionStream`). `columns`: base64 of the gzipped JSON of the
 * model's TimelineColumns; `visits`: how many visits (what the extension reads without inflating).
 */
export interface PackedTimelineWire {
  version: 1;
  format: 'packed';
  stamp: string;
  header: Omit<TimelineModel, 'visits'>;
  visits: number;
  columns: string;
}

/** What `medalign/timelineView` answers: the columns, or (a big model, from the worker) packed. */
export type ViewWire = TimelineWire | PackedTimelineWire;

/**
 * The wire of a packed model's inflated and parsed columns: not checked (the caller runs
 * `isTimelineWire` on it); undefined when the columns are not an object.
 */
export function unpackedWire(p: Pick<PackedTimelineWire, 'stamp' | 'header'>, columns: unknown): unknown {
  if (columns === null || typeof columns !== 'object' || Array.isArray(columns)) return undefined;
  const c = columns as Record<string, unknown>;
  return {
    version: 1,
    format: 'columns',
    stamp: p.stamp,
    header: p.header,
    strings: c.strings,
    visits: c.visits,
    days: c.days,
    events: c.events,
  };
}

/** The columns of a model. */
export function encodeTimeline(model: TimelineModel, opts: EncodeOptions = {}): TimelineWire {
  const { visits, ...header } = model;
  return { version: 1, format: 'columns', stamp: opts.stamp ?? '', header, ...encodeColumns(visits, opts) };
}

/** The columns of a model's visits (`opts.stamp` is not used). */
export function encodeColumns(visits: readonly TimelineVisit[], opts: EncodeOptions = {}): TimelineColumns {
  const strings: string[] = [];
  const ids = new Map<string, number>();
  const intern = (s: string): number => {
    let i = ids.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      ids.set(s, i);
    }
    return i;
  };
  let ship: boolean;
  const budget = opts.previews ?? 64 * 1024;
  if (typeof budget === 'boolean') ship = budget;
  else {
    let chars = 0;
    for (const v of visits) for (const e of v.events) chars += e.preview?.length ?? 0;
    ship = chars <= budget;
  }
  const w: TimelineColumns = {
    strings,
    visits: {
      index: [],
      type: [],
      start: [],
      end: [],
      tokens: [],
      range: [],
      state: [],
      keptTokens: [],
      kept: [],
      score: [],
      matched: [],
      days: [],
      events: [],
    },
    days: { date: [], tokens: [], events: [] },
    events: {
      id: [],
      kind: [],
      tag: [],
      date: [],
      inferred: [],
      tokens: [],
      range: [],
      label: [],
      preview: [],
    },
  };
  const V = w.visits;
  const D = w.days;
  const E = w.events;
  let prevLine = 0;
  for (const v of visits) {
    V.index.push(v.index);
    V.type.push(v.type === undefined ? -1 : intern(v.type));
    V.start.push(encodeDate(v.start));
    V.end.push(encodeDate(v.end));
    V.tokens.push(v.tokens);
    V.range.push(...v.range);
    V.state.push(STATES.indexOf(v.state));
    V.keptTokens.push(v.keptTokens);
    V.kept.push(v.kept ?? null);
    V.score.push(v.score ?? null);
    V.matched.push(v.matched ? v.matched.map(intern) : null);
    V.days.push(v.days.length);
    V.events.push(v.events.length);
    for (const d of v.days) {
      D.date.push(encodeDate(d.date));
      D.tokens.push(d.tokens);
      D.events.push(d.events);
    }
    for (const e of v.events) {
      E.id.push(e.id);
      E.kind.push(Math.max(0, TIMELINE_KINDS.indexOf(e.kind)));
      E.tag.push(e.tag === undefined ? -1 : intern(e.tag));
      E.date.push(encodeDate(e.date));
      E.inferred.push(e.inferred ? 1 : 0);
      E.tokens.push(e.tokens);
      const r = e.range;
      E.range.push(r[0] - prevLine, r[1], r[2] - r[0], r[3]);
      prevLine = r[2];
      E.label.push(intern(e.label));
      E.preview.push(e.preview === undefined ? PREVIEW_NONE : ship ? intern(e.preview) : PREVIEW_LAZY);
    }
  }
  return w;
}

/**
 * The model of its columns. Events whose preview was not shipped have none (`lazy` lists their ids,
 * for the view to fetch when it shows them).
 */
export function decodeTimeline(w: TimelineWire, lazy?: Set<number>): TimelineModel {
  const decodeDate = dateDecoder();
  const S = w.strings;
  const V = w.visits;
  const D = w.days;
  const E = w.events;
  const visits: TimelineVisit[] = [];
  let di = 0;
  let ei = 0;
  let prevLine = 0;
  for (let i = 0; i < V.index.length; i++) {
    const days: TimelineDay[] = [];
    for (const end = di + V.days[i]; di < end; di++)
      days.push({ date: decodeDate(D.date[di]), tokens: D.tokens[di], events: D.events[di] });
    const events: TimelineEvent[] = [];
    for (const end = ei + V.events[i]; ei < end; ei++) {
      const r0 = prevLine + E.range[4 * ei];
      const r2 = r0 + E.range[4 * ei + 2];
      prevLine = r2;
      const e: TimelineEvent = {
        id: E.id[ei],
        kind: TIMELINE_KINDS[E.kind[ei]],
        date: decodeDate(E.date[ei]),
        tokens: E.tokens[ei],
        range: [r0, E.range[4 * ei + 1], r2, E.range[4 * ei + 3]],
        label: S[E.label[ei]],
      };
      if (E.tag[ei] >= 0) e.tag = S[E.tag[ei]];
      if (E.inferred[ei] === 1) e.inferred = true;
      const p = E.preview[ei];
      if (p >= 0) e.preview = S[p];
      else if (p === PREVIEW_LAZY) lazy?.add(e.id);
      events.push(e);
    }
    const v: TimelineVisit = {
      index: V.index[i],
      start: decodeDate(V.start[i]),
      end: decodeDate(V.end[i]),
      tokens: V.tokens[i],
      range: V.range.slice(4 * i, 4 * i + 4) as TimelineRange,
      state: STATES[V.state[i]],
      keptTokens: V.keptTokens[i],
      days,
      events,
    };
    if (V.type[i] >= 0) v.type = S[V.type[i]];
    const kept = V.kept[i];
    if (kept !== null) v.kept = kept;
    const score = V.score[i];
    if (score !== null) v.score = score;
    const matched = V.matched[i];
    if (matched !== null) v.matched = matched.map((m) => S[m]);
    visits.push(v);
  }
  return { ...w.header, visits };
}

/** The previews of these events (null: none), in the order asked. */
export function timelinePreviews(model: TimelineModel, ids: readonly number[]): (string | null)[] {
  const want = new Set(ids);
  const found = new Map<number, string>();
  for (const v of model.visits)
    for (const e of v.events) if (want.has(e.id) && e.preview !== undefined) found.set(e.id, e.preview);
  return ids.map((id) => found.get(id) ?? null);
}

// ───────────────────────────── checks ─────────────────────────────
const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object';
const isInt = (x: unknown): x is number => Number.isInteger(x);
const isNat = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0;
const isStr = (x: unknown): x is string => typeof x === 'string';
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isWireDate = (x: unknown) => x === null || isStr(x) || isInt(x);
function column(x: unknown, n: number, ok: (v: unknown) => boolean): boolean {
  if (!Array.isArray(x) || x.length !== n) return false;
  for (const v of x) if (!ok(v)) return false;
  return true;
}

/**
 * A well-formed wire model: every column of the right length and type, every index in range, every
 * decoded range non-negative (the header's own fields are checked by the caller, as the object
 * model's are: `isTimelineModel` on the decoded model).
 */
export function isTimelineWire(x: unknown): x is TimelineWire {
  if (!isObj(x) || x.version !== 1 || x.format !== 'columns' || !isStr(x.stamp) || !isObj(x.header))
    return false;
  if (!Array.isArray(x.strings) || !x.strings.every(isStr)) return false;
  const ns = x.strings.length;
  const str = (v: unknown) => isNat(v) && v < ns;
  const optStr = (v: unknown) => v === -1 || str(v);
  const V = x.visits;
  const D = x.days;
  const E = x.events;
  if (!isObj(V) || !isObj(D) || !isObj(E) || !Array.isArray(V.index)) return false;
  const nv = V.index.length;
  if (!column(V.index, nv, isNat) || !column(V.type, nv, optStr)) return false;
  if (!column(V.start, nv, isWireDate) || !column(V.end, nv, isWireDate)) return false;
  if (!column(V.tokens, nv, isNat) || !column(V.range, 4 * nv, isNat)) return false;
  if (!column(V.state, nv, (s) => s === 0 || s === 1 || s === 2) || !column(V.keptTokens, nv, isNat))
    return false;
  if (!column(V.kept, nv, (k) => k === null || (Array.isArray(k) && k.every(isNat)))) return false;
  if (!column(V.score, nv, (s) => s === null || isNum(s))) return false;
  if (!column(V.matched, nv, (m) => m === null || (Array.isArray(m) && m.every(str)))) return false;
  if (!column(V.days, nv, isNat) || !column(V.events, nv, isNat)) return false;
  const nd = (V.days as number[]).reduce((a, b) => a + b, 0);
  const ne = (V.events as number[]).reduce((a, b) => a + b, 0);
  if (!column(D.date, nd, isWireDate) || !column(D.tokens, nd, isNat) || !column(D.events, nd, isNat))
    return false;
  if (!column(E.id, ne, isNat) || !column(E.kind, ne, (k) => isNat(k) && k < TIMELINE_KINDS.length))
    return false;
  if (!column(E.tag, ne, optStr) || !column(E.date, ne, isWireDate)) return false;
  if (!column(E.inferred, ne, (i) => i === 0 || i === 1) || !column(E.tokens, ne, isNat)) return false;
  if (!column(E.range, 4 * ne, isInt) || !column(E.label, ne, str)) return false;
  if (!column(E.preview, ne, (p) => p === PREVIEW_NONE || p === PREVIEW_LAZY || str(p))) return false;
  // Line deltas give non-negative lines; characters are non-negative.
  const r = E.range as number[];
  let line = 0;
  for (let i = 0; i < ne; i++) {
    const start = line + r[4 * i];
    line = start + r[4 * i + 2];
    if (start < 0 || line < 0 || r[4 * i + 1] < 0 || r[4 * i + 3] < 0) return false;
  }
  return true;
}
