/**
 * Sentence-level BLEU and chrF / chrF++ exactly as `sacrebleu` 2.x with its defaults, on its 0-100
 * scale:
 * - BLEU = `sentence_bleu(hyp, [ref])`: the 13a tokenizer (mteval-v13a), max order 4, exp
 *   smoothing (NIST), effective order (orders with no hypothesis n-gram are left out), brevity
 *   penalty, case-sensitive.
 * - chrF = `CHRF()`: character n-grams 1-6 with whitespace removed, beta 2, no word n-grams,
 *   effective-order averaging of precision and recall (eps_smoothing=False); chrF++ =
 *   `CHRF(word_order=2)`, adding word 1- and 2-grams after chrF's punctuation split.
 * Strings are handled as Python does: by code point, with Python's notion of whitespace.
 */
import { Vocabulary, ngramStats } from './ngrams';
import type { OrderStats } from './ngrams';

/** Python `str.isspace()` for one UTF-16 code unit (all Python whitespace is in the BMP). */
export function isPySpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
  if (c < 0x85) return false;
  return (
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** Python `s.split()`: runs of whitespace separate, no empty strings. */
export function pySplit(s: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i < s.length; i++) {
    if (isPySpace(s.charCodeAt(i))) {
      if (start >= 0) {
        out.push(s.slice(start, i));
        start = -1;
      }
    } else if (start < 0) start = i;
  }
  if (start >= 0) out.push(s.slice(start));
  return out;
}

/** Python `s.rstrip()`. */
function pyRstrip(s: string): string {
  let end = s.length;
  while (end > 0 && isPySpace(s.charCodeAt(end - 1))) end--;
  return s.slice(0, end);
}

/** tokenize13a: true for the punctuation mteval-v13a puts spaces around ({|}~ [\\]^_` !"#$%& ()*+ :;<=>?@ /). */
const PUNCT_13A = new Uint8Array(128);
for (const ch of '{|}~[\\]^_`!"#$%&()*+:;<=>?@/') PUNCT_13A[ch.charCodeAt(0)] = 1;

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isPeriodComma = (c: number): boolean => c === 46 || c === 44;

/** sacrebleu's `Tokenizer13a()(line)`: the tokens, space-separated. */
export function tokenize13a(line: string): string {
  return tokens13a(line).join(' ');
}

/**
 * mteval-v13a's last three rules on one token (a run of characters that are neither whitespace nor
 * the punctuation above) containing '.', ',' or '-': `([^0-9])([.,])` → '$1 $2 ', then
 * `([.,])([^0-9])` → ' $1 $2', then `([0-9])(-)` → '$1 $2 ', each a left-to-right scan of
 * non-overlapping two-character matches as a global regex replace makes. The token stands between
 * spaces, as in the whole line: no match of these rules reaches past a space, so rule by rule and
 * token by token is the same as rule by rule over the line.
 */
function splitPeriodsCommasDashes(token: string, out: string[]): void {
  let x = ` ${token} `;
  let y = '';
  let from = 0;
  for (let i = 0; i + 1 < x.length; i++) {
    if (!isDigit(x.charCodeAt(i)) && isPeriodComma(x.charCodeAt(i + 1))) {
      y += x.slice(from, i + 1) + ' ' + x[i + 1] + ' ';
      from = i + 2;
      i++;
    }
  }
  x = y + x.slice(from);
  y = '';
  from = 0;
  for (let i = 0; i + 1 < x.length; i++) {
    if (isPeriodComma(x.charCodeAt(i)) && !isDigit(x.charCodeAt(i + 1))) {
      y += x.slice(from, i) + ' ' + x[i] + ' ' + x[i + 1];
      from = i + 2;
      i++;
    }
  }
  x = y + x.slice(from);
  y = '';
  from = 0;
  for (let i = 0; i + 1 < x.length; i++) {
    if (isDigit(x.charCodeAt(i)) && x.charCodeAt(i + 1) === 45) {
      y += x.slice(from, i + 1) + ' - ';
      from = i + 2;
      i++;
    }
  }
  x = y + x.slice(from);
  for (const t of pySplit(x)) out.push(t);
}

