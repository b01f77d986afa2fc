/**
 * Context packing: fit a record into `context − reserve − template − instruction` tokens (the
 * formula HELM uses for MedAlign), cutting only between visits, days and events so the XML stays
 * well-formed, and never dropping the prompt. The final prompt is counted exactly in the model's
 * encoding and is guaranteed not to exceed `context − reserve`.
 *
 * - `recent`: the most recent content (a suffix of the record): whole visits from the newest back,
 *   then inside the first visit that does not fit its newest days, then that day's newest events.
 * - `bm25`:   visits ranked by BM25 against the instruction, the best that fit (whole), then the best
 *             days/events of the best visit that did not fit; kept content is put back in record order.
 * - `none`:   the whole record; `ok: false` with an error when it does not fit.
 * - `helm`:   HELM's own truncation (always cl100k_base, the last N tokens, mid-element): helm.ts.
 */
import type { Span } from '../record/layout';
import type { EhrRecord, RecordDate, SourceRange } from '../record/model';
import type { RecordTokenCounts, TokenCounter, VisitTokenCounts } from '../tokens/counter';
import type { TokenizerName } from '../tokens/tokenizer';
import type { ChatFormat } from '../tokens/chat';
import { templatedText } from '../tokens/chat';
import { getDefaultTemplate, recordTemplateValues } from '../template/defaults';
import type { ChatMessage, PromptTemplate } from '../template/template';
import { placeholderCount, renderTemplate } from '../template/template';
import { Bm25Index, bm25Doc, terms, xmlTerms } from './bm25';
import instructionSchema from '../schema/instruction.schema.json';
import type { HelmDetails } from './helm';
import { helmFitTable, normalizeLineEndings, packHelm } from './helm';

export type PackStrategy = 'recent' | 'bm25' | 'none' | 'helm' | 'refine';
import { countMessages, planRefine } from './refine';
import type { RefineOptions, RefinePlan } from './refine';

export const DEFAULT_RESERVE = 256;

/** The schema's context labels (2k … 128k) in tokens, k = 1024 (as `context:` values are read). */
export const STANDARD_CONTEXTS: readonly number[] = (
  (instructionSchema.properties.context.anyOf.find((a) => 'enum' in a) as { enum: string[] } | undefined)
    ?.enum ?? []
).map((label) => Number(label.replace(/k$/i, '')) * 1024);

export interface PackInput {
  /** The record's XML text, and its model from `parseRecord(text)`. */
  text: string;
  record: EhrRecord;
  instruction: string;
  /** Default: the built-in MedAlign template. */
  template?: PromptTemplate;
  /** Context window in tokens. */
  context: number;
  /** Tokens kept free for the answer. Default 256. */
  reserve?: number;
  strategy?: PackStrategy;
  encoding: TokenizerName;
  /** The encoding is a stand-in for an unknown tokenizer: every count is an estimate. */
  estimated?: boolean;
  counter: TokenCounter;
  /** Tokens a chat API adds per message (role markers); counted in the template. Default 0. */
  messageOverhead?: number;
  /**
   * What the chat API adds around the messages (tokens/chat.ts: OpenAI's per-message and priming
   * tokens, or the model's chat template), counted exactly in the template's tokens and the prompt.
   * When set, `messageOverhead` is not used.
   */
  chat?: ChatFormat;
  /** `strategy: refine`: its template, order and step limit (packing/refine.ts). */
  refine?: RefineOptions;
}

export interface BudgetBreakdown {
  context: number;
  reserve: number;
  /** Tokens of the template rendered with an empty record and instruction (plus message overhead). */
  template: number;
  instruction: number;
  /** `context − reserve − template − instruction`: what the record may use (can be negative). */
  recordBudget: number;
  /** Exact tokens of the packed record text. */
  record: number;
  /** Exact tokens of the final prompt (all messages, plus message overhead). When `none` fails by a
   * wide margin it is the sum of the parts instead (exact up to a few tokens at the seams). */
  prompt: number;
  /** `context − reserve`: the prompt never exceeds it when `ok`. */
  limit: number;
  /** `limit − prompt`. */
  free: number;
}

