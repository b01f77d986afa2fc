/**
 * The `helm` strategy: what HELM's MedAlign scenario computes for a record, byte for byte
 * (docs/helm.md). From HELM's public source (stanford-crfm/helm):
 *
 * - `medalign_scenario_helper.py`, `pack_and_trim_prompts`: the budget is
 *   `context − generation_length (256) − tokens(raw template string) − tokens(instruction)`, all
 *   counted with tiktoken's `cl100k_base` whatever the model; a budget of 0 or less gives the
 *   template with an empty EHR; otherwise the record text is encoded, its last `2 × budget` tokens
 *   decoded, encoded again and its last `budget` tokens decoded (the cut may fall mid-element, even
 *   mid-character: tiktoken decodes with `errors="replace"`). The record is read in text mode
 *   (`open(..., mode="r")`), so its line endings are LF.
 * - `get_ehrs`/`preprocess_prompts`: the template string
 *   `Instruction: Answer the following question based on the EHR:\n\nEHR: {ehr}\n\nQuestion: {question}\n\nAnswer:`.
 * - `medalign_scenario.py` wraps that prompt as `PassageQuestionInput(passage="", question=prompt)`
 *   (`"\nQuestion: " + prompt`) and `medhelm_run_specs.py`'s generation adapter (no instructions, no
 *   nouns) appends the input suffix `"\n"`: the request text is `"\nQuestion: " + prompt + "\n"`.
 *
 * A run sends that text as the content of one user message (what HELM's clients do with a text
 * prompt for a chat model). Special-token text (`<|endoftext|>`) is counted as ordinary text, as
 * everywhere else in this project (tiktoken's `encode` would refuse it).
 */
import type { EhrRecord, RecordDate, SourceRange } from '../record/model';
import type { TokenCounter } from '../tokens/counter';
import { getTokenizer } from '../tokens/encodings';
import { getDefaultTemplate, medalignPrompt } from '../template/defaults';
import { renderTemplate } from '../template/template';
import type {
  ContentSummary,
  FitRow,
  FitTable,
  PackInput,
  PackResult,
  VisitPack,
  VisitPackState,
} from './pack';

/** HELM's prompt string, as `medalign_scenario_helper.py` passes it to `PromptTemplate.from_template`. */
export const HELM_TEMPLATE =
  'Instruction: Answer the following question based on the EHR:\n\nEHR: {ehr}\n\nQuestion: {question}\n\nAnswer:';

/** HELM's `generation_length`. */
export const HELM_GENERATION_LENGTH = 256;

/** HELM always truncates with this encoding. */
export const HELM_ENCODING = 'cl100k_base' as const;

/** Line endings as Python's text mode reads them (universal newlines): `\r\n` and `\r` become `\n`. */
export function normalizeLineEndings(text: string): string {
  return text.indexOf('\r') < 0 ? text : text.replace(/\r\n?/g, '\n');
}

/** The request text HELM's adapter builds around a prompt. */
export function helmRequestText(prompt: string): string {
  return `\nQuestion: ${prompt}\n`;
}

/** What `helm` did, and where it differs from `recent`. */
export interface HelmDetails {
  /** The exact text HELM sends (the run sends it as one user message). */
  text: string;
  /** HELM's EHR budget (`context − reserve − template − instruction`, cl100k_base). */
  ehrBudget: number;
  /** Tokens of the whole record (LF line endings) in cl100k_base. */
  recordTokens: number;
  /** Characters of the (LF) record text that were dropped before the kept part; 0 when it all fits. */
  cutAt: number;
  /** Where the cut falls in the record file (1-based line and column), when something was cut and something kept. */
  cutLine?: number;
  cutColumn?: number;
  /** What the cut falls in, in words: `the middle of a <note> (visit 3, 2019-04-02)`. */
  cutInside?: string;
  /** The kept EHR starts with U+FFFD: the cut split a UTF-8 character. */
  splitCharacter: boolean;
  /** The EHR is the whole record (well-formed as the file is) or empty; otherwise it starts mid-record. */
  wellFormed: boolean;
  /** The same instruction packed with `recent` (its model encoding and template). */
  recent?: { keptTokens: number; encoding: string; keptVisits: number; keptEvents: number; ok: boolean };
  /** Plain sentences: how this differs from `recent`. */
  differences: string[];
}

/** Token ids of a record's LF text, cached per parsed record (the timeline packs one record at several sizes). */
interface RecordIds {
  text: string;
  norm: string;
  ids: number[];
  /** HELM's truncation by budget (the same budget is asked again by hovers, the preview and the timeline). */
  cuts: Map<number, string>;
}
const idsCache = new WeakMap<EhrRecord, RecordIds>();

