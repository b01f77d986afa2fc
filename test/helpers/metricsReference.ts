/**
 * A plain port of the reference implementations (rouge_score, sacrebleu), as written there: string
 * n-grams counted in maps (Python's `Counter`), the LCS table, regexes, an uncached stemmer. The
 * unit tests check the fast metrics' counts against it (test/unit/metricsExact.test.ts), and
 * `npm run bench` measures it as the peer of the metrics' per-pair cost.
 */
import { porterStem } from '../../engine/src/core/metrics/porter';
import { computeBleu, chrfFromStats } from '../../engine/src/core/metrics/sacrebleu';
import type { MetricScores } from '../../engine/src/core/metrics/metrics';

type Counter = Map<string, number>;
const SEP = '\u0001';

export function counter(tokens: readonly string[], n: number): Counter {
  const c: Counter = new Map();
  for (let i = 0; i + n <= tokens.length; i++) {
    const k = tokens.slice(i, i + n).join(SEP);
    c.set(k, (c.get(k) ?? 0) + 1);
  }
  return c;
}

export function overlap(hyp: Counter, ref: Counter): number {
  let m = 0;
  for (const [k, v] of hyp) m += Math.min(v, ref.get(k) ?? 0);
  return m;
}

export const total = (c: Counter): number => [...c.values()].reduce((a, b) => a + b, 0);

/** rouge_score's tokenize with the stemmer, as written there (regexes, no cache). */
export function naiveRougeTokens(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .split(/\s+/)
    .filter((t) => t !== '')
    .map((t) => (t.length > 3 ? porterStem(t) : t))
    .filter((t) => /^[a-z0-9]+$/.test(t));
}

export function lcsTable(a: readonly string[], b: readonly string[]): number {
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
// eslint-disable-next-line no-control-regex
const PY_SPACE_END = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/;
export const pySplit = (s: string): string[] => s.split(PY_SPACE).filter((w) => w !== '');
const PUNCT = new Set([...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~']);

/** sacrebleu chrF's `_remove_punctuation`, on code points. */
export function naiveChrfWords(s: string): string[] {
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

/** sacrebleu's Tokenizer13a as written there: replacements, then four regexes over the whole line. */
export function regex13a(line: string): string[] {
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

const f1 = (p: number, r: number): number => (p + r > 0 ? (2 * p * r) / (p + r) : 0);

/** Every built-in metric the plain way (the final formulas are the core's: computeBleu, chrfFromStats). */
export function referenceScores(gold: string, answer: string): MetricScores {
  const t = naiveRougeTokens(gold);
  const a = naiveRougeTokens(answer);
  const rougeN = (n: number): number => {
    const ca = counter(a, n);
    const ct = counter(t, n);
    const m = overlap(ca, ct);
    return f1(m / Math.max(total(ca), 1), m / Math.max(total(ct), 1));
  };
  const lcs = t.length && a.length ? lcsTable(t, a) : 0;
  const rougeL = t.length && a.length ? f1(lcs / a.length, lcs / t.length) : 0;
  // Python's rstrip(), then the 13a rules.
  const rstrip = (x: string): string => x.slice(0, x.length - (PY_SPACE_END.exec(x)?.[0].length ?? 0));
  const bh = regex13a(rstrip(answer));
  const br = regex13a(rstrip(gold));
  const orders = [1, 2, 3, 4];
  const bleu = computeBleu(
    orders.map((n) => overlap(counter(bh, n), counter(br, n))),
    orders.map((n) => Math.max(0, bh.length - n + 1)),
    bh.length,
    br.length,
  ).score;
  const ch = Array.from(pySplit(answer).join(''));
  const cr = Array.from(pySplit(gold).join(''));
  const stats = (h: readonly string[], r: readonly string[], n: number) => {
    const hc = counter(h, n);
    const rc = counter(r, n);
    return { hyp: rc.size > 0 ? total(hc) : 0, ref: total(rc), match: overlap(hc, rc) };
  };
  const chars = [1, 2, 3, 4, 5, 6].map((n) => stats(ch, cr, n));
  const wh = naiveChrfWords(answer);
  const wr = naiveChrfWords(gold);
  const words = [1, 2].map((n) => stats(wh, wr, n));
  return {
    rouge1: rougeN(1),
    rouge2: rougeN(2),
    rougeL,
    bleu,
    chrf: chrfFromStats(chars),
    chrfpp: chrfFromStats([...chars, ...words]),
  };
}
