/**
 * Builds the record timeline model (./model.ts) from a parsed record and the token counter's cached
 * per-element counts. The cut lines and the kept state of each visit are `packPrompt`'s own results
 * for each context (the code path of `medalign pack`), never a second computation.
 *
 * What does not depend on the instruction or the context (visits, days, events with their kinds,
 * dates, ranges, labels and tokens) is kept per parsed record and encoding, and packPrompt's
 * results per record for the last settings by context, so a context change packs at most once.
 * Models share those parts: treat a model as read-only (the worker posts a copy).
 */
import { packPrompt, recordBm25, STANDARD_CONTEXTS } from '../packing/pack';
import type { PackInput, PackResult, PackStrategy } from '../packing/pack';
import { terms, xmlTerms } from '../packing/bm25';
import { formatContext } from '../packing/format';
import type {
  CodeEntry,
  EhrRecord,
  Person,
  RecordDate,
  RecordEvent,
  SourceRange,
  Visit,
} from '../record/model';
import type { TokenCounter } from '../tokens/counter';
import type { TokenizerName } from '../tokens/tokenizer';
import type {
  TimelineCut,
  TimelineDay,
  TimelineEvent,
  TimelineKind,
  TimelineModel,
  TimelineQueryTerm,
  TimelineRange,
  TimelineRefineStep,
  TimelineVisit,
} from './model';
import { emptyTimeline } from './model';
import { drain } from '../util/steps';
import type { Steps } from '../util/steps';

export interface TimelineInput extends Omit<PackInput, 'strategy'> {
  strategy: PackStrategy;
  /** The record's label (`records/1234555.xml`) and URI. */
  label: string;
  uri?: string;
  /** The model the settings came from (endpoint id or `baseline`). */
  model?: string;
  /** Cut lines for these contexts, plus `context` (default: 2k … 128k). */
  contexts?: readonly number[];
  /** Problems found before building (a setting the schema refuses...), listed first. */
  problems?: readonly string[];
}

/** How an element name maps to a kind (docs/timeline.md). */
const KIND_OF_TAG: Record<string, TimelineKind> = {
  note: 'note',
  measurement: 'measurement',
  observation: 'measurement',
  drug_exposure: 'medication',
  drug_era: 'medication',
  condition_occurrence: 'diagnosis',
  condition_era: 'diagnosis',
  procedure_occurrence: 'procedure',
  device_exposure: 'procedure',
  person: 'demographics',
};

export function timelineKind(tag: string): TimelineKind {
  return KIND_OF_TAG[tag.toLowerCase()] ?? 'other';
}

export const PREVIEW_CHARS = 100;

/** At most `max` characters, cut at a word boundary with an ellipsis. */
export function clip(text: string, max = PREVIEW_CHARS): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

function codeText(c: CodeEntry): string {
  let s = c.description;
  if (c.value !== undefined) s += ` ${c.value}`;
  if (c.unit !== undefined) s += ` ${c.unit}`;
  return s.trim() || (c.code ?? '');
}

function eventLabel(ev: RecordEvent): { label: string; preview?: string } {
  const kind = timelineKind(ev.kind);
  let label: string;
  let full: string;
  if (kind === 'note') {
    const type = ev.type?.trim();
    label = type !== undefined && type !== '' && type !== 'NULL' ? type : 'note';
    full = ev.text ?? '';
  } else if (ev.codes.length > 0) {
    const texts = ev.codes.map(codeText);
    label = clip(texts[0], 60) + (texts.length > 1 ? ` (+${texts.length - 1} more)` : '');
    full = texts.join('; ');
    if (ev.text) full += ` ${ev.text}`;
  } else {
    full = ev.text ?? '';
    label = ev.type?.trim() || (full !== '' ? clip(full, 60) : ev.kind);
  }
  const preview = clip(full);
  return preview === '' || preview === label ? { label } : { label, preview };
}

function personPreview(p: Person): string {
  const parts: string[] = [];
  if (p.gender) parts.push(p.gender);
  if (p.ageInYears !== undefined) parts.push(`${p.ageInYears} years`);
  if (p.birth) parts.push(`born ${p.birth.iso.slice(0, 10)}`);
  if (p.race) parts.push(p.race);
  if (p.ethnicity) parts.push(p.ethnicity);
  return clip(parts.join(', '));
}

