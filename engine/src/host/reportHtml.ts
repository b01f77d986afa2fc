/**
 * The review report as one self-contained HTML file: the report's tables and two SVG charts
 * (percent correct per model and context; each metric's tau with the clinicians, next to the
 * reviewers' own agreement). Positions come from d3-scale and d3-shape; the SVG is written as
 * strings in which every text from the project (model names, categories, reviewers) is escaped.
 * The page has no script and no remote resource: its Content-Security-Policy allows only its own
 * style block (by hash), so nothing in the data can run or load anything when it is opened.
 */
import { createHash } from 'node:crypto';
import { scaleBand, scaleLinear } from 'd3-scale';
import { line } from 'd3-shape';
import type { GroupRow, Report, ReportMetric, TauRow } from '../core/metrics/report';
import { groupName } from '../core/metrics/reportFormat';

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const n = (v: number) => (Math.round(v * 100) / 100).toString();
const fmt = (v: number | null | undefined, d: number) =>
  v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(d);

/** Horizontal bars of percent correct per model/context (0-100), labelled with the counts. */
export function correctChart(rows: readonly GroupRow[]): string {
  const labelled = rows.filter((r) => r.pctCorrect !== null);
  if (labelled.length === 0) return '<p class="muted">No labels yet: no chart of percent correct.</p>';
  const width = 640;
  const left = 220;
  const right = 70;
  const barH = 22;
  const height = labelled.length * (barH + 8) + 30;
  const x = scaleLinear()
    .domain([0, 100])
    .range([left, width - right]);
  const y = scaleBand<number>()
    .domain(labelled.map((_, i) => i))
    .range([10, height - 20])
    .padding(0.2);
  const parts: string[] = [];
  for (const t of [0, 25, 50, 75, 100]) {
    parts.push(
      `<line class="grid" x1="${n(x(t))}" x2="${n(x(t))}" y1="5" y2="${height - 18}"/>`,
      `<text class="tick" x="${n(x(t))}" y="${height - 4}" text-anchor="middle">${t}%</text>`,
    );
  }
  labelled.forEach((r, i) => {
    const top = y(i)!;
    const h = y.bandwidth();
    parts.push(
      `<text class="label" x="${left - 8}" y="${n(top + h / 2 + 4)}" text-anchor="end">${escapeHtml(groupName(r))}</text>`,
      `<rect class="bar" x="${n(x(0))}" y="${n(top)}" width="${n(x(r.pctCorrect!) - x(0))}" height="${n(h)}"><title>${escapeHtml(
        `${groupName(r)}: ${r.correct} of ${r.labelled} correct`,
      )}</title></rect>`,
      `<text class="value" x="${n(x(r.pctCorrect!) + 6)}" y="${n(top + h / 2 + 4)}">${fmt(r.pctCorrect, 0)}% (${r.correct}/${r.labelled})</text>`,
    );
  });
  return `<svg class="chart" role="img" aria-label="Percent correct per model and context" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

/** Each metric's mean tau with its 95% interval, on [-1, 1], with the reviewers' agreement as a line. */
export function tauChart(rows: readonly TauRow[], human?: TauRow): string {
  const shown = rows.filter((r) => !Number.isNaN(r.mean));
  if (shown.length === 0) return '<p class="muted">No ranked answers yet: no chart of agreement.</p>';
  const width = 640;
  const left = 160;
  const right = 60;
  const height = shown.length * 30 + 40;
  const x = scaleLinear()
    .domain([-1, 1])
    .range([left, width - right]);
  const y = scaleBand<number>()
    .domain(shown.map((_, i) => i))
    .range([10, height - 30])
    .padding(0.25);
  const path = line<[number, number]>()
    .x((d) => d[0])
    .y((d) => d[1]);
  const parts: string[] = [];
  for (const t of [-1, -0.5, 0, 0.5, 1]) {
    parts.push(
      `<line class="${t === 0 ? 'axis' : 'grid'}" x1="${n(x(t))}" x2="${n(x(t))}" y1="5" y2="${height - 28}"/>`,
      `<text class="tick" x="${n(x(t))}" y="${height - 14}" text-anchor="middle">${t}</text>`,
    );
  }
  if (human && !Number.isNaN(human.mean)) {
    parts.push(
      `<line class="human" x1="${n(x(human.mean))}" x2="${n(x(human.mean))}" y1="5" y2="${height - 28}"><title>${escapeHtml(
        `Between reviewers: ${fmt(human.mean, 3)}`,
      )}</title></line>`,
      `<text class="human-label" x="${n(x(human.mean) + 4)}" y="${height - 2}">reviewers ${fmt(human.mean, 2)}</text>`,
    );
  }
  shown.forEach((r, i) => {
    const top = y(i)!;
    const h = y.bandwidth();
    const mid = top + h / 2;
    const from = Math.min(x(0), x(r.mean));
    parts.push(
      `<text class="label" x="${left - 8}" y="${n(mid + 4)}" text-anchor="end">${escapeHtml(r.label)}</text>`,
      `<rect class="bar tau" x="${n(from)}" y="${n(top)}" width="${n(Math.abs(x(r.mean) - x(0)))}" height="${n(h)}"><title>${escapeHtml(
        `${r.label}: tau ${fmt(r.mean, 3)} (95% ${fmt(r.low, 3)} to ${fmt(r.high, 3)}, ${r.n} instructions)`,
      )}</title></rect>`,
    );
    if (!Number.isNaN(r.low)) {
      parts.push(
        `<path class="whisker" d="${path([
          [x(r.low), mid],
          [x(r.high), mid],
        ])!}"/>`,
        `<path class="whisker" d="${path([
          [x(r.low), mid - 5],
          [x(r.low), mid + 5],
        ])!}"/>`,
        `<path class="whisker" d="${path([
          [x(r.high), mid - 5],
          [x(r.high), mid + 5],
        ])!}"/>`,
      );
    }
    parts.push(`<text class="value" x="${n(x(1) + 6)}" y="${n(mid + 4)}">${fmt(r.mean, 2)}</text>`);
  });
  return `<svg class="chart" role="img" aria-label="Kendall tau of each metric with the clinicians' ranks" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

function groupTable(rows: readonly GroupRow[], metrics: readonly ReportMetric[]): string {
  const digits = (m: ReportMetric) => (m.scale === '0-100' ? 1 : 3);
  const head = [
    'model @ context',
    'answers',
    'correct',
    '% correct',
    'mean rank',
    ...metrics.map((m) => m.label),
  ];
  const body = rows
    .map(
      (g) =>
        `<tr><th scope="row">${escapeHtml(groupName(g))}</th><td>${g.answers}</td><td>${g.correct}/${g.labelled}</td><td>${fmt(
          g.pctCorrect,
          1,
        )}</td><td>${fmt(g.meanRank, 2)}</td>${metrics.map((m) => `<td>${fmt(g.metrics[m.id], digits(m))}</td>`).join('')}</tr>`,
    )
    .join('');
  return `<table><thead><tr>${head.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table>`;
}

function tauTable(rows: readonly TauRow[], first: string): string {
  const body = rows
    .map(
      (t) =>
        `<tr><th scope="row">${escapeHtml(t.label)}</th><td>${fmt(t.mean, 3)}</td><td>${
          Number.isNaN(t.low) ? '–' : `${fmt(t.low, 3)} to ${fmt(t.high, 3)}`
        }</td><td>${t.n}</td><td>${t.skipped}</td></tr>`,
    )
    .join('');
  return `<table><thead><tr><th scope="col">${escapeHtml(first)}</th><th scope="col">mean tau</th><th scope="col">95% interval</th><th scope="col">instructions</th><th scope="col">left out</th></tr></thead><tbody>${body}</tbody></table>`;
}

const STYLE = `
:root { color-scheme: light dark; --fg: #1f2328; --muted: #656d76; --grid: #d0d7de; --bar: #0969da; --human: #cf222e; --bg: #ffffff; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #8d96a0; --grid: #30363d; --bar: #4493f8; --human: #f85149; --bg: #0d1117; } }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); margin: 2rem; max-width: 1100px; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; } h3 { font-size: 1rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--grid); padding: 0.25rem 0.6rem; text-align: right; }
th[scope=row], thead th:first-child { text-align: left; }
.muted, .tick { color: var(--muted); fill: var(--muted); }
.chart text { font-size: 12px; fill: var(--fg); }
.chart .tick { fill: var(--muted); }
.grid { stroke: var(--grid); } .axis { stroke: var(--muted); }
.bar { fill: var(--bar); } .whisker { stroke: var(--fg); stroke-width: 1.5; fill: none; }
.human { stroke: var(--human); stroke-width: 2; stroke-dasharray: 4 3; } .human-label { fill: var(--human); }
`;

/** The whole report page. */
export function formatReportHtml(r: Report, title = 'MedAlign review report'): string {
  const styleHash = createHash('sha256').update(STYLE).digest('base64');
  const c = r.counts;
  const human = r.interRater[0];
  const sections: string[] = [
    `<h1>${escapeHtml(title)}</h1>`,
    `<p>${c.instructions} instructions, ${c.answers} answers, ${c.reviewers} reviewer(s), ${
      c.judgements - c.staleJudgements
    } judgements${c.staleJudgements ? ` (${c.staleJudgements} stale, left out)` : ''}.</p>`,
    `<h2>Percent correct by model and context</h2>`,
    correctChart(r.groups),
    groupTable(r.groups, r.metrics),
    `<h2>Agreement of each metric with the clinicians</h2>`,
    `<p class="muted">Kendall's tau-b per instruction, averaged over instructions; bars: mean, whiskers: 95% bootstrap interval${
      human ? '; dashed line: agreement between reviewers' : ''
    }.</p>`,
    tauChart(r.metricTau, human),
    tauTable(r.metricTau, 'metric'),
    `<h2>Agreement between reviewers</h2>`,
    r.interRater.length
      ? tauTable(r.interRater, 'reviewers')
      : '<p class="muted">Needs two reviewers who ranked the same answers.</p>',
  ];
  if (r.contextDiffs.length) {
    const body = r.contextDiffs
      .map(
        (d) =>
          `<tr><th scope="row">${escapeHtml(d.endpoint === d.model ? d.endpoint : `${d.endpoint} (${d.model})`)}</th><td>${escapeHtml(
            `${d.large} − ${d.small}`,
          )}</td><td>${fmt(d.pctCorrect, 1)}</td><td>${fmt(d.meanRank, 2)}</td>${r.metrics
            .map((m) => `<td>${fmt(d.metrics[m.id], m.scale === '0-100' ? 1 : 3)}</td>`)
            .join('')}</tr>`,
      )
      .join('');
    sections.push(
      `<h2>Largest minus smallest context, per model</h2>`,
      `<table><thead><tr><th scope="col">model</th><th scope="col">contexts</th><th scope="col">Δ % correct</th><th scope="col">Δ mean rank</th>${r.metrics
        .map((m) => `<th scope="col">Δ ${escapeHtml(m.label)}</th>`)
        .join('')}</tr></thead><tbody>${body}</tbody></table>`,
    );
  }
  sections.push(`<h2>By category</h2>`);
  for (const cat of r.byCategory)
    sections.push(`<h3>${escapeHtml(cat.category)}</h3>`, groupTable(cat.rows, r.metrics));
  if (r.byLengthQuartile.length) {
    sections.push(`<h2>By record length (quartiles, tokens)</h2>`);
    for (const q of r.byLengthQuartile) {
      sections.push(
        `<h3>Quartile ${q.quartile}: ${q.from}–${q.to} tokens</h3>`,
        groupTable(q.rows, r.metrics),
      );
    }
  }
  sections.push(`<h2>Notes</h2><ul>${r.notes.map((x) => `<li>${escapeHtml(x)}</li>`).join('')}</ul>`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'sha256-${styleHash}'; img-src 'none'; script-src 'none'; form-action 'none'; base-uri 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${sections.join('\n')}
</body>
</html>
`;
}
