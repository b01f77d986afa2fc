/**
 * ROUGE-1, ROUGE-2 and ROUGE-L F-measures exactly as Google's `rouge_score` (`RougeScorer(...,
 * use_stemmer=True).score(target, prediction)`): lowercase, every run of characters other than
 * [a-z0-9] becomes a space, split on whitespace, NLTK Porter stemming of tokens longer than 3
 * characters, tokens that are not [a-z0-9]+ dropped; ROUGE-N from clipped n-gram counts and
 * ROUGE-L from the longest common subsequence of the token lists.
 */
import { porterStem } from './porter';
import { Vocabulary, ngramStats } from './ngrams';

export interface RougeScore {
  precision: number;
  recall: number;
  fmeasure: number;
}

export interface RougeScores {
  rouge1: RougeScore;
  rouge2: RougeScore;
  rougeL: RougeScore;
}

const STEM_CACHE_LIMIT = 200_000;
const stemCache = new Map<string, string>();

function stem(token: string): string {
  let s = stemCache.get(token);
  if (s === undefined) {
    s = porterStem(token);
    if (stemCache.size >= STEM_CACHE_LIMIT) stemCache.clear();
    stemCache.set(token, s);
  }
  return s;
}

/**
 * rouge_score's `tokenize.tokenize(text, stemmer)`, with or without the stemmer: after lowercasing,
 * tokens are the maximal runs of [a-z0-9] (what replacing other runs by a space and splitting on
 * whitespace leaves).
 */
export function rougeTokenize(text: string, useStemmer = true): string[] {
  const out: string[] = [];
  eachRougeWord(text, (w) => {
    const t = useStemmer && w.length > 3 ? stem(w) : w;
    // rouge_score's last filter keeps [a-z0-9]+ tokens: only an empty one can fail it here.
    if (t !== '') out.push(t);
  });
  return out;
}

/** The maximal runs of [a-z0-9] of `text` lowercased (rouge_score's tokens before stemming), in order. */
function eachRougeWord(text: string, emit: (word: string) => void): void {
  const lower = text.toLowerCase();
  let start = -1;
  for (let i = 0; i <= lower.length; i++) {
    const c = i < lower.length ? lower.charCodeAt(i) : 0;
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      emit(lower.slice(start, i));
      start = -1;
    }
  }
}

function fmeasure(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

function score(precision: number, recall: number): RougeScore {
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

/**
 * Length of the longest common subsequence of two id sequences, bit-parallel (Allison–Dix /
 * Hyyrö: one pass over `b` with `a`'s positions as bit vectors of 32-bit words), equal to the
 * dynamic-programming table's last cell.
 */
export function lcsLength(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const m = a.length;
  if (m === 0 || b.length === 0) return 0;
  const words = (m + 31) >>> 5;
  const masks = new Map<number, Uint32Array>();
  for (let i = 0; i < m; i++) {
    let mask = masks.get(a[i]);
    if (!mask) masks.set(a[i], (mask = new Uint32Array(words)));
    mask[i >>> 5] |= 1 << (i & 31);
  }
  const v = new Uint32Array(words).fill(0xffffffff);
  const lastBits = m & 31;
  if (lastBits) v[words - 1] = (2 ** lastBits - 1) >>> 0;
  for (let j = 0; j < b.length; j++) {
    const mask = masks.get(b[j]);
    if (!mask) continue;
    // V = (V + U) | (V - U) with U = V & M; U's bits are V's, so V - U = V & ~M (no borrow).
    let carry = 0;
    for (let w = 0; w < words; w++) {
      const vw = v[w];
      const mw = mask[w];
      const sum = vw + ((vw & mw) >>> 0) + carry;
      carry = sum > 0xffffffff ? 1 : 0;
      v[w] = ((sum >>> 0) | (vw & ~mw)) >>> 0;
    }
    if (lastBits) v[words - 1] = (v[words - 1] & (2 ** lastBits - 1)) >>> 0;
  }
  let zeros = 0;
  for (let i = 0; i < m; i++) if ((v[i >>> 5] & (1 << (i & 31))) === 0) zeros++;
  return zeros;
}

/**
 * Stemmed-token ids shared by every pair a thread scores: a token (lowercase [a-z0-9]+) → the id of
 * its stem, so each token costs one lookup (not a stem lookup and then a vocabulary lookup). Ids are
 * only compared within a pair; both maps are emptied between pairs when they grow too big.
 */
const tokenIds = new Map<string, number>();
const stemIds = new Map<string, number>();

function stemmedIds(text: string): Int32Array {
  const out: number[] = [];
  eachRougeWord(text, (w) => {
    let id = tokenIds.get(w);
    if (id === undefined) {
      const t = w.length > 3 ? porterStem(w) : w;
      // rouge_score's last filter keeps [a-z0-9]+ tokens: only an empty stem could fail it (id 0).
      id = t === '' ? 0 : stemIds.get(t);
      if (id === undefined) stemIds.set(t, (id = stemIds.size + 1));
      tokenIds.set(w, id);
    }
    if (id !== 0) out.push(id);
  });
  return Int32Array.from(out);
}

/** ROUGE-1/2/L of `prediction` against `target` (rouge_score's argument order: target first). */
export function rouge(target: string, prediction: string, useStemmer = true): RougeScores {
  let t: Int32Array;
  let p: Int32Array;
  if (useStemmer) {
    if (tokenIds.size >= STEM_CACHE_LIMIT) {
      tokenIds.clear();
      stemIds.clear();
    }
    t = stemmedIds(target);
    p = stemmedIds(prediction);
  } else {
    const vocab = new Vocabulary();
    t = vocab.idsOf(rougeTokenize(target, false));
    p = vocab.idsOf(rougeTokenize(prediction, false));
  }
  const [s1, s2] = ngramStats(p, t, 2);
  const n = (s: { hyp: number; ref: number; match: number }) =>
    score(s.match / Math.max(s.hyp, 1), s.match / Math.max(s.ref, 1));
  let rougeL: RougeScore;
  if (t.length === 0 || p.length === 0) rougeL = { precision: 0, recall: 0, fmeasure: 0 };
  else {
    const lcs = lcsLength(t, p);
    rougeL = score(lcs / p.length, lcs / t.length);
  }
  return { rouge1: n(s1), rouge2: n(s2), rougeL };
}
