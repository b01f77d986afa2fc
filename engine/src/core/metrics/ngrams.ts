/**
 * N-gram matching shared by ROUGE-N, BLEU and chrF(++): two sequences of integer ids (a hypothesis
 * and a reference) are counted into one trie of n-grams up to `maxOrder` (node = (parent node,
 * next id), kept in an open-addressing hash table reused between calls), and for each order it
 * returns the totals of both sides and the clipped matches Σ min(count in hyp, count in ref) —
 * what `collections.Counter` intersections compute in the reference implementations, without
 * building a string key per n-gram.
 */

export interface OrderStats {
  /** n-grams of this order in the hypothesis. */
  hyp: number;
  /** n-grams of this order in the reference. */
  ref: number;
  /** Σ over distinct n-grams of min(hyp count, ref count). */
  match: number;
}

class NgramTable {
  private mask = 0;
  /** Slots of three: parent node, id, node (0 = empty slot); one cache line per probe. */
  private slots = new Int32Array(0);
  private nodes = 0;
  private order = new Uint8Array(0);
  private countA = new Int32Array(0);
  private countB = new Int32Array(0);
  /** Slot of each node, to clear only what the last call used. */
  private slotOf = new Int32Array(0);

  reset(expected: number): void {
    const want = Math.max(64, 1 << Math.ceil(Math.log2(expected * 2 + 1)));
    if (want - 1 > this.mask) {
      this.mask = want - 1;
      this.slots = new Int32Array(want * 3);
      this.order = new Uint8Array(want + 1);
      this.countA = new Int32Array(want + 1);
      this.countB = new Int32Array(want + 1);
      this.slotOf = new Int32Array(want + 1);
    } else {
      for (let node = 1; node <= this.nodes; node++) this.slots[this.slotOf[node] * 3 + 2] = 0;
      this.countA.fill(0, 0, this.nodes + 1);
      this.countB.fill(0, 0, this.nodes + 1);
    }
    this.nodes = 0;
  }

  /** Counts every n-gram (orders 1..maxOrder) of `seq` on one side. */
  add(seq: ArrayLike<number>, maxOrder: number, side: 0 | 1): void {
    const counts = side === 0 ? this.countA : this.countB;
    const slots = this.slots;
    const mask = this.mask;
    const len = seq.length;
    for (let i = 0; i < len; i++) {
      let node = 0;
      const end = Math.min(len, i + maxOrder);
      for (let j = i; j < end; j++) {
        const id = seq[j];
        let s = (Math.imul(node, 0x9e3779b1) ^ Math.imul(id + 0x7f4a7c15, 0x85ebca77)) & mask;
        let found = 0;
        for (;;) {
          const k = s * 3;
          const n = slots[k + 2];
          if (n === 0) break;
          if (slots[k] === node && slots[k + 1] === id) {
            found = n;
            break;
          }
          s = (s + 1) & mask;
        }
        if (found === 0) {
          // The reference side only needs nodes the hypothesis has (its totals count all n-grams).
          if (side === 1) break;
          found = ++this.nodes;
          const k = s * 3;
          slots[k] = node;
          slots[k + 1] = id;
          slots[k + 2] = found;
          this.order[found] = j - i + 1;
          this.slotOf[found] = s;
        }
        counts[found]++;
        node = found;
      }
    }
  }

  matches(maxOrder: number): number[] {
    const m = new Array<number>(maxOrder).fill(0);
    for (let node = 1; node <= this.nodes; node++) {
      const a = this.countA[node];
      const b = this.countB[node];
      m[this.order[node] - 1] += a < b ? a : b;
    }
    return m;
  }
}

const table = new NgramTable();

/** Count statistics for orders 1..maxOrder of `hyp` against `ref` (sequences of ids). */
export function ngramStats(hyp: ArrayLike<number>, ref: ArrayLike<number>, maxOrder: number): OrderStats[] {
  table.reset(hyp.length * maxOrder + 1);
  table.add(hyp, maxOrder, 0);
  table.add(ref, maxOrder, 1);
  const m = table.matches(maxOrder);
  const out: OrderStats[] = [];
  for (let n = 1; n <= maxOrder; n++) {
    out.push({ hyp: Math.max(0, hyp.length - n + 1), ref: Math.max(0, ref.length - n + 1), match: m[n - 1] });
  }
  return out;
}

/** Maps strings to small integer ids (1-based), one dictionary per scored pair. */
export class Vocabulary {
  private readonly ids = new Map<string, number>();
  idsOf(tokens: readonly string[]): Int32Array {
    const out = new Int32Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      let id = this.ids.get(t);
      if (id === undefined) {
        id = this.ids.size + 1;
        this.ids.set(t, id);
      }
      out[i] = id;
    }
    return out;
  }
}
