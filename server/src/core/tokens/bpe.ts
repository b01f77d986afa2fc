/**
 * Byte-pair merging of one pre-tokenized piece in O(n log n): a min-heap of candidate pairs keyed by
 * (merge rank, position) over a linked list of parts.
 *
 * tiktoken (and gpt-tokenizer, js-tiktoken) merge a piece by scanning every adjacent pair for the
 * lowest rank, leftmost on ties, merging it and scanning again: quadratic in the piece's length (a
 * 300,000-character run of one letter took over a minute). This gives the same merges in the same
 * order:
 *
 * - every current pair with a rank has an entry `(rank, left part's start, right part's end)` in
 *   the heap; popping the smallest `(rank, start)` is exactly "lowest rank, leftmost";
 * - a merge only changes the pairs on either side of the merged part: their old entries become
 *   stale and new ones are pushed. An entry is stale when its left part is gone or its pair no longer
 *   ends at the recorded end (parts only grow, so a start that is still a part's start with the same
 *   pair end is the same pair, hence the same bytes and the same rank); stale entries are skipped.
 *
 * The tokens are the ranks of the final parts, as in tiktoken. Two entries never compare equal
 * (a start is in at most one live pair), so the heap's order is total.
 */

/** Rank of the bytes `piece[start, end)` as one token, or -1 when they are not a token. */
export type RankOf = (piece: Uint8Array, start: number, end: number) => number;

/** Pieces at least this many bytes long are merged here; shorter ones by the library (see encodings.ts). */
export const LONG_PIECE_BYTES = 256;

/** Token ids of one piece (all bytes of it), merged lowest rank first, leftmost on ties. */
export function bytePairMergeQueue(piece: Uint8Array, rankOf: RankOf): number[] {
  const n = piece.length;
  if (n === 0) return [];
  // Parts: a part starts at `i` when `alive[i]`; `next[i]` is the start of the following part (n at
  // the end), `prev[i]` the start of the previous one (-1 at the start). Every part is a token (a
  // byte, or the merge of two tokens whose bytes are a token): `token[i]` is its rank, so the rank of
  // a pair depends only on the two tokens and is looked up once per distinct pair of tokens.
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  const token = new Int32Array(n);
  const alive = new Uint8Array(n).fill(1);
  const byteRank = new Int32Array(256).fill(-2);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1;
    prev[i] = i - 1;
    const b = piece[i];
    if (byteRank[b] === -2) byteRank[b] = rankOf(piece, i, i + 1);
    if (byteRank[b] < 0) throw new Error(`BPE: byte ${b} is not a token`);
    token[i] = byteRank[b];
  }
  const pairs = new Map<number, number>();
  const pairRank = (start: number, mid: number, end: number): number => {
    const key = token[start] * PAIR + token[mid];
    let rank = pairs.get(key);
    if (rank === undefined) pairs.set(key, (rank = rankOf(piece, start, end)));
    return rank;
  };
  const heap = new PairHeap(3 * n + 1); // each merge pushes at most two entries
  for (let i = 0; i + 1 < n; i++) {
    const rank = pairRank(i, i + 1, i + 2);
    if (rank >= 0) heap.push(rank, i, i + 2);
  }
  while (heap.size > 0) {
    const rank = heap.ranks[0];
    const start = heap.starts[0];
    const end = heap.ends[0];
    heap.pop();
    const mid = alive[start] === 1 ? next[start] : n;
    if (mid >= n || next[mid] !== end) continue; // stale
    // Merge the part at `mid` into the part at `start`, then the pairs on either side are new.
    alive[mid] = 0;
    next[start] = end;
    token[start] = rank;
    if (end < n) {
      prev[end] = start;
      const after = next[end];
      const r = pairRank(start, end, after);
      if (r >= 0) heap.push(r, start, after);
    }
    const before = prev[start];
    if (before >= 0) {
      const r = pairRank(before, start, end);
      if (r >= 0) heap.push(r, before, end);
    }
  }

  const out: number[] = [];
  for (let i = 0; i < n; i = next[i]) out.push(token[i]);
  return out;
}

/** Pair keys: left token * PAIR + right token (ranks < 2^20; exact in a double). */
const PAIR = 2 ** 20;

/** Binary min-heap of pairs ordered by (rank, start); `end` rides along for the staleness check. */
class PairHeap {
  readonly ranks: Int32Array;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.ranks = new Int32Array(capacity);
    this.starts = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
  }

  push(rank: number, start: number, end: number): void {
    const { ranks, starts, ends } = this;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pr = ranks[p];
      if (pr < rank || (pr === rank && starts[p] < start)) break;
      ranks[i] = pr;
      starts[i] = starts[p];
      ends[i] = ends[p];
      i = p;
    }
    ranks[i] = rank;
    starts[i] = start;
    ends[i] = end;
  }

  /** Removes the smallest entry (read it from index 0 first). */
  pop(): void {
    const { ranks, starts, ends } = this;
    const size = --this.size;
    const rank = ranks[size];
    const start = starts[size];
    const end = ends[size];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= size) break;
      if (
        c + 1 < size &&
        (ranks[c + 1] < ranks[c] || (ranks[c + 1] === ranks[c] && starts[c + 1] < starts[c]))
      ) {
        c++;
      }
      if (ranks[c] > rank || (ranks[c] === rank && starts[c] > start)) break;
      ranks[i] = ranks[c];
      starts[i] = starts[c];
      ends[i] = ends[c];
      i = c;
    }
    ranks[i] = rank;
    starts[i] = start;
    ends[i] = end;
  }
}