export interface ContentSummary {
  tokens: number;
  /** Visits with something in this part (a visit cut in the middle counts on both sides). */
  visits: number;
  events: number;
  notes: number;
  firstDate?: RecordDate;
  lastDate?: RecordDate;
}

export type VisitPackState = 'kept' | 'partial' | 'cut';

export interface VisitPack {
  index: number;
  state: VisitPackState;
  /** Tokens of the visit's chunk, and of what was kept of it. */
  tokens: number;
  keptTokens: number;
  events: number;
  keptEvents: number;
  /** BM25 score against the instruction (strategy `bm25` only). */
  score?: number;
}

export interface PackResult {
  /** False when the record does not fit with `none`, or when even the prompt without any record is too long. */
  ok: boolean;
  error?: string;
  /** Notes for the user, e.g. that only part of the record fits. */
  warnings: string[];
  strategy: PackStrategy;
  encoding: TokenizerName;
  estimated: boolean;
  messages: ChatMessage[];
  /** The packed record as inserted for `{{ehr}}`: a well-formed `<record>` (or empty when nothing fits). */
  ehr: string;
  budget: BudgetBreakdown;
  kept: ContentSummary;
  cut: ContentSummary;
  visits: VisitPack[];
  /** Source ranges of the record that were kept (merged, in order). */
  keptRanges: SourceRange[];
  /** Strategy `helm` only: HELM's text and where it differs from `recent`. */
  helm?: HelmDetails;
  /** The text the server tokenizes: the messages in the model's chat template (hf tokenizers only). */
  templated?: string;
  /**
   * `strategy: refine`: the steps in the order they are sent (`messages` and `ehr` above are the
   * first step's prompt and the record all steps send; `budget.prompt` the largest step's tokens).
   */
  refine?: Omit<RefinePlan, 'pieces'>;
}

/** A choice for one unit: all of it, or some of its children (by index). */
type Choice = true | Map<number, Choice>;

interface Unit {
  index: number;
  cost: number;
  score: number;
}

interface Fill {
  sel: Map<number, Choice>;
  cost: number;
  /** Keep the record's own start and end lines even with no visit (an empty `<record>`). */
  shell?: boolean;
}

type Descend = (index: number, remaining: number) => { choice: Choice; cost: number } | undefined;

/**
 * Takes units by descending score while they fit. `suffix` stops at the first unit that does not
 * fit (recent: contiguous newest content); `greedy` skips it and goes on (bm25). Then descends
 * into the first unit that did not fit, to use what is left.
 */
function fill(units: readonly Unit[], budget: number, mode: 'suffix' | 'greedy', descend?: Descend): Fill {
  const order = [...units].sort((a, b) => b.score - a.score || b.index - a.index);
  const sel = new Map<number, Choice>();
  let used = 0;
  let missed: Unit | undefined;
  for (const u of order) {
    if (used + u.cost <= budget) {
      sel.set(u.index, true);
      used += u.cost;
    } else {
      missed ??= u;
      if (mode === 'suffix') break;
    }
  }
  if (missed !== undefined && descend !== undefined) {
    const r = descend(missed.index, budget - used);
    if (r !== undefined) {
      sel.set(missed.index, r.choice);
      used += r.cost;
    }
  }
  return { sel, cost: used };
}

interface Ctx {
  text: string;
  record: EhrRecord;
  counts: RecordTokenCounts;
  counter: TokenCounter;
  visitCounts: Map<number, VisitTokenCounts>;
  query: string[];
  bm25?: Bm25Index;
}

function visitCounts(ctx: Ctx, i: number): VisitTokenCounts {
  let vc = ctx.visitCounts.get(i);
  if (vc === undefined) {
    vc = ctx.counter.countVisit(ctx.text, ctx.record, ctx.counts, i);
    ctx.visitCounts.set(i, vc);
  }
  return vc;
}

