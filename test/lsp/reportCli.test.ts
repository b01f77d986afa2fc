/**
 * `medalign report` and `medalign review export` as processes, on a project with saved runs (the
 * run store) and two reviewers' review files (the review store), one of them stale.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { makeProjectDir, validInstruction } from '../helpers/fixtures';
import { runCliProcess } from '../helpers/cliProcess';
import { fakeRun } from '../helpers/reviewFixtures';
import { RunStore } from '../../engine/src/run/store';
import { ReviewStore } from '../../engine/src/run/reviewStore';
import { candidateOfRun } from '../../engine/src/core/review/reviewStatus';
import type { ReviewFile } from '../../engine/src/core/review/reviewFile';
import type { RunRecord } from '../../engine/src/core/run/runRecord';
import { scoreAnswer } from '../../engine/src/core/metrics/metrics';

const GOLD = 'Labetalol 5 mg IV.';

async function project(): Promise<{ dir: string; runs: RunRecord[] }> {
  const dir = makeProjectDir('report');
  writeFileSync(path.join(dir, 'instructions/a.medalign'), validInstruction(7222697931));
  writeFileSync(
    path.join(dir, 'instructions/b.medalign'),
    validInstruction(7222697932).replace('retrieve medication information', 'summarize'),
  );
  const store = new RunStore(dir);
  const runs: RunRecord[] = [];
  const answers: Record<string, [string, string]> = {
    '7222697931': ['Labetalol 5 mg IV was given.', 'Metoprolol.'],
    '7222697932': ['Labetalol 5 mg IV.', 'Labetalol 10 mg by mouth.'],
  };
  let n = 0;
  for (const [id, [a, b]] of Object.entries(answers)) {
    const file = id.endsWith('1') ? 'instructions/a.medalign' : 'instructions/b.medalign';
    for (const [endpoint, response] of [
      ['gpt-4o', a],
      ['local-vllm', b],
    ] as const) {
      const run = fakeRun({
        id: `20260101T00000000${n++}Z-abc`,
        endpoint,
        createdAt: `2026-01-01T00:00:0${n}.000Z`,
        response,
        instructionId: id,
        instructionFile: file,
      });
      await store.save(run);
      runs.push(run);
    }
  }
  const reviews = new ReviewStore(dir, 'reviews');
  const review = (
    id: string,
    reviewer: string,
    ranks: [number, number],
    labels: ['correct' | 'incorrect', 'correct' | 'incorrect'],
  ): ReviewFile => ({
    format: 'medalign-review',
    version: 1,
    instruction: { id },
    reviewer,
    blinded: true,
    updatedAt: '2026-01-02T00:00:00.000Z',
    answers: runs
      .filter((r) => r.instruction.id === id)
      .map((r, k) => {
        const c = candidateOfRun(r);
        return {
          run: { id: r.id, key: r.key },
          endpoint: c.endpoint,
          model: c.model,
          context: c.context,
          contextLabel: c.contextLabel,
          hashes: c.hashes,
          label: labels[k],
          tags: k === 1 ? ['wrong fact'] : [],
          comment: k === 1 ? 'says "metoprolol", = wrong drug' : '',
          rank: ranks[k],
          submittedAt: '2026-01-02T00:00:00.000Z',
        };
      }),
  });
  await reviews.write(review('7222697931', 'Dr A', [1, 2], ['correct', 'incorrect']));
  await reviews.write(review('7222697932', 'Dr A', [1, 2], ['correct', 'incorrect']));
  await reviews.write(review('7222697931', 'Dr B', [1, 2], ['correct', 'incorrect']));
  const stale = review('7222697932', 'Dr B', [2, 1], ['incorrect', 'correct']);
  stale.answers[0].hashes = { ...stale.answers[0].hashes, answer: 'changed:1' };
  await reviews.write(stale);
  return { dir, runs };
}

test('medalign report --json: the tables from runs and review files, scores cached', async () => {
  const { dir } = await project();
  try {
    const r = await runCliProcess(dir, ['report', 'instructions', '--json', '--resamples', '200']);
    assert.equal(r.status, 0, r.stderr);
    const rep = JSON.parse(r.stdout) as {
      counts: Record<string, number>;
      groups: {
        endpoint: string;
        correct: number;
        labelled: number;
        meanRank: number;
        metrics: Record<string, number>;
      }[];
      metricTau: { id: string; mean: number; n: number }[];
      interRater: { id: string; mean: number; n: number }[];
      byCategory: { category: string }[];
    };
    assert.deepEqual(rep.counts, {
      instructions: 2,
      answers: 4,
      reviewers: 2,
      judgements: 8,
      staleJudgements: 1,
    });
    // gpt-4o: A ✓ ✓, B ✓ (Dr B's is stale) → 3 of 3, ranks 1 1 1. local-vllm: ✗ ✗ ✗ then Dr B's ✓ → 1 of 4, ranks 2 2 2 1.
    assert.deepEqual(
      rep.groups.map((g) => [g.endpoint, g.correct, g.labelled, g.meanRank]),
      [
        ['gpt-4o', 3, 3, 1],
        ['local-vllm', 1, 4, 1.75],
      ],
    );
    const gptScores = ['Labetalol 5 mg IV was given.', 'Labetalol 5 mg IV.'].map((a) => scoreAnswer(GOLD, a));
    assert.equal(rep.groups[0].metrics['rougeL'], (gptScores[0].rougeL + gptScores[1].rougeL) / 2);
    assert.deepEqual(
      rep.byCategory.map((c) => c.category),
      ['retrieve medication information', 'summarize'],
    );
    // Every metric puts the gold-like answer first, as the reviewers do: tau 1 on both instructions
    // (Dr B's B review has one non-stale rank: no tau there).
    for (const t of rep.metricTau) assert.deepEqual([t.id, t.mean, t.n], [t.id, 1, 2]);
    assert.deepEqual(
      rep.interRater.map((t) => [t.id, t.mean, t.n]),
      [['Dr A vs Dr B', 1, 1]],
    );
    // The six built-in metrics are cached together, one row per answer/gold pair.
    assert.ok(existsSync(path.join(dir, '.medalign', 'scores', '_builtin.json')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('medalign report: text, CSV and an HTML page; bad options exit 2', async () => {
  const { dir } = await project();
  try {
    const text = await runCliProcess(dir, ['report', 'instructions']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(
      text.stdout,
      /^MedAlign review report: 2 instructions, 4 answers, 2 reviewer\(s\), 7 judgements \(\+1 stale, left out\)$/m,
    );
    assert.match(text.stdout, /^gpt-4o \(gpt-4o-model\) @ 32k +2 +3\/3 +100\.0 +1\.00 /m);
    assert.match(text.stdout, /averaged over instructions/);
    const csv = await runCliProcess(dir, ['report', 'instructions', '--csv']);
    assert.match(
      csv.stdout,
      /^section,group,endpoint,model,context,answers,labelled,correct,pct_correct,ranked,mean_rank,rouge1,rouge2,rougeL,bleu,chrf,chrfpp\r$/m,
    );
    assert.match(csv.stdout, /^metric_tau,rougeL,1,1,1,2,0,1000,20231\r$/m);
    const html = await runCliProcess(dir, ['report', 'instructions', '--html', 'report.html']);
    assert.equal(html.status, 0, html.stderr);
    assert.match(html.stderr, /wrote report\.html/);
    const page = readFileSync(path.join(dir, 'report.html'), 'utf8');
    assert.match(page, /^<!DOCTYPE html>/);
    assert.equal((page.match(/<svg /g) ?? []).length, 2);
    assert.ok(!/<script/i.test(page));
    const both = await runCliProcess(dir, ['report', '--json', '--csv']);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /choose one of --json, --csv and --html/);
    const missing = await runCliProcess(dir, ['report', 'nope']);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /no such file or folder: nope/);
    const badSeed = await runCliProcess(dir, ['report', '--seed', 'x']);
    assert.match(badSeed.stderr, /--seed must be a whole number/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('medalign review export: one CSV row per reviewed answer, stale marked, text fields quoted', async () => {
  const { dir, runs } = await project();
  try {
    const r = await runCliProcess(dir, ['review', 'export']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split('\r\n').filter(Boolean);
    assert.equal(lines.length, 1 + 8);
    assert.equal(
      lines[0],
      'instruction_id,instruction_file,category,reviewer,blinded,endpoint,model,context,run_id,run_key,label,rank,tags,comment,submitted_at,stale,stale_fields',
    );
    const vllmA = runs.find((x) => x.instruction.id === '7222697931' && x.endpoint.id === 'local-vllm')!;
    assert.ok(
      lines.includes(
        `7222697931,instructions/a.medalign,retrieve medication information,Dr A,yes,local-vllm,local-vllm-model,32k,${vllmA.id},${vllmA.key},incorrect,2,wrong fact,"says ""metoprolol"", = wrong drug",2026-01-02T00:00:00.000Z,no,`,
      ),
      lines.join('\n'),
    );
    assert.ok(
      lines.some(
        (l) =>
          l.startsWith('7222697932,instructions/b.medalign,summarize,Dr B,yes,gpt-4o,') &&
          l.endsWith(',yes,answer'),
      ),
    );
    const out = await runCliProcess(dir, ['review', 'export', 'instructions', '--out', 'labels.csv']);
    assert.match(out.stderr, /8 row\(s\) written to labels\.csv/);
    assert.equal(readFileSync(path.join(dir, 'labels.csv'), 'utf8'), r.stdout);
    const usage = await runCliProcess(dir, ['review', 'import']);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /usage: medalign review export/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
