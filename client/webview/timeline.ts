/**
 * The Record Timeline's renderer: the webview script of the Record Timeline view, and the same bundle
 * inlined into the page `medalign timeline --html` writes (`data-mode="static"`: the model is in the
 * page, nothing is posted). Canvas for the marks, DOM for labels and controls (VS Code-styled web
 * components); d3-scale and d3-zoom for the scales and zoom. Every string from the record reaches the
 * page through `textContent`, attributes set with `setAttribute` or canvas `fillText`, never as HTML.
 */
import { scaleLinear, scaleTime } from 'd3-scale';
import type { ScaleLinear } from 'd3-scale';
import { zoom, zoomIdentity } from 'd3-zoom';
import type { D3ZoomEvent, ZoomBehavior, ZoomTransform } from 'd3-zoom';
import { select } from 'd3-selection';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import {
  LANES,
  LANE_LABELS,
  axisPosition,
  axisTime,
  eventKept,
  hitEvent,
  isoDay,
  laneCounts,
  modelAxis,
  ownCut,
  placeEvents,
  searchEvents,
  shortTokens,
  timeOf,
} from '../src/timeline/layout';
import type { Axis, Lane, PlacedEvent, SearchResult } from '../src/timeline/layout';
import { PAGE_MODEL_CACHE, isTimelineModel, isToView, wireCacheKey } from '../src/timeline/messages';
import type {
  FromView,
  TimelineContent,
  TimelineDescribe,
  TimelinePerf,
  ToView,
  ViewAction,
  WireContent,
  CachedContent,
  PackedContent,
} from '../src/timeline/messages';
import { decodeTimeline, isTimelineWire, unpackedWire } from '../../engine/src/core/timeline/wire';
import type {
  TimelineCut,
  TimelineEvent,
  TimelineModel,
  TimelineRange,
  TimelineRefineStep,
  TimelineVisit,
} from '../src/timeline/model';

/** `2019-04-02 14:05` (`2019-04-02 (day)` when the event has no date of its own). */
function when(date: string | null, inferred?: true): string {
  if (!date) return 'no date';
  const d = date.endsWith('T00:00') ? date.slice(0, 10) : date.replace('T', ' ');
  return inferred ? `${d.slice(0, 10)} (its day’s date)` : d;
}
function kindText(kind: string, tag?: string): string {
  return tag ? `${kind} (${tag})` : kind;
}
function visitSpan(v: TimelineVisit): string {
  const a = v.start?.slice(0, 10) ?? 'no date';
  const b = v.end?.slice(0, 10);
  return b && b !== a ? `${a} → ${b}` : a;
}
/** What the page says where token figures and cut lines go while a big record is counted. */
const COUNTING = 'Counting tokens…';
/** The shown model is a structure whose tokens are being counted (no token figure, no cut line yet). */
function counting(): boolean {
  return state.model?.counting === true;
}
/** A context as the cut lines name it (`32k`, or its tokens when not a multiple of 1024). */
function contextLabel(tokens: number): string {
  return tokens % 1024 === 0 ? `${tokens / 1024}k` : tokens.toLocaleString('en-US');
}
/** `1,234 tokens`, or that they are being counted. */
function tokensText(n: number): string {
  return counting() ? 'tokens being counted' : `${n.toLocaleString('en-US')} tokens`;
}
function visitState(v: TimelineVisit): string {
  if (counting()) return 'what each context keeps: being counted';
  return v.state === 'partial' ? `partly kept (${v.keptTokens.toLocaleString('en-US')} tokens)` : v.state;
}

