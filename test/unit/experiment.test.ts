/**
 * Prompt experiments (issue 14): the experiment file and its schema, planning (cells, selection by
 * folder, glob, file and tag), the paired bootstrap (a hand-computed case, and scipy's
 * `bootstrap(paired=True, method='percentile')` on fixed data: exactly with scipy's own resample
 * indices, and within a Monte Carlo tolerance with our seeded resamples), the verdict and its
 * sentences, the JSON/CSV forms, and the editor features (diagnostics, completion).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { repoRoot, makeWorkspace, validInstruction } from '../helpers/fixtures';
import { parseExperiment } from '../../engine/src/core/experiment/spec';
import {
  cellLabel,
  instructionSelector,
  planCells,
  plannedRuns,
  selectInstructions,
  sizeSentence,
} from '../../engine/src/core/experiment/plan';
import {
  intervalFromIndices,
  pairedBootstrap,
  resampleIndices,
} from '../../engine/src/core/experiment/bootstrap';
import type { Observation, VerdictMetric } from '../../engine/src/core/experiment/verdict';
import { buildVerdict, cellPairs, comparisonSentence } from '../../engine/src/core/experiment/verdict';
import { verdictCsv, verdictJson, verdictText } from '../../engine/src/core/experiment/format';
import { strategies } from '../../engine/src/core/schema/schemas';
import {
  experimentCompletion,
  experimentDiagnostics,
  resolveExperiment,
  spanAtJsonPath,
} from '../../engine/src/core/features/experiment';
import { Prng } from '../../engine/src/core/metrics/agreement';

const EXP = 'file:///ws/experiments/t.experiment.json';

function spec(o: Record<string, unknown>) {
  const r = parseExperiment(JSON.stringify(o));
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  return r.spec;
}

// --- The file ---------------------------------------------------------------------------------------

test('experiment file: defaults, a single instructions string, and problems with their paths', () => {
  const s = spec({ instructions: '../instructions', template: ['builtin'] });
  assert.deepEqual(s.instructions, ['../instructions']);
  assert.deepEqual([s.resamples, s.seed, s.concurrency], [2000, 1, 4]);
  const bad = parseExperiment(
    JSON.stringify({ instructions: [], modle: ['x'], context: ['3k'], resamples: 5 }),
  );
  assert.ok(!bad.ok);
  const paths = bad.problems.map((p) => p.path.join('.'));
  assert.ok(paths.includes('modle'), paths.join());
  assert.ok(paths.includes('instructions'), paths.join());
  assert.ok(paths.includes('resamples'), paths.join());
  assert.ok(bad.problems.find((p) => p.path.join('.') === 'modle')!.message.includes("Unknown key 'modle'"));
  const json = parseExperiment('{ "instructions": ');
  assert.ok(!json.ok && /not valid JSON/.test(json.problems[0].message));
});

test('experiment schema: strategy and context items are the instruction schema’s (one source)', () => {
  const schema = JSON.parse(
    readFileSync(path.join(repoRoot, 'engine/src/core/schema/experiment.schema.json'), 'utf8'),
  ) as { properties: Record<string, { items?: { $ref?: string } }> };
  assert.equal(schema.properties['strategy'].items?.$ref, 'instruction.schema.json#/properties/strategy');
  assert.equal(schema.properties['context'].items?.$ref, 'instruction.schema.json#/properties/context');
  // Every strategy an instruction accepts, an experiment accepts; nothing else.
  assert.ok(parseExperiment(JSON.stringify({ instructions: 'x', strategy: [...strategies] })).ok);
  const bad = parseExperiment(JSON.stringify({ instructions: 'x', strategy: ['sideways'] }));
  assert.ok(!bad.ok);
  assert.equal(bad.problems[0].message, `"sideways" is not one of ${strategies.join(', ')}.`);
  assert.ok(parseExperiment(JSON.stringify({ instructions: 'x', context: ['2k', 9000] })).ok);
});

// --- Planning ---------------------------------------------------------------------------------------

test('planning: cells are every combination of the values given, in dimension order', () => {
  const s = spec({
    instructions: 'x',
    template: ['builtin', '../templates/terse.prompt'],
    model: ['baseline', 'gpt-4o', 'local'],
    context: ['8k', 32768],
  });
  const p = planCells(s, EXP);
  assert.deepEqual(
    p.dimensions.map((d) => d.dimension),
    ['template', 'model', 'context'],
  );
  assert.equal(p.cells.length, 12);
  assert.deepEqual(p.cells[0].values, { template: 'builtin', model: 'baseline', context: '8k' });
  assert.deepEqual(p.cells[0].overrides, { template: 'builtin', model: 'baseline', context: '8k' });
  assert.equal(p.cells[11].overrides.template, 'file:///ws/templates/terse.prompt');
  assert.equal(p.cells[11].values.context, '32768');
  assert.equal(cellLabel(p.cells[11]), '../templates/terse.prompt · local · 32768');
  assert.deepEqual(p.problems, []);
  // A dimension left out: one cell, each instruction as written.
  const one = planCells(spec({ instructions: 'x' }), EXP);
  assert.equal(one.cells.length, 1);
  assert.equal(cellLabel(one.cells[0]), 'as written');
  assert.equal(plannedRuns(['a', 'b', 'c'], p.cells).length, 36);
  assert.equal(sizeSentence(1000, 12), '1000 instructions × 12 cells = 12000 runs');
  assert.equal(sizeSentence(1, 1), '1 instruction × 1 cell = 1 run');
});

test('planning: instructions by folder, glob, file and tag', async () => {
  const files = [
    'file:///ws/instructions/a.medalign',
    'file:///ws/instructions/cardio/b.medalign',
    'file:///ws/instructions/cardio/c.medalign',
    'file:///ws/other/d.medalign',
  ];
  const tags: Record<string, string[]> = { [files[1]]: ['cardio'], [files[3]]: ['cardio', 'x'] };
  const sel = (entries: string[]) =>
    selectInstructions(instructionSelector(entries, EXP), files, (u) => tags[u] ?? []);
  assert.deepEqual(await sel(['../instructions']), files.slice(0, 3));
  assert.deepEqual(await sel(['../instructions/cardio']), files.slice(1, 3));
  assert.deepEqual(await sel(['../instructions/*.medalign']), files.slice(0, 1));
  assert.deepEqual(await sel(['../instructions/**/*.medalign']), files.slice(0, 3));
  assert.deepEqual(await sel(['../**/c.medalign', '../other/d.medalign']), [files[2], files[3]]);
  assert.deepEqual(await sel(['tag:cardio']), [files[1], files[3]]);
  assert.deepEqual(await sel(['../instructions', 'tag:cardio']), [files[1]]);
  assert.deepEqual(await sel(['../nowhere']), []);
});