function recordIds(text: string, record: EhrRecord): RecordIds {
  let e = idsCache.get(record);
  if (e === undefined || e.text !== text) {
    const norm = normalizeLineEndings(text);
    e = { text, norm, ids: getTokenizer(HELM_ENCODING).encode(norm), cuts: new Map() };
    idsCache.set(record, e);
  }
  return e;
}

function cachedTruncate(r: RecordIds, budget: number): string {
  let ehr = r.cuts.get(budget);
  if (ehr === undefined) {
    ehr = helmTruncate(r.norm, r.ids, budget);
    if (r.cuts.size >= 16) r.cuts.delete(r.cuts.keys().next().value!);
    r.cuts.set(budget, ehr);
  }
  return ehr;
}

/** HELM's two-pass truncation of `norm` (token ids `ids`) to `budget` tokens. */
export function helmTruncate(norm: string, ids: readonly number[], budget: number): string {
  if (budget <= 0) return '';
  // decode(encode(x)) is x for any text read from a file, so a record that fits is kept as it is.
  if (ids.length <= budget) return norm;
  const tok = getTokenizer(HELM_ENCODING);
  const first = tok.decode(ids.slice(-(2 * budget)));
  const second = tok.encode(first);
  return tok.decode(second.slice(-budget));
}

/** Offset in `text` of offset `n` of its line-ending-normalised form. */
function originalOffset(text: string, n: number): number {
  if (text.indexOf('\r') < 0) return n;
  let j = 0;
  for (let i = 0; i < text.length; i++) {
    if (j === n) return i;
    if (text[i] === '\r' && text[i + 1] === '\n') continue;
    j++;
  }
  return text.length;
}

/** Where `ehr` (a suffix of `norm`, up to replacement characters at its start) starts in `norm`. */
function keptStart(norm: string, ehr: string): number {
  if (ehr === '') return norm.length;
  if (norm.endsWith(ehr)) return norm.length - ehr.length;
  let k = 0;
  while (k < ehr.length && k < norm.length && ehr[ehr.length - 1 - k] === norm[norm.length - 1 - k]) k++;
  return norm.length - k;
}

function addDate(sum: ContentSummary, d: RecordDate | undefined): void {
  if (d === undefined) return;
  if (sum.firstDate === undefined || d.epochMs < sum.firstDate.epochMs) sum.firstDate = d;
  if (sum.lastDate === undefined || d.epochMs > sum.lastDate.epochMs) sum.lastDate = d;
}

/** Visits and events on each side of a cut at `cut` (an offset of the record file); an event the cut falls in counts as cut. */
function summarizeCut(
  text: string,
  record: EhrRecord,
  cut: number,
  counter: TokenCounter,
): { kept: ContentSummary; cut: ContentSummary; visits: VisitPack[] } {
  const kept: ContentSummary = { tokens: 0, visits: 0, events: 0, notes: 0 };
  const lost: ContentSummary = { tokens: 0, visits: 0, events: 0, notes: 0 };
  const counts = counter.countRecord(text, record, HELM_ENCODING);
  const visits = record.visits.map((v, index): VisitPack => {
    const state: VisitPackState = v.range.start >= cut ? 'kept' : v.range.end <= cut ? 'cut' : 'partial';
    let events = 0;
    let keptEvents = 0;
    for (const day of v.days) {
      for (const ev of day.events) {
        events++;
        const isKept = ev.range.start >= cut;
        const side = isKept ? kept : lost;
        side.events++;
        if (ev.kind === 'note') side.notes++;
        addDate(side, ev.start ?? day.start ?? v.start);
        if (isKept) keptEvents++;
      }
    }
    if (state !== 'cut') kept.visits++;
    if (state !== 'kept') lost.visits++;
    if (events === 0) addDate(state === 'cut' ? lost : kept, v.start);
    const tokens = counts.visits[index] ?? 0;
    const keptTokens =
      state === 'kept'
        ? tokens
        : state === 'cut'
          ? 0
          : counter.countRange(text, cut, v.range.end, HELM_ENCODING);
    return { index, state, tokens, keptTokens, events, keptEvents };
  });
  return { kept, cut: lost, visits };
}

/** The innermost element of `record` that the offset falls inside, in words. */
function describeCut(record: EhrRecord, offset: number): string | undefined {
  const inside = (r: SourceRange) => offset > r.start && offset < r.end;
  const vi = record.visits.findIndex((v) => inside(v.range));
  if (vi < 0) {
    const before = record.visits.findIndex((v) => v.range.start >= offset);
    return before >= 0 ? `between visits, before visit ${before + 1}` : 'after the last visit';
  }
  const v = record.visits[vi];
  const day = v.days.find((d) => inside(d.range));
  const ev = day?.events.find((e) => inside(e.range));
  const date = (ev?.start ?? day?.start ?? v.start)?.iso.slice(0, 10);
  const where = `visit ${vi + 1} of ${record.visits.length}${date !== undefined ? `, ${date}` : ''}`;
  if (ev) return `the middle of a <${ev.kind === 'note' ? 'note' : ev.kind}> event (${where})`;
  if (day) return `a <day> between its events (${where})`;
  return `a <visit> outside its days (${where})`;
}

