/**
 * The report's arithmetic on a hand-checked fixture: two instructions × three answers (gpt at 2k
 * and 32k, llama at 2k), two reviewers, one stale judgement, two metrics (one where lower is
 * better). Every expected number below is worked out in the comments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport } from '../../engine/src/core/metrics/report';
import type { ReportInput, ReportAnswer } from '../../engine/src/core/metrics/report';
import { csvField, formatReportCsv, formatReportText } from '../../engine/src/core/metrics/reportFormat';
import { formatReportHtml } from '../../engine/src/host/reportHtml';

const gpt2 = { endpoint: 'gpt', model: 'gpt-4o', context: 2048, contextLabel: '2k' };
const gpt32 = { endpoint: 'gpt', model: 'gpt-4o', context: 32768, contextLabel: '32k' };
const llama2 = { endpoint: 'llama', model: 'llama', context: 2048, contextLabel: '2k' };
const ans = (slot: typeof gpt2, m1: number, m2: number, recordTokens: number): ReportAnswer => ({
  ...slot,
  recordTokens,
  scores: { m1, m2 },
});
const j = (answer: number, label: 'correct' | 'incorrect', rank: number, stale = false) => ({
  answer,
  label,
  rank,
  stale,
});

const fixture = (): ReportInput => ({
  metrics: [
    { id: 'm1', label: 'M1', higherIsBetter: true, scale: '0-1' },
    { id: 'm2', label: 'M2', higherIsBetter: false, scale: 'other' },
  ],
  instructions: [
    {
      id: 'A',
      category: 'summarize',
      answers: [ans(gpt2, 0.2, 5, 1000), ans(gpt32, 0.6, 3, 1000), ans(llama2, 0.4, 1, 1000)],
      reviews: [
        { reviewer: 'r1', judgements: [j(0, 'incorrect', 3), j(1, 'correct', 1), j(2, 'correct', 2)] },
        { reviewer: 'r2', judgements: [j(0, 'incorrect', 3), j(1, 'correct', 2), j(2, 'correct', 1)] },
      ],
    },
    {
      id: 'B',
      category: 'calculate',
      answers: [ans(gpt2, 0.5, 2, 4000), ans(gpt32, 0.5, 2, 4000), ans(llama2, 0.1, 1, 4000)],
      reviews: [
        { reviewer: 'r1', judgements: [j(0, 'correct', 1), j(1, 'correct', 1), j(2, 'incorrect', 2)] },
        {
          reviewer: 'r2',
          judgements: [j(0, 'correct', 1, true), j(1, 'incorrect', 2), j(2, 'incorrect', 3)],
        },
      ],
    },
  ],
});

const close = (a: number | null | undefined, b: number, what: string) =>
  assert.ok(a !== null && a !== undefined && Math.abs(a - b) < 1e-12, `${what}: ${a} is not ${b}`);

test('report: counts, and per model/context percent correct, mean rank and metric means', () => {
  const r = buildReport(fixture());
  assert.deepEqual(r.counts, {
    instructions: 2,
    answers: 6,
    reviewers: 2,
    judgements: 12,
    staleJudgements: 1,
  });
  assert.deepEqual(
    r.groups.map((g) => [g.endpoint, g.contextLabel, g.answers, g.correct, g.labelled, g.ranked]),
    [
      // gpt@2k: A r1 ✗ r2 ✗, B r1 ✓ (r2's is stale): 1 of 3; ranks 3, 3, 1.
      ['gpt', '2k', 2, 1, 3, 3],
      // gpt@32k: A ✓ ✓, B ✓ ✗: 3 of 4; ranks 1, 2, 1, 2.
      ['gpt', '32k', 2, 3, 4, 4],
      // llama@2k: A ✓ ✓, B ✗ ✗: 2 of 4; ranks 2, 1, 2, 3.
      ['llama', '2k', 2, 2, 4, 4],
    ],
  );
  const [g2, g32, l2] = r.groups;
  close(g2.pctCorrect, 100 / 3, 'gpt@2k %');
  close(g2.meanRank, 7 / 3, 'gpt@2k rank');
  close(g2.metrics['m1'], 0.35, 'gpt@2k m1');
  close(g2.metrics['m2'], 3.5, 'gpt@2k m2');
  close(g32.pctCorrect, 75, 'gpt@32k %');
  close(g32.meanRank, 1.5, 'gpt@32k rank');
  close(g32.metrics['m1'], 0.55, 'gpt@32k m1');
  close(l2.pctCorrect, 50, 'llama %');
  close(l2.meanRank, 2, 'llama rank');
  close(l2.metrics['m1'], 0.25, 'llama m1');
  close(l2.metrics['m2'], 1, 'llama m2');
});

test('report: largest minus smallest context per model (only models with two contexts)', () => {
  const r = buildReport(fixture());
  assert.equal(r.contextDiffs.length, 1);
  const d = r.contextDiffs[0];
  assert.deepEqual([d.endpoint, d.small, d.large], ['gpt', '2k', '32k']);
  close(d.pctCorrect, 75 - 100 / 3, 'Δ%');
  close(d.meanRank, 1.5 - 7 / 3, 'Δrank');
  close(d.metrics['m1'], 0.2, 'Δm1');
  close(d.metrics['m2'], -1, 'Δm2');
});

test('report: by category and by record-length quartile', () => {
  const r = buildReport(fixture());
  assert.deepEqual(
    r.byCategory.map((c) => c.category),
    ['calculate', 'summarize'],
  );
  const calc = r.byCategory[0].rows;
  assert.deepEqual(
    calc.map((g) => [g.contextLabel, g.correct, g.labelled, g.meanRank, g.metrics['m1']]),
    [
      ['2k', 1, 1, 1, 0.5],
      ['32k', 1, 2, 1.5, 0.5],
      ['2k', 0, 2, 2.5, 0.1],
    ],
  );
  // Lengths 1000 ×3 and 4000 ×3: cuts at 1000, 2500, 4000 → quartiles 1 and 3.
  assert.deepEqual(
    r.byLengthQuartile.map((q) => [q.quartile, q.from, q.to, q.rows.length]),
    [
      [1, 1000, 1000, 3],
      [3, 4000, 4000, 3],
    ],
  );
});

test("report: each metric's tau with the clinicians, per instruction then averaged, and between reviewers", () => {
  const r = buildReport(fixture());
  const [m1, m2] = r.metricTau;
  // m1 — A: r1 1, r2 1/3 → 2/3; B: r1 1 (ties in both), r2 1 (stale answer left out) → 1. Mean 5/6.
  close(m1.mean, 5 / 6, 'tau m1');
  assert.equal(m1.n, 2);
  // m2, negated (lower is better) — A: r1 1/3, r2 1 → 2/3; B: r1 −1, r2 −1 → −1. Mean −1/6.
  close(m2.mean, -1 / 6, 'tau m2');
  for (const t of r.metricTau) assert.ok(t.low <= t.mean && t.mean <= t.high, JSON.stringify(t));
  // r1 vs r2 — A: 1/3; B (answers 1 and 2 only): 1. Mean 2/3.
  assert.equal(r.interRater.length, 1);
  assert.equal(r.interRater[0].id, 'r1 vs r2');
  close(r.interRater[0].mean, 2 / 3, 'inter-rater');
  // Deterministic: the same input gives the same intervals.
  assert.deepEqual(buildReport(fixture()).metricTau, r.metricTau);
  assert.ok(r.notes.some((n) => /averaged over instructions/.test(n)));
  assert.ok(r.notes.some((n) => /1 stale judgement/.test(n)));
});

test('report: undefined tau (one ranked answer, all tied) is left out and counted; no reviews at all', () => {
  const input = fixture();
  input.instructions.push({
    id: 'C',
    answers: [ans(gpt2, 0.3, 1, 10), ans(gpt32, 0.9, 1, 10)],
    reviews: [{ reviewer: 'r1', judgements: [j(0, 'correct', 1), j(1, 'correct', 1)] }],
  });
  const r = buildReport(input);
  assert.equal(r.metricTau[0].n, 2);
  assert.equal(r.metricTau[0].skipped, 1);
  assert.ok(r.byCategory.some((c) => c.category === '(no category)'));
  const empty = buildReport({ metrics: input.metrics, instructions: [] });
  assert.deepEqual(empty.groups, []);
  assert.ok(Number.isNaN(empty.metricTau[0].mean));
  assert.deepEqual(empty.interRater, []);
});

test('report formats: text tables, CSV (quoted, formula-safe), HTML (escaped, no script, strict CSP)', () => {
  const input = fixture();
  input.instructions[0].answers[2].endpoint = '<script>alert(1)</script>';
  input.instructions[1].answers[2].endpoint = '<script>alert(1)</script>';
  input.instructions[0].category = '=HYPERLINK("http://x")';
  const r = buildReport(input);
  const text = formatReportText(r);
  assert.match(text, /^gpt \(gpt-4o\) @ 32k +2 +3\/4 +75\.0 +1\.50 +0\.550 +2\.500$/m);
  assert.match(text, /M1 +0\.833 +-?\d\.\d{3} to \d\.\d{3} +2 +0$/m);
  const csv = formatReportCsv(r);
  assert.match(csv, /^all,,gpt,gpt-4o,32k,2,4,3,75,4,1\.5,0\.55,2\.5\r$/m);
  assert.match(csv, /^category,"'=HYPERLINK\(""http:\/\/x""\)",/m);
  assert.equal(csvField('-1'), "'-1");
  assert.equal(csvField(-1), '-1');
  const html = formatReportHtml(r);
  assert.ok(!/<script/i.test(html), 'a <script> element in the page');
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(
    html,
    /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; img-src 'none'; script-src 'none'/,
  );
  assert.ok(!/https?:\/\/(?!x")/.test(html.replace(/&quot;http:\/\/x&quot;/g, '')), 'a remote resource');
  assert.equal((html.match(/<svg /g) ?? []).length, 2);
  assert.match(html, /<rect class="bar"[^>]*><title>gpt \(gpt-4o\) @ 32k: 3 of 4 correct<\/title>/);
});
