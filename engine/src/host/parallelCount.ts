/**
 * `medalign count` on a big record: this thread loads the tokenizer and counts the record while a
 * worker thread parses it, so the parse costs no wall time where two cores are free (the tokenizer's
 * load and the count are the whole of a bare script that counts the text; they stay on this thread,
 * which never waits for a worker to start).
 *
 * The worker reads the file itself, so this thread goes straight to the tokenizer; it takes the
 * worker's answer only for the text it read too (same `hashKey`). This thread cannot wait for the parse, so it counts the chunks of a layout *guessed* from the text
 * (`guessVisitRanges`: every `<visit`…`</visit>`). A count depends only on the text it is given, so
 * the parsed record's layout (from the worker) takes a count made here only for a span it has too
 * (same start, same end) and any other span is counted again: the result is the in-process count
 * whatever the guess was (a `<visit` in a comment, nesting, a malformed record).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { guessVisitRanges, layoutOfVisits, recordLayout } from '../core/record/layout';
import type { RecordLayout } from '../core/record/layout';
import type { EhrRecord } from '../core/record/model';
import { countLayoutTokens, TokenCounter } from '../core/tokens/counter';
import type { RecordTokenCounts } from '../core/tokens/counter';
import type { EncodingName } from '../core/tokens/encodings';
import { parseRecord } from '../core/record/parse';
import { hashKey } from '../core/util/hash';
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

/** What `medalign count` says of a parsed record, and the layout its counts follow. */
export interface RecordSummary {
  ok: boolean;
  /** The errors of a record that is not ok. */
  errors: string[];
  warnings: number;
  visits: number;
  events: number;
  notes: number;
  firstDate: string | null;
  lastDate: string | null;
  characters: number;
  /** `recordLayout` of a record that is ok. */
  layout?: RecordLayout;
}

export function summarizeRecord(text: string, r: EhrRecord): RecordSummary {
  return {
    ok: r.ok,
    errors: r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message),
    warnings: r.diagnostics.filter((d) => d.severity === 'warning').length,
    visits: r.visits.length,
    events: r.eventCount,
    notes: r.noteCount,
    firstDate: r.firstDate?.iso ?? null,
    lastDate: r.lastDate?.iso ?? null,
    characters: r.size,
    ...(r.ok ? { layout: recordLayout(text, r) } : {}),
  };
}

/** Where the worker's bundle is: beside this module (dist/ for the CLI bundle, out/ for the tests). */
const WORKER = path.join(__dirname, 'countWorker.js');

/** A worker's summary, with the key (`hashKey`) of the text it read. */
export type WorkerSummary = RecordSummary & { textKey: string };

/**
 * A parse worker: it reads the record itself (so this thread can go straight to the tokenizer),
 * parses it and answers with its summary and the key of the text it read; the caller takes the
 * summary only for the text it read too. Never rejects: a failed worker, or one that could not read
 * the file, gives `undefined`, and the caller parses the record itself.
 */
export interface ParseWorker {
  readonly result: Promise<WorkerSummary | undefined>;
  /** Ends the worker (an answer no longer wanted). */
  dispose(): void;
}

/**
 * Starts a worker that reads and parses the record at `uri`, or `undefined` (parse in-process) for
 * a file expected to be small (`expectedChars`, e.g. its size), a single core, or no worker bundle.
 */
export function startParseWorker(
  uri: string,
  expectedChars: number,
  workerPath = WORKER,
): ParseWorker | undefined {
  if (expectedChars < PARALLEL_MIN_CHARS || availableParallelism() < 2 || !existsSync(workerPath))
    return undefined;
  let worker: Worker;
  try {
    worker = new Worker(workerPath, { workerData: { uri } });
  } catch {
    return undefined;
  }
  const result = new Promise<WorkerSummary | undefined>((resolve) => {
    worker.once('message', (m: WorkerSummary | null) => {
      resolve(m ?? undefined);
      void worker.terminate();
    });
    worker.once('error', () => resolve(undefined));
    worker.once('exit', () => resolve(undefined));
  });
  return {
    result,
    dispose() {
      void worker.terminate();
    },
  };
}

/** The worker's summary when it read `text`, else `text` parsed here. */
export function summaryOf(text: string, fromWorker: WorkerSummary | undefined): RecordSummary {
  return fromWorker !== undefined && fromWorker.textKey === hashKey(text)
    ? fromWorker
    : summarizeRecord(text, parseRecord(text));
}

/** The counts `countLayoutTokens` gives for `layout`, taking the counts made from the guessed layout where they apply. */
export function countLayoutWithPrecounts(
  text: string,
  layout: RecordLayout,
  encoding: EncodingName,
  pre: ChunkCounts | undefined,
): RecordTokenCounts {
  const counter = pre ? new PrecountedCounter(text, pre) : new TokenCounter({ maxEntries: 0 });
  return countLayoutTokens(text, layout, encoding, counter);
}

/** The record's counts, exactly as `countRecordTokens` gives them, taking the guessed layout's counts where they apply. */
export function countWithPrecounts(
  text: string,
  record: EhrRecord,
  encoding: EncodingName,
  pre: ChunkCounts | undefined,
): RecordTokenCounts {
  return countLayoutWithPrecounts(text, recordLayout(text, record), encoding, pre);
}
