/**
 * The heavy record work — parsing, token counts, "what fits", packing — behind one interface, so the
 * language server can run it in a worker thread (server/src/node/workerRecordEngine.ts) while the CLI
 * and the tests run the same code in-process (LocalRecordEngine). Records are identified by URI and
 * a version key (mtime:size for files on disk, the document version for open editors).
 */
import type { EhrRecord, RecordDate, SourceRange } from '../record/model';
import { parseRecord } from '../record/parse';
import { TokenCounter } from '../tokens/counter';
import type { RecordTokenCounts, TokenCounterOptions } from '../tokens/counter';
import type { TokenizerName } from '../tokens/tokenizer';
import { addServerCounts, serverMissing } from '../tokens/serverTable';
import type { ChatFormat } from '../tokens/chat';
import { fitTable, packPrompt } from '../packing/pack';
import type { PackInput } from '../packing/pack';
import type { FitTable, PackResult, PackStrategy } from '../packing/pack';
import { parseTemplate } from '../template/template';
import { getDefaultRefineTemplate, getDefaultTemplate } from '../template/defaults';
import type { RefineOrder } from '../packing/refine';
import {
  buildTimeline,
  timelineStructureHeader,
  timelineStructureVisitsSteps,
  timelineWarm,
  warmTimelineSteps,
} from '../timeline/build';
import type { TimelineModel } from '../timeline/model';
import { encodeColumns, encodeTimeline, timelinePreviews } from '../timeline/wire';
import type { TimelineColumns, TimelineWire, ViewWire } from '../timeline/wire';
import { drain } from '../util/steps';
import type { Steps } from '../util/steps';

export interface TokenRequest {
  encoding: TokenizerName;
  estimated: boolean;
  /** What the chat API adds around the messages (tokens/chat.ts). */
  chat?: ChatFormat;
  instruction: string;
  /** Template source text; the built-in MedAlign template when absent. */
  template?: string;
  reserve: number;
  /** What fits is planned with this strategy (default `recent`). */
  strategy?: PackStrategy;
}

export interface PackRequest extends TokenRequest {
  context: number;
  strategy: PackStrategy;
  /** `strategy: refine`: the refine template's source (the built-in one when absent), order, step limit. */
  refine?: { template?: string; order: RefineOrder; maxSteps: number };
}

/** The timeline of a record (core/timeline): the pack settings, and what the model is labelled with. */
export interface TimelineRequest extends PackRequest {
  /** The record's label (`records/1234555.xml`). */
  label: string;
  model?: string;
  /** Cut lines for these contexts (plus `context`); default 2k … 128k. */
  contexts?: number[];
  /** Problems found while resolving the settings, listed first in the model's. */
  problems?: string[];
}

/** Previews of a timeline's events (`medalign/timelinePreviews`): `stamp` names the model they are of. */
export interface TimelinePreviews {
  stamp: string;
  /** In the order asked; null: the event has none (or no such event). */
  previews: (string | null)[];
}

/** An element of a record under the cursor, with its token count (hover in record files). */
export interface ElementInfo {
  /** `visit`, `day`, `note`, `measurement`, ... */
  kind: string;
  type?: string;
  start?: RecordDate;
  range: SourceRange;
  tokens: number;
  /** For a visit: its days and events. */
  days?: number;
  events?: number;
  /** Index of the visit it belongs to. */
  visit: number;
}

/** Token counts without the layout (what crosses the worker boundary). */
export type RecordTotals = Omit<RecordTokenCounts, 'layout'>;

/** A cancellation signal: the request that asked no longer wants the answer (LSP's CancellationToken fits). */
export interface Cancel {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): { dispose(): void };
}

/**
 * How long to wait for a count in progress: `true` until it is done, `false` not at all (answer
 * `'pending'` at once), or at most this many milliseconds.
 */
export type Wait = boolean | number;

/** A hover waits this long for a record being counted, then answers with what it has. */
export const HOVER_WAIT_MS = 1500;

/** A model RecordWork keeps, its stamp, and its columns by `previews` option. */
interface TimelineEntry {
  model: TimelineModel;
  stamp: string;
  wires: Map<string, TimelineWire>;
}

/** Timeline models kept by RecordWork (the view's current one and a few it may switch back to). */
const MODELS_KEPT = 3;

