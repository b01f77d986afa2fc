/**
 * The built-in metrics are fast (integer n-grams, a bit-parallel LCS, memoised stems, reused
 * tables) and must stay exact: every score of a 600-pair corpus equals, bit for bit, what the
 * metrics gave before they were made faster (score-snapshot.json), and every count equals that of
 * a plain port of the reference code (string n-grams in maps, as Python's `Counter`, the LCS
 * table, an uncached stemmer) on generated texts, whatever order pairs are scored in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../helpers/fixtures';
import { metricsCorpus } from '../helpers/metricsCorpus';
import { BUILTIN_METRICS, scoreAnswer } from '../../engine/src/core/metrics/metrics';
import { rouge, rougeTokenize } from '../../engine/src/core/metrics/rouge';
import {
  bleuTokens,
  chrfStatistics,
  sentenceBleu,
  tokenize13a,
} from '../../engine/src/core/metrics/sacrebleu';
import {
  counter,
  lcsTable,
  naiveChrfWords,
  naiveRougeTokens,
  overlap,
  pySplit,
  referenceScores,
  regex13a,
  total,
} from '../helpers/metricsReference';

interface Snapshot {
  metrics: string[];
  scores: number[][];
}

const snapshot = JSON.parse(
  readFileSync(path.join(repoRoot, 'test/fixtures/metrics/score-snapshot.json'), 'utf8'),
) as Snapshot;
const corpus = metricsCorpus();

test('metrics: every score of the 600-pair corpus is bit for bit what the metrics gave before the speed-up', () => {
  assert.deepEqual(snapshot.metrics, [...BUILTIN_METRICS]);
  assert.equal(snapshot.scores.length, corpus.length);
  const wrong: string[] = [];
  corpus.forEach((p, i) => {
    const s = scoreAnswer(p.gold, p.answer);
    BUILTIN_METRICS.forEach((m, k) => {
      if (!Object.is(s[m], snapshot.scores[i][k]))
        wrong.push(`pair ${i} ${m}: ${s[m]}, was ${snapshot.scores[i][k]}`);
    });
  });
  assert.deepEqual(wrong.slice(0, 10), []);
  // The corpus reaches every metric (not only zeros).
  for (let k = 0; k < BUILTIN_METRICS.length; k++)
    assert.ok(snapshot.scores.filter((r) => r[k] > 0 && r[k] < (k < 3 ? 1 : 100)).length > 100);
});

test('metrics: the same scores whatever pairs were scored before (no state leaks between pairs)', () => {
  const picks = [5, 400, 17, 5, 599, 3, 400, 17];
  const first = picks.map((i) => scoreAnswer(corpus[i].gold, corpus[i].answer));
  // Score everything backwards in between, then the picks again.
  for (let i = corpus.length - 1; i >= 0; i--) scoreAnswer(corpus[i].answer, corpus[i].gold);
  const again = picks.map((i) => scoreAnswer(corpus[i].gold, corpus[i].answer));
  assert.deepEqual(again, first);
  picks.forEach((i, k) =>
    BUILTIN_METRICS.forEach((m, j) => assert.ok(Object.is(first[k][m], snapshot.scores[i][j]))),
  );
});

test('metrics: ROUGE, BLEU and chrF(++) counts equal a plain port of the reference code (string n-grams, LCS table)', () => {
  const pairs = metricsCorpus(250, 77);
  for (const [i, p] of pairs.entries()) {
    const what = `pair ${i}`;
    // ROUGE: tokens, clipped unigram/bigram counts and the LCS.
    const t = naiveRougeTokens(p.gold);
    const a = naiveRougeTokens(p.answer);
    assert.deepEqual(rougeTokenize(p.gold), t, what);
    const r = rouge(p.gold, p.answer);
    for (const [n, got] of [
      [1, r.rouge1],
      [2, r.rouge2],
    ] as const) {
      const ta = counter(a, n);
      const tt = counter(t, n);
      const m = overlap(ta, tt);
      assert.equal(got.precision, m / Math.max(total(ta), 1), `${what} rouge${n} precision`);
      assert.equal(got.recall, m / Math.max(total(tt), 1), `${what} rouge${n} recall`);
    }
    const lcs = t.length && a.length ? lcsTable(t, a) : 0;
    assert.equal(r.rougeL.precision, a.length ? lcs / a.length : 0, `${what} rougeL`);
    assert.equal(r.rougeL.recall, t.length ? lcs / t.length : 0, `${what} rougeL`);

    // BLEU: clipped word n-gram counts of the 13a tokens, orders 1-4.
    const bh = bleuTokens(p.answer);
    const br = bleuTokens(p.gold);
    const b = sentenceBleu(p.answer, p.gold);
    assert.equal(b.sysLen, bh.length, what);
    assert.equal(b.refLen, br.length, what);
    for (let n = 1; n <= 4; n++) {
      assert.equal(b.totals[n - 1], Math.max(0, bh.length - n + 1), `${what} bleu totals ${n}`);
      assert.equal(b.counts[n - 1], overlap(counter(bh, n), counter(br, n)), `${what} bleu counts ${n}`);
    }

    // chrF++: character n-grams 1-6 of the code points without whitespace, word n-grams 1-2.
    const ch = Array.from(pySplit(p.answer).join(''));
    const cr = Array.from(pySplit(p.gold).join(''));
    const wh = naiveChrfWords(p.answer);
    const wr = naiveChrfWords(p.gold);
    const expected = [
      ...[1, 2, 3, 4, 5, 6].map((n) => [ch, cr, n] as const),
      ...[1, 2].map((n) => [wh, wr, n] as const),
    ].map(([h, rf, n]) => {
      const hc = counter(h, n);
      const rc = counter(rf, n);
      return { hyp: rc.size > 0 ? total(hc) : 0, ref: total(rc), match: overlap(hc, rc) };
    });
    assert.deepEqual(chrfStatistics(p.answer, p.gold, { wordOrder: 2 }), expected, `${what} chrF++`);
  }
});

test("13a tokenizer: the one-pass scan equals sacrebleu's regex rules over the whole line", () => {
  const texts = metricsCorpus(300, 5).flatMap((p) => [p.gold, p.answer]);
  // Short strings over an alphabet of every character the rules treat specially.
  const alphabet = [
    ...'0189aZ.,-.,--  \t\n\u00a0\u3000()[]{}<>&;:!?/\\\'"`~^_|@#$%*+=',
    '&amp;',
    '&lt;',
    '-\n',
    '😀',
  ];
  let seed = 1;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  for (let k = 0; k < 20_000; k++) {
    let s = '';
    for (let j = rand(14); j > 0; j--) s += alphabet[rand(alphabet.length)];
    texts.push(s);
  }
  for (const t of texts) assert.equal(tokenize13a(t), regex13a(t).join(' '), JSON.stringify(t));
});

test('metrics: the plain port (the bench peer) gives the same six scores as scoreAnswer', () => {
  for (const p of metricsCorpus(120, 9))
    assert.deepEqual(referenceScores(p.gold, p.answer), scoreAnswer(p.gold, p.answer));
});