interface VsCodeApi {
  postMessage(message: FromView): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const staticPage = document.body.dataset.mode === 'static';
const api: VsCodeApi = staticPage ? { postMessage: () => undefined } : acquireVsCodeApi();

// ───────────────────────────── geometry ─────────────────────────────
const MARGIN = 14;
const AXIS_H = 34;
const BAND_H = 34;
const LANE_H = 16;
const LANE_GAP = 2;

// ───────────────────────────── state ─────────────────────────────
interface Selection {
  kind: 'event' | 'visit';
  /** The event's id or the visit's index. */
  id: number;
}

interface State {
  seq: number;
  content: TimelineContent | undefined;
  model: TimelineModel | undefined;
  axis: Axis | undefined;
  placed: PlacedEvent[];
  lanes: Lane[];
  hidden: Set<Lane>;
  search: SearchResult | undefined;
  searchText: string;
  selection: Selection | undefined;
  /** `strategy: refine`: the step (1-based) whose chunk is highlighted. */
  step: number | undefined;
  transform: ZoomTransform;
}

const state: State = {
  seq: 0,
  content: undefined,
  model: undefined,
  axis: undefined,
  placed: [],
  lanes: [],
  hidden: new Set(),
  search: undefined,
  searchText: '',
  selection: undefined,
  step: undefined,
  transform: zoomIdentity,
};

const perf: TimelinePerf = {
  firstPaintMs: [],
  frameMs: [],
  paintedAt: [],
  paintedStage: [],
  paintedGzipBytes: [],
};

/** Chromium's heap figure (not in every browser). */
function heapMB(): number | undefined {
  const m = (performance as unknown as { memory?: { usedJSHeapSize?: number } }).memory;
  return typeof m?.usedJSHeapSize === 'number'
    ? Math.round((m.usedJSHeapSize / 1048576) * 10) / 10
    : undefined;
}

// ───────────────────────────── DOM ─────────────────────────────
function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
function custom(tag: string, attrs: Record<string, string> = {}, text?: string): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

const app = document.getElementById('app') ?? document.body.appendChild(el('div', { id: 'app' }));
const message = el('div', { id: 'message', role: 'status' });
const messageText = el('p', { id: 'message-text' });
const problemLink = el('a', { id: 'problem-link', href: '#', role: 'button' }, 'Show the problem');
problemLink.hidden = true;
message.append(messageText, problemLink);

const main = el('div', { id: 'timeline', role: 'region', 'aria-label': 'Record timeline' });
const header = el('div', { id: 'header' });
const title = el('h2', { id: 'title' });
const summary = el('div', { id: 'summary' });
const problems = el('ul', { id: 'problems', 'aria-label': 'Problems' });
header.append(title, summary, problems);

const toolbar = el('div', { id: 'toolbar', role: 'toolbar', 'aria-label': 'Timeline controls' });
const searchBox = custom('vscode-textfield', {
  id: 'search',
  placeholder: 'Search events',
  'aria-label': 'Search the record’s events',
  type: 'search',
});
const searchCount = el('span', { id: 'search-count', 'aria-live': 'polite' });
function button(id: string, icon: string, label: string, onClick: () => void): HTMLElement {
  // The static page has no codicon font (nothing but the page itself loads): text buttons there.
  const b = staticPage
    ? custom('vscode-button', { id, secondary: '', title: label }, label)
    : custom('vscode-button', { id, icon, secondary: '', title: label, 'aria-label': label });
  b.addEventListener('click', onClick);
  return b;
}
const buttons = el('span', { class: 'buttons' });
buttons.append(
  button('fit-all', 'screen-full', 'Fit all', () => fit('all')),
  button('fit-kept', 'pinned', 'Fit the kept part', () => fit('kept')),
  button('zoom-in', 'zoom-in', 'Zoom in', () => zoomBy(2)),
  button('zoom-out', 'zoom-out', 'Zoom out', () => zoomBy(0.5)),
);
toolbar.append(searchBox, searchCount, buttons);

const filters = el('div', { id: 'filters', role: 'group', 'aria-label': 'Event kinds shown' });

const plot = el('div', { id: 'plot' });
const canvas = el('canvas', {
  id: 'canvas',
  tabindex: '0',
  role: 'application',
  'aria-roledescription': 'timeline',
  'aria-label':
    'Record timeline. Left and Right: previous and next event; Up and Down: previous and next visit; Enter: show in the record; plus and minus: zoom; Shift with arrows: pan; 0: fit all; K: fit the kept part.',
});
const cutLabels = el('div', { id: 'cut-labels' });
const stepLabels = el('div', { id: 'step-labels' });
const breakLabels = el('div', { id: 'break-labels', 'aria-hidden': 'true' });
const tooltip = el('div', { id: 'tooltip', role: 'tooltip' });
tooltip.hidden = true;
plot.append(canvas, stepLabels, cutLabels, breakLabels, tooltip);

const details = el('div', { id: 'details', 'aria-live': 'polite' });
const queryBox = el('div', { id: 'query' });
const cutTable = el('table', { id: 'cuts', 'aria-label': 'What each context keeps' });
const stepTable = el('table', { id: 'steps', 'aria-label': 'Refine steps, in the order they are sent' });

// The plot first (what the view is for), then what acts on it.
main.append(header, plot, details, toolbar, filters, queryBox, stepTable, cutTable);
app.append(message, main);

/** The filters' visible names (the full name is the checkbox's label and tooltip). */
const SHORT_LABELS: Record<Lane, string> = {
  notes: 'Notes',
  measurements: 'Labs/vitals',
  medications: 'Meds',
  conditions: 'Diagnoses',
  procedures: 'Procedures',
  demographics: 'Demographics',
  other: 'Other',
};

// ───────────────────────────── colours ─────────────────────────────
const LANE_VARS: Record<Lane, string> = {
  notes: '--vscode-charts-blue',
  measurements: '--vscode-charts-green',
  medications: '--vscode-charts-purple',
  conditions: '--vscode-charts-red',
  procedures: '--vscode-charts-orange',
  demographics: '--vscode-charts-yellow',
  other: '--vscode-descriptionForeground',
};
interface Palette {
  fg: string;
  muted: string;
  bg: string;
  focus: string;
  kept: string;
  cut: string;
  hit: string;
  grid: string;
  /** Refine chunks: alternate colours, so neighbouring steps read apart. */
  steps: [string, string];
  lanes: Record<Lane, string>;
  contrast: boolean;
}
let palette: Palette;
function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v === '' ? fallback : v;
}
function readPalette(): void {
  const contrast =
    document.body.classList.contains('vscode-high-contrast') ||
    document.body.classList.contains('vscode-high-contrast-light');
  const lanes = {} as Record<Lane, string>;
  for (const l of LANES) lanes[l] = cssVar(LANE_VARS[l], '#888');
  palette = {
    fg: cssVar('--vscode-foreground', '#ccc'),
    muted: cssVar('--vscode-descriptionForeground', '#999'),
    bg: cssVar('--vscode-sideBar-background', cssVar('--vscode-editor-background', '#1e1e1e')),
    focus: cssVar('--vscode-focusBorder', '#007fd4'),
    kept: cssVar('--vscode-charts-blue', '#3794ff'),
    cut: cssVar('--vscode-disabledForeground', '#777'),
    hit: cssVar(
      '--vscode-editorOverviewRuler-findMatchForeground',
      cssVar('--vscode-charts-yellow', '#d7ba7d'),
    ),
    grid: cssVar('--vscode-widget-border', cssVar('--vscode-panel-border', '#444')),
    steps: [cssVar('--vscode-charts-orange', '#d18616'), cssVar('--vscode-charts-purple', '#b180d7')],
    lanes,
    contrast,
  };
}
readPalette();
new MutationObserver(() => {
  readPalette();
  draw();
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

// ───────────────────────────── scales ─────────────────────────────
let width = 300;
let height = 200;
const base: ScaleLinear<number, number> = scaleLinear().domain([0, 1]);
function xScale(): ScaleLinear<number, number> {
  return state.transform.rescaleX(base.range([MARGIN, Math.max(MARGIN + 1, width - MARGIN)]));
}
function xOfTime(t: number): number {
  return xScale()(axisPosition(state.axis!, t));
}
function bandTop(): number {
  return AXIS_H;
}
function laneTop(lane: Lane): number {
  const i = state.lanes.indexOf(lane);
  return AXIS_H + BAND_H + 8 + i * (LANE_H + LANE_GAP);
}
function plotHeight(): number {
  return AXIS_H + BAND_H + 8 + state.lanes.length * (LANE_H + LANE_GAP) + 10;
}

const zoomBehavior: ZoomBehavior<HTMLCanvasElement, unknown> = zoom<HTMLCanvasElement, unknown>()
  .scaleExtent([1, 20000])
  .filter((event: Event) => {
    // Wheel zooms; a drag pans (not with a modifier, which selects).
    if (event.type === 'wheel') return true;
    const me = event as MouseEvent;
    return !me.ctrlKey && me.button === 0;
  })
  .on('zoom', (event: D3ZoomEvent<HTMLCanvasElement, unknown>) => {
    state.transform = event.transform;
    const t0 = performance.now();
    draw();
    pushFrame(performance.now() - t0);
  });
select(canvas).call(zoomBehavior).on('dblclick.zoom', null);

function setExtent(): void {
  zoomBehavior.extent([
    [0, 0],
    [width, height],
  ]);
  zoomBehavior.translateExtent([
    [0, 0],
    [width, height],
  ]);
}

function applyTransform(t: ZoomTransform): void {
  zoomBehavior.transform(select(canvas), t);
}

function zoomBy(factor: number): void {
  zoomBehavior.scaleBy(select(canvas), factor);
}

/** Fits the unit range [u0, u1] to the plot. */
function fitUnits(u0: number, u1: number): void {
  const w = width - 2 * MARGIN;
  const span = Math.max(1e-6, u1 - u0);
  const k = Math.min(20000, Math.max(1, 1 / span));
  const tx = MARGIN - k * (MARGIN + u0 * w);
  applyTransform(zoomIdentity.translate(tx, 0).scale(k));
}

function keptUnits(): [number, number] | undefined {
  const m = state.model;
  // While counting nothing is known to be kept.
  if (!m || !state.axis || m.counting === true) return undefined;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of m.visits) {
    if (v.state === 'cut') continue;
    const a = timeOf(v.start);
    const b = timeOf(v.end) ?? a;
    if (a === undefined || b === undefined) continue;
    lo = Math.min(lo, axisPosition(state.axis, a));
    hi = Math.max(hi, axisPosition(state.axis, b));
  }
  if (m.strategy === 'recent') {
    const from = timeOf(ownCut(m)?.keptFrom);
    if (from !== undefined) lo = Math.min(lo, axisPosition(state.axis, from));
  }
  if (!Number.isFinite(lo)) return undefined;
  const pad = Math.max(0.005, (hi - lo) * 0.04);
  return [Math.max(0, lo - pad), Math.min(1, hi + pad)];
}

function fit(what: 'all' | 'kept'): void {
  if (what === 'all') {
    applyTransform(zoomIdentity);
    return;
  }
  const k = keptUnits();
  if (k) fitUnits(k[0], k[1]);
}

// ───────────────────────────── perf ─────────────────────────────
function currentPerf(): TimelinePerf {
  const heap = heapMB();
  return {
    firstPaintMs: [...perf.firstPaintMs],
    frameMs: [...perf.frameMs],
    paintedAt: [...(perf.paintedAt ?? [])],
    paintedStage: [...(perf.paintedStage ?? [])],
    paintedGzipBytes: [...(perf.paintedGzipBytes ?? [])],
    ...(heap !== undefined ? { heapMB: heap } : {}),
  };
}
let perfTimer: ReturnType<typeof setTimeout> | undefined;
function postPerf(): void {
  if (perfTimer !== undefined) return;
  perfTimer = setTimeout(() => {
    perfTimer = undefined;
    api.postMessage({
      type: 'perf',
      perf: currentPerf(),
    });
  }, 500);
}
function pushFrame(ms: number): void {
  perf.frameMs.push(Math.round(ms * 100) / 100);
  if (perf.frameMs.length > 200) perf.frameMs.shift();
  postPerf();
}

// ───────────────────────────── content ─────────────────────────────
let visitIndex = new Map<number, TimelineVisit>();
function visitById(index: number): TimelineVisit | undefined {
  return visitIndex.get(index);
}
let placedIndex = new Map<number, PlacedEvent>();
function placedById(id: number): PlacedEvent | undefined {
  return placedIndex.get(id);
}

/**
 * What the canvas draws, computed once per model (no per-frame objects or lookups): events in axis
 * order as columns, and the visits' and days' positions.
 */
interface Geometry {
  /** Per placed event (state.placed order, sorted by `u`): unit position, lane index (LANES), kept. */
  u: Float64Array;
  lane: Uint8Array;
  kept: Uint8Array;
  /** Per visit (model order): unit positions of its start and end (NaN: undated), bar height. */
  va: Float64Array;
  vb: Float64Array;
  vh: Float64Array;
  /** Per day: its visit (model order), unit position (NaN: undated), tick height. */
  dVisit: Uint32Array;
  du: Float64Array;
  dh: Float64Array;
}
let geo: Geometry | undefined;

function geometry(m: TimelineModel, axis: Axis, placed: PlacedEvent[]): Geometry {
  const n = placed.length;
  const g: Geometry = {
    u: new Float64Array(n),
    lane: new Uint8Array(n),
    kept: new Uint8Array(n),
    va: new Float64Array(m.visits.length),
    vb: new Float64Array(m.visits.length),
    vh: new Float64Array(m.visits.length),
    dVisit: new Uint32Array(0),
    du: new Float64Array(0),
    dh: new Float64Array(0),
  };
  placed.forEach((p, i) => {
    g.u[i] = p.u;
    g.lane[i] = LANES.indexOf(p.lane);
    const v = visitById(p.visit);
    g.kept[i] = !v || eventKept(v, p.event) ? 1 : 0;
  });
  let maxVisit = 1;
  let maxDay = 1;
  let days = 0;
  for (const v of m.visits) {
    maxVisit = Math.max(maxVisit, v.tokens);
    days += v.days.length;
    for (const d of v.days) maxDay = Math.max(maxDay, d.tokens);
  }
  g.dVisit = new Uint32Array(days);
  g.du = new Float64Array(days);
  g.dh = new Float64Array(days);
  let k = 0;
  m.visits.forEach((v, i) => {
    const a = timeOf(v.start);
    const b = timeOf(v.end) ?? a;
    g.va[i] = a === undefined ? NaN : axisPosition(axis, a);
    g.vb[i] = b === undefined ? NaN : axisPosition(axis, b);
    // While counting, every band is the same height: none says a size it does not know yet.
    g.vh[i] =
      m.counting === true ? (BAND_H - 4) / 2 : Math.max(3, Math.sqrt(v.tokens / maxVisit) * (BAND_H - 4));
    for (const d of v.days) {
      const t = timeOf(d.date);
      g.dVisit[k] = i;
      g.du[k] = t === undefined ? NaN : axisPosition(axis, t);
      g.dh[k] = m.counting === true ? 3 : Math.max(1, Math.sqrt(d.tokens / maxDay) * 6);
      k++;
    }
  });
  return g;
}

// ───────────────────────────── previews (fetched when shown) ─────────────────────────────
/** The shown model's name on the wire, its events by id, and those whose preview is not here yet. */
let stamp = '';
let eventIndex = new Map<number, TimelineEvent>();
let lazy = new Set<number>();
const asked = new Set<number>();
/** The event the tooltip shows (to show it again with its preview). */
let hovered: { hit: Hit; px: number; py: number } | undefined;

/** Asks the extension for the previews of these events, once each (a big model ships without them). */
function wantPreviews(ids: Iterable<number>): void {
  if (staticPage) return;
  const need: number[] = [];
  for (const id of ids)
    if (lazy.has(id) && !asked.has(id)) {
      asked.add(id);
      need.push(id);
    }
  if (need.length > 0) api.postMessage({ type: 'previews', seq: state.seq, ids: need });
}

function gotPreviews(msg: Extract<ToView, { type: 'previews' }>): void {
  if (msg.stamp !== stamp) return;
  msg.ids.forEach((id, i) => {
    const e = eventIndex.get(id);
    if (!e || !lazy.has(id)) return;
    lazy.delete(id);
    const text = msg.previews[i];
    if (text !== null && text !== undefined) e.preview = text;
  });
  const got = new Set(msg.ids);
  const s = state.selection;
  if (s?.kind === 'event' && got.has(s.id)) renderDetails();
  const h = hovered;
  if (h?.hit.placed && got.has(h.hit.placed.event.id) && !tooltip.hidden) showTooltip(h.hit, h.px, h.py);
  if (state.searchText.trim() !== '') setSearch(state.searchText);
}
function shown(p: PlacedEvent): boolean {
  return !state.hidden.has(p.lane);
}

/**
 * The last PAGE_MODEL_CACHE models decoded, by key (wireCacheKey), oldest first (the extension keeps
 * the same list and names a model it sent before by its key only: switching back sends no columns).
 */
const decoded = new Map<string, { model: TimelineModel; lazy: Set<number>; stamp: string }>();

function setContent(
  received: TimelineContent | WireContent | CachedContent,
  seq: number,
  keepView: boolean,
  arrived: number,
): void {
  // A model in columns: decoded here (events whose preview was not shipped are fetched when shown).
  let lazyNow = new Set<number>();
  let content: TimelineContent;
  if ('cached' in received) {
    const hit = decoded.get(received.cached);
    if (hit === undefined) {
      // Not (or no longer) here: the extension sends the columns.
      api.postMessage({ type: 'missing', seq, stamp: received.cached });
      return;
    }
    decoded.delete(received.cached);
    decoded.set(received.cached, hit);
    lazyNow = hit.lazy;
    content = { state: 'model', model: hit.model, source: received.source };
    stamp = hit.stamp;
  } else if ('wire' in received) {
    content = { state: 'model', model: decodeTimeline(received.wire, lazyNow), source: received.source };
    stamp = received.wire.stamp;
    const key = wireCacheKey(received.wire);
    // A structure while counting is shown once: not kept (the counted model replaces it).
    if (key !== '' && received.wire.header.counting !== true) {
      decoded.delete(key);
      decoded.set(key, { model: content.model, lazy: lazyNow, stamp });
      for (const old of decoded.keys()) if (decoded.size > PAGE_MODEL_CACHE) decoded.delete(old);
    }
  } else {
    content = received;
    stamp = '';
  }
  lazy = lazyNow;
  asked.clear();
  hovered = undefined;
  state.seq = seq;
  state.content = content;
  tooltip.hidden = true;
  if (content.state !== 'model') {
    state.model = undefined;
    state.axis = undefined;
    state.placed = [];
    geo = undefined;
    main.hidden = true;
    message.hidden = false;
    message.className = content.state;
    messageText.textContent = content.message;
    problemLink.hidden = !(content.state === 'broken' && content.problem !== undefined) || staticPage;
    return;
  }
  const prevTransform = state.transform;
  const prevSelection = state.selection;
  const model = content.model;
  state.model = model;
  state.axis = modelAxis(model);
  visitIndex = new Map(model.visits.map((v) => [v.index, v]));
  eventIndex = new Map(model.visits.flatMap((v) => v.events.map((e) => [e.id, e] as const)));
  state.placed = placeEvents(model, state.axis);
  placedIndex = new Map(state.placed.map((p) => [p.event.id, p]));
  geo = geometry(model, state.axis, state.placed);
  state.lanes = [...laneCounts(model).keys()];
  message.hidden = true;
  main.hidden = false;
  renderHeader(model);
  renderFilters(model);
  renderQuery(model);
  renderCutTable(model);
  renderStepTable(model);
  state.search = state.searchText ? searchEvents(model, state.searchText) : undefined;
  renderSearchCount();
  resize();
  if (keepView) {
    state.selection =
      prevSelection &&
      ((prevSelection.kind === 'event' && placedById(prevSelection.id)) ||
        (prevSelection.kind === 'visit' && visitById(prevSelection.id)))
        ? prevSelection
        : undefined;
    state.transform = prevTransform;
    applyTransform(prevTransform);
    if (state.step !== undefined && !model.refine?.some((r) => r.step === state.step)) state.step = undefined;
  } else {
    state.selection = undefined;
    state.step = undefined;
    state.transform = zoomIdentity;
    applyTransform(zoomIdentity);
  }
  draw();
  renderDetails();
  const gzipBytes = receivedGzipBytes;
  requestAnimationFrame(() => {
    perf.firstPaintMs.push(Math.round((performance.now() - arrived) * 100) / 100);
    perf.paintedAt?.push(Date.now());
    perf.paintedStage?.push(model.counting === true ? 'counting' : 'counted');
    perf.paintedGzipBytes?.push(gzipBytes);
    if (perf.firstPaintMs.length > 20) perf.firstPaintMs.shift();
    if ((perf.paintedAt?.length ?? 0) > 20) perf.paintedAt?.shift();
    if ((perf.paintedStage?.length ?? 0) > 20) perf.paintedStage?.shift();
    if ((perf.paintedGzipBytes?.length ?? 0) > 20) perf.paintedGzipBytes?.shift();
    postPerf();
  });
}

function renderHeader(m: TimelineModel): void {
  title.textContent = m.record;
  const own = ownCut(m);
  const parts = [
    m.counting === true
      ? `tokens being counted (${m.encoding})`
      : `${m.tokens.toLocaleString('en-US')} tokens (${m.encoding}${m.estimated ? ', estimated' : ''})`,
    `${m.visits.length} visits · ${m.events.toLocaleString('en-US')} events`,
  ];
  if (m.model) parts.push(m.model);
  const steps = m.refine?.length;
  parts.push(
    `${own?.label ?? contextLabel(m.context)} · ${m.strategy}` +
      (steps !== undefined ? ` · ${steps} ${steps === 1 ? 'step' : 'steps'}` : ''),
  );
  summary.textContent = parts.join(' · ');
  const kept = el('div', { id: 'kept-summary' });
  if (m.counting === true) {
    // No cut line and no kept figure before the counts: none would be right.
    kept.className = 'counting';
    kept.setAttribute('role', 'status');
    kept.append(
      el('span', { class: 'codicon codicon-loading codicon-modifier-spin', 'aria-hidden': 'true' }),
      el('span', {}, ` ${COUNTING} What ${contextLabel(m.context)} keeps and the cut lines follow.`),
    );
  } else if (own) {
    if (m.strategy === 'none' || !own.ok)
      kept.textContent = own.fits ? 'The whole record fits.' : `The record does not fit in ${own.label}.`;
    else if (own.fits) kept.textContent = `${own.label} keeps the whole record.`;
    else
      kept.textContent = `${own.label} keeps ${own.keptTokens.toLocaleString('en-US')} tokens${
        own.keptFrom ? ` from ${own.keptFrom.slice(0, 10)}` : ''
      } (${own.keptVisits} of ${m.visits.length} visits)${m.strategy === 'bm25' ? ', chosen by relevance' : ''}.`;
  }
  summary.append(kept);
  problems.replaceChildren(...m.problems.map((p) => el('li', {}, p)));
}

function renderFilters(m: TimelineModel): void {
  const counts = laneCounts(m);
  const items: HTMLElement[] = [];
  for (const [lane, n] of counts) {
    const cb = custom('vscode-checkbox', { 'data-lane': lane, 'aria-label': `${LANE_LABELS[lane]} (${n})` });
    if (!state.hidden.has(lane)) cb.setAttribute('checked', '');
    const swatch = el('span', { class: 'swatch', 'data-lane': lane, 'aria-hidden': 'true' });
    swatch.style.background = `var(${LANE_VARS[lane]})`;
    const label = el('span', {}, `${SHORT_LABELS[lane]} ${n.toLocaleString('en-US')}`);
    cb.title = `${LANE_LABELS[lane]}: ${n.toLocaleString('en-US')} events`;
    cb.append(swatch, label);
    cb.addEventListener('change', () => {
      setLane(lane, (cb as HTMLElement & { checked: boolean }).checked);
    });
    items.push(cb);
  }
  filters.replaceChildren(...items);
}

function setLane(lane: Lane, visible: boolean): void {
  if (visible) state.hidden.delete(lane);
  else state.hidden.add(lane);
  const cb = filters.querySelector<HTMLElement & { checked: boolean }>(
    `vscode-checkbox[data-lane="${lane}"]`,
  );
  if (cb && cb.checked !== visible) cb.checked = visible;
  if (state.selection?.kind === 'event') {
    const p = placedById(state.selection.id);
    if (p && !shown(p)) state.selection = undefined;
  }
  draw();
  renderDetails();
}

function renderQuery(m: TimelineModel): void {
  queryBox.replaceChildren();
  const terms = m.query?.terms ?? [];
  if (terms.length === 0) {
    queryBox.hidden = true;
    return;
  }
  queryBox.hidden = false;
  const own = ownCut(m);
  const found = terms.filter((t) => t.hits > 0).length;
  const kept = terms.filter((t) => t.keptHits > 0).length;
  const head = el(
    'div',
    { class: 'query-head' },
    `The question’s terms (BM25): ${found} of ${terms.length} in the record, ${kept} in what ${own?.label ?? 'the context'} keeps`,
  );
  const list = el('ul', { class: 'terms', 'aria-label': 'Question terms: kept hits / hits in the record' });
  for (const t of terms) {
    const cls = t.hits === 0 ? 'miss' : t.keptHits === 0 ? 'lost' : 'hit';
    const li = el('li', { class: cls }, `${t.term} ${t.keptHits}/${t.hits}`);
    li.title =
      t.hits === 0
        ? 'not in the record'
        : `${t.hits} in the record (${t.visits} visits), ${t.keptHits} in what ${own?.label ?? 'the context'} keeps`;
    list.append(li);
  }
  queryBox.append(head, list);
}

function renderCutTable(m: TimelineModel): void {
  cutTable.replaceChildren();
  if (m.counting === true) {
    const row = el('tr');
    row.append(el('td', { class: 'counting', role: 'status' }, COUNTING));
    cutTable.append(el('caption', {}, 'What each context keeps'), row);
    return;
  }
  const head = el('tr');
  for (const h of ['Context', 'Keeps', 'From', 'Visits']) head.append(el('th', { scope: 'col' }, h));
  cutTable.append(el('caption', {}, 'What each context keeps'), head);
  for (const c of m.cuts) {
    const tr = el('tr', { class: c.own ? 'own' : '' });
    const ctxCell = el('td');
    const b = el(
      'a',
      { href: '#', role: 'button', 'data-cut': c.label },
      c.own ? `${c.label} (this instruction)` : c.label,
    );
    b.title = staticPage ? '' : `Use ${c.label} for this instruction…`;
    b.addEventListener('click', (e) => {
      e.preventDefault();
      useContext(c);
    });
    ctxCell.append(b);
    tr.append(
      ctxCell,
      el(
        'td',
        {},
        !c.ok ? 'does not fit' : c.fits ? 'whole record' : `${c.keptTokens.toLocaleString('en-US')} tokens`,
      ),
      el('td', {}, c.ok && c.keptFrom ? c.keptFrom.slice(0, 10) : '—'),
      el('td', {}, `${c.keptVisits}/${m.visits.length}`),
    );
    cutTable.append(tr);
  }
}

function useContext(c: TimelineCut): void {
  if (staticPage || c.own) return;
  api.postMessage({ type: 'useContext', seq: state.seq, label: c.label });
}

// ───────────────────────────── refine steps ─────────────────────────────
/** `visits 3–5` (1-based, as the visit tooltips count), or `visit 3`. */
function stepVisits(r: TimelineRefineStep): string {
  if (r.firstVisit < 0) return 'no visit';
  return r.firstVisit === r.lastVisit
    ? `visit ${r.firstVisit + 1}`
    : `visits ${r.firstVisit + 1}–${r.lastVisit + 1}`;
}
function stepDates(r: TimelineRefineStep): string {
  const a = r.from?.slice(0, 10);
  const b = r.to?.slice(0, 10);
  if (!a || !b) return 'no dates';
  return a === b ? a : `${a} → ${b}`;
}
/** `prompt 3,521 tokens (record 3,490)`, and the previous answer's room after step 1. */
function stepTokens(r: TimelineRefineStep): string {
  const n = (k: number) => k.toLocaleString('en-US');
  return `prompt ${n(r.tokens)} tokens (record ${n(r.recordTokens)})${r.step > 1 ? ' + the previous answer' : ''}`;
}
function stepSentence(r: TimelineRefineStep, of: number): string {
  return `Step ${r.step} of ${of}: ${stepVisits(r)}, ${r.events.toLocaleString('en-US')} events, ${stepDates(r)}, ${stepTokens(r)}`;
}

function renderStepTable(m: TimelineModel): void {
  stepTable.replaceChildren();
  const steps = m.refine ?? [];
  stepTable.hidden = steps.length === 0;
  if (steps.length === 0) return;
  const head = el('tr');
  for (const h of ['Step', 'Visits', 'Dates', 'Tokens']) head.append(el('th', { scope: 'col' }, h));
  stepTable.append(
    el(
      'caption',
      {},
      `Refine at ${ownCut(m)?.label ?? shortTokens(m.context)}: ${steps.length} ${steps.length === 1 ? 'step' : 'steps'}, in the order they are sent`,
    ),
    head,
  );
  for (const r of steps) {
    const tr = el('tr', { 'data-step': String(r.step) });
    const cell = el('td');
    const b = el(
      'a',
      { href: '#', role: 'button', 'data-step': String(r.step), 'aria-label': stepSentence(r, steps.length) },
      String(r.step),
    );
    b.title = staticPage ? 'Show this step’s chunk' : 'Show this step’s chunk here and in the record';
    b.addEventListener('click', (e) => {
      e.preventDefault();
      selectStep(r.step, true);
    });
    cell.append(b);
    tr.append(
      cell,
      el('td', {}, stepVisits(r)),
      el('td', {}, stepDates(r)),
      el('td', {}, `${r.tokens.toLocaleString('en-US')} (record ${r.recordTokens.toLocaleString('en-US')})`),
    );
    stepTable.append(tr);
  }
}

/** Where a step's chunk is on the axis, or `undefined` when it has no dates. */
function stepSpan(r: TimelineRefineStep): [number, number] | undefined {
  const a = timeOf(r.from);
  const b = timeOf(r.to) ?? a;
  if (a === undefined || b === undefined) return undefined;
  const x0 = xOfTime(a);
  return [x0, Math.max(x0 + 3, xOfTime(b))];
}

/** Highlights a step's chunk, fits the view to it, and (`reveal`) shows its start in the record. */
function selectStep(step: number, reveal: boolean): void {
  const m = state.model;
  const r = m?.refine?.find((x) => x.step === step);
  if (!m || !r || !state.axis) return;
  state.step = step;
  const a = timeOf(r.from);
  const b = timeOf(r.to) ?? a;
  if (a !== undefined && b !== undefined) {
    const u0 = axisPosition(state.axis, a);
    const u1 = axisPosition(state.axis, b);
    const pad = Math.max(0.005, (u1 - u0) * 0.06);
    fitUnits(Math.max(0, u0 - pad), Math.min(1, u1 + pad));
  }
  draw();
  details.replaceChildren(
    el('div', { class: 'd-head' }, `Refine step ${r.step} of ${m.refine!.length}`),
    el('div', {}, `${stepVisits(r)} · ${r.events.toLocaleString('en-US')} events · ${stepDates(r)}`),
    el('div', {}, stepTokens(r)),
  );
  for (const row of Array.from(stepTable.querySelectorAll('tr[data-step]'))) {
    row.className = row.getAttribute('data-step') === String(step) ? 'selected' : '';
  }
  if (reveal && !staticPage) {
    const [line, ch] = r.range;
    api.postMessage({ type: 'reveal', seq: state.seq, range: [line, ch, line, ch] });
  }
}

/** The chunks: shaded spans in alternating colours, a bar under the axis, numbered labels in send order. */
function drawSteps(c: CanvasRenderingContext2D, m: TimelineModel): void {
  stepLabels.replaceChildren();
  const steps = m.refine ?? [];
  if (steps.length === 0) return;
  const placed: { x0: number; x1: number; row: number }[] = [];
  for (const r of steps) {
    const span = stepSpan(r);
    if (!span) continue;
    const [x0, x1] = span;
    if (x1 < 0 || x0 > width) continue;
    const colour = palette.steps[(r.step - 1) % 2];
    const selected = state.step === r.step;
    c.fillStyle = colour;
    c.globalAlpha = selected ? 0.2 : 0.09;
    c.fillRect(x0, AXIS_H - 4, x1 - x0, height - AXIS_H + 4);
    c.globalAlpha = 1;
    c.fillRect(x0, AXIS_H - 5, x1 - x0, 4);
    if (selected) {
      c.strokeStyle = palette.focus;
      c.lineWidth = 2;
      c.strokeRect(x0 - 1, AXIS_H - 5, x1 - x0 + 2, height - AXIS_H + 4);
    }
    // The step's number over the band, centred on its visible part; rows when labels would overlap.
    const cx = (Math.max(0, x0) + Math.min(width, x1)) / 2;
    let row = 0;
    while (placed.some((p) => p.row === row && Math.abs(p.x0 - cx) < 18)) row++;
    placed.push({ x0: cx, x1: cx, row });
    if (row > 2) continue; // the table below lists every step
    const lab = el(
      'button',
      {
        class: selected ? 'step-label selected' : 'step-label',
        'data-step': String(r.step),
        'aria-label': stepSentence(r, steps.length),
      },
      String(r.step),
    );
    lab.style.left = `${cx}px`;
    lab.style.top = `${AXIS_H + 1 + row * 14}px`;
    lab.style.borderColor = colour;
    lab.addEventListener('click', () => selectStep(r.step, true));
    const tip = () => {
      const left = Math.min(Math.max(0, cx), width);
      showTooltip({ kind: 'step', step: r }, left, AXIS_H + 12 + row * 14);
    };
    lab.addEventListener('mouseenter', tip);
    lab.addEventListener('focus', tip);
    lab.addEventListener('mouseleave', () => (tooltip.hidden = true));
    lab.addEventListener('blur', () => (tooltip.hidden = true));
    stepLabels.append(lab);
  }
}

function renderSearchCount(): void {
  const s = state.search;
  if (!s || s.query === '') {
    searchCount.textContent = '';
    return;
  }
  if (s.count === 0) {
    searchCount.textContent = 'no events match';
    return;
  }
  const where = state.model?.strategy === 'none' ? '' : ` · ${s.kept} kept, ${s.cut} cut`;
  const span = s.first && s.last ? ` · ${s.first === s.last ? s.first : `${s.first} → ${s.last}`}` : '';
  searchCount.textContent = `${s.count} ${s.count === 1 ? 'event' : 'events'}${where}${span}`;
}

function setSearch(text: string): void {
  state.searchText = text;
  // Search reads the events' text too: the previews not shipped are fetched (then it searches again).
  if (text.trim() !== '' && lazy.size > 0) wantPreviews(lazy);
  state.search = state.model && text.trim() !== '' ? searchEvents(state.model, text) : undefined;
  renderSearchCount();
  draw();
}

// ───────────────────────────── drawing ─────────────────────────────
let ctx: CanvasRenderingContext2D | null = canvas.getContext('2d');

function resize(): void {
  width = Math.max(120, Math.floor(plot.clientWidth || 300));
  height = plotHeight();
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.floor(width * dpr);
  canvas.height = Math.floor(height * dpr);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  ctx = canvas.getContext('2d');
  ctx?.setTransform(dpr, 0, 0, dpr, 0, 0);
  setExtent();
}

new ResizeObserver(() => {
  if (!state.model) return;
  const w = Math.floor(plot.clientWidth);
  if (w !== width) {
    resize();
    draw();
  }
}).observe(plot);

function visibleUnits(): [number, number] {
  const x = xScale();
  return [Math.max(0, x.invert(MARGIN)), Math.min(1, x.invert(width - MARGIN))];
}

function draw(): void {
  const m = state.model;
  const axis = state.axis;
  if (!ctx || !m || !axis) return;
  const c = ctx;
  const x = xScale();
  c.clearRect(0, 0, width, height);
  c.globalAlpha = 1;
  const own = ownCut(m);
  const ownFrom = m.strategy === 'recent' ? timeOf(own?.keptFrom) : undefined;
  const ownX = ownFrom !== undefined ? xOfTime(ownFrom) : undefined;

  // Kept part shaded, cut part dimmed (recent: everything after the own cut line is kept).
  if (m.strategy === 'recent' && own && !own.fits && ownX !== undefined) {
    c.fillStyle = palette.kept;
    c.globalAlpha = 0.08;
    c.fillRect(Math.max(0, ownX), AXIS_H - 4, width - Math.max(0, ownX), height - AXIS_H + 4);
    c.globalAlpha = 1;
  }

  drawAxis(c, x, axis);

  // Visits: bands whose height is the visit's share of the largest visit's tokens; days inside
  // (positions precomputed per model: a frame only scales them).
  const g = geo!;
  const [ka, kb] = unitToPx();
  const visits = m.visits;
  for (let i = 0; i < visits.length; i++) {
    if (Number.isNaN(g.va[i]) || Number.isNaN(g.vb[i])) continue;
    const x0 = ka * g.va[i] + kb;
    const x1 = Math.max(x0 + 2, ka * g.vb[i] + kb);
    if (x1 < 0 || x0 > width) continue;
    const v = visits[i];
    const h = g.vh[i];
    const kept = v.state !== 'cut';
    // While counting: one neutral colour (neither kept nor cut is known yet).
    const neutral = m.counting === true;
    c.globalAlpha = neutral ? 0.4 : kept ? (v.state === 'partial' ? 0.55 : 0.8) : 0.25;
    c.fillStyle = neutral ? palette.fg : kept ? palette.kept : palette.cut;
    c.fillRect(x0, bandTop() + BAND_H - h, x1 - x0, h);
    c.globalAlpha = 1;
    if (m.strategy === 'bm25' && kept && !neutral) {
      c.strokeStyle = palette.focus;
      c.lineWidth = 1.5;
      c.strokeRect(x0 - 1, bandTop() + 1, x1 - x0 + 2, BAND_H - 2);
    }
    if (state.selection?.kind === 'visit' && state.selection.id === v.index) {
      c.strokeStyle = palette.focus;
      c.lineWidth = 2;
      c.strokeRect(x0 - 2, bandTop() - 1, x1 - x0 + 4, BAND_H + 2);
    }
  }
  // Days: ticks under the band, their height the day's tokens.
  c.fillStyle = palette.fg;
  for (let k = 0; k < g.du.length; k++) {
    const u = g.du[k];
    if (Number.isNaN(u)) continue;
    const dx = ka * u + kb;
    if (dx < -1 || dx > width + 1) continue;
    c.globalAlpha = visits[g.dVisit[k]].state !== 'cut' ? 0.6 : 0.25;
    c.fillRect(dx, bandTop() + BAND_H + 1, 1, g.dh[k]);
  }
  c.globalAlpha = 1;

  // Lanes: labels on the left, event marks.
  c.font = '10px var(--vscode-font-family, sans-serif)';
  for (const lane of state.lanes) {
    const y = laneTop(lane);
    c.fillStyle = palette.grid;
    c.globalAlpha = 0.35;
    c.fillRect(0, y + LANE_H / 2, width, 1);
    c.globalAlpha = 1;
  }
  drawMarks(c, g, ka, kb);
  c.globalAlpha = 1;
  if (state.selection?.kind === 'event') {
    const p = placedById(state.selection.id);
    if (p && shown(p)) {
      const px = x(p.u);
      const y = laneTop(p.lane);
      c.strokeStyle = palette.focus;
      c.lineWidth = 2;
      c.strokeRect(px - 4, y, 8, LANE_H);
    }
  }
  drawSteps(c, m);
  drawCuts(c, m);
  drawBreaks(c, axis, x);
  renderLaneNames(c);
}

/** `px = a·u + b`: the current zoom's map from unit position to pixels (xScale, without its object). */
function unitToPx(): [number, number] {
  const x = xScale();
  const b = x(0);
  return [x(1) - b, b];
}

/** Marks per lane and pixel column: what each column holds, as bits (one frame's scratch). */
const KEPT = 1;
const CUT = 2;
const DIM = 4;
const HIT = 8;
let bins = new Uint8Array(0);

/**
 * Event marks, binned: the visible events (a binary search on their sorted positions) set bits per
 * lane and pixel column, then each lane draws one rectangle per run of columns in each style. A
 * frame costs the visible events plus the plot's width, with no object made per event, so zoom and
 * pan stay under a frame's budget on 50k events.
 */
function drawMarks(c: CanvasRenderingContext2D, g: Geometry, ka: number, kb: number): void {
  const cols = Math.max(1, Math.ceil(width) + 4);
  const need = cols * LANES.length;
  if (bins.length < need) bins = new Uint8Array(need);
  else bins.fill(0, 0, need);
  const hidden = new Uint8Array(LANES.length);
  for (const l of state.hidden) hidden[LANES.indexOf(l)] = 1;
  const searching = state.search !== undefined && state.search.query !== '';
  const ids = state.search?.ids;
  // The first event at or right of the left edge (u sorted ascending).
  const uFrom = ka > 0 ? (-2 - kb) / ka : 0;
  let lo = 0;
  let hi = g.u.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (g.u[mid] < uFrom) lo = mid + 1;
    else hi = mid;
  }
  const placed = state.placed;
  let anyHit = false;
  for (let i = lo; i < g.u.length; i++) {
    const px = ka * g.u[i] + kb;
    if (px > width + 2) break;
    const lane = g.lane[i];
    if (hidden[lane] === 1) continue;
    const col = Math.max(0, Math.min(cols - 1, Math.round(px) + 2));
    let bit: number;
    if (searching) {
      if (ids!.has(placed[i].event.id)) {
        bit = (g.kept[i] === 1 ? KEPT : CUT) | HIT;
        anyHit = true;
      } else bit = DIM;
    } else bit = g.kept[i] === 1 ? KEPT : CUT;
    bins[lane * cols + col] |= bit;
  }
  const w = palette.contrast ? 3 : 2;
  const styles: [number, number][] = searching
    ? [
        [DIM, 0.15],
        [CUT, 0.35],
        [KEPT, 0.95],
      ]
    : [
        [CUT, 0.35],
        [KEPT, 0.95],
      ];
  for (let li = 0; li < LANES.length; li++) {
    if (hidden[li] === 1 || !state.lanes.includes(LANES[li])) continue;
    const y = laneTop(LANES[li]);
    const row = li * cols;
    c.fillStyle = palette.lanes[LANES[li]];
    for (const [bit, alpha] of styles) {
      c.globalAlpha = alpha;
      let run = -1;
      for (let col = 0; col <= cols; col++) {
        const on = col < cols && (bins[row + col] & bit) !== 0;
        if (on && run < 0) run = col;
        else if (!on && run >= 0) {
          c.fillRect(run - 2 - 1, y + 2, col - run - 1 + w, LANE_H - 4);
          run = -1;
        }
      }
    }
    if (!anyHit) continue;
    c.globalAlpha = 1;
    c.fillStyle = palette.hit;
    c.beginPath();
    for (let col = 0; col < cols; col++) {
      if ((bins[row + col] & HIT) === 0) continue;
      const px = col - 2;
      c.moveTo(px - 3, y - 1);
      c.lineTo(px + 3, y - 1);
      c.lineTo(px, y + 3);
      c.closePath();
    }
    c.fill();
  }
  c.globalAlpha = 1;
}