/**
 * Records at least this long (characters) are painted progressively by the view: the structure
 * first, then the counted model. A smaller record's counted model comes fast enough to be the first.
 */
export const STRUCTURE_MIN_CHARS = 256 * 1024;

/** The Record Timeline view gets event previews with a model when they are at most this many characters in all. */
export const VIEW_PREVIEW_CHARS = 64 * 1024;

/** Structure columns kept by RecordWork (the big records parsed last). */
const STRUCTURES_KEPT = 4;

/** A short name of a cache key (FNV-1a, 2 × 32 bits). */
function stampOf(k: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < k.length; i++) {
    const c = k.charCodeAt(i);
    a = Math.imul(a ^ c, 16777619) >>> 0;
    b = Math.imul(b ^ c, 2246822519) >>> 0;
  }
  return `${a.toString(16)}${b.toString(16)}-${k.length}`;
}

export interface RecordEngine {
  /**
   * Parses the record text (read with `read` only when this uri/key is new) and returns its model.
   * `cancel`: the caller no longer needs it (work not started yet is dropped).
   */
  load(
    uri: string,
    key: string,
    read: () => Promise<string | undefined>,
    cancel?: Cancel,
  ): Promise<EhrRecord | undefined>;
  /** Whole-record token counts; `'pending'` when the count is still running after `wait` (or cancelled). */
  counts(
    uri: string,
    key: string,
    encoding: TokenizerName,
    wait: Wait,
    cancel?: Cancel,
  ): Promise<RecordTotals | 'pending' | undefined>;
  /** What fits at 2k…128k; `'pending'` when the record is still being counted after `wait` (or cancelled). */
  fit(
    uri: string,
    key: string,
    req: TokenRequest,
    wait: Wait,
    cancel?: Cancel,
  ): Promise<FitTable | 'pending' | undefined>;
  pack(uri: string, key: string, req: PackRequest, cancel?: Cancel): Promise<PackResult | undefined>;
  /** The timeline model (counts the record first when needed); undefined when the record is not loaded. */
  timeline(
    uri: string,
    key: string,
    req: TimelineRequest,
    cancel?: Cancel,
  ): Promise<TimelineModel | undefined>;
  /**
   * The same model in columns (core/timeline/wire.ts) for the view; `previews`: which event previews
   * to ship (EncodeOptions.previews).
   */
  timelineWire(
    uri: string,
    key: string,
    req: TimelineRequest,
    previews: boolean | number,
    cancel?: Cancel,
  ): Promise<TimelineWire | undefined>;
  /**
   * The view's first answer (`progressive`): the counted model's columns when they are ready, or
   * quick to make (a record under STRUCTURE_MIN_CHARS, or one whose events are counted already for
   * this encoding, which only packs: another `context:`, strategy or question), else at once the
   * record's structure (`header.counting`, core/timeline/build.ts `buildTimelineStructure`), with the
   * stamp the counted model will have. Never waits for a count.
   */
  timelineFirst(
    uri: string,
    key: string,
    req: TimelineRequest,
    previews: boolean | number,
    cancel?: Cancel,
  ): Promise<TimelineWire | undefined>;
  /**
   * The view's answer (`first`: as timelineFirst, else as timelineWire), a big model's columns packed
   * where the engine gzips them (the server's record worker: PackedTimelineWire). Absent: the view
   * gets the columns as they are.
   */
  timelineView?(
    uri: string,
    key: string,
    req: TimelineRequest,
    previews: boolean | number,
    first: boolean,
    cancel?: Cancel,
  ): Promise<ViewWire | undefined>;
  /** Previews of the model's events by id (the model of the same request, cached). */
  timelinePreviews(
    uri: string,
    key: string,
    req: TimelineRequest,
    ids: number[],
    cancel?: Cancel,
  ): Promise<TimelinePreviews | undefined>;
  /** Tokens of a short text (an instruction). */
  countText(text: string, encoding: TokenizerName): Promise<number>;
  /** The innermost visit, day or event at `offset`, with its tokens. */
  describeAt(
    uri: string,
    key: string,
    offset: number,
    encoding: TokenizerName,
  ): Promise<ElementInfo | undefined>;
  /**
   * `tokenizer: server` (tokens/serverTable.ts), where this engine counts: the texts of a table
   * counted with the fallback so far, and the server's counts for them. Absent: no server counts.
   */
  serverMissing?(table: string): Promise<{ key: string; text: string }[]>;
  addServerCounts?(table: string, entries: [string, number][]): Promise<void>;
  dispose(): void;
}