function spanScore(ctx: Ctx, spans: readonly Span[]): number[] {
  if (ctx.bm25 === undefined) return spans.map((_, k) => k);
  const docs = spans.map((s) => bm25Doc(xmlTerms(ctx.text.slice(s.start, s.end))));
  const avg = docs.reduce((a, d) => a + d.length, 0) / Math.max(1, docs.length);
  // Ties (e.g. no query term at all) fall back to recency through the index order in `fill`.
  return docs.map((d) => ctx.bm25!.score(ctx.query, d, avg));
}

function plan(ctx: Ctx, budget: number, mode: 'suffix' | 'greedy', visitScores: readonly number[]): Fill {
  const base = ctx.counts.head + ctx.counts.tail;
  if (ctx.record.visits.length === 0 || budget < base) {
    return budget >= ctx.counts.total
      ? { sel: new Map(), cost: ctx.counts.total, shell: true }
      : { sel: new Map(), cost: 0 };
  }
  const descendDay =
    (vi: number): Descend =>
    (di, remaining) => {
      const dc = visitCounts(ctx, vi).days[di];
      const overhead = dc.open + dc.close;
      if (overhead >= remaining || dc.events.length === 0) return undefined;
      const scores = spanScore(ctx, dc.split.parts);
      const r = fill(
        dc.events.map((cost, k) => ({ index: k, cost, score: scores[k] })),
        remaining - overhead,
        mode,
      );
      return r.sel.size === 0 ? undefined : { choice: r.sel, cost: r.cost + overhead };
    };
  const descendVisit: Descend = (vi, remaining) => {
    const vc = visitCounts(ctx, vi);
    const overhead = vc.open + vc.close;
    if (overhead >= remaining || vc.days.length === 0) return undefined;
    const scores = spanScore(ctx, vc.split.parts);
    const r = fill(
      vc.days.map((d, k) => ({ index: k, cost: d.total, score: scores[k] })),
      remaining - overhead,
      mode,
      descendDay(vi),
    );
    return r.sel.size === 0 ? undefined : { choice: r.sel, cost: r.cost + overhead };
  };
  const r = fill(
    ctx.counts.visits.map((cost, k) => ({ index: k, cost, score: visitScores[k] })),
    budget - base,
    mode,
    descendVisit,
  );
  return { sel: r.sel, cost: r.cost + base, shell: true };
}

/** Source spans of a selection, in record order. */
function selectedSpans(ctx: Ctx, sel: Map<number, Choice>, all: boolean, shell: boolean): Span[] {
  const { layout } = ctx.counts;
  if (all) return [{ start: 0, end: ctx.text.length }];
  if (!shell) return [];
  const spans: Span[] = [layout.head];
  for (let i = 0; i < layout.visits.length; i++) {
    const c = sel.get(i);
    if (c === undefined) continue;
    if (c === true) {
      spans.push(layout.visits[i]);
      continue;
    }
    const vc = visitCounts(ctx, i);
    spans.push(vc.split.open);
    vc.days.forEach((dc, d) => {
      const dChoice = c.get(d);
      if (dChoice === undefined) return;
      if (dChoice === true) {
        spans.push(dc.split.chunk);
        return;
      }
      spans.push(dc.split.open);
      dc.split.parts.forEach((p, e) => {
        if (dChoice.has(e)) spans.push(p);
      });
      spans.push(dc.split.close);
    });
    spans.push(vc.split.close);
  }
  spans.push(layout.tail);
  // Merge touching spans.
  const merged: Span[] = [];
  for (const s of spans) {
    if (s.end <= s.start) continue;
    const last = merged[merged.length - 1];
    if (last !== undefined && last.end === s.start) last.end = s.end;
    else merged.push({ ...s });
  }
  return merged;
}

function addDate(sum: ContentSummary, d: RecordDate | undefined): void {
  if (d === undefined) return;
  if (sum.firstDate === undefined || d.epochMs < sum.firstDate.epochMs) sum.firstDate = d;
  if (sum.lastDate === undefined || d.epochMs > sum.lastDate.epochMs) sum.lastDate = d;
}

