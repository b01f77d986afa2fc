/**
 * The verdict of an experiment as one self-contained HTML page (`medalign experiment --html`): the
 * cells table, a chart of each comparison's difference with its interval (positions from d3-scale,
 * SVG written as strings in which every text is escaped), the sentences, and per pair of cells the
 * instructions whose answers changed most, each opening (a `<details>`) the two answers beside the
 * gold response. No script; the page's CSP allows only its own style block (by hash).
 */
import { createHash } from 'node:crypto';
import { scaleLinear } from 'd3-scale';
import type { Verdict, VerdictMetric, Comparison } from '../core/experiment/verdict';
import { comparisonsByPair, pairSentence } from '../core/experiment/verdict';
import { DIMENSIONS } from '../core/experiment/plan';
import { escapeHtml } from './reportHtml';

/** The instructions that changed most between two cells (run/experiment.ts `changedPairs`). */
export interface ChangedPair {
  a: number;
  b: number;
  metric?: string;
  rows: { instruction: string; change: number; delta: number | null; a: string; b: string; gold: string }[];
}

const r2 = (v: number) => (Math.round(v * 100) / 100).toString();
const fmt = (v: number | null | undefined, d: number) =>
  v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(d);

function comparisonLabel(c: Comparison): string {
  const fixed = DIMENSIONS.flatMap((d) => (c.fixed[d] !== undefined ? [c.fixed[d]] : []));
  return `${c.b} − ${c.a}${fixed.length ? ` (${fixed.join(', ')})` : ''}`;
}

/** One metric's comparisons as dots with interval whiskers around a zero line. */
export function differenceChart(m: VerdictMetric, comparisons: readonly Comparison[]): string {
  const rows = comparisons.filter((c) => c.metric === m.id && c.mean !== null);
  if (rows.length === 0) return '';
  const width = 640;
  const left = 260;
  const right = 80;
  const rowH = 24;
  const height = rows.length * rowH + 34;
  const lo = Math.min(0, ...rows.map((c) => c.low!));
  const hi = Math.max(0, ...rows.map((c) => c.high!));
  const pad = (hi - lo) * 0.05 || 0.01;
  const x = scaleLinear()
    .domain([lo - pad, hi + pad])
    .range([left, width - right])
    .nice();
  const ticks = x.ticks(5);
  const parts: string[] = [
    `<svg class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(`${m.label}: difference b − a with its interval`)}">`,
  ];
  for (const t of ticks) {
    parts.push(
      `<line class="grid" x1="${r2(x(t))}" x2="${r2(x(t))}" y1="4" y2="${height - 24}"/>`,
      `<text class="tick" x="${r2(x(t))}" y="${height - 8}" text-anchor="middle">${escapeHtml(String(t))}</text>`,
    );
  }
  parts.push(`<line class="zero" x1="${r2(x(0))}" x2="${r2(x(0))}" y1="4" y2="${height - 24}"/>`);
  rows.forEach((c, i) => {
    const y = 14 + i * rowH;
    const cls = c.better === 'unclear' ? 'unclear' : 'clear';
    parts.push(
      `<g class="point ${cls}"><title>${escapeHtml(c.sentence)}</title>`,
      `<text class="label" x="${left - 8}" y="${y + 4}" text-anchor="end">${escapeHtml(comparisonLabel(c))}</text>`,
      `<line class="interval" x1="${r2(x(c.low!))}" x2="${r2(x(c.high!))}" y1="${y}" y2="${y}"/>`,
      `<circle cx="${r2(x(c.mean!))}" cy="${y}" r="4"/>`,
      `<text class="value" x="${width - right + 6}" y="${y + 4}">${escapeHtml(fmt(c.mean, m.digits))}</text>`,
      `</g>`,
    );
  });
  parts.push('</svg>');
  return `<figure><figcaption>${escapeHtml(m.label)}: b − a per instruction, ${escapeHtml(
    'mean and 95% interval',
  )}</figcaption>${parts.join('')}</figure>`;
}