// --- The bootstrap ----------------------------------------------------------------------------------

test('paired bootstrap: a hand-computed case', () => {
  // Differences 1 and 3; four resamples of two: (1,1) (1,3) (3,3) (3,1) → means 1, 2, 3, 2.
  // Sorted 1, 2, 2, 3: the 2.5th percentile is at rank 0.075 → 1.075; the 97.5th at 2.925 → 2.925.
  const r = intervalFromIndices([1, 3], [0, 0, 0, 1, 1, 1, 1, 0]);
  assert.equal(r.n, 2);
  assert.equal(r.mean, 2);
  assert.ok(Math.abs(r.low - 1.075) < 1e-12, String(r.low));
  assert.ok(Math.abs(r.high - 2.925) < 1e-12, String(r.high));
  // Through pairedBootstrap: b − a, NaN pairs left out.
  const p = pairedBootstrap([0, 1, NaN], [1, 4, 2], { resamples: 1000, seed: 3 });
  assert.equal(p.n, 2);
  assert.equal(p.mean, 2);
  assert.ok(p.low >= 1 && p.high <= 3);
});

test('paired bootstrap: seeded and reproducible; its indices come from the shared PRNG', () => {
  const a = [0.1, 0.4, 0.35, 0.2, 0.5, 0.45];
  const b = [0.2, 0.35, 0.5, 0.3, 0.55, 0.5];
  const o = { resamples: 2000, seed: 42 };
  assert.deepEqual(pairedBootstrap(a, b, o), pairedBootstrap(a, b, o));
  assert.notDeepEqual(pairedBootstrap(a, b, o), pairedBootstrap(a, b, { ...o, seed: 43 }));
  const idx = resampleIndices(6, 3, 9);
  const rng = new Prng(9);
  assert.deepEqual(
    Array.from(idx),
    Array.from({ length: 18 }, () => rng.int(6)),
  );
});

