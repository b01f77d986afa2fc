/**
 * `strategy: refine` (multi-step refinement, the MedAlign paper's "MR"): the whole record split at
 * element boundaries (between visits; inside a visit too large for one step between its days; inside
 * such a day between its events) into chunks that each fit one step's budget. The first step asks
 * the first chunk with the prompt template and the instruction; each next step asks the next chunk
 * with the refine template, the instruction and the previous step's answer (`{{answer}}`, at most
 * `reserve` tokens: the request's max tokens). The last answer is kept.
 *
 * Budgets, as `packPrompt`'s formula: step 1 `context − reserve − template − instruction`, a later
 * step `context − reserve − refine template − instruction − reserve` (room for the previous answer).
 * Planning uses the record's cached chunk counts only (cheap once the record is counted); `exact`
 * then renders every step and counts it, shrinking a step that overshoots by a seam token or two.
 */
import type { EhrRecord, RecordDate, SourceRange } from '../record/model';
import type { Span } from '../record/layout';
import type { RecordTokenCounts, TokenCounter, VisitTokenCounts } from '../tokens/counter';
import type { TokenizerName } from '../tokens/tokenizer';
import type { ChatFormat } from '../tokens/chat';
import { countChat } from '../tokens/chat';
import type { ChatMessage, PromptTemplate, TemplateValues } from '../template/template';
import { placeholderCount, renderTemplate } from '../template/template';
import { getDefaultRefineTemplate, getDefaultTemplate, recordTemplateValues } from '../template/defaults';
import { formatInt } from '../util/format';

export type RefineOrder = 'oldest-first' | 'newest-first';

export interface RefineOptions {
  /** The refine prompt of steps 2…n; default the built-in one (template/defaults.ts). */
  template?: PromptTemplate;
  /** Default `oldest-first`: the newest evidence speaks last. */
  order?: RefineOrder;
  /** At most this many steps; the oldest chunks beyond it are left out (with a warning). Default 20. */
  maxSteps?: number;
}

export interface RefineInput {
  text: string;
  record: EhrRecord;
  instruction: string;
  /** The prompt template of step 1 (default: MedAlign's). */
  template?: PromptTemplate;
  context: number;
  reserve: number;
  encoding: TokenizerName;
  counter: TokenCounter;
  /** Tokens a chat API adds per message. Default 0. */
  messageOverhead?: number;
  /** What the chat API adds around the messages (tokens/chat.ts); when set, `messageOverhead` is not used. */
  chat?: ChatFormat;
  refine?: RefineOptions;
}

/** Where the previous answer goes in a step's messages: message index and character offset. */
export interface AnswerSlot {
  message: number;
  offset: number;
}

export interface RefineStep {
  /** 0-based, in the order the steps are sent. */
  index: number;
  /** The messages with the previous answer left empty (see `answerSlots`; step 1 has none). */
  messages: ChatMessage[];
  answerSlots: AnswerSlot[];
  /** Tokens of the prompt without the previous answer (exact when planned with `exact`). */
  tokens: number;
  /** Tokens of this step's record chunk. */
  recordTokens: number;
  /** Source ranges of the record in this chunk (record order, merged). */
  ranges: SourceRange[];
  /** Visits with something in this chunk (first and last index), events in it, and its dates. */
  firstVisit: number;
  lastVisit: number;
  events: number;
  firstDate?: RecordDate;
  lastDate?: RecordDate;
}

export interface RefinePlan {
  ok: boolean;
  error?: string;
  warnings: string[];
  order: RefineOrder;
  maxSteps: number;
  /** Chunks the record needed, before the step limit. */
  chunks: number;
  steps: RefineStep[];
  /** Record budgets of the first step and of the later ones. */
  firstBudget: number;
  laterBudget: number;
  /** `context − reserve`: no step's prompt (with an answer of at most `reserve` tokens) exceeds it. */
  limit: number;
  reserve: number;
  /** Every piece the record was split into (visit, day or -1, event or -1) and whether a step sends it. */
  pieces: RefinePiece[];
}

export interface RefinePiece {
  visit: number;
  day: number;
  event: number;
  sent: boolean;
}

export const DEFAULT_MAX_STEPS = 20;