/** Offsets of line starts, for LSP positions (UTF-16 code units, as JavaScript strings count). */
export class LineIndex {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }
  position(offset: number): [number, number] {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return [lo, offset - this.starts[lo]];
  }
  range(r: SourceRange): TimelineRange {
    const [sl, sc] = this.position(r.start);
    const [el, ec] = this.position(r.end);
    return [sl, sc, el, ec];
  }
}

/** The part of the model that depends only on the record and the encoding. */
interface StaticVisit {
  index: number;
  type?: string;
  start: string | null;
  end: string | null;
  tokens: number;
  range: TimelineRange;
  days: TimelineDay[];
  events: TimelineEvent[];
  /** Source ranges of the events (same order), to tell which are kept. */
  eventRanges: SourceRange[];
}

interface StaticModel {
  text: string;
  tokens: number;
  events: number;
  first: string | null;
  last: string | null;
  visits: StaticVisit[];
  problems: string[];
}

const staticCache = new WeakMap<EhrRecord, Map<TokenizerName, StaticModel>>();

function minIso(a: string | null, b: string | null): string | null {
  return a === null ? b : b === null ? a : a < b ? a : b;
}
function maxIso(a: string | null, b: string | null): string | null {
  return a === null ? b : b === null ? a : a > b ? a : b;
}

/** The structure only (no token counted), by record: the view's first paint of a big record. */
const structureCache = new WeakMap<EhrRecord, StaticModel>();

/**
 * What does not depend on the instruction or the context. With `count` (an encoding and its
 * counter): every visit's, day's and event's exact tokens. Without: the structure alone (visits,
 * days, events with kinds, dates, ranges, labels), every token figure 0, and nothing tokenized.
 */
function staticModel(
  text: string,
  record: EhrRecord,
  count: { encoding: TokenizerName; counter: TokenCounter } | undefined,
): StaticModel {
  return drain(staticModelSteps(text, record, count));
}

/** The model staticModel would find made already for this record, text and encoding (or structure). */
function cachedStatic(
  text: string,
  record: EhrRecord,
  count: { encoding: TokenizerName } | undefined,
): StaticModel | undefined {
  const hit = count === undefined ? structureCache.get(record) : staticCache.get(record)?.get(count.encoding);
  return hit !== undefined && hit.text === text ? hit : undefined;
}

/**
 * staticModel in steps, one visit each (the record worker warms a big record between its requests:
 * a request that comes meanwhile waits for one visit, not the whole record). A step finds the model
 * made meanwhile (by a request) and ends with it.
 */