/**
 * The record without its events (visits and days keep their ranges and dates; counts stay), and
 * with at most 200 diagnostics: what the language server's main thread needs, cheap to copy out of
 * a worker.
 */
export function lightRecord(r: EhrRecord): EhrRecord {
  return {
    ...r,
    visits: r.visits.map((v) => ({ ...v, days: v.days.map((d) => ({ ...d, events: [] })) })),
    diagnostics: r.diagnostics.slice(0, 200),
  };
}

interface Loaded {
  uri: string;
  key: string;
  text: string;
  record: EhrRecord;
}

/**
 * The engine's state and work, synchronous and pure. LocalRecordEngine wraps it in promises; the
 * worker thread hosts one and answers messages with it.
 */
export function entryKey(uri: string, key: string): string {
  return `${uri}\n${key}`;
}

export class RecordWork {
  readonly counter: TokenCounter;
  private readonly loaded = new Map<string, Loaded>();
  private readonly templates = new Map<string, ReturnType<typeof parseTemplate>>();
  private chars = 0;
  private evicted: string[] = [];

  /**
   * Records kept, oldest loaded dropped first: at most CAPACITY, and while their texts add up to
   * more than MAX_CHARS only the newest (so 276 typical records stay, a few 2 MB ones too).
   */
  static readonly CAPACITY = 400;
  static readonly MAX_CHARS = 32_000_000;

  constructor(options: { counter?: TokenCounterOptions } = {}) {
    this.counter = new TokenCounter(options.counter);
  }

  has(uri: string, key: string): boolean {
    return this.loaded.has(entryKey(uri, key));
  }

  load(uri: string, key: string, text: string): EhrRecord {
    const k = entryKey(uri, key);
    const hit = this.loaded.get(k);
    if (hit) return hit.record;
    // The same text under another key (the file on disk and the same file open in an editor, or
    // checked as a record file by the CLI): parsed once.
    let record: EhrRecord | undefined;
    for (const l of this.loaded.values()) if (l.uri === uri && l.text === text) record = l.record;
    record ??= parseRecord(text);
    this.loaded.set(k, { uri, key, text, record });
    this.chars += text.length;
    while (
      this.loaded.size > RecordWork.CAPACITY ||
      (this.loaded.size > 1 && this.chars > RecordWork.MAX_CHARS)
    ) {
      const [oldest, l] = this.loaded.entries().next().value!;
      this.loaded.delete(oldest);
      this.chars -= l.text.length;
      this.evicted.push(oldest);
      // Its structure columns go with it (they hold its text).
      for (const sk of this.structures.keys()) if (sk.startsWith(`${oldest}\n`)) this.structures.delete(sk);
    }
    return record;
  }

  /** `entryKey`s dropped since the last call (the worker tells the server, which mirrors what is loaded). */
  takeEvicted(): string[] {
    const e = this.evicted;
    this.evicted = [];
    return e;
  }

  record(uri: string, key: string): EhrRecord | undefined {
    return this.loaded.get(entryKey(uri, key))?.record;
  }

  private get(uri: string, key: string): Loaded | undefined {
    const l = this.loaded.get(entryKey(uri, key));
    return l?.record.ok ? l : undefined;
  }

  counts(uri: string, key: string, encoding: TokenizerName): RecordTokenCounts | undefined {
    const l = this.get(uri, key);
    if (!l) return undefined;
    return this.counter.countRecord(l.text, l.record, encoding);
  }

  fit(uri: string, key: string, req: TokenRequest): FitTable | undefined {
    const l = this.get(uri, key);
    if (!l) return undefined;
    return fitTable({
      text: l.text,
      record: l.record,
      instruction: req.instruction,
      template: this.template(req.template),
      reserve: req.reserve,
      encoding: req.encoding,
      estimated: req.estimated,
      counter: this.counter,
      ...(req.strategy ? { strategy: req.strategy } : {}),
      ...(req.chat ? { chat: req.chat } : {}),
    });
  }