/** A piece of the record that goes into a chunk whole: a visit, a day of a visit, or an event of a day. */
interface Leaf {
  visit: number;
  day: number; // -1: the whole visit
  event: number; // -1: the whole day (or visit)
  cost: number;
  span: Span;
}

interface Chunk {
  leaves: Leaf[];
  cost: number;
}

/** Tokens of `messages` as sent: in the chat format when there is one, else content + `overhead` per message. */
export function countMessages(
  counter: TokenCounter,
  messages: readonly ChatMessage[],
  encoding: TokenizerName,
  overhead: number,
  chat?: ChatFormat,
): number {
  if (chat !== undefined) return countChat(chat, messages, (t) => counter.count(t, encoding));
  let n = 0;
  for (const m of messages) n += counter.count(m.content, encoding) + overhead;
  return n;
}

/** Renders a template, noting where `{{answer}}` goes (it is rendered empty). */
export function renderWithSlots(
  t: PromptTemplate,
  values: TemplateValues,
): { messages: ChatMessage[]; slots: AnswerSlot[] } {
  const slots: AnswerSlot[] = [];
  const messages = t.messages.map((m, mi) => {
    let content = '';
    for (const s of m.segments) {
      if (s.kind === 'text') content += s.text;
      else if (s.known && s.name === 'answer') slots.push({ message: mi, offset: content.length });
      else if (s.known) content += values[s.name as Exclude<keyof TemplateValues, 'answer'>] ?? '';
      else content += t.source.slice(s.range.start, s.range.end);
    }
    return { role: m.role, content };
  });
  return { messages, slots };
}

/** A step's messages with the previous answer in its slots. */
export function fillAnswer(
  messages: readonly ChatMessage[],
  slots: readonly AnswerSlot[],
  answer: string,
): ChatMessage[] {
  return messages.map((m, mi) => {
    const at = slots.filter((s) => s.message === mi).map((s) => s.offset);
    if (at.length === 0) return { ...m };
    let out = '';
    let prev = 0;
    for (const o of at) {
      out += m.content.slice(prev, o) + answer;
      prev = o;
    }
    return { role: m.role, content: out + m.content.slice(prev) };
  });
}

/** The leaves of a record in record order: whole visits where one fits a step, else days, else events. */
function leavesOf(
  record: EhrRecord,
  counts: RecordTokenCounts,
  budget: number,
  visitCounts: (i: number) => VisitTokenCounts,
): { leaves: Leaf[]; tooBig?: { cost: number; what: string } } {
  const base = counts.head + counts.tail;
  const leaves: Leaf[] = [];
  const layout = counts.layout;
  for (let vi = 0; vi < record.visits.length; vi++) {
    const cost = counts.visits[vi];
    if (base + cost <= budget || record.visits[vi].days.length === 0) {
      leaves.push({ visit: vi, day: -1, event: -1, cost, span: layout.visits[vi] });
      if (base + cost > budget) return { leaves, tooBig: { cost, what: `visit ${vi + 1}` } };
      continue;
    }
    const vc = visitCounts(vi);
    const vOver = vc.open + vc.close;
    vc.days.forEach((dc, di) => {
      if (base + vOver + dc.total <= budget || dc.events.length === 0) {
        leaves.push({ visit: vi, day: di, event: -1, cost: dc.total, span: dc.split.chunk });
        return;
      }
      dc.events.forEach((ec, ei) => {
        leaves.push({ visit: vi, day: di, event: ei, cost: ec, span: dc.split.parts[ei] });
      });
    });
    for (const l of leaves) {
      if (l.visit !== vi) continue;
      const over = base + vOver + (l.event >= 0 ? vc.days[l.day].open + vc.days[l.day].close : 0);
      if (over + l.cost > budget) {
        const what = l.event >= 0 ? `an event of visit ${vi + 1}` : `a day of visit ${vi + 1}`;
        return { leaves, tooBig: { cost: over + l.cost, what } };
      }
    }
  }
  return { leaves };
}

/** What a leaf adds to a chunk whose last leaf is `prev` (the containers it opens, if new). */
function addCost(leaf: Leaf, prev: Leaf | undefined, vc: (i: number) => VisitTokenCounts): number {
  let c = leaf.cost;
  if (leaf.day >= 0) {
    const v = vc(leaf.visit);
    if (prev === undefined || prev.visit !== leaf.visit) c += v.open + v.close;
    if (leaf.event >= 0 && (prev === undefined || prev.visit !== leaf.visit || prev.day !== leaf.day)) {
      c += v.days[leaf.day].open + v.days[leaf.day].close;
    }
  }
  return c;
}

