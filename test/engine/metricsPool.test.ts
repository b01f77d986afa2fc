/**
 * The built-in metrics on worker threads (engine/src/run/metricsPool.ts): the same numbers as the
 * main thread, pair by pair, whichever thread scored them; a worker that cannot start gives its
 * chunks back; cancellation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { BUILTIN_METRICS, scoreAnswer } from '../../engine/src/core/metrics/metrics';
import { scoreBuiltinPairs } from '../../engine/src/run/metricsPool';
import { scorePairs } from '../../engine/src/run/scoring';

const words = [
  'aspirin',
  'daily',
  'mg',
  '81',
  'chest',
  'pain',
  'troponin,',
  'elevated.',
  'é',
  '😀',
  '-',
  '3.5',
];
function pairsOf(n: number): { gold: string; answer: string }[] {
  const out: { gold: string; answer: string }[] = [];
  for (let i = 0; i < n; i++) {
    const pick = (k: number) =>
      Array.from({ length: k }, (_, j) => words[(i * 7 + j * ((i % 5) + 1)) % words.length]);
    out.push({ gold: pick(5 + (i % 9)).join(' '), answer: i % 13 === 0 ? '' : pick(3 + (i % 7)).join(' ') });
  }
  out.push({ gold: '<script>alert(1)</script>', answer: '<script>alert(1)</script> yes' });
  return out;
}

const expected = (p: { gold: string; answer: string }) => {
  const all = scoreAnswer(p.gold, p.answer);
  return BUILTIN_METRICS.map((m) => all[m]);
};

test('metrics pool: workers and the main thread give exactly the single-thread scores, in order', async () => {
  const pairs = pairsOf(60);
  const r = await scoreBuiltinPairs(pairs, { threads: 2, chunkSize: 3 });
  assert.ok(r.byWorkers > 0, 'a worker thread scored some pairs');
  assert.ok(r.byWorkers < pairs.length || pairs.length <= 6);
  pairs.forEach((p, i) =>
    assert.deepEqual(Array.from(r.scores.subarray(i * 6, i * 6 + 6)), expected(p), `pair ${i}`),
  );
});

test('metrics pool: a worker that cannot start gives its chunks back to the main thread', async () => {
  const pairs = pairsOf(20);
  const r = await scoreBuiltinPairs(pairs, {
    threads: 3,
    chunkSize: 2,
    workerPath: path.join(__dirname, 'no-such-metrics-worker.js'),
  });
  assert.equal(r.byWorkers, 0);
  pairs.forEach((p, i) =>
    assert.deepEqual(Array.from(r.scores.subarray(i * 6, i * 6 + 6)), expected(p), `pair ${i}`),
  );
});

test('metrics pool: cancelled scoring stops with a clear error', async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(
    scoreBuiltinPairs(pairsOf(40), { threads: 2, chunkSize: 4, signal: ac.signal }),
    /cancelled/,
  );
  const ac2 = new AbortController();
  const running = scoreBuiltinPairs(pairsOf(400), { threads: 2, chunkSize: 1, signal: ac2.signal });
  setImmediate(() => ac2.abort());
  await assert.rejects(running, /cancelled/);
});

test('scorePairs: the scores of scoreAnswer, every metric reported or a subset', async () => {
  const pairs = pairsOf(30);
  const all = await scorePairs(pairs, { threads: 2 });
  assert.equal(all.computed, pairs.length * 6);
  pairs.forEach((p, i) => assert.deepEqual(all.scores[i], scoreAnswer(p.gold, p.answer)));
  const some = await scorePairs(pairs, { threads: 2, metrics: ['chrfpp', 'rougeL'] });
  pairs.forEach((p, i) => {
    const s = scoreAnswer(p.gold, p.answer);
    assert.deepEqual(some.scores[i], { chrfpp: s.chrfpp, rougeL: s.rougeL });
  });
});