  /** What `pack` and `timeline` give the packer for a loaded record: one mapping for both. */
  private packInput(l: Loaded, req: PackRequest): PackInput {
    return {
      text: l.text,
      record: l.record,
      instruction: req.instruction,
      template: this.template(req.template),
      context: req.context,
      reserve: req.reserve,
      strategy: req.strategy,
      encoding: req.encoding,
      estimated: req.estimated,
      counter: this.counter,
      ...(req.chat ? { chat: req.chat } : {}),
      ...(req.refine !== undefined
        ? {
            refine: {
              template:
                req.refine.template !== undefined
                  ? this.template(req.refine.template)
                  : getDefaultRefineTemplate(),
              order: req.refine.order,
              maxSteps: req.refine.maxSteps,
            },
          }
        : {}),
    };
  }

  pack(uri: string, key: string, req: PackRequest): PackResult | undefined {
    const l = this.get(uri, key);
    if (!l) return undefined;
    return packPrompt(this.packInput(l, req));
  }

  /**
   * Builds what the record's timeline needs from the record alone (every event's tokens, labels and
   * ranges: most of a big record's first model), so the view opens fast later; only for records of
   * at least `minChars` (a small record's first model is quick anyway). True when it did work.
   */
  warmTimeline(uri: string, key: string, encoding: TokenizerName, minChars = 0): boolean {
    return drain(this.warmTimelineSteps(uri, key, encoding, minChars));
  }

  /** warmTimeline in steps, one visit each (the record worker answers requests between them). */
  *warmTimelineSteps(uri: string, key: string, encoding: TokenizerName, minChars = 0): Steps<boolean> {
    const l = this.get(uri, key);
    if (!l || l.text.length < minChars || timelineWarm(l.text, l.record, encoding)) return false;
    yield* warmTimelineSteps(l.text, l.record, encoding, this.counter);
    return true;
  }

  /** The last few models, by record version and request: the view's previews and a repeated request reuse them. */
  private readonly models = new Map<string, TimelineEntry>();

  /** The timeline: a record that is loaded but not valid gives a model with its errors as problems. */
  timeline(uri: string, key: string, req: TimelineRequest): TimelineModel | undefined {
    return this.timelineEntry(uri, key, req)?.model;
  }

  /** The model in columns, named by a stamp of its record version and settings (kept with the model). */
  timelineWire(
    uri: string,
    key: string,
    req: TimelineRequest,
    previews: boolean | number,
  ): TimelineWire | undefined {
    const e = this.timelineEntry(uri, key, req);
    if (!e) return undefined;
    const k = String(previews);
    let wire = e.wires.get(k);
    if (wire === undefined) e.wires.set(k, (wire = encodeTimeline(e.model, { previews, stamp: e.stamp })));
    return wire;
  }

  /**
   * The structure's columns of the last few big records (by entry and previews budget): made once
   * per record text, by `warmStructure` when the worker is idle after parsing, or by the first
   * `timelineFirst`; each answer adds only its header.
   */
  private readonly structures = new Map<string, { text: string; columns: TimelineColumns }>();

  private structureColumns(l: Loaded, previews: boolean | number): TimelineColumns {
    return drain(this.structureColumnsSteps(l, previews));
  }

  private *structureColumnsSteps(l: Loaded, previews: boolean | number): Steps<TimelineColumns> {
    const k = `${entryKey(l.uri, l.key)}\n${String(previews)}`;
    const have = this.structures.get(k);
    if (have !== undefined && have.text === l.text) {
      this.structures.delete(k);
      this.structures.set(k, have);
      return have.columns;
    }
    const visits = yield* timelineStructureVisitsSteps(l.text, l.record);
    // Made meanwhile (a request between the steps): those.
    const made = this.structures.get(k);
    if (made !== undefined && made.text === l.text) return made.columns;
    const columns = encodeColumns(visits, { previews });
    this.structures.delete(k);
    this.structures.set(k, { text: l.text, columns });
    if (this.structures.size > STRUCTURES_KEPT) this.structures.delete(this.structures.keys().next().value!);
    return columns;
  }