/** A template that renders to HELM's own prompt (the built-in one does). */
function isHelmTemplate(input: PackInput): boolean {
  const t = input.template;
  if (t === undefined || t === getDefaultTemplate()) return true;
  const m = renderTemplate(t, {
    ehr: '\u0001E',
    instruction: '\u0001Q',
    age: '',
    sex: '',
    record_start: '',
    record_end: '',
  });
  return m.length === 1 && m[0].role === 'user' && m[0].content === medalignPrompt('\u0001E', '\u0001Q');
}

const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * Packs with HELM's truncation. `recent` packs the same input with the `recent` strategy (for the
 * comparison); pack.ts passes its own packer so this module does not import it.
 */
export function packHelm(input: PackInput, recent?: (input: PackInput) => PackResult): PackResult {
  const { text, record, counter } = input;
  const reserve = input.reserve ?? HELM_GENERATION_LENGTH;
  const cached = recordIds(text, record);
  const { norm, ids } = cached;
  const tok = getTokenizer(HELM_ENCODING);
  const instruction = normalizeLineEndings(input.instruction);
  const templateTokens = tok.count(HELM_TEMPLATE);
  const instructionTokens = tok.count(instruction);
  const limit = input.context - reserve;
  const ehrBudget = limit - templateTokens - instructionTokens;
  const ehr = cachedTruncate(cached, ehrBudget);
  const prompt = medalignPrompt(ehr, instruction);
  const requestText = helmRequestText(prompt);
  const promptTokens = tok.count(requestText);
  const recordTokens = ehr === norm ? ids.length : tok.count(ehr);

  const startNorm = keptStart(norm, ehr);
  const cutOrig = originalOffset(text, startNorm);
  const summary = summarizeCut(text, record, cutOrig, counter);
  summary.kept.tokens = recordTokens;
  summary.cut.tokens = Math.max(0, ids.length - recordTokens);
  const whole = ehr === norm;
  const splitCharacter = ehr.startsWith('\uFFFD') && !norm.startsWith('\uFFFD');

  const warnings: string[] = [];
  const details: HelmDetails = {
    text: requestText,
    ehrBudget,
    recordTokens: ids.length,
    cutAt: startNorm,
    splitCharacter,
    wellFormed: whole || ehr === '',
    differences: [],
  };
  if (!whole && ehr !== '') {
    const before = norm.slice(0, startNorm);
    const line = before.split('\n').length;
    details.cutLine = line;
    details.cutColumn = startNorm - (before.lastIndexOf('\n') + 1) + 1;
    const inside = describeCut(record, cutOrig);
    if (inside !== undefined) details.cutInside = inside;
  }
  if (ehrBudget <= 0) {
    warnings.push(
      `HELM's EHR budget is ${fmt(ehrBudget)} tokens (context ${fmt(input.context)} − reserve ${reserve} − template ${templateTokens} − instruction ${fmt(instructionTokens)}): the prompt is sent with an empty EHR.`,
    );
  } else if (!whole) {
    warnings.push(
      `HELM keeps the last ${fmt(recordTokens)} of ${fmt(ids.length)} record tokens, cut at line ${details.cutLine ?? '?'}, column ${details.cutColumn ?? '?'}` +
        `${details.cutInside !== undefined ? `, in ${details.cutInside}` : ''}${splitCharacter ? ' (through a UTF-8 character: the EHR starts with U+FFFD)' : ''}.`,
    );
  }
  if (!whole) {
    warnings.push(
      "HELM's current medalign_scenario_helper.py keeps an instruction only when its whole record fits (if len(fast_encoded) <= target_ehr_length): at this size HELM's published runs leave this instruction out; this is the text its truncation computes (and earlier versions sent).",
    );
  }
  if (promptTokens > limit) {
    warnings.push(
      `The request is ${fmt(promptTokens)} tokens, over context − reserve = ${fmt(limit)}: HELM sends it anyway (the model may refuse it).`,
    );
  }
  if (input.encoding !== HELM_ENCODING) {
    warnings.push(
      `HELM counts with cl100k_base whatever the model; this model's tokenizer (${input.encoding}) may count the text differently.`,
    );
  }
  if (!isHelmTemplate(input)) {
    warnings.push("strategy helm sends HELM's own prompt: the instruction's template is not used.");
  }
  if (text !== norm) {
    warnings.push('The record has CR line endings: HELM reads it in text mode, so the EHR is sent with LF.');
  }

  if (recent !== undefined) {
    const r = recent({ ...input, strategy: 'recent' });
    details.recent = {
      ok: r.ok,
      keptTokens: r.kept.tokens,
      encoding: r.encoding,
      keptVisits: r.kept.visits,
      keptEvents: r.kept.events,
    };
    const d = details.differences;
    d.push(
      `Tokens kept: helm ${fmt(recordTokens)} (cl100k_base) · recent ${r.ok ? fmt(r.kept.tokens) : '—'} (${r.encoding}).`,
    );
    d.push(
      `Well-formed XML: helm ${whole ? 'yes (the whole record)' : ehr === '' ? 'no record sent' : 'no (starts mid-record)'} · recent ${r.ok ? 'yes' : '—'}.`,
    );
    if (!whole && ehr !== '') {
      d.push(
        `Cut: helm at line ${details.cutLine ?? '?'}, column ${details.cutColumn ?? '?'}${details.cutInside !== undefined ? ` (${details.cutInside})` : ''} · recent between elements, keeping ${r.kept.visits} visits, ${r.kept.events} events${r.kept.firstDate ? ` from ${r.kept.firstDate.iso.slice(0, 10)}` : ''}.`,
      );
    } else if (whole) {
      d.push(
        'Cut: none, the whole record fits (the EHR is the record as recent sends it, with LF line endings).',
      );
    }
    d.push(
      "Request: helm sends one user message holding HELM's text ('\\nQuestion: ' + prompt + '\\n') · recent sends the template's messages.",
    );
  }

  return {
    ok: true,
    warnings,
    strategy: 'helm',
    encoding: HELM_ENCODING,
    estimated: false,
    messages: [{ role: 'user', content: requestText }],
    ehr,
    budget: {
      context: input.context,
      reserve,
      template: templateTokens,
      instruction: instructionTokens,
      recordBudget: ehrBudget,
      record: recordTokens,
      prompt: promptTokens,
      limit,
      free: limit - promptTokens,
    },
    kept: summary.kept,
    cut: summary.cut,
    visits: summary.visits,
    keptRanges: cutOrig < text.length ? [{ start: cutOrig, end: text.length }] : [],
    helm: details,
  };
}