/** Chunks in send order: greedy over the leaves in send order (each chunk's leaves in record order). */
function chunkLeaves(
  leaves: readonly Leaf[],
  base: number,
  firstBudget: number,
  laterBudget: number,
  order: RefineOrder,
  vc: (i: number) => VisitTokenCounts,
): Chunk[] {
  const seq = order === 'oldest-first' ? leaves : [...leaves].reverse();
  const chunks: Chunk[] = [];
  let cur: Leaf[] = [];
  let cost = base;
  const flush = () => {
    if (cur.length === 0) return;
    const ordered = order === 'oldest-first' ? cur : [...cur].reverse();
    chunks.push({ leaves: ordered, cost });
    cur = [];
    cost = base;
  };
  for (const leaf of seq) {
    const budget = chunks.length === 0 ? firstBudget : laterBudget;
    // Containers are shared with the neighbour in send order (the previous leaf in either order).
    const add = addCost(leaf, cur[cur.length - 1], vc);
    if (cur.length > 0 && cost + add > budget) {
      flush();
      cost += addCost(leaf, undefined, vc);
    } else cost += add;
    cur.push(leaf);
  }
  flush();
  return chunks;
}

/** The spans of a chunk (record order), with the containers of partial visits and days. */
function chunkSpans(chunk: Chunk, counts: RecordTokenCounts, vc: (i: number) => VisitTokenCounts): Span[] {
  const spans: Span[] = [counts.layout.head];
  let openVisit = -1;
  let openDay = -1;
  const closeDay = () => {
    if (openDay >= 0) spans.push(vc(openVisit).days[openDay].split.close);
    openDay = -1;
  };
  const closeVisit = () => {
    closeDay();
    if (openVisit >= 0) spans.push(vc(openVisit).split.close);
    openVisit = -1;
  };
  for (const l of chunk.leaves) {
    if (l.day < 0) {
      closeVisit();
      spans.push(l.span);
      continue;
    }
    if (openVisit !== l.visit) {
      closeVisit();
      spans.push(vc(l.visit).split.open);
      openVisit = l.visit;
    }
    if (l.event < 0) {
      closeDay();
      spans.push(l.span);
      continue;
    }
    if (openDay !== l.day) {
      closeDay();
      spans.push(vc(l.visit).days[l.day].split.open);
      openDay = l.day;
    }
    spans.push(l.span);
  }
  closeVisit();
  spans.push(counts.layout.tail);
  const merged: Span[] = [];
  for (const s of spans) {
    if (s.end <= s.start) continue;
    const last = merged[merged.length - 1];
    if (last !== undefined && last.end === s.start) last.end = s.end;
    else merged.push({ start: s.start, end: s.end });
  }
  return merged;
}

function dateOf(record: EhrRecord, l: Leaf): { first?: RecordDate; last?: RecordDate; events: number } {
  const v = record.visits[l.visit];
  const days = l.day < 0 ? v.days : [v.days[l.day]];
  let first: RecordDate | undefined;
  let last: RecordDate | undefined;
  let events = 0;
  const add = (d: RecordDate | undefined) => {
    if (d === undefined) return;
    if (first === undefined || d.epochMs < first.epochMs) first = d;
    if (last === undefined || d.epochMs > last.epochMs) last = d;
  };
  for (const day of days) {
    const evs = l.event < 0 ? day.events : [day.events[l.event]];
    for (const e of evs) add(e.start ?? day.start ?? v.start);
    events += evs.length;
    if (evs.length === 0) add(day.start ?? v.start);
  }
  if (days.length === 0) add(v.start);
  const out: { first?: RecordDate; last?: RecordDate; events: number } = { events };
  if (first !== undefined) out.first = first;
  if (last !== undefined) out.last = last;
  return out;
}

/**
 * Plans a refine run: the chunks in send order, each step's messages and tokens. Never throws on a
 * parsed record; `ok: false` with an error when even one element does not fit a step, or the prompt
 * alone does not fit. `exact`: render and count every step (else the tokens are the planned sums).
 */