function summarize(
  ctx: Ctx,
  sel: Map<number, Choice>,
  all: boolean,
  scores: readonly number[] | undefined,
): { kept: ContentSummary; cut: ContentSummary; visits: VisitPack[] } {
  const kept: ContentSummary = { tokens: 0, visits: 0, events: 0, notes: 0 };
  const cut: ContentSummary = { tokens: 0, visits: 0, events: 0, notes: 0 };
  const visits: VisitPack[] = [];
  ctx.record.visits.forEach((v, i) => {
    const c: Choice | undefined = all ? true : sel.get(i);
    const tokens = ctx.counts.visits[i];
    let keptTokens = 0;
    let events = 0;
    let keptEvents = 0;
    v.days.forEach((day, d) => {
      const dChoice = c === undefined ? undefined : c === true ? true : c.get(d);
      day.events.forEach((ev, e) => {
        events++;
        const isKept = dChoice !== undefined && (dChoice === true || dChoice.has(e));
        const side = isKept ? kept : cut;
        side.events++;
        if (ev.kind === 'note') side.notes++;
        addDate(side, ev.start ?? day.start ?? v.start);
        if (isKept) keptEvents++;
      });
      if (day.events.length === 0) addDate(dChoice !== undefined ? kept : cut, day.start ?? v.start);
    });
    if (c === true) keptTokens = tokens;
    else if (c !== undefined) {
      const vc = visitCounts(ctx, i);
      keptTokens = vc.open + vc.close;
      vc.days.forEach((dc, d) => {
        const dChoice = c.get(d);
        if (dChoice === true) keptTokens += dc.total;
        else if (dChoice !== undefined) {
          keptTokens += dc.open + dc.close;
          dc.events.forEach((n, e) => {
            if (dChoice.has(e)) keptTokens += n;
          });
        }
      });
    }
    const state: VisitPackState = c === undefined ? 'cut' : c === true ? 'kept' : 'partial';
    if (state !== 'cut') kept.visits++;
    if (state !== 'kept') cut.visits++;
    if (v.days.length === 0 || events === 0) addDate(state === 'cut' ? cut : kept, v.start);
    cut.tokens += tokens - keptTokens;
    const vp: VisitPack = { index: i, state, tokens, keptTokens, events, keptEvents };
    if (scores !== undefined) vp.score = scores[i];
    visits.push(vp);
  });
  return { kept, cut, visits };
}

/** BM25 index of a record's visits, built once per parsed record (the server keeps the record per document version). */
const bm25Cache = new WeakMap<EhrRecord, { text: string; index: Bm25Index }>();

function bm25For(ctx: Ctx): { index: Bm25Index; scores: number[] } {
  const index = recordBm25(ctx.text, ctx.record, ctx.counts);
  return { index, scores: index.scores(ctx.query) };
}

/**
 * The record's BM25 index over its visits (the one the `bm25` strategy ranks with, cached per parsed
 * record): for the timeline's matched terms and question-term hits.
 */
export function recordBm25(text: string, record: EhrRecord, counts: RecordTokenCounts): Bm25Index {
  let entry = bm25Cache.get(record);
  if (entry === undefined || entry.text !== text) {
    const docs = counts.layout.visits.map((s) => bm25Doc(xmlTerms(text.slice(s.start, s.end))));
    entry = { text, index: new Bm25Index(docs) };
    bm25Cache.set(record, entry);
  }
  return entry.index;
}

