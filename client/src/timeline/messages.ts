/**
 * Every message between the Record Timeline's webview and the extension, in one place, with the
 * checks both sides run on what they receive (a message is data: anything malformed is dropped).
 * Strings from the record (labels, previews, problems) are drawn only with `textContent` or canvas
 * `fillText`. No DOM, no `vscode` here: the webview bundle and the unit tests import it too.
 */
import type { TimelineModel, TimelineRange } from './model';
// eslint-disable-next-line no-restricted-imports -- pure core module (no Node, no DOM): the wire format's decoder and check
import { isTimelineWire } from '../../../engine/src/core/timeline/wire';
// eslint-disable-next-line no-restricted-imports -- types only
import type { PackedTimelineWire, TimelineWire } from '../../../engine/src/core/timeline/wire';

export type { TimelineWire };

/** What the view draws: a model, or why there is none. */
export type TimelineContent =
  | { state: 'model'; model: TimelineModel; source: string }
  /** Nothing to show: `message` says what to open. */
  | { state: 'empty'; message: string }
  | { state: 'loading'; message: string; source?: string }
  /** The record cannot be read: why, and a problem to go to (`problem`: the file shown). */
  | { state: 'broken'; message: string; source: string; problem?: string };

/** A model as the extension sends it: in columns (the webview decodes it into `state: 'model'`). */
export interface WireContent {
  state: 'model';
  wire: TimelineWire;
  source: string;
}

/**
 * A big model as the extension sends it: its columns packed by the server (PackedTimelineWire), as
 * bytes (the page inflates them, then checks and decodes them as a WireContent's).
 */
export interface PackedContent {
  state: 'model';
  packed: Omit<PackedTimelineWire, 'columns'> & { columns: Uint8Array };
  source: string;
}

/**
 * A model the page was sent before, named by its key (wireCacheKey): the page keeps the last
 * PAGE_MODEL_CACHE models it decoded, so switching back to an instruction sends no columns (if the
 * page no longer has it, it answers `missing` and the extension sends the columns).
 */
export interface CachedContent {
  state: 'model';
  cached: string;
  source: string;
}

/** How many decoded models the page keeps (the one shown and the one before). */
export const PAGE_MODEL_CACHE = 2;

/**
 * What names a model in the page's cache: its stamp (record version and settings) and its header
 * (the instruction it is for, its cuts, problems and query), so two instructions over one record
 * with the same settings are two models. '' (not cached) for a wire without a stamp.
 */
export function wireCacheKey(w: Pick<TimelineWire, 'stamp' | 'header'>): string {
  return w.stamp === '' ? '' : `${w.stamp}\n${JSON.stringify(w.header)}`;
}

/** Extension → webview. */
export type ToView =
  /** `seq` grows with every content; `keepView` keeps zoom and selection (same record, an update). */
  | {
      type: 'content';
      seq: number;
      content: TimelineContent | WireContent | PackedContent | CachedContent;
      keepView: boolean;
    }
  /** Previews of events of the model `stamp` names (asked with `previews`); null: none. */
  | { type: 'previews'; stamp: string; ids: number[]; previews: (string | null)[] }
  /** Asks what the view shows (`describe`, answered with `describe`). */
  | { type: 'describe'; requestId: number }
  /** Acts as a user would (tests and commands): select and reveal an event, search, filter, fit. */
  | { type: 'act'; action: ViewAction };

export type ViewAction =
  | { kind: 'clickEvent'; id: number }
  | { kind: 'search'; text: string }
  | { kind: 'filter'; lane: string; shown: boolean }
  | { kind: 'fit'; what: 'all' | 'kept' }
  | { kind: 'zoom'; factor: number }
  | { kind: 'clickCut'; label: string }
  /** `strategy: refine`: the step's label (its chunk shown, its start revealed in the record). */
  | { kind: 'clickStep'; step: number };