  /**
   * Makes a big record's structure columns for the view (`previews`: the view's budget) ahead of its
   * first `timelineFirst`, so that answer only adds a header. Only for a valid record of at least
   * `minChars`; the columns when it made them (undefined: nothing to do).
   */
  warmStructure(
    uri: string,
    key: string,
    previews: boolean | number = VIEW_PREVIEW_CHARS,
    minChars = STRUCTURE_MIN_CHARS,
  ): TimelineColumns | undefined {
    return drain(this.warmStructureSteps(uri, key, previews, minChars));
  }

  /** warmStructure in steps, one visit each (the record worker answers requests between them). */
  *warmStructureSteps(
    uri: string,
    key: string,
    previews: boolean | number = VIEW_PREVIEW_CHARS,
    minChars = STRUCTURE_MIN_CHARS,
  ): Steps<TimelineColumns | undefined> {
    const l = this.get(uri, key);
    if (!l || l.text.length < minChars) return undefined;
    const have = this.structures.get(`${entryKey(uri, key)}\n${String(previews)}`);
    if (have !== undefined && have.text === l.text) return undefined;
    return yield* this.structureColumnsSteps(l, previews);
  }

  /** See RecordEngine.timelineFirst. */
  timelineFirst(
    uri: string,
    key: string,
    req: TimelineRequest,
    previews: boolean | number,
    minChars = STRUCTURE_MIN_CHARS,
  ): TimelineWire | undefined {
    const l = this.loaded.get(entryKey(uri, key));
    if (!l) return undefined;
    const k = `${entryKey(uri, key)}\n${JSON.stringify(req)}`;
    // A record counted already only packs (a `context:` edit moves the cut lines; the view keeps its
    // token figures rather than painting the structure in between).
    if (
      !l.record.ok ||
      l.text.length < minChars ||
      this.models.has(k) ||
      timelineWarm(l.text, l.record, req.encoding)
    )
      return this.timelineWire(uri, key, req, previews);
    const header = timelineStructureHeader({
      text: l.text,
      record: l.record,
      encoding: req.encoding,
      strategy: req.strategy,
      context: req.context,
      label: req.label,
      uri,
      ...(req.model !== undefined ? { model: req.model } : {}),
      ...(req.problems !== undefined ? { problems: req.problems } : {}),
    });
    return {
      version: 1,
      format: 'columns',
      stamp: stampOf(k),
      header,
      ...this.structureColumns(l, previews),
    };
  }

  timelinePreviews(
    uri: string,
    key: string,
    req: TimelineRequest,
    ids: number[],
  ): TimelinePreviews | undefined {
    const e = this.timelineEntry(uri, key, req);
    return e && { stamp: e.stamp, previews: timelinePreviews(e.model, ids) };
  }

  private timelineEntry(uri: string, key: string, req: TimelineRequest): TimelineEntry | undefined {
    const k = `${entryKey(uri, key)}\n${JSON.stringify(req)}`;
    const have = this.models.get(k);
    if (have && this.loaded.has(entryKey(uri, key))) {
      this.models.delete(k);
      this.models.set(k, have);
      return have;
    }
    const model = this.buildTimeline(uri, key, req);
    if (!model) return undefined;
    const entry: TimelineEntry = { model, stamp: stampOf(k), wires: new Map() };
    this.models.set(k, entry);
    if (this.models.size > MODELS_KEPT) this.models.delete(this.models.keys().next().value!);
    return entry;
  }

  private buildTimeline(uri: string, key: string, req: TimelineRequest): TimelineModel | undefined {
    const l = this.loaded.get(entryKey(uri, key));
    if (!l) return undefined;
    return buildTimeline({
      ...this.packInput(l, req),
      strategy: req.strategy,
      label: req.label,
      uri,
      ...(req.model !== undefined ? { model: req.model } : {}),
      ...(req.contexts !== undefined ? { contexts: req.contexts } : {}),
      ...(req.problems !== undefined ? { problems: req.problems } : {}),
    });
  }

