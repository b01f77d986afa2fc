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
 * The tokens are the ranks of the final parts, as in tiktoken. Two entries never compare equal (the
 * same rank and start means the same bytes, so the same end: a pair is formed, hence pushed, once),
 * so the heap's order is total.
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
  // a pair depends only on its two tokens and is cached by them (a run of one character asks
  // `rankOf` a handful of times instead of once per pair).
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
  // A direct-mapped cache of pair ranks by (left token, right token); a miss asks `rankOf`.
  const cacheLeft = new Int32Array(PAIR_CACHE).fill(-1);
  const cacheRight = new Int32Array(PAIR_CACHE);
  const cacheRank = new Int32Array(PAIR_CACHE);
  const pairRank = (start: number, mid: number, end: number): number => {
    const left = token[start];
    const right = token[mid];
    const slot = (Math.imul(left, 0x9e3779b1) ^ right) & (PAIR_CACHE - 1);
    if (cacheLeft[slot] === left && cacheRight[slot] === right) return cacheRank[slot];
    const rank = rankOf(piece, start, end);
    cacheLeft[slot] = left;
    cacheRight[slot] = right;
    cacheRank[slot] = rank;
    return rank;
  };
  const heap = new PairHeap(3 * n + 1); // each merge pushes at most two entries
  for (let i = 0; i + 1 < n; i++) {
    const rank = pairRank(i, i + 1, i + 2);
    if (rank >= 0) heap.push(rank, i, i + 2);
  }
  while (heap.size > 0) {
    const rank = heap.rank;
    const start = heap.start;
    const end = heap.end;
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

/** Slots of the pair-rank cache (a power of two). */
const PAIR_CACHE = 4096;

/**
 * 4-ary min-heap of pairs ordered by (rank, start), kept as one number `rank * 2^32 + start` (exact:
 * ranks < 2^21) so that an order test is one comparison; `end` rides along for the staleness check.
 */
class PairHeap {
  private readonly keys: Float64Array;
  private readonly endsAt: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.keys = new Float64Array(capacity);
    this.endsAt = new Int32Array(capacity);
  }

  get rank(): number {
    return Math.floor(this.keys[0] / POS);
  }

  get start(): number {
    return this.keys[0] % POS;
  }

  get end(): number {
    return this.endsAt[0];
  }

  push(rank: number, start: number, end: number): void {
    const { keys, endsAt } = this;
    const key = rank * POS + start;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 2;
      if (keys[p] < key) break;
      keys[i] = keys[p];
      endsAt[i] = endsAt[p];
      i = p;
    }
    keys[i] = key;
    endsAt[i] = end;
  }

  /** Removes the smallest entry (read it first). */
  pop(): void {
    const { keys, endsAt } = this;
    const size = --this.size;
    const key = keys[size];
    const end = endsAt[size];
    let i = 0;
    for (;;) {
      const first = 4 * i + 1;
      if (first >= size) break;
      let c = first;
      let ck = keys[first];
      const last = Math.min(first + 4, size);
      for (let j = first + 1; j < last; j++) {
        if (keys[j] < ck) {
          c = j;
          ck = keys[j];
        }
      }
      if (ck > key) break;
      keys[i] = ck;
      endsAt[i] = endsAt[c];
      i = c;
    }
    keys[i] = key;
    endsAt[i] = end;
  }
}

const POS = 2 ** 32;