/** Webview → extension. */
export type FromView =
  | { type: 'ready' }
  /** Show this range of the record beside the editor. */
  | { type: 'reveal'; seq: number; range: TimelineRange }
  /** The user clicked a cut line: offer this context for the instruction. */
  | { type: 'useContext'; seq: number; label: string }
  /** Go to the problem that broke the record. */
  | { type: 'openProblem' }
  | { type: 'describe'; requestId: number; describe: TimelineDescribe }
  | { type: 'perf'; perf: TimelinePerf }
  /** Previews of these events of the content `seq` shows (a big model ships without them). */
  | { type: 'previews'; seq: number; ids: number[] }
  /** The content `seq` named a model (`stamp`: its wireCacheKey) the page no longer has: send its columns. */
  | { type: 'missing'; seq: number; stamp: string };

/** Figures the webview measures with `performance.now()` (bench and e2e read them). */
export interface TimelinePerf {
  /** From the content message's arrival to the end of its first drawn frame, per content (latest last, at most 20). */
  firstPaintMs: number[];
  /** Draw times of zoom / pan frames (the latest 200). */
  frameMs: number[];
  /**
   * Wall-clock time (`Date.now()`, ms) of each first paint, beside `firstPaintMs`: the extension
   * host's clock is the same, so the time from the view's request to the paint can be read.
   */
  paintedAt?: number[];
  /**
   * Beside `paintedAt`: what each paint showed, a big record's structure while its tokens are
   * counted (`counting`) or a counted model (`counted`).
   */
  paintedStage?: TimelineStage[];
  /**
   * Beside `paintedAt`: the gzipped bytes of each painted model when its columns came packed (a big
   * model's: PackedContent), else 0.
   */
  paintedGzipBytes?: number[];
  /** The page's JavaScript heap in MB (Chromium's `performance.memory.usedJSHeapSize`), when known. */
  heapMB?: number;
}

/**
 * A model's stage: `counting`, the record's structure painted at once (no token figure, no cut
 * line: "Counting tokens…" where they go); `counted`, the whole model.
 */
export type TimelineStage = 'counting' | 'counted';

/** What the view currently shows, read from the webview's own state (`medalign.timeline.describe`). */
export interface TimelineDescribe {
  /** For a model: its stage (structure while counting, or counted). */
  stage?: TimelineStage;
  /** What the page says where the token figures and cut lines go while counting (`Counting tokens…`). */
  countingText?: string;
  state: TimelineContent['state'] | 'none';
  seq: number;
  message?: string;
  /** The file the view follows (instruction or record), and the record drawn. */
  source?: string;
  record?: string;
  encoding?: string;
  tokens?: number;
  strategy?: string;
  context?: number;
  counts?: { visits: number; events: number; shownEvents: number; keptVisits: number };
  cuts?: {
    label: string;
    context: number;
    keptFrom: string | null;
    keptTokens: number;
    keptVisits: number;
    fits: boolean;
    own: boolean;
    /** Drawn inside the visible range. */
    visible: boolean;
  }[];
  /**
   * `strategy: refine`: the chunks drawn, in send order (`visible`: inside the visible range;
   * `labelled`: its numbered label is on the plot, `label` its accessible sentence), and the step shown.
   */
  refine?: {
    step: number;
    from: string | null;
    to: string | null;
    tokens: number;
    recordTokens: number;
    visible: boolean;
    labelled: boolean;
    label: string;
  }[];
  step?: number | null;
  /** The selected event (its id and kind) or visit (its index; kind `visit`), and its range in the record. */
  selection?: {
    what: 'event' | 'visit';
    id: number;
    kind: string;
    date: string | null;
    label: string;
    range: TimelineRange;
  } | null;
  filters?: {
    lanes: string[];
    search: string;
    hits: number;
    hitsKept: number;
    hitsCut: number;
  };
  /** The visible time range (ISO days) and the zoom factor (1: everything). */
  visibleRange?: { from: string; to: string; zoom: number };
  /** The axis breaks drawn (compressed gaps). */
  breaks?: { from: string; to: string }[];
  query?: { term: string; hits: number }[];
  problems?: string[];
  /** The selection's details as the DOM shows them (text). */
  detailsText?: string;
  /**
   * What the page holds that the view never makes: global names a script payload would set
   * (`/pwned/i`), and elements that could run or load something (img, iframe, object, embed, script,
   * `javascript:` links, `on*` attributes) under the view's root. Both stay empty: record text is inert.
   */
  inert?: { globals: string[]; elements: string[] };
  perf: TimelinePerf;
}