function renderLaneNames(c: CanvasRenderingContext2D): void {
  c.font = '10px sans-serif';
  c.textBaseline = 'middle';
  for (const lane of state.lanes) {
    const y = laneTop(lane) + LANE_H / 2;
    const label = LANE_LABELS[lane];
    const w = c.measureText(label).width;
    c.fillStyle = palette.bg;
    c.globalAlpha = 0.75;
    c.fillRect(1, y - 6, w + 4, 12);
    c.globalAlpha = state.hidden.has(lane) ? 0.4 : 0.9;
    c.fillStyle = palette.fg;
    c.fillText(label, 3, y);
  }
  c.globalAlpha = 1;
}

function drawAxis(c: CanvasRenderingContext2D, x: ScaleLinear<number, number>, axis: Axis): void {
  c.fillStyle = palette.muted;
  c.strokeStyle = palette.grid;
  c.font = '10px sans-serif';
  c.textBaseline = 'top';
  c.lineWidth = 1;
  c.fillRect(0, AXIS_H - 6, width, 1);
  // One time scale per busy span (between breaks), each with its own ticks.
  for (let i = 0; i < axis.domain.length; i += 2) {
    const a = axis.domain[i];
    const b = axis.domain[i + 1];
    const x0 = x(axis.range[i]);
    const x1 = x(axis.range[i + 1]);
    if (x1 < 0 || x0 > width) continue;
    const pxWidth = x1 - x0;
    const n = Math.max(0, Math.floor(pxWidth / 70));
    if (n === 0) {
      if (pxWidth > 2 || i === 0) {
        c.fillRect(Math.max(0, x0), AXIS_H - 10, 1, 5);
        if (x0 > -20) c.fillText(isoDay(a).slice(0, 7), Math.max(1, x0 + 2), 4);
      }
      continue;
    }
    const st = scaleTime()
      .domain([new Date(a), new Date(b)])
      .range([x0, x1]);
    const fmt = st.tickFormat(n);
    for (const tick of st.ticks(n)) {
      const px = st(tick);
      if (px < MARGIN / 2 || px > width - MARGIN / 2) continue;
      c.fillRect(px, AXIS_H - 10, 1, 5);
      c.fillText(fmt(tick), px + 2, 4);
    }
  }
  c.textBaseline = 'alphabetic';
}

