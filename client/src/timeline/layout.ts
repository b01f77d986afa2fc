/**
 * The Record Timeline's pure geometry and state, shared by the webview script (bundled with esbuild)
 * and the unit tests: the compressed time axis, kind lanes, hit testing, search and what a cut keeps.
 * No DOM, no `vscode`, no I/O.
 */
import type { TimelineCut, TimelineEvent, TimelineModel, TimelineVisit } from './model';

export const DAY_MS = 86_400_000;

/** The lanes events are drawn in, top to bottom; every kind the record holds falls in one. */
export const LANES = [
  'notes',
  'measurements',
  'medications',
  'conditions',
  'procedures',
  'demographics',
  'other',
] as const;
export type Lane = (typeof LANES)[number];

export const LANE_LABELS: Record<Lane, string> = {
  notes: 'Notes',
  measurements: 'Measurements / labs',
  medications: 'Medications',
  conditions: 'Diagnoses / conditions',
  procedures: 'Procedures',
  demographics: 'Demographics',
  other: 'Other',
};

/** The lane of an event kind, from its name (the record's XML element or the model's category). */
export function laneOf(kind: string): Lane {
  const k = kind.toLowerCase();
  if (k.includes('note')) return 'notes';
  if (k.includes('measurement') || k.includes('lab') || k.includes('observation')) return 'measurements';
  if (k.includes('drug') || k.includes('medication')) return 'medications';
  if (k.includes('condition') || k.includes('diagnos')) return 'conditions';
  if (k.includes('procedure')) return 'procedures';
  if (k.includes('person') || k.includes('demograph')) return 'demographics';
  return 'other';
}

/** Milliseconds since the epoch of an ISO date or date-time, `undefined` for none or nonsense. */
export function timeOf(iso: string | null | undefined): number | undefined {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : undefined;
}

/** `2019-04-02` of a time. */
export function isoDay(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

/** A gap of the axis drawn shorter than it is (marked on the axis with a break). */
export interface AxisBreak {
  /** The real times the gap spans. */
  from: number;
  to: number;
  /** Where the break sits on the unit axis (the middle of the drawn gap). */
  at: number;
}

/**
 * A piecewise-linear map from time to [0, 1]: `domain[i]` is drawn at `range[i]` (both increasing),
 * the form d3-scale's polylinear `scaleLinear` takes. Long empty gaps are drawn short (`breaks`).
 */
export interface Axis {
  domain: number[];
  range: number[];
  breaks: AxisBreak[];
}

export interface AxisOptions {
  /** A gap longer than this is compressed (default 60 days). */
  gapMs?: number;
  /** Room on each side of a busy span, so a one-day visit is not a zero-width line (default 1 day). */
  padMs?: number;
}

/**
 * The axis for these intervals (visits). Busy spans (visits closer than `gapMs`, merged) keep their
 * real length; each longer gap is drawn as `max(gapMs / 2, 4% of the busy time)`, so ten years with
 * three busy months stay readable and every gap is still visible, and marked.
 */
export function buildAxis(intervals: readonly (readonly [number, number])[], opts: AxisOptions = {}): Axis {
  const gapMs = opts.gapMs ?? 60 * DAY_MS;
  const padMs = opts.padMs ?? DAY_MS;
  const sorted = intervals
    .filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b))
    .map(([a, b]) => [Math.min(a, b) - padMs, Math.max(a, b) + padMs] as [number, number])
    .sort((x, y) => x[0] - y[0]);
  if (sorted.length === 0) return { domain: [0, DAY_MS], range: [0, 1], breaks: [] };
  const spans: [number, number][] = [];
  for (const iv of sorted) {
    const last = spans[spans.length - 1];
    if (last && iv[0] - last[1] <= gapMs) last[1] = Math.max(last[1], iv[1]);
    else spans.push([iv[0], iv[1]]);
  }
  const busy = spans.reduce((sum, [a, b]) => sum + (b - a), 0);
  const drawnGap = Math.max(gapMs / 2, busy * 0.04);
  const domain: number[] = [];
  const units: number[] = [];
  const breaks: { from: number; to: number; at: number }[] = [];
  let u = 0;
  spans.forEach(([a, b], i) => {
    if (i > 0) {
      const prev = spans[i - 1][1];
      const drawn = Math.min(drawnGap, a - prev);
      breaks.push({ from: prev, to: a, at: u + drawn / 2 });
      u += drawn;
    }
    domain.push(a, b);
    units.push(u, u + (b - a));
    u += b - a;
  });
  const total = u > 0 ? u : 1;
  return {
    domain,
    range: units.map((x) => x / total),
    breaks: breaks.map((br) => ({ ...br, at: br.at / total })),
  };
}