function* staticModelSteps(
  text: string,
  record: EhrRecord,
  count: { encoding: TokenizerName; counter: TokenCounter } | undefined,
): Steps<StaticModel> {
  const hit = cachedStatic(text, record, count);
  if (hit !== undefined) return hit;
  const keep = (model: StaticModel): StaticModel => {
    if (count === undefined) structureCache.set(record, model);
    else {
      let perEnc = staticCache.get(record);
      if (perEnc === undefined) staticCache.set(record, (perEnc = new Map<TokenizerName, StaticModel>()));
      perEnc.set(count.encoding, model);
    }
    return model;
  };
  // Counting a record whose structure was built (the view's first paint): only the tokens are new.
  const built = count !== undefined ? structureCache.get(record) : undefined;
  if (count !== undefined && built !== undefined && built.text === text) {
    const model = yield* countedStructureSteps(text, record, built, count.encoding, count.counter);
    return cachedStatic(text, record, count) ?? keep(model);
  }
  const counter = count?.counter;
  const encoding = count?.encoding ?? 'cl100k_base';
  const counts = counter?.countRecord(text, record, encoding);
  const lines = new LineIndex(text);
  const person = record.person;
  let id = 0;
  let undated = 0;
  let beforeVisit = 0;
  let firstUndated: string | undefined;
  let first: string | null = null;
  let last: string | null = null;
  let lastVisitStart: string | null = null;
  let outOfOrder = 0;
  const visitOf = (v: Visit, vi: number): StaticVisit => {
    const vc = counter && counts ? counter.countVisit(text, record, counts, vi) : undefined;
    const vStart = v.start?.iso ?? null;
    let start = vStart;
    let end = vStart;
    const events: TimelineEvent[] = [];
    const eventRanges: SourceRange[] = [];
    const days = v.days.map((day, di): TimelineDay => {
      const dc = vc?.days[di];
      const dayDate: RecordDate | undefined = day.start ?? v.start;
      start = minIso(start, day.start?.iso ?? null);
      end = maxIso(end, day.start?.iso ?? null);
      // The record's demographics: the most recent person block, shown once, in its day.
      if (
        person !== undefined &&
        person.range.start >= day.range.start &&
        person.range.end <= day.range.end
      ) {
        events.push({
          id: id++,
          kind: 'demographics',
          date: dayDate?.iso ?? null,
          ...(day.start === undefined ? { inferred: true as const } : {}),
          tokens: counter ? counter.countRange(text, person.range.start, person.range.end, encoding) : 0,
          range: lines.range(person.range),
          label: 'Demographics',
          ...(personPreview(person) !== '' ? { preview: personPreview(person) } : {}),
        });
        eventRanges.push(person.range);
      }
      // An element directly in a visit is read as a day of its own and not split further.
      const own = dc !== undefined && dc.events.length !== day.events.length;
      day.events.forEach((ev, ei) => {
        const date = ev.start ?? dayDate;
        const iso = date?.iso ?? null;
        if (iso === null) {
          undated++;
          firstUndated ??= `line ${lines.position(ev.range.start)[0] + 1}`;
        }
        if (ev.start !== undefined && vStart !== null && ev.start.iso < vStart) beforeVisit++;
        start = minIso(start, ev.start?.iso ?? null);
        end = maxIso(end, ev.start?.iso ?? null);
        const kind = timelineKind(ev.kind);
        const e: TimelineEvent = {
          id: id++,
          kind,
          ...(kind === 'other' ? { tag: ev.kind } : {}),
          date: iso,
          ...(ev.start === undefined && iso !== null ? { inferred: true as const } : {}),
          tokens: dc === undefined ? 0 : own ? dc.total : dc.events[ei],
          range: lines.range(ev.range),
          ...eventLabel(ev),
        };
        events.push(e);
        eventRanges.push(ev.range);
      });
      return { date: day.start?.iso ?? null, tokens: dc?.total ?? 0, events: day.events.length };
    });
    first = minIso(first, start);
    last = maxIso(last, end);
    if (start !== null) {
      if (lastVisitStart !== null && start < lastVisitStart) outOfOrder++;
      lastVisitStart = maxIso(lastVisitStart, start);
    }
    const sv: StaticVisit = {
      index: vi,
      start,
      end,
      tokens: counts?.visits[vi] ?? 0,
      range: lines.range(v.range),
      days,
      events,
      eventRanges,
    };
    if (v.type !== undefined) sv.type = v.type;
    return sv;
  };
  const visits: StaticVisit[] = [];
  for (let vi = 0; vi < record.visits.length; vi++) {
    visits.push(visitOf(record.visits[vi], vi));
    yield;
    const meanwhile = cachedStatic(text, record, count);
    if (meanwhile !== undefined) return meanwhile;
  }
  const problems: string[] = [];
  const unreadable = record.diagnostics.filter((d) => d.code === 'date-unparseable');
  if (unreadable.length > 0) {
    const d = unreadable[0];
    problems.push(
      `${unreadable.length} date${unreadable.length === 1 ? '' : 's'} could not be read (first at line ` +
        `${lines.position(d.range.start)[0] + 1}): those elements take their day's or visit's date.`,
    );
  }
  if (undated > 0) {
    problems.push(
      `${undated} event${undated === 1 ? ' has' : 's have'} no date, nor has ${undated === 1 ? 'its' : 'their'} day or visit ` +
        `(first at ${firstUndated}): shown without a place on the time axis.`,
    );
  }
  if (beforeVisit > 0) {
    problems.push(
      `${beforeVisit} event${beforeVisit === 1 ? ' is' : 's are'} dated before ${beforeVisit === 1 ? 'its' : 'their'} visit's start: ` +
        `the visit's band starts at its earliest event.`,
    );
  }
  if (outOfOrder > 0) {
    problems.push(
      `${outOfOrder} visit${outOfOrder === 1 ? ' is' : 's are'} not in date order in the file: strategy recent keeps ` +
        `the last visits of the file, which are not all the most recent by date.`,
    );
  }
  const structure = record.diagnostics.filter(
    (d) => d.code === 'record-structure' && d.severity === 'warning',
  );
  if (structure.length > 0) {
    problems.push(
      `${structure.length} element${structure.length === 1 ? '' : 's'} outside the visit/day structure ` +
        `(first at line ${lines.position(structure[0].range.start)[0] + 1}): ${structure[0].message}`,
    );
  }
  return keep({
    text,
    tokens: counts?.total ?? 0,
    events: record.eventCount,
    first,
    last,
    visits,
    problems,
  });
}