function drawBreaks(c: CanvasRenderingContext2D, axis: Axis, x: ScaleLinear<number, number>): void {
  breakLabels.replaceChildren();
  for (const br of axis.breaks) {
    const px = x(br.at);
    if (px < 0 || px > width) continue;
    // A broken axis, clearly: a zigzag pair over the axis, a dashed line down the plot, and the gap's length.
    c.strokeStyle = palette.muted;
    c.lineWidth = 1;
    c.setLineDash([2, 3]);
    c.beginPath();
    c.moveTo(px, AXIS_H - 2);
    c.lineTo(px, height);
    c.stroke();
    c.setLineDash([]);
    c.fillStyle = palette.bg;
    c.fillRect(px - 4, AXIS_H - 14, 8, 12);
    c.beginPath();
    for (const dx of [-3, 2]) {
      c.moveTo(px + dx - 2, AXIS_H - 13);
      c.lineTo(px + dx + 2, AXIS_H - 9);
      c.lineTo(px + dx - 2, AXIS_H - 5);
      c.lineTo(px + dx + 2, AXIS_H - 1);
    }
    c.stroke();
    const gap = gapText(br.to - br.from);
    const lab = el('span', { class: 'break-label' }, gap);
    lab.style.left = `${px}px`;
    lab.style.top = `${AXIS_H - 2}px`;
    breakLabels.append(lab);
  }
}

