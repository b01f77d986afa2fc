/**
 * Work in steps: a generator that yields between pieces of a long job (the record worker's warming
 * of a big record, a visit each), so a caller can answer other requests between them; `drain` runs
 * it to its end for a caller that wants the result now.
 */
export type Steps<T> = Generator<void, T>;

/** Runs steps to their end and gives their result. */
export function drain<T>(steps: Steps<T>): T {
  let r = steps.next();
  while (r.done !== true) r = steps.next();
  return r.value;
}
