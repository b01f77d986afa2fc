/**
 * The verdict of an experiment as one self-contained HTML page (`medalign experiment --html`): the
 * cells table, a chart of each comparison's difference with its interval (the view and geometry of
 * host/experimentView.ts, shared with the editor's results view; SVG written as strings in which
 * every text is escaped), the sentences, and per pair of cells the
 * instructions whose answers changed most, each opening (a `<details>`) the two answers beside the
 * gold response. No script; the page's CSP allows only its own style block (by hash).
 */
import { createHash } from 'node:crypto';
import type { Verdict } from '../core/experiment/verdict';
import type { ChangedPair, DiffChart } from './experimentView';
import { experimentView } from './experimentView';
import { escapeHtml } from './reportHtml';

const r2 = (v: number) => (Math.round(v * 100) / 100).toString();

/** One metric's chart (host/experimentView.ts's geometry) as escaped SVG markup. */
export function differenceChart(c: DiffChart): string {
  const parts: string[] = [
    `<svg class="chart" viewBox="0 0 ${c.width} ${c.height}" width="${c.width}" height="${c.height}" role="img" aria-label="${escapeHtml(c.title)}">`,
  ];
  for (const t of c.ticks) {
    parts.push(
      `<line class="grid" x1="${r2(t.at)}" x2="${r2(t.at)}" y1="4" y2="${c.bottom}"/>`,
      `<text class="tick" x="${r2(t.at)}" y="${c.bottom + 14}" text-anchor="middle">${escapeHtml(t.text)}</text>`,
    );
  }
  parts.push(`<line class="zero" x1="${r2(c.zero)}" x2="${r2(c.zero)}" y1="4" y2="${c.bottom}"/>`);
  for (const p of c.points) {
    parts.push(
      `<g class="point ${p.clear ? 'clear' : 'unclear'}"><title>${escapeHtml(p.sentence)}</title>`,
      `<text class="label" x="${c.left - 8}" y="${p.y + 4}" text-anchor="end">${escapeHtml(p.label)}</text>`,
      `<line class="interval" x1="${r2(p.lo)}" x2="${r2(p.hi)}" y1="${p.y}" y2="${p.y}"/>`,
      `<circle cx="${r2(p.x)}" cy="${p.y}" r="4"/>`,
      `<text class="value" x="${c.width - 64}" y="${p.y + 4}">${escapeHtml(p.value)}</text>`,
      `</g>`,
    );
  }
  parts.push('</svg>');
  return `<figure><figcaption>${escapeHtml(c.title)}</figcaption>${parts.join('')}</figure>`;
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
  const view = experimentView({ name, size, verdict: v, changed });
  const cells = view.table.rows
    .map(
      ([label, ...nums]) =>
        `<tr><th scope="row">${escapeHtml(label)}</th>${nums.map((n) => `<td class="num">${escapeHtml(n)}</td>`).join('')}</tr>`,
    )
    .join('');
  const sentences = view.sentences.map((x) => `<li>${escapeHtml(x)}</li>`).join('');
  const charts = view.charts.map(differenceChart).join('');
  const changes = view.changed
    .map(
      (c) =>
        `<h3>${escapeHtml(c.title)}</h3>` +
        c.rows
          .map(
            (row) =>
              `<details><summary>${escapeHtml(row.instruction)} <span class="muted">${escapeHtml(
                row.note,
              )}</span></summary><div class="side"><div><strong>${escapeHtml(c.aLabel)}</strong><pre>${escapeHtml(
                row.a,
              )}</pre></div><div><strong>${escapeHtml(c.bLabel)}</strong><pre>${escapeHtml(
                row.b,
              )}</pre></div><div><strong>gold</strong><pre>${escapeHtml(row.gold)}</pre></div></div></details>`,
          )
          .join(''),
    )
    .join('');
  const body = [
    `<h1>${escapeHtml(view.title)}</h1>`,
    `<p>${escapeHtml(view.summary)}</p>`,
    `<h2>Verdict</h2><ul>${sentences || '<li>No two cells differ in one dimension.</li>'}</ul>`,
    charts ? `<h2>Differences</h2>${charts}` : '',
    `<h2>Cells</h2><table><thead><tr>${view.table.head.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${cells}</tbody></table>`,
    changes ? `<h2>Answers that changed most</h2>${changes}` : '',
    `<h2>How to read it</h2><ul>${view.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`,
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