/** `strategy: refine` as a PackResult: what every step sends together, and the steps. */
function packRefine(input: PackInput): PackResult {
  const template = input.template ?? getDefaultTemplate();
  const reserve = input.reserve ?? DEFAULT_RESERVE;
  const { counter, encoding, text, record } = input;
  const plan = planRefine({
    text,
    record,
    instruction: input.instruction,
    template,
    context: input.context,
    reserve,
    encoding,
    counter,
    ...(input.messageOverhead !== undefined ? { messageOverhead: input.messageOverhead } : {}),
    ...(input.chat !== undefined ? { chat: input.chat } : {}),
    ...(input.refine !== undefined ? { refine: input.refine } : {}),
  });
  const counts = counter.countRecord(text, record, encoding);
  const ctx: Ctx = { text, record, counts, counter, visitCounts: new Map(), query: [] };
  // The selection every step sends together: whole visits, days of a visit, events of a day.
  const sel = new Map<number, Choice>();
  const whole = new Map<number, boolean>();
  for (const p of plan.pieces) whole.set(p.visit, (whole.get(p.visit) ?? true) && p.sent);
  for (const p of plan.pieces) {
    if (!p.sent) continue;
    if (p.day < 0 || whole.get(p.visit) === true) {
      sel.set(p.visit, true);
      continue;
    }
    let v = sel.get(p.visit);
    if (v === undefined || v === true) sel.set(p.visit, (v = new Map<number, Choice>()));
    if (p.event < 0) v.set(p.day, true);
    else {
      let d = v.get(p.day);
      if (d === undefined || d === true) v.set(p.day, (d = new Map<number, Choice>()));
      d.set(p.event, true);
    }
  }
  const shell = plan.ok;
  const spans = selectedSpans(ctx, sel, false, shell);
  const ehr = spans.map((sp) => text.slice(sp.start, sp.end)).join('');
  const summary = summarize(ctx, sel, false, undefined);
  const recordTokens = plan.steps.reduce((n, st) => n + st.recordTokens, 0);
  summary.kept.tokens = recordTokens;
  const first = plan.steps[0];
  const prompt = plan.steps.reduce((n, st) => Math.max(n, st.tokens), 0);
  const instructionTokens = counter.count(input.instruction, encoding);
  const warnings = [...plan.warnings];
  const { pieces: _pieces, ...steps } = plan;
  void _pieces;
  return {
    ok: plan.ok,
    ...(plan.error !== undefined ? { error: plan.error } : {}),
    warnings,
    strategy: 'refine',
    encoding,
    estimated: input.estimated ?? false,
    messages: first?.messages ?? [],
    ehr,
    budget: {
      context: input.context,
      reserve,
      template: plan.limit - plan.firstBudget - instructionTokens,
      instruction: instructionTokens,
      recordBudget: plan.firstBudget,
      record: recordTokens,
      prompt,
      limit: plan.limit,
      free: plan.limit - prompt,
    },
    kept: summary.kept,
    cut: summary.cut,
    visits: summary.visits,
    keptRanges: spans.map((sp) => ({ start: sp.start, end: sp.end })),
    refine: steps,
  };
}