interface ScipyCase {
  a: number[];
  b: number[];
  resamples: number;
  seed: number;
  mean: number;
  low: number;
  high: number;
  standardError: number;
  indices?: number[];
}
const scipy = JSON.parse(
  readFileSync(path.join(repoRoot, 'test/fixtures/experiment/bootstrap-scipy.json'), 'utf8'),
) as { source: string; cases: ScipyCase[] };

test('paired bootstrap = scipy.stats.bootstrap (paired, percentile) given scipy’s resample indices', () => {
  const exact = scipy.cases.filter((c) => c.indices);
  assert.ok(exact.length >= 5);
  for (const c of exact) {
    const diffs = c.a.map((x, i) => c.b[i] - x);
    const r = intervalFromIndices(diffs, c.indices!);
    assert.ok(Math.abs(r.mean - c.mean) < 1e-12, `mean n=${c.a.length}`);
    assert.ok(Math.abs(r.low - c.low) < 1e-12, `low n=${c.a.length}: ${r.low} vs ${c.low}`);
    assert.ok(Math.abs(r.high - c.high) < 1e-12, `high n=${c.a.length}: ${r.high} vs ${c.high}`);
  }
});

test('paired bootstrap with our own seeded resamples ≈ scipy, within the Monte Carlo error', () => {
  // Both sides estimate the 2.5% and 97.5% quantiles of the same bootstrap distribution from
  // 10,000 resamples each, with different random numbers. For a near-normal distribution with
  // standard deviation se, one such estimate has standard error sqrt(p(1−p)/B) / φ(1.96) · se
  // = sqrt(.025·.975/10000) / 0.0584 · se ≈ 0.027 se; the difference of two, ≈ 0.038 se. The
  // tolerance, 0.2 se, is over 5 of those: a failure means a real disagreement, not bad luck.
  const loose = scipy.cases.filter((c) => !c.indices);
  assert.ok(loose.length >= 3);
  for (const c of loose) {
    const r = pairedBootstrap(c.a, c.b, { resamples: c.resamples, seed: 2024 });
    const tol = 0.2 * c.standardError;
    assert.ok(Math.abs(r.mean - c.mean) < 1e-12);
    assert.ok(Math.abs(r.low - c.low) < tol, `low n=${c.a.length}: ${r.low} vs ${c.low} (tol ${tol})`);
    assert.ok(Math.abs(r.high - c.high) < tol, `high n=${c.a.length}: ${r.high} vs ${c.high} (tol ${tol})`);
  }
});

// --- The verdict ------------------------------------------------------------------------------------

const ROUGE: VerdictMetric = { id: 'rougeL', label: 'ROUGE-L', higherIsBetter: true, digits: 3 };
const LOSS: VerdictMetric = { id: 'loss', label: 'loss', higherIsBetter: false, digits: 2 };