const STYLE = `
:root { color-scheme: light dark; }
body { font-family: system-ui, sans-serif; margin: 16px 24px; line-height: 1.4; }
table { border-collapse: collapse; margin: 8px 0 16px; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 2px 12px 2px 0; border-bottom: 1px solid #8884; }
td.num { text-align: right; }
svg text { font-size: 11px; fill: currentColor; }
svg line.grid { stroke: #8884; stroke-width: 0.5; }
svg line.zero { stroke: currentColor; stroke-width: 1; }
svg line.interval { stroke: #d2691e; stroke-width: 2; }
svg g.unclear line.interval { stroke: #888; }
svg circle { fill: #d2691e; }
svg g.unclear circle { fill: #888; }
.side { display: grid; grid-template-columns: 1fr 1fr 1fr; gap: 8px; }
.side pre { white-space: pre-wrap; margin: 0; padding: 6px; border: 1px solid #8884; }
.muted { color: #888; }
`;

export function experimentHtml(
  v: Verdict,
  name: string,
  size: string,
  changed: readonly ChangedPair[] = [],
): string {
  const label = (i: number) => v.cells.find((c) => c.index === i)?.label ?? String(i);
  const head = ['cell', 'runs', 'failed', 'mean prompt tokens', ...v.metrics.map((m) => m.label)];
  const cells = v.cells
    .map(
      (c) =>
        `<tr><th scope="row">${escapeHtml(c.label)}</th><td class="num">${c.runs}</td><td class="num">${c.failed}</td><td class="num">${fmt(
          c.promptTokens,
          0,
        )}</td>${v.metrics.map((m) => `<td class="num">${fmt(c.metrics[m.id], m.digits)}</td>`).join('')}</tr>`,
    )
    .join('');
  const sentences = comparisonsByPair(v)
    .map((p) => `<li>${escapeHtml(pairSentence(p))}</li>`)
    .join('');
  const charts = v.metrics.map((m) => differenceChart(m, v.comparisons)).join('');
  const changes = changed
    .filter((c) => c.rows.length > 0)
    .map(
      (c) =>
        `<h3>${escapeHtml(`${label(c.b)} vs ${label(c.a)}`)}</h3>` +
        c.rows
          .map(
            (row) =>
              `<details><summary>${escapeHtml(row.instruction)} <span class="muted">${escapeHtml(
                `changed ${Math.round(row.change * 100)}%${row.delta !== null ? `, Δ ${c.metric ?? ''} ${row.delta.toFixed(3)}` : ''}`,
              )}</span></summary><div class="side"><div><strong>${escapeHtml(label(c.a))}</strong><pre>${escapeHtml(
                row.a,
              )}</pre></div><div><strong>${escapeHtml(label(c.b))}</strong><pre>${escapeHtml(
                row.b,
              )}</pre></div><div><strong>gold</strong><pre>${escapeHtml(row.gold)}</pre></div></div></details>`,
          )
          .join(''),
    )
    .join('');
  const body = [
    `<h1>${escapeHtml(`Experiment ${name}`)}</h1>`,
    `<p>${escapeHtml(size)}; ${v.instructions} instructions with runs; ${escapeHtml(
      `${Math.round(v.level * 100)}% paired-bootstrap intervals, ${v.resamples} resamples, seed ${v.seed}`,
    )}</p>`,
    `<h2>Verdict</h2><ul>${sentences || '<li>No two cells differ in one dimension.</li>'}</ul>`,
    charts ? `<h2>Differences</h2>${charts}` : '',
    `<h2>Cells</h2><table><thead><tr>${head.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${cells}</tbody></table>`,
    changes ? `<h2>Answers that changed most</h2>${changes}` : '',
  ].join('\n');
  const hash = createHash('sha256').update(STYLE, 'utf8').digest('base64');
  const csp = `default-src 'none'; style-src 'sha256-${hash}'; script-src 'none'; img-src 'none'; base-uri 'none'; form-action 'none'`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(`Experiment ${name}`)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}
