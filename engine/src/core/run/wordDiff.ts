/**
 * A word-level diff of two texts (the gold response and a run's answer): the longest common
 * subsequence over words, so prose that says the same thing with a few words changed shows those
 * words, not one red paragraph against one green one. Whitespace is kept as it was (each word
 * carries the whitespace before it, from its own side), so the result reads as the text does.
 */

export type DiffOp = 'equal' | 'delete' | 'insert';

export interface DiffPart {
  /** `delete`: only in the first text (gold); `insert`: only in the second (the answer). */
  op: DiffOp;
  text: string;
}

export interface WordDiff {
  parts: DiffPart[];
  /** Words in common, only in the first, only in the second. */
  equal: number;
  deleted: number;
  inserted: number;
  /**
   * True when the texts were too long to align word by word within the budget: the middle that
   * differs is shown as one deletion and one insertion.
   */
  approximate: boolean;
}

interface Word {
  /** The whitespace before the word. */
  space: string;
  word: string;
}

/** Words (letters and digits, with inner `'`, `.`, `-`, `/`, `:` as in `5.2`, `128/77`, `don't`) and single other characters. */
const WORD = /[\p{L}\p{N}]+(?:['’.\-/:,][\p{L}\p{N}]+)*|[^\s\p{L}\p{N}]/gu;

function words(text: string): { words: Word[]; trailing: string } {
  const out: Word[] = [];
  let last = 0;
  for (const m of text.matchAll(WORD)) {
    const at = m.index;
    out.push({ space: text.slice(last, at), word: m[0] });
    last = at + m[0].length;
  }
  return { words: out, trailing: text.slice(last) };
}

/** Cells of the LCS table allowed (the middle that differs, after the common prefix and suffix). */
export const WORD_DIFF_MAX_CELLS = 4_000_000;

/**
 * The word diff of `a` (gold) and `b` (the answer). Words compare exactly (case and punctuation
 * count); equal words are shown with `b`'s whitespace.
 */
export function wordDiff(a: string, b: string, maxCells = WORD_DIFF_MAX_CELLS): WordDiff {
  const A = words(a);
  const B = words(b);
  const x = A.words;
  const y = B.words;
  const ops: { op: DiffOp; w: Word }[] = [];
  let start = 0;
  while (start < x.length && start < y.length && x[start].word === y[start].word) {
    ops.push({ op: 'equal', w: y[start] });
    start++;
  }
  let endX = x.length;
  let endY = y.length;
  const tail: { op: DiffOp; w: Word }[] = [];
  while (endX > start && endY > start && x[endX - 1].word === y[endY - 1].word) {
    endX--;
    endY--;
    tail.push({ op: 'equal', w: y[endY] });
  }
  const n = endX - start;
  const m = endY - start;
  let approximate = false;
  if (n > 0 && m > 0 && (n + 1) * (m + 1) > maxCells) {
    approximate = true;
    for (let i = start; i < endX; i++) ops.push({ op: 'delete', w: x[i] });
    for (let j = start; j < endY; j++) ops.push({ op: 'insert', w: y[j] });
  } else if (n > 0 || m > 0) {
    // lcs[i][j]: the LCS length of x[start+i..endX) and y[start+j..endY).
    const w = m + 1;
    const lcs = new Uint32Array((n + 1) * w);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * w + j] =
          x[start + i].word === y[start + j].word
            ? lcs[(i + 1) * w + j + 1] + 1
            : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && x[start + i].word === y[start + j].word) {
        ops.push({ op: 'equal', w: y[start + j] });
        i++;
        j++;
      } else if (i < n && (j === m || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])) {
        // Deletions before insertions: gold's words, then what the answer says instead.
        ops.push({ op: 'delete', w: x[start + i] });
        i++;
      } else {
        ops.push({ op: 'insert', w: y[start + j] });
        j++;
      }
    }
  }
  ops.push(...tail.reverse());

  const parts: DiffPart[] = [];
  const counts = { equal: 0, delete: 0, insert: 0 };
  const add = (op: DiffOp, text: string) => {
    if (text === '') return;
    const prev = parts[parts.length - 1];
    if (prev?.op === op) prev.text += text;
    else parts.push({ op, text });
  };
  for (const { op, w } of ops) {
    counts[op]++;
    add(op, w.space + w.word);
  }
  add('equal', B.trailing);
  return {
    parts,
    equal: counts.equal,
    deleted: counts.delete,
    inserted: counts.insert,
    approximate,
  };
}