export function planRefine(input: RefineInput, exact = true): RefinePlan {
  const { counter, encoding, text, record, reserve } = input;
  const first = input.template ?? getDefaultTemplate();
  const later = input.refine?.template ?? getDefaultRefineTemplate();
  const order = input.refine?.order ?? 'oldest-first';
  const maxSteps = Math.max(1, input.refine?.maxSteps ?? DEFAULT_MAX_STEPS);
  const overhead = input.messageOverhead ?? 0;
  const limit = input.context - reserve;
  const counts = counter.countRecord(text, record, encoding);
  const values = recordTemplateValues(record);
  const instructionTokens = counter.count(input.instruction, encoding);
  const fixed = (t: PromptTemplate) =>
    countMessages(
      counter,
      renderTemplate(t, { ...values, ehr: '', instruction: '' }),
      encoding,
      overhead,
      input.chat,
    ) +
    instructionTokens * Math.max(1, placeholderCount(t, 'instruction'));
  const firstFixed = fixed(first);
  const laterFixed = fixed(later) + reserve * Math.max(1, placeholderCount(later, 'answer'));
  const firstBudget = limit - firstFixed;
  const laterBudget = limit - laterFixed;
  const plan: RefinePlan = {
    ok: true,
    warnings: [],
    order,
    maxSteps,
    chunks: 0,
    steps: [],
    firstBudget,
    laterBudget,
    limit,
    reserve,
    pieces: [],
  };
  const fail = (error: string): RefinePlan => ({ ...plan, ok: false, error });
  for (const [t, name] of [
    [first, 'prompt template'],
    [later, 'refine template'],
  ] as const) {
    if (placeholderCount(t, 'ehr') !== 1) {
      return fail(
        `The ${name} must use {{ehr}} exactly once for strategy refine (it uses it ${placeholderCount(t, 'ehr')} times).`,
      );
    }
  }
  if (placeholderCount(later, 'answer') === 0) {
    return fail(
      'The refine template never uses {{answer}}: each step after the first needs the previous answer.',
    );
  }
  const base = counts.head + counts.tail;
  const minBudget = Math.min(firstBudget, laterBudget);
  if (minBudget <= base) {
    return fail(
      `A refine step needs ${formatInt(Math.max(firstFixed, laterFixed) + base)} tokens without any record ` +
        `(template, instruction${laterFixed > firstFixed ? ', the previous answer' : ''}), more than context ` +
        `${formatInt(input.context)} − reserve ${formatInt(reserve)} = ${formatInt(limit)}: use a larger context.`,
    );
  }
  const vcCache = new Map<number, VisitTokenCounts>();
  const vc = (i: number): VisitTokenCounts => {
    let c = vcCache.get(i);
    if (c === undefined) vcCache.set(i, (c = counter.countVisit(text, record, counts, i)));
    return c;
  };

  let shrink = 0;
  for (let iter = 0; iter < 8; iter++) {
    const fb = firstBudget - shrink;
    const lb = laterBudget - shrink;
    const { leaves, tooBig } = leavesOf(record, counts, Math.min(fb, lb), vc);
    if (tooBig !== undefined) {
      return fail(
        `${tooBig.what[0].toUpperCase()}${tooBig.what.slice(1)} needs ${formatInt(tooBig.cost)} tokens, more than a refine step's ` +
          `${formatInt(Math.min(fb, lb))} for the record (context ${formatInt(input.context)}): use a larger context.`,
      );
    }
    const all: Chunk[] =
      leaves.length === 0 ? [{ leaves: [], cost: base }] : chunkLeaves(leaves, base, fb, lb, order, vc);
    let chunks = all;
    plan.chunks = chunks.length;
    plan.warnings = [];
    if (chunks.length > maxSteps) {
      // Keep the newest chunks: drop the oldest (first when oldest-first, last when newest-first).
      const dropped = chunks.length - maxSteps;
      chunks = order === 'oldest-first' ? chunks.slice(dropped) : chunks.slice(0, maxSteps);
      plan.warnings.push(
        `The record needs ${chunks.length + dropped} refine steps; the step limit is ${maxSteps}: the oldest ${dropped} ` +
          `chunk${dropped === 1 ? ' is' : 's are'} not sent (raise refine.maxSteps or use a larger context).`,
      );
    }
    // Chunk budgets were planned for send position 0 vs later; after dropping, re-check the first.
    let over = 0;
    plan.steps = chunks.map((chunk, k) => {
      const spans = chunkSpans(chunk, counts, vc);
      const ehr = spans.map((s) => text.slice(s.start, s.end)).join('');
      const t = k === 0 ? first : later;
      const { messages, slots } = renderWithSlots(t, { ...values, ehr, instruction: input.instruction });
      const recordTokens = chunk.cost;
      const fixedK =
        k === 0 ? firstFixed : laterFixed - reserve * Math.max(1, placeholderCount(later, 'answer'));
      const tokens = exact
        ? countMessages(counter, messages, encoding, overhead, input.chat)
        : fixedK + recordTokens;
      const answerRoom = k === 0 ? 0 : reserve * slots.length;
      over = Math.max(over, tokens + answerRoom - limit);
      let firstVisit = Infinity;
      let lastVisit = -1;
      let events = 0;
      let fd: RecordDate | undefined;
      let ld: RecordDate | undefined;
      for (const l of chunk.leaves) {
        firstVisit = Math.min(firstVisit, l.visit);
        lastVisit = Math.max(lastVisit, l.visit);
        const d = dateOf(record, l);
        events += d.events;
        if (d.first && (fd === undefined || d.first.epochMs < fd.epochMs)) fd = d.first;
        if (d.last && (ld === undefined || d.last.epochMs > ld.epochMs)) ld = d.last;
      }
      const step: RefineStep = {
        index: k,
        messages,
        answerSlots: slots,
        tokens,
        recordTokens,
        ranges: spans.map((s) => ({ start: s.start, end: s.end })),
        firstVisit: lastVisit < 0 ? -1 : firstVisit,
        lastVisit,
        events,
      };
      if (fd !== undefined) step.firstDate = fd;
      if (ld !== undefined) step.lastDate = ld;
      return step;
    });
    if (over <= 0) {
      const sent = new Set<Leaf>(chunks.flatMap((c) => c.leaves));
      plan.pieces = leaves.map((l) => ({ visit: l.visit, day: l.day, event: l.event, sent: sent.has(l) }));
      return plan;
    }
    shrink += over;
  }
  return fail(
    `The record could not be split into refine steps that fit context ${formatInt(input.context)}: use a larger context.`,
  );
}