function gapText(ms: number): string {
  const days = ms / 86_400_000;
  if (days >= 365) return `${(days / 365.25).toFixed(1)} y`;
  if (days >= 60) return `${Math.round(days / 30.4)} mo`;
  return `${Math.round(days)} d`;
}

/** The cut line of a context on the axis (recent: where it stops; `undefined`: not a line). */
function cutX(m: TimelineModel, cut: TimelineCut): number | undefined {
  if (m.strategy !== 'recent' || cut.fits) return undefined;
  const t = timeOf(cut.keptFrom);
  if (t === undefined) return width - MARGIN;
  return xOfTime(t);
}

function drawCuts(c: CanvasRenderingContext2D, m: TimelineModel): void {
  cutLabels.replaceChildren();
  if (m.strategy !== 'recent') return;
  const rows: number[] = [];
  const placedLabels: { x: number; row: number }[] = [];
  const sorted = [...m.cuts].sort((a, b) => (a.own ? 1 : 0) - (b.own ? 1 : 0));
  for (const cut of sorted) {
    const px = cutX(m, cut);
    if (px === undefined || px < 0 || px > width) continue;
    c.strokeStyle = cut.own ? palette.focus : palette.fg;
    c.globalAlpha = cut.own ? 1 : 0.55;
    c.lineWidth = cut.own ? 2 : 1;
    c.beginPath();
    c.moveTo(px, AXIS_H - 4);
    c.lineTo(px, height);
    c.stroke();
    c.globalAlpha = 1;
    // Labels over the band, stacked in rows when they would overlap.
    let row = 0;
    while (placedLabels.some((p) => p.row === row && Math.abs(p.x - px) < 34)) row++;
    placedLabels.push({ x: px, row });
    rows.push(row);
    const lab = el(
      'button',
      {
        class: cut.own ? 'cut-label own' : 'cut-label',
        'data-cut': cut.label,
        'aria-label': `${cut.label}${cut.own ? ' (this instruction)' : ''}: keeps ${cut.keptTokens} tokens from ${
          cut.keptFrom?.slice(0, 10) ?? 'nothing'
        }, ${cut.keptVisits} visits${staticPage || cut.own ? '' : '. Use this context…'}`,
      },
      cut.label,
    );
    lab.title = `${cut.label} keeps ${cut.keptTokens.toLocaleString('en-US')} tokens from ${
      cut.keptFrom?.slice(0, 10) ?? '—'
    } (${cut.keptVisits} visits)${staticPage || cut.own ? '' : '\nClick to use this context for the instruction…'}`;
    lab.style.left = `${px}px`;
    lab.style.top = `${AXIS_H + 2 + row * 14}px`;
    lab.addEventListener('click', () => useContext(cut));
    cutLabels.append(lab);
  }
}