/** Packs a record into a prompt. See the module comment; never throws on a parsed record. */
export function packPrompt(input: PackInput): PackResult {
  if (input.strategy === 'helm') return packHelm(input, packPrompt);
  if (input.strategy === 'refine') return packRefine(input);
  const template = input.template ?? getDefaultTemplate();
  const reserve = input.reserve ?? DEFAULT_RESERVE;
  const strategy = input.strategy ?? 'recent';
  const overhead = input.messageOverhead ?? 0;
  const { counter, encoding, text, record } = input;
  const limit = input.context - reserve;
  const counts = counter.countRecord(text, record, encoding);
  const ctx: Ctx = { text, record, counts, counter, visitCounts: new Map(), query: terms(input.instruction) };
  const values = recordTemplateValues(record);
  const render = (ehr: string): ChatMessage[] =>
    renderTemplate(template, { ...values, ehr, instruction: input.instruction });

  const templateTokens = countMessages(
    counter,
    renderTemplate(template, { ...values, ehr: '', instruction: '' }),
    encoding,
    overhead,
    input.chat,
  );
  const instructionUses = placeholderCount(template, 'instruction');
  const ehrUses = placeholderCount(template, 'ehr');
  const instructionTokens = counter.count(input.instruction, encoding) * Math.max(1, instructionUses);
  const recordBudget = limit - templateTokens - instructionTokens;
  const warnings: string[] = [];
  let error: string | undefined;

  let scores: number[] | undefined;
  if (strategy === 'bm25') {
    const b = bm25For(ctx);
    ctx.bm25 = b.index;
    scores = b.scores;
  }
  const visitScores = scores ?? counts.visits.map((_, k) => k);
  const mode = strategy === 'bm25' ? 'greedy' : 'suffix';

  let sel = new Map<number, Choice>();
  let all = false;
  let shell = false;
  let ehr = '';
  let messages: ChatMessage[] = [];
  let prompt = 0;
  if (ehrUses === 0) {
    warnings.push('The template has no {{ehr}}: no record is sent.');
    messages = render('');
    prompt = countMessages(counter, messages, encoding, overhead, input.chat);
  } else if (strategy === 'none') {
    all = true;
    // Line endings as LF, as HELM reads records (text mode); the file's hash is unchanged.
    ehr = normalizeLineEndings(text);
    messages = render(ehr);
    const parts = templateTokens + instructionTokens + counts.total * ehrUses;
    // Clearly too long: the sum of the parts says so (within a few seam tokens); skip counting megabytes again.
    prompt = parts > limit + 64 ? parts : countMessages(counter, messages, encoding, overhead, input.chat);
    if (prompt > limit) {
      error =
        `The whole record needs ${counts.total * ehrUses} tokens but only ${Math.max(0, recordBudget)} are free for it ` +
        `(context ${input.context} − reserve ${reserve} − template ${templateTokens} − instruction ${instructionTokens}); ` +
        `use strategy recent or bm25, or a larger context.`;
    }
  } else {
    // Plan with the formula's budget, render, count exactly; shrink by any overshoot (seams between
    // the template text and the record can merge or split a token or two) until the prompt fits.
    let planBudget = Math.floor(recordBudget / ehrUses);
    for (let iter = 0; iter < 12; iter++) {
      const p = plan(ctx, planBudget, mode, visitScores);
      sel = p.sel;
      shell = p.shell === true;
      all = shell && record.visits.length === 0;
      const spans = selectedSpans(ctx, sel, all, shell);
      ehr = normalizeLineEndings(spans.map((s) => text.slice(s.start, s.end)).join(''));
      messages = render(ehr);
      prompt = countMessages(counter, messages, encoding, overhead, input.chat);
      if (prompt <= limit || ehr === '') break;
      planBudget -= Math.max(1, Math.ceil((prompt - limit) / ehrUses));
    }
    if (prompt > limit) {
      error =
        `The prompt needs ${prompt} tokens without any record, more than context ${input.context} − reserve ${reserve} = ${limit}: ` +
        `shorten the template or instruction, or use a larger context.`;
    }
  }

  const recordTokens = all && ehr === text ? counts.total : counter.count(ehr, encoding);
  const summary = summarize(ctx, sel, all, scores);
  const keptRanges = selectedSpans(ctx, sel, all, shell).map((s) => ({ start: s.start, end: s.end }));
  summary.kept.tokens = recordTokens;
  if (all) summary.cut.tokens = 0;
  if (error === undefined && ehrUses > 0) {
    const nVisits = record.visits.length;
    if (summary.kept.visits === 0 && nVisits > 0) {
      warnings.push(`None of the record's ${nVisits} visits fit in ${Math.max(0, recordBudget)} tokens.`);
    } else if (summary.cut.events > 0 || summary.cut.visits > 0) {
      const partial = summary.visits.filter((v) => v.state === 'partial').length;
      warnings.push(
        `${summary.kept.visits} of ${nVisits} visits kept${partial > 0 ? ` (${partial} in part)` : ''}, ` +
          `${summary.kept.events} of ${record.eventCount} events.`,
      );
    }
  }
  return {
    ok: error === undefined,
    ...(error !== undefined ? { error } : {}),
    warnings,
    strategy,
    encoding,
    estimated: input.estimated ?? false,
    messages,
    ehr,
    budget: {
      context: input.context,
      reserve,
      template: templateTokens,
      instruction: instructionTokens,
      recordBudget,
      record: recordTokens * ehrUses,
      prompt,
      limit,
      free: limit - prompt,
    },
    kept: summary.kept,
    cut: summary.cut,
    visits: summary.visits,
    keptRanges,
    ...(input.chat?.kind === 'template' ? { templated: templatedText(input.chat, messages) } : {}),
  };
}