/**
 * The counted static model of a record from its structure (same visits, days and events, in the same
 * order, as staticModel walks them): its labels, dates and ranges reused, the tokens counted as
 * staticModel counts them.
 */
function* countedStructureSteps(
  text: string,
  record: EhrRecord,
  st: StaticModel,
  encoding: TokenizerName,
  counter: TokenCounter,
): Steps<StaticModel> {
  const counts = counter.countRecord(text, record, encoding);
  const person = record.person;
  const visitOf = (v: Visit, vi: number): StaticVisit => {
    const sv = st.visits[vi];
    const vc = counter.countVisit(text, record, counts, vi);
    const events: TimelineEvent[] = [];
    let k = 0;
    const days = v.days.map((day, di): TimelineDay => {
      const dc = vc.days[di];
      if (
        person !== undefined &&
        person.range.start >= day.range.start &&
        person.range.end <= day.range.end
      ) {
        const tokens = counter.countRange(text, person.range.start, person.range.end, encoding);
        events.push({ ...sv.events[k++], tokens });
      }
      const own = dc.events.length !== day.events.length;
      for (let ei = 0; ei < day.events.length; ei++)
        events.push({ ...sv.events[k++], tokens: own ? dc.total : dc.events[ei] });
      return { ...sv.days[di], tokens: dc.total };
    });
    return { ...sv, tokens: counts.visits[vi], days, events };
  };
  const visits: StaticVisit[] = [];
  for (let vi = 0; vi < record.visits.length; vi++) {
    visits.push(visitOf(record.visits[vi], vi));
    yield;
    const meanwhile = cachedStatic(text, record, { encoding });
    if (meanwhile !== undefined) return meanwhile;
  }
  return { ...st, tokens: counts.total, visits };
}

function inside(r: SourceRange, kept: readonly SourceRange[]): boolean {
  // kept ranges are sorted and disjoint: binary search the last one starting at or before r.start.
  let lo = 0;
  let hi = kept.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (kept[mid].start <= r.start) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found >= 0 && kept[found].end >= r.end;
}

/** What the timeline reads of a pack result (its prompt text and messages are not kept). */
export type CutPack = Pick<
  PackResult,
  'ok' | 'error' | 'strategy' | 'kept' | 'cut' | 'visits' | 'keptRanges'
> & { refine?: TimelineRefineStep[] };

/**
 * packPrompt's results, kept per parsed record for the last settings asked (instruction, template,
 * reserve, strategy, encoding, overhead) by context: asking again, or moving the own context to a
 * size already packed, packs nothing. A change of any setting starts afresh.
 */
const packCache = new WeakMap<
  EhrRecord,
  { text: string; settings: string; byContext: Map<number, CutPack> }
>();
const templateIds = new WeakMap<object, number>();
let nextTemplateId = 1;