/**
 * The tokens of sacrebleu's 13a tokenizer, in one scan: the entity and line-break replacements as
 * written there, then each punctuation mark above is a token of its own, whitespace (Python's)
 * separates, and tokens with '.', ',' or '-' go through the last three rules.
 */
function tokens13a(line: string): string[] {
  const s = line
    .replaceAll('<skipped>', '')
    .replaceAll('-\n', '')
    .replaceAll('\n', ' ')
    .replaceAll('&quot;', '"')
    .replaceAll('&amp;', '&')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>');
  const out: string[] = [];
  let start = -1;
  let special = false;
  const flush = (end: number): void => {
    const token = s.slice(start, end);
    if (special) splitPeriodsCommasDashes(token, out);
    else out.push(token);
    start = -1;
    special = false;
  };
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isPySpace(c)) {
      if (start >= 0) flush(i);
    } else if (c < 128 && PUNCT_13A[c] === 1) {
      if (start >= 0) flush(i);
      out.push(s[i]);
    } else {
      if (start < 0) start = i;
      if (c === 46 || c === 44 || c === 45) special = true;
    }
  }
  if (start >= 0) flush(s.length);
  return out;
}

export interface BleuScore {
  score: number;
  /** Matched n-grams per order 1-4. */
  counts: number[];
  /** Hypothesis n-grams per order 1-4. */
  totals: number[];
  precisions: number[];
  bp: number;
  sysLen: number;
  refLen: number;
}

/** sacrebleu's `my_log`: log, with log(0) = -9999999999. */
function myLog(x: number): number {
  return x === 0 ? -9999999999 : Math.log(x);
}

export type BleuSmoothing = 'exp' | 'floor' | 'add-k' | 'none';

export interface BleuOptions {
  /** Default 'exp' (sacrebleu's default). */
  smooth?: BleuSmoothing;
  /** For 'floor' (default 0.1) and 'add-k' (default 1). */
  smoothValue?: number;
  /** Default true (sentence_bleu's default). */
  effectiveOrder?: boolean;
  maxOrder?: number;
}

/** `BLEU.compute_bleu(correct, total, sys_len, ref_len, ...)`; defaults as `sentence_bleu`. */
export function computeBleu(
  correctIn: readonly number[],
  totalIn: readonly number[],
  sysLen: number,
  refLen: number,
  options: BleuOptions = {},
): BleuScore {
  const smooth = options.smooth ?? 'exp';
  const smoothValue = options.smoothValue ?? (smooth === 'floor' ? 0.1 : 1);
  const effectiveOrder = options.effectiveOrder ?? true;
  const maxOrder = options.maxOrder ?? 4;
  const correct = [...correctIn];
  const total = [...totalIn];
  const bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1;
  const precisions = new Array<number>(maxOrder).fill(0);
  const result = (score: number): BleuScore => ({
    score,
    counts: correct,
    totals: total,
    precisions,
    bp,
    sysLen,
    refLen,
  });
  if (!correct.some((c) => c !== 0)) return result(0);
  let smoothMteval = 1;
  let effOrder = maxOrder;
  for (let n = 1; n <= maxOrder; n++) {
    if (smooth === 'add-k' && n > 1) {
      correct[n - 1] += smoothValue;
      total[n - 1] += smoothValue;
    }
    if (total[n - 1] === 0) break;
    if (effectiveOrder) effOrder = n;
    if (correct[n - 1] === 0) {
      if (smooth === 'exp') {
        smoothMteval *= 2;
        precisions[n - 1] = 100 / (smoothMteval * total[n - 1]);
      } else if (smooth === 'floor') {
        precisions[n - 1] = (100 * smoothValue) / total[n - 1];
      }
    } else {
      precisions[n - 1] = (100 * correct[n - 1]) / total[n - 1];
    }
  }
  let sum = 0;
  for (let i = 0; i < effOrder; i++) sum += myLog(precisions[i]);
  return result(bp * Math.exp(sum / effOrder));
}