// ───────────────────────────── interaction ─────────────────────────────
interface Hit {
  kind: 'event' | 'visit' | 'cut' | 'step';
  placed?: PlacedEvent;
  visit?: TimelineVisit;
  cut?: TimelineCut;
  step?: TimelineRefineStep;
}

function hitAt(px: number, py: number): Hit | undefined {
  const m = state.model;
  if (!m) return undefined;
  const x = xScale();
  if (py >= AXIS_H + BAND_H + 4) {
    const lane = state.lanes.find((l) => py >= laneTop(l) && py < laneTop(l) + LANE_H + LANE_GAP);
    if (!lane) return undefined;
    const p = hitEvent(state.placed, px, lane, (u) => x(u), 5, shown);
    return p ? { kind: 'event', placed: p } : undefined;
  }
  if (py >= AXIS_H - 6) {
    for (const cut of m.cuts) {
      const cx = cutX(m, cut);
      if (cx !== undefined && Math.abs(cx - px) <= 3) return { kind: 'cut', cut };
    }
    for (const v of m.visits) {
      const a = timeOf(v.start);
      const b = timeOf(v.end) ?? a;
      if (a === undefined || b === undefined) continue;
      const x0 = xOfTime(a);
      const x1 = Math.max(x0 + 2, xOfTime(b));
      if (px >= x0 - 2 && px <= x1 + 2) return { kind: 'visit', visit: v };
    }
  }
  // The refine bar under the axis (and any empty part of the band): the step sent there.
  if (py >= AXIS_H - 8 && m.refine !== undefined) {
    for (const r of m.refine) {
      const span = stepSpan(r);
      if (span && px >= span[0] && px <= span[1]) return { kind: 'step', step: r };
    }
  }
  return undefined;
}

