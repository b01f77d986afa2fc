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
import { porterStem } from '../../engine/src/core/metrics/porter';
import { rouge, rougeTokenize } from '../../engine/src/core/metrics/rouge';
import {
  bleuTokens,
  chrfStatistics,
  sentenceBleu,
  tokenize13a,
} from '../../engine/src/core/metrics/sacrebleu';

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

// A plain port of the reference code, for the counts.

type Counter = Map<string, number>;
const SEP = '\u0001';

function counter(tokens: readonly string[], n: number): Counter {
  const c: Counter = new Map();
  for (let i = 0; i + n <= tokens.length; i++) {
    const k = tokens.slice(i, i + n).join(SEP);
    c.set(k, (c.get(k) ?? 0) + 1);
  }
  return c;
}

function overlap(hyp: Counter, ref: Counter): number {
  let m = 0;
  for (const [k, v] of hyp) m += Math.min(v, ref.get(k) ?? 0);
  return m;
}

const total = (c: Counter): number => [...c.values()].reduce((a, b) => a + b, 0);

/** rouge_score's tokenize with the stemmer, as written there (regexes, no cache). */
function naiveRougeTokens(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .split(/\s+/)
    .filter((t) => t !== '')
    .map((t) => (t.length > 3 ? porterStem(t) : t))
    .filter((t) => /^[a-z0-9]+$/.test(t));
}

function lcsTable(a: readonly string[], b: readonly string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    const cur = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j++)
      cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    prev = cur;
  }
  return prev[b.length];
}

// Python's str.isspace() characters (U+001C-U+001F included).
// eslint-disable-next-line no-control-regex
const PY_SPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;
const pySplit = (s: string): string[] => s.split(PY_SPACE).filter((w) => w !== '');
const PUNCT = new Set([...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~']);

/** sacrebleu chrF's `_remove_punctuation`, on code points. */
function naiveChrfWords(s: string): string[] {
  const out: string[] = [];
  for (const w of pySplit(s)) {
    const cps = Array.from(w);
    if (cps.length === 1) out.push(w);
    else if (PUNCT.has(cps[cps.length - 1])) out.push(cps.slice(0, -1).join(''), cps[cps.length - 1]);
    else if (PUNCT.has(cps[0])) out.push(cps[0], cps.slice(1).join(''));
    else out.push(w);
  }
  return out;
}

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

/** sacrebleu's Tokenizer13a as written there: replacements, then four regexes over the whole line. */
function regex13a(line: string): string[] {
  let s = line
    .replaceAll('<skipped>', '')
    .replaceAll('-\n', '')
    .replaceAll('\n', ' ')
    .replaceAll('&quot;', '"')
    .replaceAll('&amp;', '&')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>');
  s = ` ${s} `;
  s = s.replace(/([{-~[-` -&(-+:-@/])/g, ' $1 ');
  s = s.replace(/([^0-9])([.,])/g, '$1 $2 ');
  s = s.replace(/([.,])([^0-9])/g, ' $1 $2');
  s = s.replace(/([0-9])(-)/g, '$1 $2 ');
  return pySplit(s);
}

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