/** Where a time falls on the unit axis (clamped to the ends; inside a break, linearly across it). */
export function axisPosition(axis: Axis, t: number): number {
  const { domain: d, range: r } = axis;
  if (t <= d[0]) return r[0];
  if (t >= d[d.length - 1]) return r[r.length - 1];
  let lo = 0;
  let hi = d.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (d[mid] <= t) lo = mid;
    else hi = mid;
  }
  const span = d[hi] - d[lo];
  return span === 0 ? r[lo] : r[lo] + ((t - d[lo]) / span) * (r[hi] - r[lo]);
}

/** The time drawn at a unit position (the inverse of `axisPosition`). */
export function axisTime(axis: Axis, u: number): number {
  const { domain: d, range: r } = axis;
  if (u <= r[0]) return d[0];
  if (u >= r[r.length - 1]) return d[d.length - 1];
  let i = 0;
  while (i < r.length - 2 && r[i + 1] < u) i++;
  const span = r[i + 1] - r[i];
  return span === 0 ? d[i] : d[i] + ((u - r[i]) / span) * (d[i + 1] - d[i]);
}

/** The axis of a model: its visits' spans (events without a visit date count too). */
export function modelAxis(model: TimelineModel, opts?: AxisOptions): Axis {
  const spans: [number, number][] = [];
  for (const v of model.visits) {
    const a = timeOf(v.start);
    const b = timeOf(v.end) ?? a;
    if (a !== undefined && b !== undefined) spans.push([a, b]);
    else
      for (const e of v.events) {
        const t = timeOf(e.date);
        if (t !== undefined) spans.push([t, t]);
      }
  }
  return buildAxis(spans, opts);
}

/** An event placed on the axis (what the canvas draws and hit tests). */
export interface PlacedEvent {
  event: TimelineEvent;
  visit: number;
  lane: Lane;
  /** Unit position on the axis. */
  u: number;
  t: number;
}

/**
 * `timeOf` for many dates of few days: a `YYYY-MM-DDTHH:mm` is its day's local midnight plus its
 * minutes, the midnight parsed once per day (a day whose length is not 24 h, a clock change, and any
 * other form are parsed whole). The same numbers as `timeOf`, without a parse per event.
 */
export function dayTimes(): (iso: string | null | undefined) => number | undefined {
  const days = new Map<string, number | null>();
  return (iso) => {
    if (!iso) return undefined;
    if (iso.length !== 16 || iso.charCodeAt(10) !== 84 /* T */ || iso.charCodeAt(13) !== 58 /* : */)
      return timeOf(iso);
    const day = iso.slice(0, 10);
    let midnight = days.get(day);
    if (midnight === undefined) {
      const a = Date.parse(`${day}T00:00`);
      const b = Date.parse(`${day}T23:59`);
      midnight = Number.isFinite(a) && b - a === 1439 * 60_000 ? a : null;
      days.set(day, midnight);
    }
    const h = (iso.charCodeAt(11) - 48) * 10 + iso.charCodeAt(12) - 48;
    const m = (iso.charCodeAt(14) - 48) * 10 + iso.charCodeAt(15) - 48;
    if (midnight === null || !(h >= 0 && h < 24 && m >= 0 && m < 60)) return timeOf(iso);
    return midnight + (h * 60 + m) * 60_000;
  };
}