function showTooltip(hit: Hit, px: number, py: number): void {
  const m = state.model!;
  const lines: { text: string; cls?: string }[] = [];
  if (hit.kind === 'event' && hit.placed) {
    const e = hit.placed.event;
    const v = visitById(hit.placed.visit);
    lines.push({
      text: `${when(e.date, e.inferred)} · ${kindText(e.kind, e.tag)} · ${tokensText(e.tokens)}`,
      cls: 'tt-head',
    });
    if (v && m.strategy !== 'none' && m.counting !== true)
      lines.push({ text: eventKept(v, e) ? 'kept' : 'cut', cls: 'tt-muted' });
    lines.push({ text: e.label, cls: 'tt-label' });
    if (e.preview && e.preview !== e.label) lines.push({ text: e.preview, cls: 'tt-preview' });
  } else if (hit.kind === 'visit' && hit.visit) {
    const v = hit.visit;
    lines.push({
      text: `Visit ${v.index + 1}${v.type ? ` (${v.type})` : ''} · ${visitSpan(v)}`,
      cls: 'tt-head',
    });
    lines.push({
      text: `${tokensText(v.tokens)} · ${v.events.length} events · ${v.days.length} days · ${visitState(v)}`,
    });
    if (v.score !== undefined) lines.push({ text: `relevance ${v.score.toFixed(2)}` });
    if (v.matched && v.matched.length > 0) lines.push({ text: `matched: ${v.matched.join(', ')}` });
  } else if (hit.kind === 'cut' && hit.cut) {
    const cut = hit.cut;
    lines.push({ text: `${cut.label}${cut.own ? ' (this instruction)' : ''}`, cls: 'tt-head' });
    lines.push({
      text: `keeps ${cut.keptTokens.toLocaleString('en-US')} tokens from ${cut.keptFrom?.slice(0, 10) ?? '—'} · ${cut.keptVisits} visits`,
    });
    if (!cut.own && !staticPage) lines.push({ text: 'Click to use this context…', cls: 'tt-muted' });
  } else if (hit.kind === 'step' && hit.step) {
    const r = hit.step;
    const of = m.refine?.length ?? r.step;
    const nth = r.step === 1 ? 'sent first' : r.step === of ? 'sent last: its answer is the final one' : '';
    lines.push({ text: `Refine step ${r.step} of ${of}${nth ? ` · ${nth}` : ''}`, cls: 'tt-head' });
    lines.push({ text: `${stepVisits(r)} · ${r.events.toLocaleString('en-US')} events · ${stepDates(r)}` });
    lines.push({ text: stepTokens(r) });
    lines.push({ text: 'Click to show this chunk', cls: 'tt-muted' });
  }
  tooltip.replaceChildren(...lines.map((l) => el('div', l.cls ? { class: l.cls } : {}, l.text)));
  tooltip.hidden = false;
  const left = Math.min(px + 12, Math.max(0, width - 240));
  tooltip.style.left = `${left}px`;
  tooltip.style.top = `${py + 14}px`;
}

canvas.addEventListener('mousemove', (e) => {
  const r = canvas.getBoundingClientRect();
  const px = e.clientX - r.left;
  const py = e.clientY - r.top;
  const hit = hitAt(px, py);
  canvas.style.cursor = hit ? 'pointer' : 'grab';
  if (hit) {
    hovered = { hit, px, py };
    showTooltip(hit, px, py);
    if (hit.placed) wantPreviews([hit.placed.event.id]);
  } else {
    hovered = undefined;
    tooltip.hidden = true;
  }
});
canvas.addEventListener('mouseleave', () => {
  tooltip.hidden = true;
});
canvas.addEventListener('click', (e) => {
  const r = canvas.getBoundingClientRect();
  const hit = hitAt(e.clientX - r.left, e.clientY - r.top);
  if (!hit) return;
  if (hit.kind === 'cut' && hit.cut) useContext(hit.cut);
  else if (hit.kind === 'step' && hit.step) selectStep(hit.step.step, true);
  else if (hit.kind === 'event' && hit.placed) select_({ kind: 'event', id: hit.placed.event.id }, true);
  else if (hit.kind === 'visit' && hit.visit) select_({ kind: 'visit', id: hit.visit.index }, true);
});

function selectionRange(s: Selection): TimelineRange | undefined {
  if (s.kind === 'event') return placedById(s.id)?.event.range;
  return visitById(s.id)?.range;
}

function select_(s: Selection, reveal: boolean): void {
  state.selection = s;
  ensureVisible(s);
  draw();
  renderDetails();
  const range = selectionRange(s);
  if (reveal && range && !staticPage) api.postMessage({ type: 'reveal', seq: state.seq, range: [...range] });
}

function selectionUnit(s: Selection): number | undefined {
  if (s.kind === 'event') return placedById(s.id)?.u;
  const v = visitById(s.id);
  const t = timeOf(v?.start);
  return t !== undefined && state.axis ? axisPosition(state.axis, t) : undefined;
}

function ensureVisible(s: Selection): void {
  const u = selectionUnit(s);
  if (u === undefined) return;
  const px = xScale()(u);
  if (px >= MARGIN && px <= width - MARGIN) return;
  zoomBehavior.translateBy(select(canvas), (width / 2 - px) / state.transform.k, 0);
}

function renderDetails(): void {
  details.replaceChildren();
  const s = state.selection;
  const m = state.model;
  if (!s || !m) {
    details.append(
      el('span', { class: 'hint' }, 'Hover or select a mark. Click or Enter shows it in the record.'),
    );
    return;
  }
  if (s.kind === 'event') {
    const p = placedById(s.id);
    if (!p) return;
    const e = p.event;
    wantPreviews([e.id]);
    const v = visitById(p.visit);
    details.append(
      el(
        'div',
        { class: 'd-head' },
        `${kindText(e.kind, e.tag)} · ${when(e.date, e.inferred)} · ${tokensText(e.tokens)}${v && m.strategy !== 'none' && m.counting !== true ? (eventKept(v, e) ? ' · kept' : ' · cut') : ''}`,
      ),
      el('div', { class: 'd-label' }, e.label),
      el('div', { class: 'd-preview' }, e.preview ?? ''),
    );
  } else {
    const v = visitById(s.id);
    if (!v) return;
    details.append(
      el(
        'div',
        { class: 'd-head' },
        `Visit ${v.index + 1}${v.type ? ` (${v.type})` : ''} · ${visitSpan(v)} · ${visitState(v)}`,
      ),
      el(
        'div',
        {},
        `${tokensText(v.tokens)} · ${v.events.length} events${v.score !== undefined ? ` · relevance ${v.score.toFixed(2)}` : ''}`,
      ),
    );
  }
}

function visibleEvents(): PlacedEvent[] {
  return state.placed.filter(shown);
}

function step(dir: 1 | -1, unit: 'event' | 'visit'): void {
  const m = state.model;
  if (!m) return;
  const s = state.selection;
  if (unit === 'event') {
    const list = visibleEvents();
    if (list.length === 0) return;
    let i: number;
    if (s?.kind === 'event') i = list.findIndex((p) => p.event.id === s.id) + dir;
    else if (s?.kind === 'visit') {
      const vi = s.id;
      i = dir === 1 ? list.findIndex((p) => p.visit >= vi) : list.map((p) => p.visit <= vi).lastIndexOf(true);
    } else i = dir === 1 ? 0 : list.length - 1;
    i = Math.max(0, Math.min(list.length - 1, i));
    select_({ kind: 'event', id: list[i].event.id }, false);
  } else {
    const visits = m.visits;
    if (visits.length === 0) return;
    let cur = -1;
    if (s?.kind === 'visit') cur = visits.findIndex((v) => v.index === s.id);
    else if (s?.kind === 'event') {
      const p = placedById(s.id);
      cur = visits.findIndex((v) => v.index === p?.visit);
    }
    const next =
      cur < 0 ? (dir === 1 ? 0 : visits.length - 1) : Math.max(0, Math.min(visits.length - 1, cur + dir));
    select_({ kind: 'visit', id: visits[next].index }, false);
  }
}

canvas.addEventListener('keydown', (e) => {
  const pan = width / 6 / state.transform.k;
  let handled = true;
  switch (e.key) {
    case 'ArrowRight':
      if (e.shiftKey) zoomBehavior.translateBy(select(canvas), -pan, 0);
      else step(1, 'event');
      break;
    case 'ArrowLeft':
      if (e.shiftKey) zoomBehavior.translateBy(select(canvas), pan, 0);
      else step(-1, 'event');
      break;
    case 'ArrowDown':
      step(1, 'visit');
      break;
    case 'ArrowUp':
      step(-1, 'visit');
      break;
    case 'Enter':
    case ' ':
      if (state.selection) select_(state.selection, true);
      break;
    case '+':
    case '=':
      zoomBy(1.5);
      break;
    case '-':
      zoomBy(1 / 1.5);
      break;
    case '0':
      fit('all');
      break;
    case 'k':
    case 'K':
      fit('kept');
      break;
    case 'Escape':
      state.selection = undefined;
      state.step = undefined;
      draw();
      renderDetails();
      break;
    default:
      handled = false;
  }
  if (handled) e.preventDefault();
});

