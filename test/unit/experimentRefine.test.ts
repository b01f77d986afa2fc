/**
 * `strategy: refine`'s settings as experiment dimensions (issue 14): the `refine` lists of an
 * experiment file and their schema problems, planning (refine settings vary only the cells whose
 * strategy is `refine`), the comparisons and the sentences that name the settings, the run
 * settings' refine overrides, the resume key (a refine setting is an input), and the editor
 * features (diagnostics at the value, completion of refine prompts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { makeWorkspace, validInstruction } from '../helpers/fixtures';
import { parseExperiment } from '../../engine/src/core/experiment/spec';
import { cellLabel, planCells } from '../../engine/src/core/experiment/plan';
import type { Observation, VerdictMetric } from '../../engine/src/core/experiment/verdict';
import {
  buildVerdict,
  cellPairs,
  comparisonsByPair,
  pairSentence,
} from '../../engine/src/core/experiment/verdict';
import { verdictCsv, verdictJson, verdictText } from '../../engine/src/core/experiment/format';
import {
  experimentCompletion,
  experimentDiagnostics,
  resolveExperiment,
} from '../../engine/src/core/features/experiment';
import { packRequest, resolveRunSettings } from '../../engine/src/core/features/runSettings';
import { runKey, runKeyOfSettings } from '../../engine/src/core/run/runRecord';

const EXP = 'file:///ws/experiments/t.experiment.json';
const ROUGE: VerdictMetric = { id: 'rougeL', label: 'ROUGE-L', higherIsBetter: true, digits: 3 };

function spec(o: Record<string, unknown>) {
  const r = parseExperiment(JSON.stringify(o));
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  return r.spec;
}

test('experiment file: refine lists are read; bad values are problems at their place', () => {
  const s = spec({
    instructions: 'x',
    strategy: ['refine'],
    refine: { order: ['oldest-first', 'newest-first'], template: ['builtin', 'r.prompt'], maxSteps: [3, 20] },
  });
  assert.deepEqual(s.refine, {
    order: ['oldest-first', 'newest-first'],
    template: ['builtin', 'r.prompt'],
    maxSteps: [3, 20],
  });
  const bad = parseExperiment(
    JSON.stringify({
      instructions: 'x',
      refine: { order: ['sideways'], maxSteps: [0, 2.5], steps: [1] },
    }),
  );
  assert.ok(!bad.ok);
  const at = (p: string) => bad.problems.filter((x) => x.path.join('.') === p).map((x) => x.message);
  assert.match(at('refine.order.0').join(), /"sideways" is not one of oldest-first, newest-first/);
  assert.equal(at('refine.maxSteps.0').length, 1, JSON.stringify(bad.problems));
  assert.equal(at('refine.maxSteps.1').length, 1, JSON.stringify(bad.problems));
  assert.match(at('refine.steps').join(), /Unknown key 'steps'/);
  const empty = parseExperiment(JSON.stringify({ instructions: 'x', refine: {} }));
  assert.ok(!empty.ok && empty.problems[0].path.join('.') === 'refine');
});

test('planning: refine settings vary only the refine cells; overrides carry them (steps as numbers, templates as URIs)', () => {
  const p = planCells(
    spec({
      instructions: 'x',
      strategy: ['recent', 'refine'],
      refine: {
        order: ['oldest-first', 'newest-first'],
        template: ['builtin', '../t/r.prompt'],
        maxSteps: [3],
      },
    }),
    EXP,
  );
  assert.deepEqual(
    p.dimensions.map((d) => d.dimension),
    ['strategy', 'refine.order', 'refine.template', 'refine.maxSteps'],
  );
  assert.deepEqual(p.problems, []);
  // recent once; refine × 2 orders × 2 templates × 1 step limit.
  assert.deepEqual(p.cells.map(cellLabel), [
    'recent',
    'refine · oldest-first · refine builtin · ≤3 steps',
    'refine · oldest-first · refine ../t/r.prompt · ≤3 steps',
    'refine · newest-first · refine builtin · ≤3 steps',
    'refine · newest-first · refine ../t/r.prompt · ≤3 steps',
  ]);
  assert.deepEqual(p.cells[0].overrides, { strategy: 'recent' });
  assert.deepEqual(p.cells[2].overrides, {
    strategy: 'refine',
    refineOrder: 'oldest-first',
    refineTemplate: 'file:///ws/t/r.prompt',
    refineMaxSteps: 3,
  });
  // Without a strategy list the refine settings apply to every cell (each instruction's strategy).
  const own = planCells(spec({ instructions: 'x', refine: { maxSteps: [2, 8] } }), EXP);
  assert.deepEqual(
    own.cells.map((c) => c.overrides),
    [{ refineMaxSteps: 2 }, { refineMaxSteps: 8 }],
  );
});

function observations(
  instructions: number,
  cells: number,
  score: (i: number, cell: number) => number,
): Observation[] {
  const out: Observation[] = [];
  for (let i = 0; i < instructions; i++) {
    for (let c = 0; c < cells; c++) {
      out.push({
        instruction: `i${i}`,
        cell: c,
        ok: true,
        promptTokens: 100,
        scores: { rougeL: score(i, c) },
      });
    }
  }
  return out;
}

test('verdict: recent is compared with each refine cell; refine cells on their settings; sentences name them', () => {
  const cells = planCells(
    spec({
      instructions: 'x',
      strategy: ['recent', 'refine'],
      refine: { order: ['oldest-first', 'newest-first'], maxSteps: [3, 20] },
    }),
    EXP,
  ).cells;
  // 0 recent, 1 refine/oldest/3, 2 refine/oldest/20, 3 refine/newest/3, 4 refine/newest/20
  const pairs = cellPairs(cells).map((p) => `${p.dimension}:${p.a.index}→${p.b.index}`);
  assert.deepEqual(pairs, [
    'strategy:0→1',
    'strategy:0→2',
    'strategy:0→3',
    'strategy:0→4',
    'refine.order:1→3',
    'refine.order:2→4',
    'refine.maxSteps:1→2',
    'refine.maxSteps:3→4',
  ]);
  // newest-first adds 0.05; 20 steps add 0.1 (with a little per-instruction noise).
  const v = buildVerdict({
    cells,
    observations: observations(30, 5, (i, c) => {
      const noise = ((i * 7) % 5) / 1000;
      if (c === 0) return 0.3 + noise;
      return 0.4 + (c >= 3 ? 0.05 : 0) + (c % 2 === 0 ? 0.1 : 0) + noise;
    }),
    metrics: [ROUGE],
    resamples: 500,
    seed: 7,
  });
  const byPair = comparisonsByPair(v);
  const order = byPair.find((g) => g[0].dimension === 'refine.order' && g[0].cellA === 1)!;
  assert.equal(order[0].a, 'oldest-first');
  assert.equal(order[0].b, 'newest-first');
  assert.deepEqual(order[0].fixed, { strategy: 'refine', 'refine.maxSteps': '3' });
  assert.equal(
    pairSentence(order),
    'newest-first vs oldest-first (strategy refine, at most 3 steps): Newest-first beats oldest-first on ROUGE-L by 0.050 [0.050, 0.050] over 30 instructions.',
  );
  const steps = byPair.find((g) => g[0].dimension === 'refine.maxSteps' && g[0].cellA === 3)!;
  assert.match(
    steps[0].sentence,
    /^at most 20 steps beats at most 3 steps on ROUGE-L by 0\.100 \[0\.100, 0\.100\] over 30 instructions$/,
  );
  const strat = byPair.find((g) => g[0].dimension === 'strategy' && g[0].cellB === 4)!;
  assert.deepEqual(strat[0].fixed, { 'refine.order': 'newest-first', 'refine.maxSteps': '20' });
  assert.match(
    pairSentence(strat),
    /^refine vs recent \(refine order newest-first, at most 20 steps\): Refine beats recent/,
  );
  // --json, --csv and the text name the refine dimensions.
  const json = verdictJson(v, 't', 'size');
  assert.deepEqual(json.dimensions, ['strategy', 'refine.order', 'refine.maxSteps']);
  assert.equal(json.cells[4]['refine.order'], 'newest-first');
  assert.ok(json.comparisons.some((c) => c.dimension === 'refine.maxSteps' && c.a === '3' && c.b === '20'));
  const csv = verdictCsv(v).split('\r\n');
  assert.match(
    csv[0],
    /^kind,template,model,context,strategy,refine\.order,refine\.template,refine\.maxSteps,dimension,/,
  );
  assert.ok(
    csv.includes('comparison,,,,refine,oldest-first,,,refine.maxSteps,3,20,rougeL,30,0.1,0.1,0.1,,,') ||
      csv.some((l) => l.startsWith('comparison,,,,refine,oldest-first,,,refine.maxSteps,3,20,rougeL,30,')),
    csv.join('\n'),
  );
  assert.match(
    verdictText(v, 't', 'size'),
    /- at most 20 steps vs at most 3 steps \(strategy refine, refine order oldest-first\): At most 20 steps beats/,
  );
});

const REFINE_CONFIG = JSON.stringify({
  recordsFolder: 'records',
  defaults: {
    model: 'baseline',
    context: '8k',
    strategy: 'refine',
    refine: { order: 'oldest-first', maxSteps: 7 },
  },
  endpoints: [],
});

test('run settings: refine overrides win over the file and the config; bad ones are problems; the key follows them', async () => {
  const { ws, fs, service, doc } = await makeWorkspace({
    'medalign.config.json': REFINE_CONFIG,
    'templates/refine.prompt': '## user\n{{ehr}}\n{{instruction}}\nSo far: {{answer}}\n',
  });
  await ws.loadConfig();
  const base = validInstruction(1, 'refine: { order: newest-first, maxSteps: 4 }\n').replace(
    /model: baseline\n|context: 32k\n|strategy: recent\n/g,
    '',
  );
  const d = doc('instructions/a.medalign', base);
  const file = service.parse(d).file;
  const own = await resolveRunSettings(file, d.uri, ws, fs);
  assert.deepEqual(
    [own.refine?.order, own.refine?.maxSteps, own.refine?.templateSource],
    ['newest-first', 4, undefined],
  );
  const over = await resolveRunSettings(file, d.uri, ws, fs, {
    refineOrder: 'oldest-first',
    refineMaxSteps: 12,
    refineTemplate: 'file:///ws/templates/refine.prompt',
  });
  assert.deepEqual(over.problems, []);
  assert.deepEqual(packRequest(over).refine, {
    order: 'oldest-first',
    maxSteps: 12,
    template: '## user\n{{ehr}}\n{{instruction}}\nSo far: {{answer}}\n',
  });
  const builtin = await resolveRunSettings(file, d.uri, ws, fs, { refineTemplate: 'builtin' });
  assert.equal(builtin.refine?.templateSource, undefined);
  const bad = await resolveRunSettings(file, d.uri, ws, fs, {
    refineOrder: 'sideways',
    refineMaxSteps: 0,
    refineTemplate: 'file:///ws/templates/none.prompt',
  });
  assert.deepEqual(
    bad.problems.map((p) => [p.field, p.message]),
    [
      ['refine', 'Refine order "sideways" is not one of oldest-first, newest-first.'],
      ['refine', 'Refine maxSteps 0 must be a whole number from 1 to 1000.'],
      ['refine', 'The refine template templates/none.prompt does not exist.'],
    ],
  );
  // The resume key: every refine setting is an input of a refine run.
  const hash = (t: string) => `h${t.length}`;
  const parts = { instructionHash: 'i', recordHash: 'r' };
  const steps5 = await resolveRunSettings(file, d.uri, ws, fs, { refineMaxSteps: 5 });
  const oldest = await resolveRunSettings(file, d.uri, ws, fs, { refineOrder: 'oldest-first' });
  const keys = new Set([own, over, steps5, oldest].map((s) => runKeyOfSettings(s, parts, hash)));
  assert.equal(keys.size, 4);
  // The built-in refine prompt named explicitly is the same input as the default.
  assert.equal(runKeyOfSettings(builtin, parts, hash), runKeyOfSettings(own, parts, hash));
  // Another strategy: the refine overrides change nothing, and the key is the one it always was.
  const recent = await resolveRunSettings(file, d.uri, ws, fs, { strategy: 'recent', refineMaxSteps: 12 });
  const recent2 = await resolveRunSettings(file, d.uri, ws, fs, { strategy: 'recent', refineMaxSteps: 3 });
  assert.equal(recent.refine, undefined);
  assert.equal(runKeyOfSettings(recent, parts, hash), runKeyOfSettings(recent2, parts, hash));
  assert.equal(
    runKeyOfSettings(recent, parts, hash),
    runKey({
      instructionHash: 'i',
      recordHash: 'r',
      templateHash: hash(recent.templateSource!),
      endpointId: 'baseline',
      model: 'baseline',
      context: recent.context,
      strategy: 'recent',
      reserve: recent.reserve,
    }),
  );
});

test('experiment diagnostics: a missing refine template at its value; refine settings no strategy uses', async () => {
  const { fs, ws } = await makeWorkspace({
    'instructions/a.medalign': validInstruction(1),
    'templates/refine.prompt': '## user\n{{ehr}} {{instruction}} {{answer}}\n',
  });
  const text = JSON.stringify(
    {
      instructions: '../instructions',
      strategy: ['recent', 'refine'],
      refine: {
        template: ['builtin', '../templates/refine.prompt', '../templates/nope.prompt'],
        maxSteps: [2, 5],
      },
    },
    null,
    2,
  );
  const uri = fs.write('experiments/t.experiment.json', text);
  const r = await resolveExperiment(text, uri, ws, fs);
  // recent + refine × 3 templates × 2 step limits
  assert.equal(r.size, '1 instruction × 7 cells = 7 runs');
  assert.equal(r.runnable, false);
  const doc = TextDocument.create(uri, 'json', 1, text);
  assert.deepEqual(
    experimentDiagnostics(doc, r).map((d) => [d.code, doc.getText(d.range), d.message]),
    [
      [
        'experiment-template',
        '"../templates/nope.prompt"',
        'The refine template ../templates/nope.prompt does not exist.',
      ],
    ],
  );
  const unused = JSON.stringify({
    instructions: '../instructions',
    strategy: ['recent'],
    refine: { maxSteps: [2, 5] },
  });
  const r2 = await resolveExperiment(unused, uri, ws, fs);
  assert.equal(r2.size, '1 instruction × 1 cell = 1 run');
  assert.deepEqual(
    r2.problems.map((p) => [p.path.join('.'), p.severity, p.code]),
    [['refine', 'warning', 'experiment-refine-unused']],
  );
  assert.equal(r2.runnable, true);
});

test('experiment completion: refine prompts inside refine.template', async () => {
  const { fs, ws } = await makeWorkspace({ 'templates/refine.prompt': '## user\n{{ehr}} {{answer}}\n' });
  const before =
    '{ "instructions": "x", "strategy": ["refine"], "refine": { "order": ["oldest-first"], "template": [';
  const doc = TextDocument.create(EXP, 'json', 1, before + '] } }');
  const c = await experimentCompletion(doc, before.length, ws, fs);
  assert.deepEqual(
    c?.items.map((i) => [i.insertText, i.detail]),
    [
      ['"builtin"', 'the built-in refine prompt'],
      ['"../templates/medalign.prompt"', 'refine prompt ({{ehr}}, {{instruction}}, {{answer}})'],
      ['"../templates/refine.prompt"', 'refine prompt ({{ehr}}, {{instruction}}, {{answer}})'],
    ],
  );
});
