/**
 * The editor's review pieces that need no editor: the review panel's message check (what the
 * webview may send) and the Report view's chart geometry and tables from a core report.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFromReview } from '../../client/src/review/reviewMessages';
import { correctChart, reportView, shortLabel, tauChart } from '../../client/src/review/reportChart';
import { buildReport } from '../../engine/src/core/metrics/report';

test('review panel messages: well-formed ones pass, anything else is dropped', () => {
  const j = { label: 'correct', tags: ['omission'], comment: 'ok', rank: 2 };
  assert.deepEqual(parseFromReview({ type: 'edit', session: 3, index: 1, judgement: j }), {
    type: 'edit',
    session: 3,
    index: 1,
    judgement: j,
  });
  assert.deepEqual(parseFromReview({ type: 'navigate', direction: 'nextUnreviewed' }), {
    type: 'navigate',
    direction: 'nextUnreviewed',
  });
  assert.deepEqual(parseFromReview({ type: 'rendered', session: 1, pageMs: 12.5 }), {
    type: 'rendered',
    session: 1,
    pageMs: 12.5,
  });
  const bad: unknown[] = [
    null,
    'edit',
    { type: 'edit', session: '3', index: 1, judgement: j },
    { type: 'edit', session: 3, index: 1.5, judgement: j },
    { type: 'edit', session: 3, index: 1, judgement: { ...j, label: 'maybe' } },
    { type: 'edit', session: 3, index: 1, judgement: { ...j, rank: 0 } },
    { type: 'edit', session: 3, index: 1, judgement: { ...j, tags: [1] } },
    { type: 'edit', session: 3, index: 1, judgement: { ...j, comment: 'x'.repeat(20_001) } },
    { type: 'navigate', direction: 'sideways' },
    { type: 'rendered', session: 1, pageMs: Number.NaN },
    { type: 'openFile', path: '/etc/passwd' },
  ];
  for (const m of bad) assert.equal(parseFromReview(m), undefined, JSON.stringify(m));
});

test('report view: tables and chart geometry from a core report', () => {
  const answers = [
    { endpoint: 'gpt4', model: 'gpt-4', context: 32768, contextLabel: '32k', scores: { rougeL: 0.5 } },
    { endpoint: 'llama', model: 'llama-3', context: 32768, contextLabel: '32k', scores: { rougeL: 0.2 } },
  ];
  const report = buildReport({
    metrics: [{ id: 'rougeL', label: 'ROUGE-L F', higherIsBetter: true, scale: '0-1' }],
    instructions: [1, 2, 3].map((i) => ({
      id: String(i),
      answers,
      reviews: [
        {
          reviewer: 'Ada',
          judgements: [
            { answer: 0, label: 'correct' as const, rank: 1, stale: false },
            {
              answer: 1,
              label: i === 1 ? ('correct' as const) : ('incorrect' as const),
              rank: 2,
              stale: false,
            },
          ],
        },
      ],
    })),
  });
  const v = reportView(report, 'project');
  assert.equal(v.tables[0]?.caption, 'By model and context');
  assert.deepEqual(
    v.tables[0]?.rows.map((r) => r.slice(0, 5)),
    [
      ['gpt4 (gpt-4) @ 32k', '3', '100.0%', '3 / 3', '1.00'],
      ['llama (llama-3) @ 32k', '3', '33.3%', '1 / 3', '2.00'],
    ],
  );
  assert.match(v.summary, /^3 instructions · 6 answers · 1 reviewer · 6 judgements$/);
  const c = correctChart(report.groups);
  assert.equal(c.bars.length, 2);
  // 100% is the full plot height, 33.3% a third of it.
  const full = c.bars[0].height;
  assert.ok(Math.abs(c.bars[1].height - full / 3) < 0.5, `${c.bars[1].height} vs ${full}`);
  assert.equal(c.bars[0].value, '100% (3/3)');
  assert.equal(c.bars[0].label, 'gpt4 · 32k');
  assert.equal(c.bars[0].name, 'gpt4 (gpt-4) @ 32k');
  assert.ok(c.ticks.some((t) => t.text === '100%'));
  const t = tauChart(report.metricTau, undefined);
  assert.equal(t.points.length, 1);
  assert.equal(t.points[0].label, 'ROUGE-L F');
  assert.equal(t.points[0].value, '1.00');
  assert.equal(shortLabel('a-very-long-endpoint-name · 32k', 62), 'a-very-lo…');
});
