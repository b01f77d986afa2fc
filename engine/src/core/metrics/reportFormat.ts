/**
 * The review report as text (aligned tables for a terminal) and as CSV (one table, long format: a
 * row per section × model/context, for analysis elsewhere). Pure string building.
 */
import type { GroupRow, Report, ReportMetric, TauRow } from './report';

function fmt(v: number | null | undefined, digits: number): string {
  return v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(digits);
}

function metricDigits(m: ReportMetric): number {
  return m.scale === '0-1' ? 3 : m.scale === '0-100' ? 1 : 3;
}

function table(header: string[], rows: string[][], rightFrom = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= rightFrom ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

export function groupName(g: Pick<GroupRow, 'endpoint' | 'model' | 'contextLabel'>): string {
  return `${g.endpoint === g.model ? g.endpoint : `${g.endpoint} (${g.model})`} @ ${g.contextLabel}`;
}

function groupTable(rows: readonly GroupRow[], metrics: readonly ReportMetric[]): string {
  return table(
    ['model @ context', 'answers', 'correct', '%', 'mean rank', ...metrics.map((m) => m.label)],
    rows.map((g) => [
      groupName(g),
      String(g.answers),
      `${g.correct}/${g.labelled}`,
      fmt(g.pctCorrect, 1),
      fmt(g.meanRank, 2),
      ...metrics.map((m) => fmt(g.metrics[m.id], metricDigits(m))),
    ]),
  );
}

function tauTable(rows: readonly TauRow[], first: string): string {
  return table(
    [first, 'mean tau', '95% interval', 'instructions', 'left out'],
    rows.map((t) => [
      t.label,
      fmt(t.mean, 3),
      Number.isNaN(t.low) ? '–' : `${t.low.toFixed(3)} to ${t.high.toFixed(3)}`,
      String(t.n),
      String(t.skipped),
    ]),
  );
}

export function formatReportText(r: Report): string {
  const out: string[] = [];
  const c = r.counts;
  out.push(
    `MedAlign review report: ${c.instructions} instructions, ${c.answers} answers, ${c.reviewers} reviewer(s), ` +
      `${c.judgements - c.staleJudgements} judgements${c.staleJudgements ? ` (+${c.staleJudgements} stale, left out)` : ''}\n`,
  );
  out.push('\nBy model and context\n' + groupTable(r.groups, r.metrics));
  if (r.contextDiffs.length) {
    out.push(
      '\nLargest minus smallest context, per model\n' +
        table(
          ['model', 'contexts', 'Δ % correct', 'Δ mean rank', ...r.metrics.map((m) => `Δ ${m.label}`)],
          r.contextDiffs.map((d) => [
            d.endpoint === d.model ? d.endpoint : `${d.endpoint} (${d.model})`,
            `${d.large} − ${d.small}`,
            fmt(d.pctCorrect, 1),
            fmt(d.meanRank, 2),
            ...r.metrics.map((m) => fmt(d.metrics[m.id], metricDigits(m))),
          ]),
          2,
        ),
    );
  }
  for (const cat of r.byCategory) out.push(`\nCategory: ${cat.category}\n` + groupTable(cat.rows, r.metrics));
  for (const q of r.byLengthQuartile) {
    out.push(
      `\nRecord length quartile ${q.quartile} (${q.from}–${q.to} tokens)\n` + groupTable(q.rows, r.metrics),
    );
  }
  out.push(
    "\nAgreement of each metric with the clinicians' ranks (Kendall's tau-b)\n" +
      tauTable(r.metricTau, 'metric'),
  );
  if (r.interRater.length)
    out.push("\nAgreement between reviewers (Kendall's tau-b)\n" + tauTable(r.interRater, 'reviewers'));
  else out.push('\nAgreement between reviewers: needs two reviewers who ranked the same answers.\n');
  out.push('\nNotes\n' + r.notes.map((n) => `- ${n}`).join('\n') + '\n');
  return out.join('');
}

/** RFC 4180 field: quoted when it holds a comma, quote or line break; formula-leading text defused. */
export function csvField(v: string | number | null | undefined): string {
  if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) return '';
  let s = String(v);
  // A spreadsheet runs a cell that starts with = + - @ as a formula: prefix text (not numbers) with '.
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(cells: readonly (string | number | null | undefined)[]): string {
  return cells.map(csvField).join(',') + '\r\n';
}

/** Every table of the report in one CSV: `section, group, endpoint, model, context, …`. */
export function formatReportCsv(r: Report): string {
  const head = [
    'section',
    'group',
    'endpoint',
    'model',
    'context',
    'answers',
    'labelled',
    'correct',
    'pct_correct',
    'ranked',
    'mean_rank',
    ...r.metrics.map((m) => m.id),
  ];
  let out = csvLine(head);
  const rows = (section: string, group: string, gs: readonly GroupRow[]) => {
    for (const g of gs) {
      out += csvLine([
        section,
        group,
        g.endpoint,
        g.model,
        g.contextLabel,
        g.answers,
        g.labelled,
        g.correct,
        g.pctCorrect,
        g.ranked,
        g.meanRank,
        ...r.metrics.map((m) => g.metrics[m.id]),
      ]);
    }
  };
  rows('all', '', r.groups);
  for (const c of r.byCategory) rows('category', c.category, c.rows);
  for (const q of r.byLengthQuartile) rows('length_quartile', `Q${q.quartile} ${q.from}-${q.to}`, q.rows);
  for (const d of r.contextDiffs) {
    out += csvLine([
      'context_diff',
      `${d.large} - ${d.small}`,
      d.endpoint,
      d.model,
      '',
      '',
      '',
      '',
      d.pctCorrect,
      '',
      d.meanRank,
      ...r.metrics.map((m) => d.metrics[m.id]),
    ]);
  }
  out +=
    '\r\n' +
    csvLine([
      'section',
      'id',
      'mean_tau',
      'low_95',
      'high_95',
      'instructions',
      'left_out',
      'resamples',
      'seed',
    ]);
  for (const [section, list] of [
    ['metric_tau', r.metricTau],
    ['inter_rater_tau', r.interRater],
  ] as const) {
    for (const t of list)
      out += csvLine([section, t.id, t.mean, t.low, t.high, t.n, t.skipped, t.resamples, t.seed]);
  }
  return out;
}
