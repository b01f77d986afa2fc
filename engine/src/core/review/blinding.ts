/**
 * Blinding: a reviewer sees the answers to an instruction as A, B, C… in an order shuffled per
 * reviewer and instruction. The order is deterministic (the same reviewer sees the same order again,
 * in any session, on any machine) and differs between reviewers, so no one learns that "A is
 * always GPT-4". Each answer's place comes from a hash of (reviewer, instruction id, the answer's
 * model/context), so adding a model later does not reshuffle the others relative to each other.
 */
import { hash64 } from '../util/hash';

/** `A`…`Z`, then `AA`, `AB`… (spreadsheet columns). */
export function blindLabel(index: number): string {
  let n = Math.max(0, Math.floor(index));
  let out = '';
  do {
    out = String.fromCharCode(65 + (n % 26)) + out;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return out;
}

export interface Blinded<T> {
  label: string;
  item: T;
}

/**
 * `items` in the reviewer's order with their labels. `idOf` names an item uniquely within the
 * instruction (endpoint, model and context: `slotId`); equal ids keep their input order.
 */
export function blindOrder<T>(
  reviewer: string,
  instructionId: string,
  items: readonly T[],
  idOf: (item: T) => string,
): Blinded<T>[] {
  const seed = `${reviewer.trim()}\u0001${instructionId}\u0001`;
  const keyed = items.map((item, i) => {
    const id = idOf(item);
    const [a, b] = hash64(seed + id);
    return { item, i, id, a, b };
  });
  keyed.sort((x, y) => x.a - y.a || x.b - y.b || (x.id < y.id ? -1 : x.id > y.id ? 1 : x.i - y.i));
  return keyed.map((k, i) => ({ label: blindLabel(i), item: k.item }));
}
