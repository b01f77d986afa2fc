/** Plain-text renderings of packing results for hovers and the prompt preview header. */
import { isoDay } from '../record/dates';
import { formatTokenCount } from '../tokens/models';
import type { BudgetBreakdown, FitRow, FitTable, PackResult } from './pack';
import { formatInt } from '../util/format';

/** `2k`, `32k`, `128k` for multiples of 1024; the plain number otherwise. */
export function formatContext(tokens: number): string {
  return tokens % 1024 === 0 ? `${tokens / 1024}k` : formatInt(tokens);
}

/**
 * `template 21 + instruction 11 + record 32,372 + reserve 256 = 32,660 of 32,768 (free 108)`.
 * Seams between the template text and the record can make the exact prompt differ from the sum of
 * its parts by a token or two; the total shown is the exact prompt plus the reserve.
 */
export function formatBudget(b: BudgetBreakdown, estimated = false): string {
  const f = (n: number): string => formatTokenCount(n, estimated);
  return (
    `template ${f(b.template)} + instruction ${f(b.instruction)} + record ${f(b.record)} + reserve ${f(b.reserve)}` +
    ` = ${f(b.prompt + b.reserve)} of ${f(b.context)} (free ${f(b.free)})`
  );
}

/** `32k: 5% of the record (32,372 tokens, 11 visits), back to 2019-11-14` */
export function formatFitRow(row: FitRow, estimated = false): string {
  const head = `${formatContext(row.context)}: `;
  if (row.recordBudget <= 0) return `${head}no room for the record`;
  if (row.fitsWhole) return `${head}the whole record fits`;
  if (row.keptVisits === 0) return `${head}no complete event fits`;
  const pct = row.fraction < 0.01 ? '<1%' : `${Math.floor(row.fraction * 100)}%`;
  return (
    `${head}${pct} of the record (${formatTokenCount(row.keptTokens, estimated)} tokens, ${row.keptVisits} visit${row.keptVisits === 1 ? '' : 's'}${row.partial ? ', one in part' : ''})` +
    (row.keptFrom !== undefined ? `, back to ${isoDay(row.keptFrom)}` : '')
  );
}

export function formatFitTable(t: FitTable): string[] {
  return t.rows.map((r) => formatFitRow(r, t.estimated));
}

/** One line on what was kept and cut: `kept 11 of 399 visits (1 in part), 194 of 4,428 events, 2019-11-14 … 2020-01-31; cut 389 visits, 2016-03-01 … 2019-11-14`. */
export function formatKeptCut(r: PackResult): string {
  const span = (a?: { iso: string }, b?: { iso: string }): string =>
    a !== undefined && b !== undefined ? `, ${a.iso.slice(0, 10)} … ${b.iso.slice(0, 10)}` : '';
  const total = r.visits.length;
  const partial = r.visits.filter((v) => v.state === 'partial').length;
  const events = r.kept.events + r.cut.events;
  const kept = `kept ${r.kept.visits} of ${total} visits${partial > 0 ? ` (${partial} in part)` : ''}, ${formatInt(r.kept.events)} of ${formatInt(events)} events${span(r.kept.firstDate, r.kept.lastDate)}`;
  if (r.cut.events === 0 && r.cut.visits === 0) return kept;
  const cutVisits = r.visits.filter((v) => v.state === 'cut').length;
  return `${kept}; cut ${cutVisits} visits${partial > 0 ? ` and part of ${partial}` : ''}, ${formatTokenCount(r.cut.tokens, r.estimated)} tokens${span(r.cut.firstDate, r.cut.lastDate)}`;
}