function observations(
  n: number,
  cells: number,
  score: (i: number, cell: number) => Record<string, number>,
): Observation[] {
  const out: Observation[] = [];
  for (let i = 0; i < n; i++)
    for (let c = 0; c < cells; c++)
      out.push({ instruction: `i${i}`, cell: c, ok: true, promptTokens: 100 + c, scores: score(i, c) });
  return out;
}

test('verdict: cells, a clear gain, a clear loss on a lower-is-better metric, and an unclear one', () => {
  const cells = planCells(spec({ instructions: 'x', template: ['A', 'B'] }), EXP).cells;
  const noise = new Prng(5);
  const obs = observations(62, 2, (i, c) => ({
    rougeL: 0.3 + 0.05 * Math.sin(i) + (c === 1 ? 0.031 + (noise.next() - 0.5) * 0.04 : 0),
    loss: 2 + Math.cos(i) - (c === 1 ? 0.5 : 0),
    same: i % 7,
  }));
  obs.push({ instruction: 'i62', cell: 1, ok: false, scores: {} });
  const SAME: VerdictMetric = { id: 'same', label: 'clinician correctness', higherIsBetter: true, digits: 3 };
  const v = buildVerdict({
    cells,
    observations: obs,
    metrics: [ROUGE, LOSS, SAME],
    resamples: 2000,
    seed: 1,
  });
  assert.deepEqual(v.dimensions, ['template']);
  assert.deepEqual(
    v.cells.map((c) => [c.label, c.runs, c.failed, c.promptTokens]),
    [
      ['A', 62, 0, 100],
      ['B', 63, 1, 101],
    ],
  );
  const [rouge, loss, same] = v.comparisons;
  assert.equal(rouge.n, 62);
  assert.equal(rouge.better, 'b');
  assert.ok(rouge.low! > 0 && rouge.low! < rouge.mean! && rouge.mean! < rouge.high!);
  assert.match(
    rouge.sentence,
    /^B beats A on ROUGE-L by 0\.0\d\d \[0\.0\d\d, 0\.0\d\d\] over 62 instructions$/,
  );
  assert.equal(loss.better, 'b');
  assert.equal(
    loss.sentence,
    'B beats A on loss (lower is better) by 0.50 [0.50, 0.50] over 62 instructions',
  );
  assert.equal(same.better, 'unclear');
  assert.equal(
    same.sentence,
    'on clinician correctness the difference is not clear (0.000 [0.000, 0.000] over 62 instructions)',
  );
  // The example, as numbers.
  assert.equal(
    comparisonSentence({ a: 'A', b: 'B', n: 62, mean: 0.031, low: 0.012, high: 0.05, better: 'b' }, ROUGE),
    'B beats A on ROUGE-L by 0.031 [0.012, 0.050] over 62 instructions',
  );
  assert.equal(
    comparisonSentence({ a: 'A', b: 'B', n: 62, mean: -0.031, low: -0.05, high: -0.012, better: 'a' }, ROUGE),
    'A beats B on ROUGE-L by 0.031 [0.012, 0.050] over 62 instructions',
  );
  assert.match(
    verdictText(v, 't', '62 instructions × 2 cells = 124 runs'),
    /- B vs A: B beats A on ROUGE-L by/,
  );
});

