/**
 * What each packing strategy keeps of an instruction's record at its current model and context, as
 * the strategy picker shows it: every strategy of the schema packed by the same packer a run, the
 * preview and `medalign pack` use (so the numbers are theirs), with tokens kept, whether the kept XML
 * is well-formed (checked, not assumed), where the cut falls and, for `refine`, the steps.
 */
import type { FileSystem } from '../host';
import type { InstructionFile } from '../format/parse';
import type { PackResult, PackStrategy } from '../packing/pack';
import { isoDay } from '../record/dates';
import { scanXml } from '../record/xmlScan';
import { instructionSchema, strategies } from '../schema/schemas';
import { formatTokenCount } from '../tokens/models';
import { formatInt } from '../util/format';
import type { Cancel } from '../workspace/recordEngine';
import type { Workspace } from '../workspace/workspace';
import { packRequest, resolveRunSettings } from './runSettings';
import type { RunOverrides } from './runSettings';

/** A strategy of the schema with its description (the same words as the completion in the front matter). */
export interface StrategyInfo {
  name: string;
  /** The schema's description, whole. */
  description: string;
  /** Its first phrase (up to the first `:` or `.`), for a picker's one line. */
  summary: string;
}

export interface StrategyFitRow extends StrategyInfo {
  /** The instruction's strategy now (window choice, front matter or config default). */
  current: boolean;
  /** It packs: false for `none` when the record does not fit, or when no prompt fits at all. */
  ok: boolean;
  /** Why it does not pack (the packer's message). */
  error?: string;
  /** The tokenizer its counts are in (`helm` always counts in cl100k_base, as HELM does). */
  encoding: string;
  estimated: boolean;
  /** Exact tokens of the record it sends (for `refine`, of all its steps together); 0 when it does not pack. */
  keptTokens: number;
  /** Tokens of the whole record in `encoding` (line endings as sent: LF). */
  totalTokens: number;
  /** The whole record is sent. */
  whole: boolean;
  /**
   * The record text it sends is well-formed XML (every step's chunk for `refine`), checked with the
   * record scanner; `undefined` when no record text is sent.
   */
  wellFormed?: boolean;
  /** The cut falls inside an element (HELM's token cut): the kept text starts mid-element. */
  midElement: boolean;
  /** The date of the first kept event (`2019-04-02`), when something is kept. */
  firstKept?: string;
  /** Where the cut falls, in words: `none, the whole record`, `between elements, from 2019-04-02`, `mid-element: …`, `does not fit`. */
  cut: string;
  /** `refine`: the steps the packer plans, and the chunks the record needed before the step limit. */
  steps?: number;
  chunks?: number;
  /** What it keeps, short: `1,843 of 2,949 tokens (62%, cl100k_base)`, `whole record, …`, `does not fit`. */
  keptLine: string;
  /** Whether the XML is well-formed and where the cut falls: `well-formed XML · cut: between elements, …`. */
  cutLine: string;
  /** The row as one line: `keptLine · cutLine`. */
  summaryLine: string;
}

export interface StrategyFit {
  /** False when nothing could be packed (no record, an invalid context…): `message` says why and `rows` is empty. */
  ok: boolean;
  message?: string;
  model: string;
  context: number;
  contextLabel: string;
  /** The instruction's strategy now. */
  strategy: string;
  /** The record's label (`records/1234555.xml`). */
  record?: string;
  /** Every strategy of the schema, in the schema's order (also when `ok` is false). */
  strategies: StrategyInfo[];
  rows: StrategyFitRow[];
}

/** The schema's strategies with their descriptions. */
export function strategyInfos(): StrategyInfo[] {
  const prop = instructionSchema.properties['strategy'];
  const descriptions = prop?.enumDescriptions ?? [];
  return strategies.map((name, i) => {
    const description = descriptions[i] ?? '';
    const m = /^(.*?)(?:[:.](?:\s|$))/.exec(description);
    return { name, description, summary: (m?.[1] ?? description).trim() };
  });
}

/** The text is one well-formed XML element (the record scanner finds no problem and one root). */
export function isWellFormedXml(text: string): boolean {
  const scan = scanXml(text);
  return scan.problems.length === 0 && scan.roots.length === 1;
}