function settingsKey(input: TimelineInput): string {
  let tid = 0;
  if (input.template !== undefined) {
    tid = templateIds.get(input.template) ?? nextTemplateId++;
    templateIds.set(input.template, tid);
  }
  return JSON.stringify([
    input.instruction,
    tid,
    input.reserve ?? null,
    input.strategy,
    input.encoding,
    input.estimated === true,
    input.messageOverhead ?? 0,
    input.chat ?? null,
    input.refine !== undefined
      ? [
          input.refine.order ?? null,
          input.refine.maxSteps ?? null,
          input.refine.template !== undefined ? input.refine.template.source : null,
        ]
      : null,
  ]);
}

function cachedPack(input: TimelineInput, context: number): CutPack {
  const settings = settingsKey(input);
  let entry = packCache.get(input.record);
  if (entry === undefined || entry.text !== input.text || entry.settings !== settings) {
    entry = { text: input.text, settings, byContext: new Map() };
    packCache.set(input.record, entry);
  }
  const hit = entry.byContext.get(context);
  if (hit !== undefined) return hit;
  const r = packPrompt({ ...input, context });
  const slim: CutPack = {
    ok: r.ok,
    strategy: r.strategy,
    kept: r.kept,
    cut: r.cut,
    visits: r.visits,
    keptRanges: r.keptRanges,
    ...(r.error !== undefined ? { error: r.error } : {}),
  };
  // strategy refine: its chunks, in the order they are sent (no messages: the timeline shows where).
  if (r.refine !== undefined) {
    const lines = new LineIndex(input.text);
    slim.refine = r.refine.steps.map((st) => ({
      step: st.index + 1,
      firstVisit: st.firstVisit,
      lastVisit: st.lastVisit,
      events: st.events,
      from: st.firstDate !== undefined ? st.firstDate.iso : null,
      to: st.lastDate !== undefined ? st.lastDate.iso : null,
      tokens: st.tokens,
      recordTokens: st.recordTokens,
      range: lines.range({
        start: st.ranges[0]?.start ?? 0,
        end: st.ranges.at(-1)?.end ?? 0,
      }),
    }));
  }
  if (entry.byContext.size >= 32) entry.byContext.clear();
  entry.byContext.set(context, slim);
  return slim;
}

/** What a pack result says about one context, as a cut line. */
export function cutOf(r: CutPack, context: number, own: boolean): TimelineCut {
  const ok = r.ok;
  return {
    context,
    label: formatContext(context),
    keptTokens: ok ? r.kept.tokens : 0,
    keptFrom: ok ? (r.kept.firstDate?.iso ?? null) : null,
    keptVisits: ok ? r.kept.visits : 0,
    keptEvents: ok ? r.kept.events : 0,
    fits: ok && r.cut.visits === 0 && r.cut.events === 0,
    ok,
    own,
  };
}

/** The first event (record order) a pack keeps, skipping the demographics block: `recent`'s cut point. */
function firstKept(st: StaticModel, r: CutPack): number | null {
  for (const vp of r.visits) {
    if (vp.state === 'cut') continue;
    const sv = st.visits[vp.index];
    for (let k = 0; k < sv.events.length; k++) {
      if (sv.events[k].kind === 'demographics') continue;
      if (vp.state === 'kept' || inside(sv.eventRanges[k], r.keptRanges)) return sv.events[k].id;
    }
  }
  return null;
}

/**
 * The timeline model of a parsed record (see the module comment). Never throws on a parsed
 * record; a record that is not `ok` gives an empty model with its errors as `problems`.
 */
/**
 * Builds the part of the timeline that depends only on the record and the encoding (every event's
 * tokens, label, dates and range), so the first `buildTimeline` of the record only packs. The record
 * worker calls it when it is idle after counting a record; a record that is not valid is skipped.
 */
export function warmTimeline(
  text: string,
  record: EhrRecord,
  encoding: TokenizerName,
  counter: TokenCounter,
): void {
  drain(warmTimelineSteps(text, record, encoding, counter));
}

/** warmTimeline in steps, one visit each (for a caller that answers requests between them). */
export function* warmTimelineSteps(
  text: string,
  record: EhrRecord,
  encoding: TokenizerName,
  counter: TokenCounter,
): Steps<void> {
  if (record.ok) yield* staticModelSteps(text, record, { encoding, counter });
}