/** Every dated event of the model, placed and sorted by time (then by order in the record). */
export function placeEvents(model: TimelineModel, axis: Axis): PlacedEvent[] {
  const out: PlacedEvent[] = [];
  const time = dayTimes();
  for (const v of model.visits) {
    const vt = timeOf(v.start);
    for (const event of v.events) {
      const t = time(event.date) ?? vt;
      if (t === undefined) continue;
      out.push({ event, visit: v.index, lane: laneOf(event.kind), u: axisPosition(axis, t), t });
    }
  }
  return out.sort((a, b) => a.t - b.t || a.event.id - b.event.id);
}

/**
 * The placed event nearest to pixel `x` in `lane` within `radius` pixels, given `toPx` (unit → px).
 * `placed` is sorted by `u`; a binary search keeps this fast over tens of thousands of events.
 */
export function hitEvent(
  placed: readonly PlacedEvent[],
  x: number,
  lane: Lane | undefined,
  toPx: (u: number) => number,
  radius = 4,
  visible: (p: PlacedEvent) => boolean = () => true,
): PlacedEvent | undefined {
  let lo = 0;
  let hi = placed.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (toPx(placed[mid].u) < x - radius) lo = mid + 1;
    else hi = mid;
  }
  let best: PlacedEvent | undefined;
  let bestD = Infinity;
  for (let i = lo; i < placed.length; i++) {
    const p = placed[i];
    const px = toPx(p.u);
    if (px > x + radius) break;
    if ((lane !== undefined && p.lane !== lane) || !visible(p)) continue;
    const d = Math.abs(px - x);
    if (d < bestD) {
      best = p;
      bestD = d;
    }
  }
  return best;
}

/** The own cut (the instruction's context), else the first. */
export function ownCut(model: TimelineModel): TimelineCut | undefined {
  return model.cuts.find((c) => c.own) ?? model.cuts[0];
}

/** Whether the instruction's own context keeps this event: its visit is kept, or partly kept with it. */
export function eventKept(visit: TimelineVisit, event: TimelineEvent): boolean {
  if (visit.state === 'kept') return true;
  if (visit.state === 'cut') return false;
  return visit.kept?.includes(event.id) === true;
}

export interface SearchResult {
  query: string;
  ids: Set<number>;
  count: number;
  /** Of the hits, how many the own context keeps and how many it cuts. */
  kept: number;
  cut: number;
  /** Dates of the first and last hits (ISO days). */
  first?: string;
  last?: string;
}

/** Case-insensitive search of events' label and preview (the text the view shows of them). */
export function searchEvents(model: TimelineModel, query: string): SearchResult {
  const q = query.trim().toLowerCase();
  const ids = new Set<number>();
  const result: SearchResult = { query: q, ids, count: 0, kept: 0, cut: 0 };
  if (q === '') return result;
  let first: number | undefined;
  let last: number | undefined;
  for (const v of model.visits) {
    for (const e of v.events) {
      if (!e.label.toLowerCase().includes(q) && !(e.preview ?? '').toLowerCase().includes(q)) continue;
      ids.add(e.id);
      result.count++;
      if (eventKept(v, e)) result.kept++;
      else result.cut++;
      const t = timeOf(e.date) ?? timeOf(v.start);
      if (t !== undefined) {
        first = first === undefined ? t : Math.min(first, t);
        last = last === undefined ? t : Math.max(last, t);
      }
    }
  }
  if (first !== undefined) result.first = isoDay(first);
  if (last !== undefined) result.last = isoDay(last);
  return result;
}

/** How many events of each lane the model holds (lanes with none are left out). */
export function laneCounts(model: TimelineModel): Map<Lane, number> {
  const m = new Map<Lane, number>();
  for (const v of model.visits)
    for (const e of v.events) m.set(laneOf(e.kind), (m.get(laneOf(e.kind)) ?? 0) + 1);
  return new Map(LANES.filter((l) => m.has(l)).map((l) => [l, m.get(l)!]));
}

/** `12,345` / `1.2k` / `3.4M` for token counts in labels. */
export function shortTokens(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}