export interface FitRow {
  context: number;
  /** Tokens the record may use at this context. */
  recordBudget: number;
  /** The whole record fits. */
  fitsWhole: boolean;
  /** Tokens of the record the strategy keeps (planned from per-chunk counts). */
  keptTokens: number;
  /** `keptTokens / total`, 0…1. */
  fraction: number;
  keptVisits: number;
  /** A visit is cut in the middle. */
  partial: boolean;
  /** Earliest date kept: the record "goes back to" this date. */
  keptFrom?: RecordDate;
}

export interface FitTable {
  /** The strategy the rows were planned with. */
  strategy: PackStrategy;
  encoding: TokenizerName;
  estimated: boolean;
  total: number;
  template: number;
  instruction: number;
  reserve: number;
  rows: FitRow[];
}

/**
 * "What fits" for the hover on a record: for each context size, how much of the record the strategy
 * (default `recent`) keeps after the template, instruction and reserve, and back to which date. Uses
 * the cached chunk counts only (no rendering), so it is cheap once the record is counted.
 */
export function fitTable(
  input: Omit<PackInput, 'context'>,
  contexts: readonly number[] = STANDARD_CONTEXTS,
): FitTable {
  if (input.strategy === 'helm') return helmFitTable(input, contexts);
  const template = input.template ?? getDefaultTemplate();
  const reserve = input.reserve ?? DEFAULT_RESERVE;
  const overhead = input.messageOverhead ?? 0;
  const strategy = input.strategy ?? 'recent';
  const { counter, encoding, text, record } = input;
  const counts = counter.countRecord(text, record, encoding);
  const query = strategy === 'bm25' ? terms(input.instruction) : [];
  const ctx: Ctx = { text, record, counts, counter, visitCounts: new Map(), query };
  let visitScores: readonly number[] = counts.visits.map((_, k) => k);
  if (strategy === 'bm25') {
    const b = bm25For(ctx);
    ctx.bm25 = b.index;
    visitScores = b.scores;
  }
  const values = recordTemplateValues(record);
  const templateTokens = countMessages(
    counter,
    renderTemplate(template, { ...values, ehr: '', instruction: '' }),
    encoding,
    overhead,
    input.chat,
  );
  const instructionTokens =
    counter.count(input.instruction, encoding) * Math.max(1, placeholderCount(template, 'instruction'));
  const ehrUses = Math.max(1, placeholderCount(template, 'ehr'));
  // What is sent: the record with LF line endings (a CRLF file counts a token or so more).
  const total = text.indexOf('\r') < 0 ? counts.total : counter.count(normalizeLineEndings(text), encoding);
  const rows = contexts.map((context): FitRow => {
    const recordBudget = context - reserve - templateTokens - instructionTokens;
    const fitsWhole = total * ehrUses <= recordBudget;
    if (strategy === 'refine') {
      // Refinement sends the whole record, in as many steps as it takes (packing/refine.ts).
      const whole: FitRow = {
        context,
        recordBudget,
        fitsWhole,
        keptTokens: total,
        fraction: 1,
        keptVisits: record.visits.length,
        partial: false,
      };
      if (record.firstDate !== undefined) whole.keptFrom = record.firstDate;
      return whole;
    }
    // `none` keeps the whole record or nothing.
    const p =
      strategy === 'none' && !fitsWhole
        ? { sel: new Map<number, Choice>(), cost: 0 }
        : plan(
            ctx,
            Math.floor(recordBudget / ehrUses),
            strategy === 'bm25' ? 'greedy' : 'suffix',
            visitScores,
          );
    const s = summarize(ctx, p.sel, false, undefined);
    const row: FitRow = {
      context,
      recordBudget,
      fitsWhole,
      keptTokens: p.cost,
      fraction: total === 0 ? 1 : Math.min(1, p.cost / total),
      keptVisits: s.kept.visits,
      partial: s.visits.some((v) => v.state === 'partial'),
    };
    if (s.kept.firstDate !== undefined) row.keptFrom = s.kept.firstDate;
    return row;
  });
  return {
    strategy,
    encoding,
    estimated: input.estimated ?? false,
    total,
    template: templateTokens,
    instruction: instructionTokens,
    reserve,
    rows,
  };
}