const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object';
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isStr = (x: unknown): x is string => typeof x === 'string';
const isDate = (x: unknown): boolean => x === null || isStr(x);
const isNums = (x: unknown): x is number[] => Array.isArray(x) && x.every(isNum);
const isRange = (x: unknown): x is TimelineRange =>
  Array.isArray(x) && x.length === 4 && x.every((n) => Number.isInteger(n) && (n as number) >= 0);

/** A well-formed timeline model (every field the view reads, with its type). */
export function isTimelineModel(x: unknown): x is TimelineModel {
  if (!isObj(x) || x.version !== 1) return false;
  if (!isStr(x.record) || !isStr(x.encoding) || !isNum(x.tokens) || !isNum(x.context)) return false;
  if (!['recent', 'bm25', 'none', 'helm', 'refine'].includes(x.strategy as string)) return false;
  if (!Array.isArray(x.visits) || !Array.isArray(x.cuts) || !Array.isArray(x.problems)) return false;
  if (x.model !== undefined && !isStr(x.model)) return false;
  if (x.counting !== undefined && x.counting !== true) return false;
  if (!x.problems.every(isStr)) return false;
  for (const v of x.visits as unknown[]) {
    if (!isObj(v) || !isNum(v.index) || !isDate(v.start) || !isDate(v.end) || !isNum(v.tokens)) return false;
    if (v.state !== 'kept' && v.state !== 'partial' && v.state !== 'cut') return false;
    if (!isRange(v.range) || !Array.isArray(v.days) || !Array.isArray(v.events)) return false;
    if (v.type !== undefined && !isStr(v.type)) return false;
    if (v.score !== undefined && !isNum(v.score)) return false;
    if (v.matched !== undefined && !(Array.isArray(v.matched) && v.matched.every(isStr))) return false;
    if (v.kept !== undefined && !(Array.isArray(v.kept) && v.kept.every(isNum))) return false;
    for (const d of v.days as unknown[]) if (!isObj(d) || !isDate(d.date) || !isNum(d.tokens)) return false;
    for (const e of v.events as unknown[]) {
      if (!isObj(e) || !isNum(e.id) || !isStr(e.kind) || !isDate(e.date) || !isNum(e.tokens)) return false;
      if (!isRange(e.range) || !isStr(e.label) || (e.preview !== undefined && !isStr(e.preview)))
        return false;
    }
  }
  for (const c of x.cuts as unknown[]) {
    if (!isObj(c) || !isNum(c.context) || !isStr(c.label) || !isNum(c.keptTokens)) return false;
    if (!isDate(c.keptFrom) || !isNum(c.keptVisits)) return false;
    if (typeof c.fits !== 'boolean' || typeof c.own !== 'boolean' || typeof c.ok !== 'boolean') return false;
  }
  if (x.refine !== undefined) {
    if (!Array.isArray(x.refine)) return false;
    for (const r of x.refine as unknown[]) {
      if (!isObj(r) || !Number.isInteger(r.step) || !isNum(r.firstVisit) || !isNum(r.lastVisit)) return false;
      if (!isNum(r.events) || !isNum(r.tokens) || !isNum(r.recordTokens) || !isRange(r.range)) return false;
      if (!isDate(r.from) || !isDate(r.to)) return false;
    }
  }
  if (x.query !== undefined) {
    if (!isObj(x.query) || !Array.isArray(x.query.terms)) return false;
    if (!x.query.terms.every((t) => isObj(t) && isStr(t.term) && isNum(t.hits) && isNum(t.keptHits)))
      return false;
  }
  return true;
}