const pct = (kept: number, total: number): string => {
  const f = total === 0 ? 1 : kept / total;
  return `${(f * 100).toFixed(f > 0 && f < 0.1 ? 1 : 0)}%`;
};

/** One strategy's row from its pack (exported for tests: the same function the request uses). */
export function strategyRow(
  info: StrategyInfo,
  pack: PackResult,
  text: string,
  totalTokens: number,
  current: boolean,
): StrategyFitRow {
  const t = (n: number) => formatTokenCount(n, pack.estimated);
  const kept = pack.ok ? pack.kept.tokens : 0;
  const base = {
    ...info,
    current,
    ok: pack.ok,
    encoding: pack.encoding,
    estimated: pack.estimated,
    keptTokens: kept,
    totalTokens,
    midElement: false,
  };
  if (!pack.ok) {
    const cut = info.name === 'none' ? 'does not fit' : 'nothing fits';
    const error = pack.error ?? 'the prompt does not fit';
    return {
      ...base,
      error,
      whole: false,
      cut,
      keptLine: cut,
      cutLine: error,
      summaryLine: `${cut}: ${error}`,
    };
  }
  const firstKept = pack.kept.firstDate !== undefined ? isoDay(pack.kept.firstDate) : undefined;
  let wellFormed: boolean | undefined;
  let whole: boolean;
  let cut: string;
  let midElement = false;
  let steps: number | undefined;
  let chunks: number | undefined;
  if (pack.helm !== undefined) {
    const h = pack.helm;
    whole = h.cutAt === 0 && pack.ehr !== '';
    wellFormed = pack.ehr === '' ? undefined : isWellFormedXml(pack.ehr);
    if (pack.ehr === '') cut = `nothing kept: HELM's EHR budget is ${formatInt(h.ehrBudget)} tokens`;
    else if (whole) cut = 'none, the whole record';
    else {
      midElement = true;
      cut =
        `mid-element at line ${h.cutLine ?? '?'}, column ${h.cutColumn ?? '?'}` +
        `${h.cutInside !== undefined ? ` (${h.cutInside})` : ''}` +
        `${firstKept !== undefined ? `; first whole event ${firstKept}` : ''}`;
    }
  } else if (pack.refine !== undefined) {
    const r = pack.refine;
    steps = r.steps.length;
    chunks = r.chunks;
    const texts = r.steps.map((st) => st.ranges.map((g) => text.slice(g.start, g.end)).join(''));
    wellFormed = texts.every((x) => x === '')
      ? undefined
      : texts.every((x) => x === '' || isWellFormedXml(x));
    whole = r.chunks <= r.steps.length;
    const n = `${steps} step${steps === 1 ? '' : 's'}`;
    cut = whole
      ? `none, the whole record in ${n}`
      : `the oldest ${r.chunks - r.steps.length} of ${r.chunks} chunks are not sent (step limit ${r.maxSteps})${firstKept !== undefined ? `; from ${firstKept}` : ''}`;
  } else {
    whole = pack.cut.events === 0 && pack.cut.visits === 0 && pack.ehr !== '';
    wellFormed = pack.ehr === '' ? undefined : isWellFormedXml(pack.ehr);
    if (pack.ehr === '') cut = 'nothing kept';
    else if (whole) cut = 'none, the whole record';
    else if (pack.kept.events === 0) cut = 'between elements; no event kept';
    else
      cut = `between elements, ${pack.strategy === 'bm25' ? 'best-matching visits' : 'the newest part'}${firstKept !== undefined ? ` from ${firstKept}` : ''}`;
  }
  const helmNote = pack.helm !== undefined ? ', cl100k_base as HELM counts' : `, ${pack.encoding}`;
  const keptText = whole
    ? `whole record, ${t(kept)} tokens${steps !== undefined && steps > 1 ? ` over ${steps} steps` : ''} (${helmNote.slice(2)})`
    : `${t(kept)} of ${t(totalTokens)} tokens (${pct(kept, totalTokens)}${helmNote})`;
  const xml =
    wellFormed === undefined ? 'no record sent' : wellFormed ? 'well-formed XML' : 'not well-formed XML';
  const row: StrategyFitRow = {
    ...base,
    whole,
    wellFormed,
    midElement,
    cut,
    keptLine: keptText,
    cutLine: `${xml} · cut: ${cut}`,
    summaryLine: `${keptText} · ${xml} · cut: ${cut}`,
  };
  if (wellFormed === undefined) delete row.wellFormed;
  if (firstKept !== undefined) row.firstKept = firstKept;
  if (steps !== undefined) row.steps = steps;
  if (chunks !== undefined) row.chunks = chunks;
  return row;
}