/** Whether `warmTimeline` (or a model) already built the record's static part for `encoding`. */
export function timelineWarm(text: string, record: EhrRecord, encoding: TokenizerName): boolean {
  return staticCache.get(record)?.get(encoding)?.text === text;
}

/** The model's header fields that come from the request. */
function headOf(input: StructureInput) {
  return {
    encoding: input.encoding,
    strategy: input.strategy,
    context: input.context,
    ...(input.model !== undefined ? { model: input.model } : {}),
    ...(input.uri !== undefined ? { uri: input.uri } : {}),
  };
}

/** A record that is not valid: an empty model with its first error as a problem and a link. */
function invalidModel(input: StructureInput): TimelineModel {
  const error = input.record.diagnostics.find((d) => d.severity === 'error');
  const m = emptyTimeline(
    input.label,
    [
      ...(input.problems ?? []),
      `${input.label} is not a valid MedAlign record${error ? `: ${error.message}` : '.'}`,
    ],
    headOf(input),
  );
  if (error) {
    m.error = {
      message: error.message,
      code: error.code,
      range: new LineIndex(input.text).range(error.range),
    };
  }
  return m;
}

/** What the structure of a record needs: the record, and what its header says (settings, labels). */
export type StructureInput = Pick<
  TimelineInput,
  'text' | 'record' | 'encoding' | 'strategy' | 'context' | 'label' | 'uri' | 'model' | 'problems'
>;

/**
 * The record's structure as a timeline model marked `counting` (the view's first paint of a big
 * record, before its tokens are counted): visits, days and events with their kinds, dates, ranges,
 * labels and previews, exactly as `buildTimeline` gives them, but every token figure 0, no cut line,
 * every visit `kept` with nothing said about what a context keeps, no question terms, no refine
 * steps. Tokenizes nothing. A record that is not valid gives the same model as `buildTimeline`.
 */
export function buildTimelineStructure(input: StructureInput): TimelineModel {
  if (!input.record.ok) return invalidModel(input);
  const st = staticModel(input.text, input.record, undefined);
  return {
    ...structureHeader(input, st),
    visits: structureVisits(st),
  };
}

/**
 * The visits of a valid record's structure (`buildTimelineStructure(…).visits`): built once per
 * record and text (the record worker builds them when it is idle after parsing a big record, so the
 * view's first paint only encodes its header).
 */
export function timelineStructureVisits(text: string, record: EhrRecord): TimelineVisit[] {
  return drain(timelineStructureVisitsSteps(text, record));
}

/** timelineStructureVisits in steps, one visit each. */
export function* timelineStructureVisitsSteps(text: string, record: EhrRecord): Steps<TimelineVisit[]> {
  return structureVisits(yield* staticModelSteps(text, record, undefined));
}

/** The header of a valid record's structure (`buildTimelineStructure(…)` without its visits). */
export function timelineStructureHeader(input: StructureInput): Omit<TimelineModel, 'visits'> {
  return structureHeader(input, staticModel(input.text, input.record, undefined));
}

function structureVisits(st: StaticModel): TimelineVisit[] {
  return st.visits.map((sv): TimelineVisit => ({
    index: sv.index,
    ...(sv.type !== undefined ? { type: sv.type } : {}),
    start: sv.start,
    end: sv.end,
    tokens: 0,
    range: sv.range,
    state: 'kept',
    keptTokens: 0,
    days: sv.days,
    events: sv.events,
  }));
}

function structureHeader(input: StructureInput, st: StaticModel): Omit<TimelineModel, 'visits'> {
  return {
    version: 1,
    record: input.label,
    ...headOf(input),
    counting: true,
    tokens: 0,
    events: st.events,
    first: st.first,
    last: st.last,
    cuts: [],
    problems: [...(input.problems ?? []), ...st.problems],
  };
}