let searchTimer: ReturnType<typeof setTimeout> | undefined;
searchBox.addEventListener('input', () => {
  if (searchTimer !== undefined) clearTimeout(searchTimer);
  searchTimer = setTimeout(() => setSearch((searchBox as HTMLElement & { value: string }).value), 120);
});

problemLink.addEventListener('click', (e) => {
  e.preventDefault();
  api.postMessage({ type: 'openProblem' });
});

// ───────────────────────────── describe ─────────────────────────────
/** Anything on the page that could run or load something, which the view itself never creates. */
function inertCheck(): { globals: string[]; elements: string[] } {
  const globals = Object.keys(window).filter((k) => /pwned/i.test(k));
  const elements: string[] = [];
  for (const e of Array.from(app.querySelectorAll('*'))) {
    const tag = e.tagName.toLowerCase();
    if (['img', 'iframe', 'object', 'embed', 'script', 'svg', 'math', 'form'].includes(tag))
      elements.push(tag);
    for (const a of Array.from(e.attributes)) {
      if (/^on/i.test(a.name)) elements.push(`${tag}[${a.name}]`);
      if (/^(href|src|action)$/i.test(a.name) && a.value !== '#')
        elements.push(`${tag}[${a.name}=${a.value}]`);
    }
  }
  return { globals, elements };
}

function describe(): TimelineDescribe {
  const content = state.content;
  const d: TimelineDescribe = {
    state: content?.state ?? 'none',
    seq: state.seq,
    perf: currentPerf(),
    inert: inertCheck(),
  };
  if (!content) return d;
  if (content.state !== 'model') {
    d.message = content.message;
    if (content.state !== 'empty') d.source = content.source;
    return d;
  }
  const m = content.model;
  const [u0, u1] = visibleUnits();
  const axis = state.axis!;
  d.source = content.source;
  d.record = m.record;
  d.encoding = m.encoding;
  d.stage = m.counting === true ? 'counting' : 'counted';
  if (m.counting === true) d.countingText = summary.querySelector('#kept-summary')?.textContent?.trim() ?? '';
  else d.tokens = m.tokens;
  d.strategy = m.strategy;
  d.context = m.context;
  d.counts = {
    visits: m.visits.length,
    events: state.placed.length,
    shownEvents: visibleEvents().length,
    keptVisits: m.visits.filter((v) => v.state !== 'cut').length,
  };
  d.cuts = m.cuts.map((c) => {
    const px = cutX(m, c);
    return {
      label: c.label,
      context: c.context,
      keptFrom: c.keptFrom,
      keptTokens: c.keptTokens,
      keptVisits: c.keptVisits,
      fits: c.fits,
      own: c.own,
      visible: px !== undefined && px >= 0 && px <= width,
    };
  });
  if (m.refine !== undefined) {
    d.refine = m.refine.map((r) => {
      const span = stepSpan(r);
      const label = stepLabels.querySelector(`button[data-step="${r.step}"]`);
      return {
        step: r.step,
        from: r.from,
        to: r.to,
        tokens: r.tokens,
        recordTokens: r.recordTokens,
        visible: span !== undefined && span[1] >= 0 && span[0] <= width,
        labelled: label !== null,
        label: label?.getAttribute('aria-label') ?? '',
      };
    });
    d.step = state.step ?? null;
  }
  const s = state.selection;
  d.selection = null;
  if (s?.kind === 'event') {
    const p = placedById(s.id);
    if (p)
      d.selection = {
        what: 'event',
        id: s.id,
        kind: p.event.kind,
        date: p.event.date,
        label: p.event.label,
        range: [...p.event.range],
      };
  } else if (s?.kind === 'visit') {
    const v = visitById(s.id);
    if (v)
      d.selection = {
        what: 'visit',
        id: s.id,
        kind: 'visit',
        date: v.start,
        label: `Visit ${v.index + 1}`,
        range: [...v.range],
      };
  }
  d.filters = {
    lanes: state.lanes.filter((l) => !state.hidden.has(l)),
    search: state.searchText,
    hits: state.search?.count ?? 0,
    hitsKept: state.search?.kept ?? 0,
    hitsCut: state.search?.cut ?? 0,
  };
  d.visibleRange = {
    from: isoDay(axisTime(axis, u0)),
    to: isoDay(axisTime(axis, u1)),
    zoom: state.transform.k,
  };
  d.breaks = axis.breaks.map((b) => ({ from: isoDay(b.from), to: isoDay(b.to) }));
  d.query = m.query?.terms.map((t) => ({ term: t.term, hits: t.hits })) ?? [];
  d.problems = [...m.problems];
  d.detailsText = details.textContent ?? '';
  return d;
}

function act(a: ViewAction): void {
  switch (a.kind) {
    case 'clickEvent':
      if (placedById(a.id)) select_({ kind: 'event', id: a.id }, true);
      break;
    case 'search':
      (searchBox as HTMLElement & { value: string }).value = a.text;
      setSearch(a.text);
      break;
    case 'filter':
      if ((LANES as readonly string[]).includes(a.lane)) setLane(a.lane as Lane, a.shown);
      break;
    case 'fit':
      fit(a.what);
      break;
    case 'zoom':
      zoomBy(a.factor);
      break;
    case 'clickStep':
      selectStep(a.step, true);
      break;
    case 'clickCut': {
      const cut = state.model?.cuts.find((c) => c.label === a.label);
      if (cut) useContext(cut);
      break;
    }
  }
}

// ───────────────────────────── wiring ─────────────────────────────
/** The text of gzipped bytes. */
async function gunzip(bytes: Uint8Array): Promise<string> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new DecompressionStream('gzip'));
  return new Response(stream).text();
}

/** A packed model's columns inflated, parsed and checked, as a WireContent (undefined: malformed). */
async function unpack(c: PackedContent): Promise<WireContent | undefined> {
  let columns: unknown;
  try {
    columns = JSON.parse(await gunzip(c.packed.columns));
  } catch {
    return undefined;
  }
  const wire = unpackedWire(c.packed, columns);
  return isTimelineWire(wire) ? { state: 'model', wire, source: c.source } : undefined;
}

/** The size of the message being handled when its model came packed, else 0 (perf.paintedGzipBytes). */
let receivedGzipBytes = 0;

function handle(msg: ToView, arrived: number, gzipBytes = 0): void {
  receivedGzipBytes = gzipBytes;
  if (msg.type === 'content') {
    // (A packed model is handled once unpacked: see the listener.)
    if (msg.seq < state.seq || 'packed' in msg.content) return;
    setContent(msg.content, msg.seq, msg.keepView, arrived);
  } else if (msg.type === 'previews') {
    gotPreviews(msg);
  } else if (msg.type === 'describe') {
    api.postMessage({ type: 'describe', requestId: msg.requestId, describe: describe() });
  } else act(msg.action);
}

/** Messages are handled in the order they came: a packed model once it is inflated, and what came after it after it. */
let inbox: Promise<void> = Promise.resolve();
let unpacking = 0;
const logged = (p: Promise<void>): Promise<void> =>
  p.catch((err: unknown) => {
    console.error(err);
  });
window.addEventListener('message', (e: MessageEvent<unknown>) => {
  const arrived = performance.now();
  // A model's columns come as one JSON string (see TimelineView.post); anything else as an object.
  let data: unknown = e.data;
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch {
      return;
    }
  }
  if (!isToView(data)) return;
  const msg = data;
  if (msg.type === 'content' && 'packed' in msg.content) {
    const bytes = msg.content.packed.columns.byteLength;
    const content = unpack(msg.content);
    unpacking++;
    inbox = logged(
      inbox
        .then(() => content)
        .then((c) => {
          // Columns that do not inflate or check are dropped, as a message that does not parse.
          if (c) handle({ ...msg, content: c }, arrived, bytes);
        })
        .finally(() => {
          unpacking--;
        }),
    );
  } else if (unpacking > 0) inbox = logged(inbox.then(() => handle(msg, arrived)));
  else handle(msg, arrived);
});

if (staticPage) {
  const data = document.getElementById('timeline-data');
  let parsed: unknown;
  try {
    parsed = JSON.parse(data?.textContent ?? 'null');
  } catch {
    parsed = undefined;
  }
  if (isTimelineModel(parsed))
    setContent({ state: 'model', model: parsed, source: parsed.record }, 1, false, performance.now());
  else setContent({ state: 'empty', message: 'This page holds no timeline.' }, 1, false, performance.now());
  (window as unknown as { medalignTimeline: { describe: () => TimelineDescribe } }).medalignTimeline = {
    describe,
  };
} else {
  setContent({ state: 'loading', message: 'Loading the record timeline…' }, 0, false, performance.now());
  api.postMessage({ type: 'ready' });
}