/**
 * Every strategy packed for the instruction (its record, model, context and template; `overrides`
 * as the pickers and runs pass them). The current strategy is marked.
 */
export async function strategyFit(
  file: InstructionFile,
  uri: string,
  workspace: Workspace,
  fs: FileSystem,
  overrides: RunOverrides = {},
  cancel?: Cancel,
): Promise<StrategyFit> {
  const s = await resolveRunSettings(file, uri, workspace, fs, overrides);
  const current = s.problems.some((p) => p.field === 'strategy')
    ? String(overrides.strategy ?? file.data?.['strategy'])
    : s.strategy;
  const infos = strategyInfos();
  const base = {
    model: s.model,
    context: s.context,
    contextLabel: s.contextLabel,
    strategy: current,
    strategies: infos,
    rows: [] as StrategyFitRow[],
  };
  const fail = (message: string): StrategyFit => ({ ok: false, message, ...base });
  if (!file.data) return fail('the front matter could not be read.');
  // Problems other than the strategy itself (which the picker is there to change) stop the packing.
  const other = s.problems.find((p) => p.field !== 'strategy' && p.field !== 'refine');
  if (other !== undefined) return fail(other.message);
  const resolved = await workspace.resolveRecord(uri, file.data);
  if (!resolved) return fail('no record: add `patient:` or `record:` to the front matter.');
  if (resolved.outside) return fail(resolved.outside.message);
  const info = await workspace.records.get(resolved.uri, cancel);
  const label = workspace.label(resolved.uri);
  if (!info.exists || !info.key) return fail(`record not found: ${label}.`);
  if (!info.record?.ok) return fail(`${label} is not a valid MedAlign record.`);
  const rows: StrategyFitRow[] = [];
  for (const st of infos) {
    if (cancel?.isCancellationRequested) return fail('cancelled.');
    const settings = await resolveRunSettings(file, uri, workspace, fs, { ...overrides, strategy: st.name });
    if (st.name === 'refine') {
      const r = settings.problems.find((p) => p.field === 'refine');
      if (r !== undefined) {
        rows.push(failedRow(st, st.name === current, r.message, settings.tokenizer.encoding));
        continue;
      }
    }
    const req = packRequest(settings);
    const pack = await workspace.engine.pack(resolved.uri, info.key, req, cancel);
    if (!pack) return fail(`${label} could not be packed.`);
    // The whole record's tokens, as sent (LF), in the strategy's encoding: HELM's count for helm, else
    // the fit table's total (the record hover's number).
    let total: number;
    if (pack.helm !== undefined) total = pack.helm.recordTokens;
    else {
      const recent: PackStrategy = 'recent';
      const fit = await workspace.engine.fit(
        resolved.uri,
        info.key,
        { ...req, strategy: recent },
        true,
        cancel,
      );
      if (fit === 'pending' || fit === undefined) return fail(`${label} could not be counted.`);
      total = fit.total;
    }
    // refine's steps are checked chunk by chunk: their source ranges in the record's text.
    const text = pack.refine !== undefined ? ((await fs.readFile(resolved.uri)) ?? '') : '';
    rows.push(strategyRow(st, pack, text, total, st.name === current));
  }
  return { ok: true, record: label, ...base, rows };
}

function failedRow(st: StrategyInfo, current: boolean, message: string, encoding: string): StrategyFitRow {
  return {
    ...st,
    current,
    ok: false,
    error: message,
    encoding,
    estimated: false,
    keptTokens: 0,
    totalTokens: 0,
    whole: false,
    midElement: false,
    cut: 'cannot pack',
    keptLine: 'cannot pack',
    cutLine: message,
    summaryLine: `cannot pack: ${message}`,
  };
}