/** The 13a-tokenized words of a segment, as sacrebleu's BLEU preprocesses it (rstrip, then 13a). */
export function bleuTokens(segment: string): string[] {
  return tokens13a(pyRstrip(segment));
}

/** sacrebleu `sentence_bleu(hypothesis, [reference])` (defaults). */
export function sentenceBleu(hypothesis: string, reference: string, options: BleuOptions = {}): BleuScore {
  const hyp = bleuTokens(hypothesis);
  const ref = bleuTokens(reference);
  const vocab = new Vocabulary();
  const stats = ngramStats(vocab.idsOf(hyp), vocab.idsOf(ref), options.maxOrder ?? 4);
  return computeBleu(
    stats.map((s) => s.match),
    stats.map((s) => s.hyp),
    hyp.length,
    ref.length,
    options,
  );
}

const PUNCTS = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

/** chrF's `_remove_punctuation`: one leading or trailing punctuation mark split off each word. */
export function chrfWords(sent: string): string[] {
  const out: string[] = [];
  for (const w of pySplit(sent)) {
    // One code point: a single unit, or a surrogate pair (a lone surrogate is a code point of its
    // own, as in Python). The marks are ASCII, so units suffice.
    const n = w.length;
    const single =
      n === 1 ||
      (n === 2 &&
        w.charCodeAt(0) >= 0xd800 &&
        w.charCodeAt(0) <= 0xdbff &&
        w.charCodeAt(1) >= 0xdc00 &&
        w.charCodeAt(1) <= 0xdfff);
    if (single) out.push(w);
    else if (PUNCTS.has(w[n - 1])) out.push(w.slice(0, -1), w[n - 1]);
    else if (PUNCTS.has(w[0])) out.push(w[0], w.slice(1));
    else out.push(w);
  }
  return out;
}

/** Ids of BMP characters, reused between calls: `stamp` says which call set `bmpId`. */
let bmpId = new Int32Array(0);
let bmpStamp = new Int32Array(0);
let stamp = 0;

/** Code points of `s` without (Python) whitespace, as ids; `next` numbers new characters. */
function charIds(s: string, astral: Map<number, number>, next: { id: number }): Int32Array {
  const out = new Int32Array(s.length);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const cu = s.charCodeAt(i);
    if (isPySpace(cu)) continue;
    if (cu >= 0xd800 && cu <= 0xdbff && i + 1 < s.length) {
      const lo = s.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        const cp = 0x10000 + ((cu - 0xd800) << 10) + (lo - 0xdc00);
        i++;
        let id = astral.get(cp);
        if (id === undefined) astral.set(cp, (id = ++next.id));
        out[n++] = id;
        continue;
      }
    }
    if (bmpStamp[cu] !== stamp) {
      bmpStamp[cu] = stamp;
      bmpId[cu] = ++next.id;
    }
    out[n++] = bmpId[cu]!;
  }
  return out.subarray(0, n);
}

/** The character ids of a pair, one numbering for both. */
function charIdPair(hyp: string, ref: string): [Int32Array, Int32Array] {
  if (bmpId.length === 0) {
    bmpId = new Int32Array(0x10000);
    bmpStamp = new Int32Array(0x10000);
  }
  stamp = (stamp + 1) | 0;
  const astral = new Map<number, number>();
  const next = { id: 0 };
  return [charIds(hyp, astral, next), charIds(ref, astral, next)];
}

/** sacrebleu `CHRF._get_match_statistics`: no hypothesis count where the reference has no n-gram. */
function chrfStats(s: OrderStats): OrderStats {
  return { hyp: s.ref > 0 ? s.hyp : 0, ref: s.ref, match: s.match };
}