test('verdict: only cells that differ in one dimension are compared, each metric once per pair', () => {
  const cells = planCells(
    spec({ instructions: 'x', template: ['A', 'B'], context: ['2k', '8k'] }),
    EXP,
  ).cells;
  const pairs = cellPairs(cells);
  assert.deepEqual(
    pairs.map((p) => `${p.dimension}:${cellLabel(p.a)}→${cellLabel(p.b)}`),
    ['template:A · 2k→B · 2k', 'template:A · 8k→B · 8k', 'context:A · 2k→A · 8k', 'context:B · 2k→B · 8k'],
  );
  const v = buildVerdict({
    cells,
    observations: observations(10, 4, (i, c) => ({ rougeL: i / 10 + c / 100 })),
    metrics: [ROUGE],
    resamples: 200,
    seed: 1,
  });
  assert.equal(v.comparisons.length, 4);
  assert.deepEqual(v.comparisons[1].fixed, { context: '8k' });
  const json = verdictJson(v, 't', 'size');
  assert.deepEqual(Object.keys(json.comparisons[0]).slice(0, 8), [
    'dimension',
    'a',
    'b',
    'fixed',
    'metric',
    'n',
    'mean',
    'low',
  ]);
  assert.ok('high' in json.comparisons[0]);
  assert.deepEqual(
    Object.keys(json.cells[0]).filter((k) =>
      ['template', 'context', 'runs', 'failed', 'metrics'].includes(k),
    ),
    ['template', 'context', 'runs', 'failed', 'metrics'],
  );
  const csv = verdictCsv(v).split('\r\n');
  assert.equal(
    csv[0],
    'kind,template,model,context,strategy,refine.order,refine.template,refine.maxSteps,dimension,a,b,metric,n,mean,low,high,runs,failed,prompt_tokens',
  );
  assert.equal(csv.filter((l) => l.startsWith('comparison,')).length, 4);
});

// --- In the editor ----------------------------------------------------------------------------------

test('experiment diagnostics: a missing template, an unknown model, a selection that matches nothing', async () => {
  const { fs, ws } = await makeWorkspace({
    'instructions/a.medalign': validInstruction(1),
    'instructions/b.medalign': validInstruction(2),
  });
  const text = JSON.stringify(
    {
      instructions: '../instructions',
      template: ['builtin', '../templates/nope.prompt'],
      model: ['baseline', 'gpt-5'],
    },
    null,
    2,
  );
  const uri = fs.write('experiments/t.experiment.json', text);
  const r = await resolveExperiment(text, uri, ws, fs);
  assert.equal(r.instructions.length, 2);
  assert.equal(r.runs, 8);
  assert.equal(r.size, '2 instructions × 4 cells = 8 runs');
  assert.equal(r.runnable, false);
  const doc = TextDocument.create(uri, 'json', 1, text);
  const diags = experimentDiagnostics(doc, r);
  assert.deepEqual(
    diags.map((d) => [d.code, doc.getText(d.range)]),
    [
      ['experiment-model', '"gpt-5"'],
      ['experiment-template', '"../templates/nope.prompt"'],
    ],
  );
  const none = JSON.stringify({ instructions: 'tag:nothing' });
  const r2 = await resolveExperiment(none, uri, ws, fs);
  assert.equal(r2.runs, 0);
  assert.equal(r2.runnable, false);
  assert.equal(r2.problems[0].severity, 'warning');
  assert.deepEqual(spanAtJsonPath('{"a": [1, "x"]}', ['a', 1]), { start: 10, end: 13 });
});

test('experiment completion: model ids and template paths inside their lists', async () => {
  const { fs, ws } = await makeWorkspace();
  const models = '{ "instructions": "x", "model": ["';
  const doc = TextDocument.create('file:///ws/experiments/t.experiment.json', 'json', 1, models + '"] }');
  const m = await experimentCompletion(doc, models.length, ws, fs);
  assert.deepEqual(
    m?.items.map((i) => [i.label, i.insertText]),
    [
      ['baseline', 'baseline'],
      ['local-vllm', 'local-vllm'],
      ['gpt-4o', 'gpt-4o'],
    ],
  );
  const tpl = '{ "instructions": "x", "template": [';
  const doc2 = TextDocument.create('file:///ws/experiments/t.experiment.json', 'json', 1, tpl + '] }');
  const t = await experimentCompletion(doc2, tpl.length, ws, fs);
  assert.deepEqual(
    t?.items.map((i) => i.insertText),
    ['"builtin"', '"../templates/medalign.prompt"'],
  );
  const elsewhere = await experimentCompletion(doc2, 3, ws, fs);
  assert.equal(elsewhere, null);
});
