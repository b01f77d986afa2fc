/**
 * The built-in metrics and agreement statistics against their reference implementations' own
 * published test vectors (test/fixtures/metrics/*-published.json, each naming its source file),
 * NLTK's Porter stemmer on 18k words, and scipy's kendalltau on generated lists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../helpers/fixtures';
import { porterStem } from '../../engine/src/core/metrics/porter';
import { lcsLength, rouge, rougeTokenize } from '../../engine/src/core/metrics/rouge';
import type { RougeScore } from '../../engine/src/core/metrics/rouge';
import {
  computeBleu,
  corpusChrf,
  sentenceBleu,
  sentenceChrf,
  sentenceChrfBoth,
  tokenize13a,
} from '../../engine/src/core/metrics/sacrebleu';
import type { BleuSmoothing } from '../../engine/src/core/metrics/sacrebleu';
import { Prng, kendallTauB, meanWithInterval, percentile } from '../../engine/src/core/metrics/agreement';
import { scoreAnswer } from '../../engine/src/core/metrics/metrics';

const dir = path.join(repoRoot, 'test/fixtures/metrics');
const json = <T>(name: string): T => JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as T;

function near(actual: number, expected: number, eps: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < eps, `${what}: ${actual} is not ${expected} (±${eps})`);
}

test('Porter stemmer: identical to NLTK 3.8 PorterStemmer() on every word of the fixture', () => {
  const lines = readFileSync(path.join(dir, 'porter-nltk.tsv'), 'utf8').split('\n');
  let n = 0;
  const wrong: string[] = [];
  for (const line of lines) {
    if (line === '' || line.startsWith('#')) continue;
    const [word, expected] = line.split('\t') as [string, string];
    n++;
    const got = porterStem(word);
    if (got !== expected) wrong.push(`${word}: ${got} (NLTK ${expected})`);
  }
  assert.ok(n > 5000, `only ${n} words in the fixture`);
  assert.deepEqual(wrong.slice(0, 20), []);
  // A few of the paper's examples, and NLTK's own extensions.
  assert.equal(porterStem('generalizations'), 'gener');
  assert.equal(porterStem('dying'), 'die');
  assert.equal(porterStem('happy'), 'happi');
  assert.equal(porterStem('enjoy'), 'enjoy');
});

test('ROUGE tokenizer: lowercase, non-alphanumerics split, only tokens longer than 3 characters stemmed', () => {
  assert.deepEqual(rougeTokenize('The quick brown fox jumps over the lazy dog'), [
    'the',
    'quick',
    'brown',
    'fox',
    'jump',
    'over',
    'the',
    'lazi',
    'dog',
  ]);
  // "was" and "ies" are 3 characters: not stemmed; punctuation and non-ASCII letters are separators.
  assert.deepEqual(rougeTokenize('Was ies?  Naïve—patients!'), ['was', 'ies', 'na', 've', 'patient']);
  assert.deepEqual(rougeTokenize('Was ies?', false), ['was', 'ies']);
  assert.deepEqual(rougeTokenize('!!! ...'), []);
});

interface RougeCase {
  name: string;
  target: string;
  prediction: string;
  stemmer: boolean;
  places?: number;
  rouge1?: Partial<RougeScore>;
  rouge2?: Partial<RougeScore>;
  rougeL?: Partial<RougeScore>;
}

test("ROUGE-1/2/L: rouge_score's published test vectors (ROUGE-1.5.5 values) and the issue's check value", () => {
  const fx = json<{ cases: RougeCase[]; lcs: { cases: { a: number[]; b: number[]; length: number }[] } }>(
    'rouge-published.json',
  );
  assert.equal(fx.cases.length, 11);
  for (const c of fx.cases) {
    const got = rouge(c.target, c.prediction, c.stemmer);
    // assertAlmostEqual: 7 places unless the test says otherwise; round(a-b, places) == 0.
    const eps = 0.5 * 10 ** -(c.places ?? 7);
    for (const type of ['rouge1', 'rouge2', 'rougeL'] as const) {
      const want = c[type];
      if (!want) continue;
      for (const [k, v] of Object.entries(want)) {
        near(got[type][k as keyof RougeScore], v, eps, `${c.name} ${type}.${k}`);
      }
    }
  }
  const check = rouge('The quick brown fox jumps over the lazy dog', 'The quick brown dog jumps on the log.');
  assert.equal(check.rougeL.fmeasure.toFixed(5), '0.58824');
  for (const c of fx.lcs.cases) assert.equal(lcsLength(c.a, c.b), c.length);
});

test('ROUGE-L: the bit-parallel LCS equals the dynamic-programming table on random sequences', () => {
  const rng = new Prng(7);
  const dp = (a: number[], b: number[]): number => {
    const t: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++)
        t[i][j] = a[i - 1] === b[j - 1] ? t[i - 1][j - 1] + 1 : Math.max(t[i - 1][j], t[i][j - 1]);
    return t[a.length][b.length];
  };
  for (let k = 0; k < 400; k++) {
    const alphabet = 1 + rng.int(k % 2 ? 4 : 40);
    // Lengths across the 32-bit word boundaries.
    const a = Array.from({ length: rng.int(k < 200 ? 70 : 140) }, () => rng.int(alphabet));
    const b = Array.from({ length: rng.int(k < 200 ? 70 : 140) }, () => rng.int(alphabet));
    assert.equal(lcsLength(a, b), dp(a, b), `a=${a.join(',')} b=${b.join(',')}`);
  }
});

interface BleuFixture {
  sentence: {
    hyp: string;
    ref: string;
    smooth: BleuSmoothing;
    smoothValue?: number;
    score: number;
    epsilon: number;
  }[];
  statistics: { hyp: string; ref: string; counts: number[]; totals: number[] }[];
  scoring: {
    correct: number[];
    total: number[];
    sysLen: number;
    refLen: number;
    smooth: BleuSmoothing;
    score: number;
    epsilon: number;
  }[];
}

test("BLEU: sacrebleu's published sentence-BLEU, statistics and scoring vectors", () => {
  const fx = json<BleuFixture>('bleu-published.json');
  for (const c of fx.sentence) {
    const opts =
      c.smoothValue === undefined ? { smooth: c.smooth } : { smooth: c.smooth, smoothValue: c.smoothValue };
    near(
      sentenceBleu(c.hyp, c.ref, opts).score,
      c.score,
      c.epsilon,
      `${c.smooth}/${c.smoothValue ?? '-'} "${c.hyp}"`,
    );
  }
  for (const c of fx.statistics) {
    const s = sentenceBleu(c.hyp, c.ref);
    assert.deepEqual(s.counts, c.counts);
    assert.deepEqual(s.totals, c.totals);
  }
  for (const c of fx.scoring) {
    near(
      computeBleu(c.correct, c.total, c.sysLen, c.refLen, { smooth: c.smooth }).score,
      c.score,
      c.epsilon,
      'scoring',
    );
  }
  // The default is sentence_bleu's: exp smoothing, effective order.
  // exp(log(100)) as in Python: sacrebleu reports 100.00000000000004 for a perfect match too.
  near(sentenceBleu('a b', 'a b').score, 100, 1e-12, 'perfect');
  assert.equal(sentenceBleu('', 'a b').score, 0);
  assert.equal(sentenceBleu('', '').score, 0);
});

test('13a tokenizer: mteval-v13a rules (punctuation split, numbers kept, entities decoded)', () => {
  assert.equal(
    tokenize13a('Hello, world! It costs $3.50 (approx.)'),
    'Hello , world ! It costs $ 3.50 ( approx . )',
  );
  assert.equal(tokenize13a('1,000 people; 5-10 mg &amp; more'), '1,000 people ; 5 - 10 mg & more');
  assert.equal(tokenize13a("don't   stop-gap<skipped>"), "don't stop-gap");
});

interface ChrfFixture {
  corpus: { hyps: string[]; refs: string[]; beta: number; epsSmoothing: boolean; score: number }[];
  handChecked: { cases: { hyp: string; ref: string; chrf: number; chrfpp: number }[] };
}

test("chrF: sacrebleu's published vectors (eps and effective-order smoothing, beta 2 and 3)", () => {
  const fx = json<ChrfFixture>('chrf-published.json');
  assert.equal(fx.corpus.length, 23);
  for (const c of fx.corpus) {
    near(
      corpusChrf(c.hyps, c.refs, { beta: c.beta, epsSmoothing: c.epsSmoothing }),
      c.score,
      1e-4,
      c.hyps.join('|'),
    );
  }
});

test('chrF and chrF++ (word order 2): a hand-checked pair', () => {
  // "thecat" vs "thedog": char matches 3/6, 2/5, 1/4, 0/3, 0/2, 0/1; words "the cat" vs "the dog":
  // 1/2 unigrams, 0/1 bigrams. Equal lengths, so F2 = the mean precision: 1.15/6 and 1.65/8.
  const fx = json<ChrfFixture>('chrf-published.json');
  for (const c of fx.handChecked.cases) {
    near(sentenceChrf(c.hyp, c.ref), c.chrf, 1e-12, 'chrF');
    near(sentenceChrf(c.hyp, c.ref, { wordOrder: 2 }), c.chrfpp, 1e-12, 'chrF++');
    const both = sentenceChrfBoth(c.hyp, c.ref);
    assert.equal(both.chrf, sentenceChrf(c.hyp, c.ref));
    assert.equal(both.chrfpp, sentenceChrf(c.hyp, c.ref, { wordOrder: 2 }));
  }
  // Code points, not UTF-16 units: an astral character is one character n-gram.
  near(sentenceChrf('𝒜b', '𝒜b'), 100, 1e-12, 'astral');
  // chrF++'s punctuation split: "word," is "word" and ",".
  assert.equal(sentenceChrf('hello, world', 'hello , world', { wordOrder: 2 }), 100);
});

test('scoreAnswer: every built-in metric, on its scale', () => {
  const s = scoreAnswer(
    'The quick brown fox jumps over the lazy dog',
    'The quick brown dog jumps on the log.',
  );
  assert.deepEqual(Object.keys(s), ['rouge1', 'rouge2', 'rougeL', 'bleu', 'chrf', 'chrfpp']);
  assert.equal(s.rougeL.toFixed(5), '0.58824');
  near(s.rouge1, 12 / 17, 1e-12, 'rouge1');
  for (const v of Object.values(s)) assert.ok(v >= 0 && v <= 100);
  const same = scoreAnswer('Aspirin 81 mg daily.', 'Aspirin 81 mg daily.');
  assert.deepEqual(
    { ...same, bleu: Math.round(same.bleu) },
    {
      rouge1: 1,
      rouge2: 1,
      rougeL: 1,
      bleu: 100,
      chrf: 100,
      chrfpp: 100,
    },
  );
  const empty = scoreAnswer('Aspirin 81 mg daily.', '');
  assert.deepEqual(empty, { rouge1: 0, rouge2: 0, rougeL: 0, bleu: 0, chrf: 0, chrfpp: 0 });
});

interface TauCase {
  x: number[];
  y: number[];
  tau: number | null;
  published?: number;
}

test("Kendall tau-b: scipy's published test values (cross-checked there with R)", () => {
  const fx = json<{ cases: TauCase[] }>('kendall-published.json');
  for (const c of fx.cases) {
    const got = kendallTauB(c.x, c.y);
    if (c.tau === null) assert.ok(Number.isNaN(got), `${c.x.join()} / ${c.y.join()}: ${got} is not NaN`);
    // assert_approx_equal: 7 significant digits.
    else near(got, c.tau, Math.max(Math.abs(c.tau), 1e-9) * 1e-6, `${c.x.join()} / ${c.y.join()}`);
  }
});

test('Kendall tau-b: identical to scipy 1.10 kendalltau on 121 generated lists (ties, continuous, n=500)', () => {
  const fx = json<{ cases: TauCase[] }>('kendall-scipy.json');
  assert.equal(fx.cases.length, 121);
  for (const c of fx.cases) {
    const got = kendallTauB(c.x, c.y);
    if (c.tau === null) assert.ok(Number.isNaN(got));
    else near(got, c.tau, 1e-12, `n=${c.x.length}`);
    if (c.published !== undefined) near(got, c.published, 1e-9, 'published n=500 case');
  }
  assert.throws(() => kendallTauB([1, 2], [1]), /different lengths/);
});

test('bootstrap interval: seeded and deterministic, NaN items left out and counted', () => {
  assert.equal(percentile([1, 2, 3, 4], 50), 2.5);
  assert.equal(percentile([1, 2, 3, 4], 0), 1);
  assert.equal(percentile([1, 2, 3, 4], 100), 4);
  const values = [0.2, 0.4, NaN, 0.6, 0.8, 1];
  const a = meanWithInterval(values, { seed: 42 });
  const b = meanWithInterval(values, { seed: 42 });
  assert.deepEqual(a, b);
  near(a.mean, 0.6, 1e-12, 'mean');
  assert.equal(a.n, 5);
  assert.equal(a.skipped, 1);
  assert.ok(a.low < a.mean && a.mean < a.high && a.low >= 0.2 && a.high <= 1, JSON.stringify(a));
  const constant = meanWithInterval([0.5, 0.5, 0.5]);
  assert.deepEqual([constant.low, constant.mean, constant.high], [0.5, 0.5, 0.5]);
  const none = meanWithInterval([NaN]);
  assert.ok(Number.isNaN(none.mean) && none.n === 0 && none.skipped === 1);
  // The PRNG's stream is fixed (mulberry32): a change would silently move every published interval.
  const rng = new Prng(1);
  assert.deepEqual(
    [rng.next(), rng.next()].map((x) => x.toFixed(10)),
    ['0.6270739406', '0.0027357212'],
  );
});