  describeAt(uri: string, key: string, offset: number, encoding: TokenizerName): ElementInfo | undefined {
    const l = this.get(uri, key);
    if (!l) return undefined;
    const inside = (r: SourceRange) => offset >= r.start && offset < r.end;
    const vi = l.record.visits.findIndex((v) => inside(v.range));
    if (vi < 0) return undefined;
    const visit = l.record.visits[vi];
    const count = (r: SourceRange) => this.counter.countRange(l.text, r.start, r.end, encoding);
    const base = (kind: string, r: SourceRange, type?: string, start?: RecordDate): ElementInfo => {
      const e: ElementInfo = { kind, range: r, tokens: count(r), visit: vi };
      if (type !== undefined) e.type = type;
      if (start !== undefined) e.start = start;
      return e;
    };
    const day = visit.days.find((d) => inside(d.range));
    const event = day?.events.find((e) => inside(e.range));
    if (event) return base(event.kind, event.range, event.type, event.start);
    if (day && !(day.events.length === 1 && day.events[0].range.start === day.range.start)) {
      const d = base('day', day.range, undefined, day.start);
      d.events = day.events.length;
      return d;
    }
    const v = base('visit', visit.range, visit.type, visit.start);
    v.days = visit.days.length;
    v.events = visit.days.reduce((n, d) => n + d.events.length, 0);
    return v;
  }

  private template(source: string | undefined) {
    if (source === undefined) return getDefaultTemplate();
    let t = this.templates.get(source);
    if (!t) {
      t = parseTemplate(source);
      if (this.templates.size > 32) this.templates.clear();
      this.templates.set(source, t);
    }
    return t;
  }
}

/** Runs the work in the calling thread (CLI, tests). `wait: false` still computes: nothing else would. */
export class LocalRecordEngine implements RecordEngine {
  readonly work: RecordWork;

  /** `counter`: the token cache's options (`{ maxEntries: 0 }` for a one-shot count that caches nothing). */
  constructor(options: { counter?: TokenCounterOptions } = {}) {
    this.work = new RecordWork(options);
  }

  async load(
    uri: string,
    key: string,
    read: () => Promise<string | undefined>,
  ): Promise<EhrRecord | undefined> {
    const have = this.work.record(uri, key);
    if (have) return have;
    const text = await read();
    if (text === undefined) return undefined;
    const record = this.work.load(uri, key, text);
    this.work.takeEvicted();
    return record;
  }
  counts(uri: string, key: string, encoding: TokenizerName): Promise<RecordTokenCounts | undefined> {
    return Promise.resolve(this.work.counts(uri, key, encoding));
  }
  fit(uri: string, key: string, req: TokenRequest): Promise<FitTable | undefined> {
    return Promise.resolve(this.work.fit(uri, key, req));
  }
  pack(uri: string, key: string, req: PackRequest): Promise<PackResult | undefined> {
    return Promise.resolve(this.work.pack(uri, key, req));
  }
  timeline(uri: string, key: string, req: TimelineRequest): Promise<TimelineModel | undefined> {
    return Promise.resolve(this.work.timeline(uri, key, req));
  }
  timelineWire(
    uri: string,
    key: string,
    req: TimelineRequest,
    previews: boolean | number,
  ): Promise<TimelineWire | undefined> {
    return Promise.resolve(this.work.timelineWire(uri, key, req, previews));
  }
  timelineFirst(
    uri: string,
    key: string,
    req: TimelineRequest,
    previews: boolean | number,
  ): Promise<TimelineWire | undefined> {
    return Promise.resolve(this.work.timelineFirst(uri, key, req, previews));
  }
  timelinePreviews(
    uri: string,
    key: string,
    req: TimelineRequest,
    ids: number[],
  ): Promise<TimelinePreviews | undefined> {
    return Promise.resolve(this.work.timelinePreviews(uri, key, req, ids));
  }
  countText(text: string, encoding: TokenizerName): Promise<number> {
    return Promise.resolve(this.work.counter.count(text, encoding));
  }
  describeAt(
    uri: string,
    key: string,
    offset: number,
    encoding: TokenizerName,
  ): Promise<ElementInfo | undefined> {
    return Promise.resolve(this.work.describeAt(uri, key, offset, encoding));
  }
  serverMissing(table: string): Promise<{ key: string; text: string }[]> {
    return Promise.resolve(serverMissing(table));
  }
  addServerCounts(table: string, entries: [string, number][]): Promise<void> {
    addServerCounts(table, entries);
    return Promise.resolve();
  }
  dispose(): void {
    this.work.counter.clear();
  }
}