/** Shown where the previous answer goes when a plan is displayed (`medalign pack`, the preview). */
export const ANSWER_MARK = '{{answer}}';

/** A step's messages as shown before running: the previous answer's place marked `{{answer}}`. */
export function displayMessages(step: Pick<RefineStep, 'messages' | 'answerSlots'>): ChatMessage[] {
  return fillAnswer(step.messages, step.answerSlots, ANSWER_MARK);
}

/** `refine · 4 steps` (what the run-lens and the preview say before running). */
export function refineLabel(steps: number): string {
  return `refine · ${steps} step${steps === 1 ? '' : 's'}`;
}

/** One line per step: `step 2 of 4 · 7,012 tokens · visits 12–30 · 2019-01-02 … 2019-06-30`. */
export function formatStepLine(step: RefineStep, total: number): string {
  const visits =
    step.firstVisit < 0
      ? 'no visits'
      : step.firstVisit === step.lastVisit
        ? `visit ${step.firstVisit + 1}`
        : `visits ${step.firstVisit + 1}–${step.lastVisit + 1}`;
  const span =
    step.firstDate !== undefined && step.lastDate !== undefined
      ? ` · ${step.firstDate.iso.slice(0, 10)} … ${step.lastDate.iso.slice(0, 10)}`
      : '';
  return `step ${step.index + 1} of ${total} · ${formatInt(step.tokens)} tokens${step.index > 0 ? ' + the previous answer' : ''} · ${visits}${span}`;
}

/**
 * Why a refine plan cannot go into a Batch API file: its steps depend on each other (each needs the
 * previous answer), so only a one-step plan is a single independent request.
 */
export function refineBatchProblem(steps: number): string | undefined {
  if (steps <= 1) return undefined;
  return (
    `strategy refine sends ${steps} steps one after the other, each with the previous step's answer: ` +
    `the steps are not independent requests, so refine needs live runs (medalign run), not a batch.`
  );
}
