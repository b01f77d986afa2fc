/**
 * External scorers as real child processes (test/fixtures/metrics/fakeScorer.ts) and the score
 * cache on disk: results, every failure's message, the cache's hits and its file's content.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../helpers/fixtures';
import { ScorerError, parseScores, runScorerBatch } from '../../engine/src/host/externalScorer';
import type { ScorerConfig } from '../../engine/src/core/workspace/config';
import { parseConfig } from '../../engine/src/core/workspace/config';
import { ScoreCache } from '../../engine/src/run/scoreCache';
import { scorePairs } from '../../engine/src/run/scoring';
import { scoreAnswer } from '../../engine/src/core/metrics/metrics';

const script = path.join(repoRoot, 'out/test/fixtures/metrics/fakeScorer.js');
const scorer = (mode: string, extra: Partial<ScorerConfig> = {}): ScorerConfig => ({
  id: 'fake',
  command: [process.execPath, script, mode],
  timeoutSeconds: 20,
  batchSize: 1000,
  higherIsBetter: true,
  ...extra,
});
const items = [
  { src: 'Summarize', mt: 'aspirin daily', ref: 'aspirin 81 mg daily' },
  { src: 'List meds', mt: 'none', ref: 'metoprolol' },
  { src: 'Why?', mt: 'chest pain', ref: 'chest pain' },
];
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'medalign-scoring-'));

test('external scorer: JSONL {src, mt, ref} in, one score per line out, in order', async () => {
  assert.deepEqual(await runScorerBatch(scorer('overlap'), items, { cwd: repoRoot }), [0.5, 0, 1]);
  assert.deepEqual(await runScorerBatch(scorer('src'), items, { cwd: repoRoot }), [9, 9, 4]);
  assert.deepEqual(await runScorerBatch(scorer('overlap'), [], { cwd: repoRoot }), []);
});

test('external scorer: each failure is a clear error naming the scorer', async () => {
  const fail = (mode: string, extra: Partial<ScorerConfig> = {}) =>
    runScorerBatch(scorer(mode, extra), items, { cwd: repoRoot }).then(
      () => assert.fail('no error'),
      (e: unknown) => {
        assert.ok(e instanceof ScorerError);
        return e.message;
      },
    );
  assert.match(
    await fail('fail'),
    /^scorer "fake" \(.*fakeScorer\.js fail\) failed \(exit code 3\):\nCUDA out of memory/,
  );
  assert.match(await fail('short'), /wrote 2 lines for 3 pairs: it must write one score per input line/);
  assert.match(await fail('text'), /line 2 is not a number: "not-a-score"/);
  assert.match(
    await fail('hang', { timeoutSeconds: 1 }),
    /did not finish within 1 s for 3 pairs and was stopped/,
  );
  const missing = await runScorerBatch(
    { ...scorer('overlap'), command: ['medalign-no-such-scorer-program'] },
    items,
    { cwd: repoRoot },
  ).catch((e: Error) => e.message);
  assert.match(
    String(missing),
    /Could not start scorer "fake" \(medalign-no-such-scorer-program\).*ENOENT.*on PATH/,
  );
  const ac = new AbortController();
  const p = runScorerBatch(scorer('hang'), items, { cwd: repoRoot, signal: ac.signal });
  ac.abort();
  await assert.rejects(p, /was cancelled/);
});

test('parseScores: numbers only (no NaN, no blank lines), a final newline optional, CRLF accepted', () => {
  const s = scorer('x');
  assert.deepEqual(parseScores(s, '0.5\r\n-1e-3\n2', 3), [0.5, -0.001, 2]);
  assert.throws(() => parseScores(s, 'nan\n', 1), /line 1 is not a number: "nan"/);
  assert.throws(() => parseScores(s, '\n', 1), /line 1 is not a number: ""/);
  assert.throws(() => parseScores(s, '1\n2\n', 1), /wrote 2 lines for 1 pair:/);
});

test('scorers in the config: parsed with defaults; a built-in metric name is refused with a problem', () => {
  const { config, problems } = parseConfig(
    JSON.stringify({
      scorers: [
        { id: 'comet', command: ['python3', 'comet.py'], description: 'wmt22-comet-da' },
        { id: 'bleu', command: ['x'] },
        { id: 'ter', command: ['ter'], higherIsBetter: false, timeoutSeconds: 5, batchSize: 10 },
      ],
    }),
  );
  assert.deepEqual(config.scorers, [
    {
      id: 'comet',
      command: ['python3', 'comet.py'],
      timeoutSeconds: 600,
      batchSize: 1000,
      higherIsBetter: true,
      description: 'wmt22-comet-da',
    },
    { id: 'ter', command: ['ter'], timeoutSeconds: 5, batchSize: 10, higherIsBetter: false },
  ]);
  assert.deepEqual(
    problems.map((p) => p.path),
    ['/scorers/1/id'],
  );
  const bad = parseConfig(JSON.stringify({ scorers: [{ id: 'x', command: 'python3 comet.py' }] }));
  assert.ok(bad.problems.some((p) => p.path === '/scorers/0/command'));
  assert.deepEqual(bad.config.scorers, []);
});

test('score cache: a second scoring reads every score back; the file holds hashes and numbers, no text', async () => {
  const root = tmp();
  try {
    const log = path.join(root, 'runs.log');
    process.env['MEDALIGN_FAKE_SCORER_LOG'] = log;
    const pairs = items.map((it) => ({ src: it.src, answer: it.mt, gold: it.ref }));
    const first = await scorePairs(pairs, {
      cache: new ScoreCache(root),
      scorers: [scorer('overlap')],
      cwd: root,
    });
    assert.equal(first.computed, 3 * 6 + 3);
    assert.equal(first.cached, 0);
    assert.deepEqual(
      first.scores.map((s) => s['fake']),
      [0.5, 0, 1],
    );
    assert.deepEqual(first.scores[0], { ...scoreAnswer('aspirin 81 mg daily', 'aspirin daily'), fake: 0.5 });
    const files = readdirSync(path.join(root, '.medalign', 'scores')).sort();
    // The six built-in metrics share one file (a row of scores per pair); each scorer has its own.
    assert.deepEqual(files, ['_builtin.json', 'fake.json']);
    for (const f of files) {
      const text = readFileSync(path.join(root, '.medalign', 'scores', f), 'utf8');
      for (const it of items) for (const s of [it.mt, it.ref]) assert.ok(!text.includes(s), `"${s}" in ${f}`);
    }
    const builtin = JSON.parse(
      readFileSync(path.join(root, '.medalign', 'scores', '_builtin.json'), 'utf8'),
    ) as {
      metrics: string[];
      keys: string[];
      scores: number[];
    };
    assert.deepEqual(builtin.metrics, ['rouge1', 'rouge2', 'rougeL', 'bleu', 'chrf', 'chrfpp']);
    assert.equal(builtin.keys.length, 3);
    assert.deepEqual(
      builtin.scores.slice(0, 6),
      Object.values(scoreAnswer('aspirin 81 mg daily', 'aspirin daily')),
    );
    assert.ok(existsSync(path.join(root, '.medalign', '.gitignore')));

    // A new process (a new cache object) scores nothing again: the scorer is not even started.
    const second = await scorePairs(pairs, {
      cache: new ScoreCache(root),
      scorers: [scorer('overlap')],
      cwd: root,
    });
    assert.equal(second.computed, 0);
    assert.equal(second.cached, 3 * 6 + 3);
    assert.deepEqual(second.scores, first.scores);
    assert.equal(readFileSync(log, 'utf8'), 'overlap\n');

    // Another answer: only that pair is scored. Another command: that scorer starts over.
    const third = await scorePairs([...pairs, { src: 'New', answer: 'chest', gold: 'chest pain' }], {
      cache: new ScoreCache(root),
      scorers: [scorer('src')],
      cwd: root,
    });
    assert.equal(third.computed, 6 + 4);
    assert.deepEqual(
      third.scores.map((s) => s['fake']),
      [9, 9, 4, 3],
    );
    // A corrupt cache file is scored again, not trusted.
    writeFileSync(path.join(root, '.medalign', 'scores', '_builtin.json'), '{ not json');
    const fourth = await scorePairs(pairs, { cache: new ScoreCache(root), metrics: ['bleu'] });
    assert.equal(fourth.computed, 3);
  } finally {
    delete process.env['MEDALIGN_FAKE_SCORER_LOG'];
    rmSync(root, { recursive: true, force: true });
  }
});

test('score cache: a failing scorer keeps the batches already scored', async () => {
  const root = tmp();
  try {
    const pairs = items.map((it) => ({ src: it.src, answer: it.mt, gold: it.ref }));
    await scorePairs(pairs.slice(0, 2), {
      cache: new ScoreCache(root),
      metrics: [],
      scorers: [scorer('overlap')],
    });
    await assert.rejects(
      scorePairs(pairs, { cache: new ScoreCache(root), metrics: [], scorers: [scorer('fail')] }),
      /failed \(exit code 3\)/,
    );
    // 'fail' is another command (another fingerprint): nothing of it was cached; 'overlap' kept its two.
    const again = await scorePairs(pairs, {
      cache: new ScoreCache(root),
      metrics: [],
      scorers: [scorer('overlap')],
    });
    assert.equal(again.cached, 2);
    assert.equal(again.computed, 1);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