export function buildTimeline(input: TimelineInput): TimelineModel {
  const { text, record, encoding, counter, strategy } = input;
  const head = headOf(input);
  const pre = [...(input.problems ?? [])];
  if (!record.ok) return invalidModel(input);
  const st = staticModel(text, record, { encoding, counter });
  const pack = (context: number): CutPack => cachedPack(input, context);

  // The cut lines: packPrompt for each context (the instruction's own one included, once).
  const contexts = [...new Set([...(input.contexts ?? STANDARD_CONTEXTS), input.context])].sort(
    (a, b) => a - b,
  );
  let ownResult: CutPack | undefined;
  // Once a context keeps the whole record, every larger one keeps exactly the same (a larger budget
  // plans the same selection, renders the same prompt, and it fits a larger limit): that result is
  // reused rather than packed again.
  let whole: CutPack | undefined;
  const cuts = contexts.map((c) => {
    // Refine keeps the whole record at every size, but its chunks depend on the size: the own context
    // is always planned at its own size (the chunks `medalign pack` prints).
    const r = whole !== undefined && !(strategy === 'refine' && c === input.context) ? whole : pack(c);
    if (r.ok && r.cut.visits === 0 && r.cut.events === 0) whole = r;
    if (c === input.context) ownResult = r;
    const cut = cutOf(r, c, c === input.context);
    if ((strategy === 'recent' || strategy === 'helm') && r.ok) cut.firstKept = firstKept(st, r);
    return cut;
  });
  const own = ownResult!;

  const counts = counter.countRecord(text, record, encoding);
  const query = terms(input.instruction);
  const unique = [...new Set(query)];
  const index = unique.length > 0 ? recordBm25(text, record, counts) : undefined;

  const visits = st.visits.map((sv): TimelineVisit => {
    const vp = own.visits[sv.index];
    const state = own.ok ? vp.state : 'cut';
    const v: TimelineVisit = {
      index: sv.index,
      ...(sv.type !== undefined ? { type: sv.type } : {}),
      start: sv.start,
      end: sv.end,
      tokens: sv.tokens,
      range: sv.range,
      state,
      keptTokens: own.ok ? vp.keptTokens : 0,
      days: sv.days,
      events: sv.events,
    };
    if (state === 'partial') {
      v.kept = sv.events.filter((_, k) => inside(sv.eventRanges[k], own.keptRanges)).map((e) => e.id);
    }
    if (strategy === 'bm25') {
      v.score = vp.score ?? 0;
      if (index !== undefined) v.matched = unique.filter((t) => index.docs[sv.index].tf.has(t));
    }
    return v;
  });

  const model: TimelineModel = {
    version: 1,
    record: input.label,
    ...head,
    ...(input.estimated === true ? { estimated: true } : {}),
    tokens: st.tokens,
    events: st.events,
    first: st.first,
    last: st.last,
    visits,
    cuts,
    problems: [...pre, ...(own.ok ? [] : [own.error ?? 'The prompt does not fit.']), ...st.problems],
  };
  if (own.refine !== undefined) model.refine = own.refine;
  // Keys in a stable, readable order for the JSON export.
  if (index !== undefined) model.query = { terms: queryHits(unique, index.docs, st, visits, text, own) };
  return model;
}

function queryHits(
  unique: readonly string[],
  docs: readonly { tf: Map<string, number> }[],
  st: StaticModel,
  visits: readonly TimelineVisit[],
  text: string,
  own: CutPack,
): TimelineQueryTerm[] {
  // Kept hits: whole kept visits from the index; a partial visit from its kept events' text.
  const partialTf = new Map<number, Map<string, number>>();
  for (const v of visits) {
    if (v.state !== 'partial') continue;
    const tf = new Map<string, number>();
    const sv = st.visits[v.index];
    sv.eventRanges.forEach((r) => {
      if (!inside(r, own.keptRanges)) return;
      for (const t of xmlTerms(text.slice(r.start, r.end))) tf.set(t, (tf.get(t) ?? 0) + 1);
    });
    partialTf.set(v.index, tf);
  }
  return unique.map((term) => {
    let hits = 0;
    let nVisits = 0;
    let keptHits = 0;
    docs.forEach((d, i) => {
      const n = d.tf.get(term) ?? 0;
      if (n === 0) return;
      hits += n;
      nVisits++;
      const state = visits[i].state;
      if (state === 'kept') keptHits += n;
      else if (state === 'partial') keptHits += partialTf.get(i)?.get(term) ?? 0;
    });
    return { term, hits, visits: nVisits, keptHits };
  });
}
