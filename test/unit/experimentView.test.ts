/**
 * The experiment view (engine/src/host/experimentView.ts) is the one model of the editor's results
 * view and `medalign experiment --html`: the page draws exactly its charts' points, and every
 * string from a template name or an answer is escaped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExperiment } from '../../engine/src/core/experiment/spec';
import { planCells } from '../../engine/src/core/experiment/plan';
import type { Observation } from '../../engine/src/core/experiment/verdict';
import { buildVerdict } from '../../engine/src/core/experiment/verdict';
import { experimentView } from '../../engine/src/host/experimentView';
import { experimentHtml } from '../../engine/src/host/experimentHtml';

test('experiment view: one geometry for the results view and the --html page; strings escaped', () => {
  const parsed = parseExperiment(
    JSON.stringify({ instructions: 'x', template: ['builtin', '<b>.prompt'], context: ['2k', '8k'] }),
  );
  assert.ok(parsed.ok);
  const cells = planCells(parsed.spec, 'file:///ws/e.experiment.json').cells;
  const observations: Observation[] = [];
  for (let i = 0; i < 12; i++)
    for (const c of cells)
      observations.push({
        instruction: `i${i}`,
        cell: c.index,
        ok: true,
        promptTokens: 100,
        scores: { rougeL: 0.2 + (c.values.template === 'builtin' ? 0 : 0.1) + (i % 3) / 100 },
      });
  const verdict = buildVerdict({
    cells,
    observations,
    metrics: [{ id: 'rougeL', label: 'ROUGE-L', higherIsBetter: true, digits: 3 }],
    resamples: 200,
    seed: 1,
  });
  const changed = [
    {
      a: 0,
      b: 2,
      metric: 'ROUGE-L',
      rows: [{ instruction: 'i1', change: 0.5, delta: 0.1, a: 'x', b: '<script>', gold: 'g' }],
    },
  ];
  const view = experimentView({ name: 'e', size: '12 × 4', verdict, changed });
  assert.equal(view.charts.length, 1);
  const chart = view.charts[0];
  assert.equal(chart.points.length, 4);
  assert.ok(chart.points.every((p) => p.lo <= p.x && p.x <= p.hi && p.x >= chart.left && p.x <= chart.width));
  assert.equal(view.sentences.length, 4);
  assert.match(
    view.sentences[0],
    /^<b>\.prompt vs builtin \(context 2k\): <b>\.prompt beats builtin on ROUGE-L by 0\.100/,
  );
  const page = experimentHtml(verdict, 'e', '12 × 4', changed);
  assert.equal(page.match(/<circle /g)?.length, chart.points.length);
  for (const p of chart.points) assert.ok(page.includes(`<circle cx="${p.x}" cy="${p.y}" r="4"/>`));
  assert.ok(!page.includes('<b>') && !/<script/i.test(page));
  assert.ok(page.includes('&lt;b&gt;.prompt − builtin (2k)'));
  assert.ok(page.includes('&lt;script&gt;'));
});
