/**
 * `medalign count` on a big record: the record's chunks are counted in a worker thread while the
 * main thread parses the record, so the parse costs no wall time where two cores are free.
 *
 * The worker cannot wait for the parse, so it counts the chunks of a layout *guessed* from the
 * text (`guessVisitRanges`: every `<visit`…`</visit>`). A count depends only on the text it is
 * given, so the main thread takes a worker count only for a span the parsed record's layout has too
 * (same start, same end) and counts any other span itself: the result is the in-process count
 * whatever the guess was (a `<visit` in a comment, nesting, a malformed record).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { guessVisitRanges, layoutOfVisits } from '../core/record/layout';
import type { EhrRecord } from '../core/record/model';
import { countRecordTokens, TokenCounter } from '../core/tokens/counter';
import type { RecordTokenCounts } from '../core/tokens/counter';
import type { EncodingName } from '../core/tokens/encodings';
import { getTokenizer } from '../core/tokens/encodings';

/** Below this many characters a worker's start-up costs more than the parse it hides. */
export const PARALLEL_MIN_CHARS = 200_000;

/** Counts of spans of one text: `counts[i]` tokens in `text[starts[i], ends[i])`. */
export interface ChunkCounts {
  starts: number[];
  ends: number[];
  counts: number[];
}

/**
 * The counts `countRecordTokens` would ask for (each chunk, and the chunks glued across an inexact
 * seam), for the layout guessed from the text.
 */
export function countGuessedChunks(text: string, encoding: EncodingName): ChunkCounts {
  const layout = layoutOfVisits(text, guessVisitRanges(text));
  const chunks = [layout.head, ...layout.visits, layout.tail];
  const tokenizer = getTokenizer(encoding);
  const out: ChunkCounts = { starts: [], ends: [], counts: [] };
  const add = (start: number, end: number): void => {
    if (end <= start) return;
    out.starts.push(start);
    out.ends.push(end);
    out.counts.push(tokenizer.count(text.slice(start, end)));
  };
  for (const c of chunks) add(c.start, c.end);
  let i = 0;
  while (i < chunks.length) {
    let j = i;
    while (j < chunks.length - 1 && !layout.exact[j]) j++;
    if (j > i) add(chunks[i].start, chunks[j].end);
    i = j + 1;
  }
  return out;
}

/** A counter that answers from counts made elsewhere for spans of `text`, and counts anything else. */
class PrecountedCounter extends TokenCounter {
  private readonly known = new Map<number, Map<number, number>>();

  constructor(
    private readonly text: string,
    pre: ChunkCounts,
  ) {
    super({ maxEntries: 0 });
    pre.starts.forEach((s, i) => {
      let byEnd = this.known.get(s);
      if (byEnd === undefined) this.known.set(s, (byEnd = new Map<number, number>()));
      byEnd.set(pre.ends[i], pre.counts[i]);
    });
  }

  override countRange(text: string, start: number, end: number, encoding: EncodingName): number {
    if (text === this.text) {
      const n = this.known.get(start)?.get(end);
      if (n !== undefined) return n;
    }
    return super.countRange(text, start, end, encoding);
  }
}

/** Where the worker's bundle is: beside this module (dist/ for the CLI bundle, out/ for the tests). */
const WORKER = path.join(__dirname, 'countWorker.js');

/**
 * A count worker started before the text is read: it loads its tokenizer (compiling the encoding's
 * tables, the longest part of its start) while this thread reads the file, then counts the guessed
 * chunks of the text it is given. Never rejects: a failed worker gives `undefined`, and the caller
 * counts everything itself.
 */
export interface CountWorker {
  /** Counts `text`'s guessed chunks (once; the worker ends after answering). */
  count(text: string): Promise<ChunkCounts | undefined>;
  /** Ends the worker without counting (the text turned out small, or could not be read). */
  dispose(): void;
}

/**
 * Starts a count worker, or `undefined` (count in-process) for a text expected to be small
 * (`expectedChars`, e.g. the file's size), a single core, or no worker bundle.
 */
export function startCountWorker(
  encoding: EncodingName,
  expectedChars: number,
  workerPath = WORKER,
): CountWorker | undefined {
  if (expectedChars < PARALLEL_MIN_CHARS || availableParallelism() < 2 || !existsSync(workerPath))
    return undefined;
  let worker: Worker;
  try {
    worker = new Worker(workerPath, { workerData: { encoding } });
  } catch {
    return undefined;
  }
  const answer = new Promise<ChunkCounts | undefined>((resolve) => {
    worker.once('message', (m: ChunkCounts) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', () => resolve(undefined));
    worker.once('exit', () => resolve(undefined));
  });
  return {
    count(text) {
      worker.postMessage(text);
      return answer;
    },
    dispose() {
      void worker.terminate();
    },
  };
}

/**
 * Starts counting `text`'s guessed chunks in a worker; `undefined` (count in-process) for a small
 * text, a single core, or no worker bundle. The promise never rejects.
 */
export function precountInWorker(
  text: string,
  encoding: EncodingName,
  workerPath = WORKER,
): Promise<ChunkCounts | undefined> | undefined {
  if (text.length < PARALLEL_MIN_CHARS) return undefined;
  return startCountWorker(encoding, text.length, workerPath)?.count(text);
}

/** The record's counts, exactly as `countRecordTokens` gives them, taking the worker's counts where they apply. */
export function countWithPrecounts(
  text: string,
  record: EhrRecord,
  encoding: EncodingName,
  pre: ChunkCounts | undefined,
): RecordTokenCounts {
  const counter = pre ? new PrecountedCounter(text, pre) : new TokenCounter({ maxEntries: 0 });
  return countRecordTokens(text, record, encoding, counter);
}