export interface ChrfOptions {
  charOrder?: number;
  /** 0 = chrF, 2 = chrF++. */
  wordOrder?: number;
  beta?: number;
  /** sacrebleu's eps_smoothing (default false: effective-order averaging). */
  epsSmoothing?: boolean;
}

/** `CHRF._compute_f_score` on 0-100 (defaults: beta 2, eps_smoothing=False). */
export function chrfFromStats(stats: readonly OrderStats[], beta = 2, epsSmoothing = false): number {
  const eps = 1e-16;
  const factor = beta ** 2;
  let score = 0;
  let avgPrec = 0;
  let avgRec = 0;
  let effective = 0;
  for (const { hyp, ref, match } of stats) {
    const prec = hyp > 0 ? match / hyp : eps;
    const rec = ref > 0 ? match / ref : eps;
    const denom = factor * prec + rec;
    score += denom > 0 ? ((1 + factor) * prec * rec) / denom : eps;
    if (hyp > 0 && ref > 0) {
      avgPrec += prec;
      avgRec += rec;
      effective++;
    }
  }
  if (epsSmoothing) return (100 * score) / stats.length;
  if (effective === 0) return 0;
  avgPrec /= effective;
  avgRec /= effective;
  if (avgPrec + avgRec === 0) return 0;
  return (100 * ((1 + factor) * avgPrec * avgRec)) / (factor * avgPrec + avgRec);
}

/** A segment's [hyp, ref, match] statistics per order (characters 1..charOrder, then words). */
export function chrfStatistics(
  hypothesis: string,
  reference: string,
  options: ChrfOptions = {},
): OrderStats[] {
  const [h, r] = charIdPair(hypothesis, reference);
  const stats = ngramStats(h, r, options.charOrder ?? 6).map(chrfStats);
  const wordOrder = options.wordOrder ?? 0;
  if (wordOrder > 0) {
    const vocab = new Vocabulary();
    const w = ngramStats(vocab.idsOf(chrfWords(hypothesis)), vocab.idsOf(chrfWords(reference)), wordOrder);
    stats.push(...w.map(chrfStats));
  }
  return stats;
}

/** sacrebleu `CHRF(...).sentence_score(hyp, [ref]).score` (defaults: chrF, char order 6, beta 2). */
export function sentenceChrf(hypothesis: string, reference: string, options: ChrfOptions = {}): number {
  return chrfFromStats(chrfStatistics(hypothesis, reference, options), options.beta, options.epsSmoothing);
}

/** sacrebleu `CHRF(...).corpus_score(hyps, [refs])`: statistics summed over segments. */
export function corpusChrf(
  hypotheses: readonly string[],
  references: readonly string[],
  options: ChrfOptions = {},
): number {
  if (hypotheses.length !== references.length)
    throw new Error('corpusChrf: as many references as hypotheses');
  let sum: OrderStats[] | undefined;
  for (let i = 0; i < hypotheses.length; i++) {
    const s = chrfStatistics(hypotheses[i], references[i], options);
    sum = sum
      ? sum.map((a, k) => ({ hyp: a.hyp + s[k].hyp, ref: a.ref + s[k].ref, match: a.match + s[k].match }))
      : s;
  }
  return chrfFromStats(sum ?? [], options.beta, options.epsSmoothing);
}
/** Both chrF and chrF++ from one pass over the characters. */
export function sentenceChrfBoth(hypothesis: string, reference: string): { chrf: number; chrfpp: number } {
  const [h, r] = charIdPair(hypothesis, reference);
  const chars = ngramStats(h, r, 6).map(chrfStats);
  const vocab = new Vocabulary();
  const words = ngramStats(vocab.idsOf(chrfWords(hypothesis)), vocab.idsOf(chrfWords(reference)), 2).map(
    chrfStats,
  );
  return { chrf: chrfFromStats(chars), chrfpp: chrfFromStats([...chars, ...words]) };
}