/** "What fits" with `helm`: HELM's budget per context, the kept suffix from the cached token ids. */
export function helmFitTable(input: Omit<PackInput, 'context'>, contexts: readonly number[]): FitTable {
  const { text, record, counter } = input;
  const reserve = input.reserve ?? HELM_GENERATION_LENGTH;
  const { norm, ids } = recordIds(text, record);
  const tok = getTokenizer(HELM_ENCODING);
  const templateTokens = tok.count(HELM_TEMPLATE);
  const instructionTokens = tok.count(normalizeLineEndings(input.instruction));
  const rows = contexts.map((context): FitRow => {
    const recordBudget = context - reserve - templateTokens - instructionTokens;
    const fitsWhole = recordBudget > 0 && ids.length <= recordBudget;
    const keptTokens = recordBudget <= 0 ? 0 : Math.min(ids.length, recordBudget);
    // The kept suffix, from one decode of the last tokens (the second pass moves it by a token at most).
    const start = fitsWhole
      ? 0
      : keptTokens === 0
        ? norm.length
        : norm.length - tok.decode(ids.slice(-keptTokens)).length;
    const s = summarizeCut(text, record, originalOffset(text, start), counter);
    const row: FitRow = {
      context,
      recordBudget,
      fitsWhole,
      keptTokens,
      fraction: ids.length === 0 ? 1 : keptTokens / ids.length,
      keptVisits: s.kept.visits,
      partial: s.visits.some((v) => v.state === 'partial'),
    };
    if (s.kept.firstDate !== undefined && keptTokens > 0) row.keptFrom = s.kept.firstDate;
    return row;
  });
  return {
    strategy: 'helm',
    encoding: HELM_ENCODING,
    estimated: false,
    total: ids.length,
    template: templateTokens,
    instruction: instructionTokens,
    reserve,
    rows,
  };
}

/**
 * The part of a record whose events start at or after `from` (an offset of the record file): what a
 * `helm` cut keeps whole, for readers that need elements (the extractive baseline), since HELM's EHR
 * starts mid-element and does not parse.
 */
export function recordFrom(record: EhrRecord, from: number): EhrRecord {
  const visits = record.visits
    .map((v) => ({
      ...v,
      days: v.days
        .map((d) => ({ ...d, events: d.events.filter((e) => e.range.start >= from) }))
        .filter((d) => d.events.length > 0),
    }))
    .filter((v) => v.days.length > 0);
  const events = visits.flatMap((v) => v.days.flatMap((d) => d.events));
  return {
    ...record,
    visits,
    eventCount: events.length,
    noteCount: events.filter((e) => e.kind === 'note').length,
  };
}