function isContent(x: unknown): x is TimelineContent | WireContent | PackedContent | CachedContent {
  if (!isObj(x)) return false;
  switch (x.state) {
    case 'model':
      if (x.cached !== undefined) return isStr(x.cached) && isStr(x.source);
      // The columns are checked once inflated (isTimelineWire), as a WireContent's.
      if (x.packed !== undefined)
        return (
          isStr(x.source) &&
          isObj(x.packed) &&
          x.packed.version === 1 &&
          x.packed.format === 'packed' &&
          isStr(x.packed.stamp) &&
          Number.isInteger(x.packed.visits) &&
          (x.packed.visits as number) >= 0 &&
          x.packed.columns instanceof Uint8Array &&
          isTimelineModel({ ...(x.packed.header as object), visits: [] })
        );
      if (x.wire !== undefined)
        return (
          isStr(x.source) &&
          isTimelineWire(x.wire) &&
          isTimelineModel({ ...(x.wire.header as object), visits: [] })
        );
      return isStr(x.source) && isTimelineModel(x.model);
    case 'empty':
      return isStr(x.message);
    case 'loading':
      return isStr(x.message) && (x.source === undefined || isStr(x.source));
    case 'broken':
      return isStr(x.message) && isStr(x.source) && (x.problem === undefined || isStr(x.problem));
    default:
      return false;
  }
}

function isAction(x: unknown): x is ViewAction {
  if (!isObj(x)) return false;
  switch (x.kind) {
    case 'clickEvent':
      return isNum(x.id);
    case 'search':
      return isStr(x.text);
    case 'filter':
      return isStr(x.lane) && typeof x.shown === 'boolean';
    case 'fit':
      return x.what === 'all' || x.what === 'kept';
    case 'zoom':
      return isNum(x.factor) && x.factor > 0;
    case 'clickCut':
      return isStr(x.label);
    case 'clickStep':
      return Number.isInteger(x.step);
    default:
      return false;
  }
}

/** The webview's check of what the extension sends. */
export function isToView(x: unknown): x is ToView {
  if (!isObj(x)) return false;
  switch (x.type) {
    case 'content':
      return isNum(x.seq) && typeof x.keepView === 'boolean' && isContent(x.content);
    case 'describe':
      return isNum(x.requestId);
    case 'act':
      return isAction(x.action);
    case 'previews':
      return (
        isStr(x.stamp) &&
        isNums(x.ids) &&
        Array.isArray(x.previews) &&
        x.previews.length === x.ids.length &&
        x.previews.every((p) => p === null || isStr(p))
      );
    default:
      return false;
  }
}

/** The extension's check of what the webview sends. */
export function isFromView(x: unknown): x is FromView {
  if (!isObj(x)) return false;
  switch (x.type) {
    case 'ready':
    case 'openProblem':
      return true;
    case 'reveal':
      return isNum(x.seq) && isRange(x.range);
    case 'useContext':
      return isNum(x.seq) && isStr(x.label) && /^[0-9]{1,7}k?$/.test(x.label);
    case 'describe':
      return isNum(x.requestId) && isObj(x.describe) && isStr(x.describe.state) && isNum(x.describe.seq);
    case 'previews':
      return isNum(x.seq) && isNums(x.ids) && x.ids.length <= 100_000;
    case 'missing':
      return isNum(x.seq) && isStr(x.stamp);
    case 'perf':
      return (
        isObj(x.perf) &&
        isNums(x.perf.firstPaintMs) &&
        isNums(x.perf.frameMs) &&
        (x.perf.paintedAt === undefined || isNums(x.perf.paintedAt)) &&
        (x.perf.paintedStage === undefined ||
          (Array.isArray(x.perf.paintedStage) &&
            x.perf.paintedStage.every((st) => st === 'counting' || st === 'counted'))) &&
        (x.perf.paintedGzipBytes === undefined || isNums(x.perf.paintedGzipBytes)) &&
        (x.perf.heapMB === undefined || isNum(x.perf.heapMB))
      );
    default:
      return false;
  }
}
