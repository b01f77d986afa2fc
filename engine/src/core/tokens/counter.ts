/**
 * Token counting with a content-hash cache: a chunk whose text did not change is never tokenized
 * again (keyed by the tokenizer's name (tokens/tokenizer.ts) + 64-bit hash + length of the chunk's text; see core/util/hash.ts).
 */
import type { EhrRecord } from '../record/model';
import type { RecordLayout, Span, Split, VisitSplit } from '../record/layout';
import { recordLayout, splitVisit } from '../record/layout';
import { hashKey } from '../util/hash';
import type { TokenizerName } from './tokenizer';
import { getTokenizer } from './tokenizer';

export interface TokenCounterOptions {
  /**
   * Cache entries kept (least recently used are dropped first). Default 100,000. With 0 nothing is
   * cached and no text is hashed: for a one-shot count (`medalign count`), where every chunk is
   * counted once and hashing 2 MB would be pure overhead.
   */
  maxEntries?: number;
  /** Texts shorter than this are tokenized directly, not cached. Default 32. */
  minCachedLength?: number;
  /** Whole-record results kept per encoding, keyed by the exact text (warm hovers). Default 4. */
  maxRecords?: number;
}

export interface TokenCounterStats {
  hits: number;
  misses: number;
  /** Characters handed to the tokenizer since creation (the work actually done). */
  tokenizedChars: number;
  entries: number;
}

/** Token counts of a record, per chunk (see record/layout.ts). Plain data: can cross a worker boundary. */
export interface RecordTokenCounts {
  encoding: TokenizerName;
  /** Exact count of the whole text. */
  total: number;
  head: number;
  tail: number;
  /** One count per visit chunk (the visit's lines), standalone. */
  visits: number[];
  /** `total − (head + Σ visits + tail)`: 0 unless tags abut without a line break (`</visit><visit`). */
  seamAdjustment: number;
  layout: RecordLayout;
}

/** Counts of one visit's parts, for cutting inside it. */
export interface VisitTokenCounts {
  split: VisitSplit;
  /** Start tag line(s) of the visit (and anything before its first day). */
  open: number;
  close: number;
  days: DayTokenCounts[];
}

export interface DayTokenCounts {
  split: Split;
  total: number;
  open: number;
  close: number;
  events: number[];
}

export class TokenCounter {
  private readonly cache = new Map<string, number>();
  private readonly records = new Map<TokenizerName, Map<string, RecordTokenCounts>>();
  private readonly maxEntries: number;
  private readonly minCached: number;
  private readonly maxRecords: number;
  private readonly s: TokenCounterStats = { hits: 0, misses: 0, tokenizedChars: 0, entries: 0 };

  constructor(options: TokenCounterOptions = {}) {
    this.maxEntries = options.maxEntries ?? 100_000;
    this.minCached = options.minCachedLength ?? 32;
    this.maxRecords = options.maxRecords ?? 4;
  }

  get stats(): TokenCounterStats {
    return { ...this.s, entries: this.cache.size };
  }

  clear(): void {
    this.cache.clear();
    this.records.clear();
  }

  /** Exact token count of `text`. */
  count(text: string, encoding: TokenizerName): number {
    return this.countRange(text, 0, text.length, encoding);
  }

  /** Exact token count of `text[start, end)`, cached by content. */
  countRange(text: string, start: number, end: number, encoding: TokenizerName): number {
    const len = end - start;
    if (len <= 0) return 0;
    if (len < this.minCached || this.maxEntries === 0) {
      this.s.tokenizedChars += len;
      return getTokenizer(encoding).count(start === 0 && end === text.length ? text : text.slice(start, end));
    }
    // The tokenizer's name is its identity (an hf tokenizer's is a hash of its tokenizer.json).
    const key = encoding + '\n' + hashKey(text, start, end);
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      this.s.hits++;
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    this.s.misses++;
    this.s.tokenizedChars += len;
    const n = getTokenizer(encoding).count(
      start === 0 && end === text.length ? text : text.slice(start, end),
    );
    this.cache.set(key, n);
    if (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next();
      if (oldest.done !== true) this.cache.delete(oldest.value);
    }
    return n;
  }

  countSpan(text: string, span: Span, encoding: TokenizerName): number {
    return this.countRange(text, span.start, span.end, encoding);
  }

  /** Whole-record counts; a second call with the same text is a map lookup. */
  countRecord(text: string, record: EhrRecord, encoding: TokenizerName): RecordTokenCounts {
    let perEnc = this.records.get(encoding);
    if (perEnc === undefined) this.records.set(encoding, (perEnc = new Map<string, RecordTokenCounts>()));
    const memo = perEnc.get(text);
    if (memo !== undefined) return memo;
    const result = countRecordTokens(text, record, encoding, this);
    perEnc.set(text, result);
    if (perEnc.size > this.maxRecords) {
      const oldest = perEnc.keys().next();
      if (oldest.done !== true) perEnc.delete(oldest.value);
    }
    return result;
  }

  /** Counts of a visit's days and events (for packing inside a visit). */
  countVisit(
    text: string,
    record: EhrRecord,
    counts: RecordTokenCounts,
    visitIndex: number,
  ): VisitTokenCounts {
    const enc = counts.encoding;
    const split = splitVisit(text, record.visits[visitIndex], counts.layout.visits[visitIndex]);
    const days = split.days.map((d) => ({
      split: d,
      total: this.countSpan(text, d.chunk, enc),
      open: this.countSpan(text, d.open, enc),
      close: this.countSpan(text, d.close, enc),
      events: d.parts.map((p) => this.countSpan(text, p, enc)),
    }));
    return {
      split,
      open: this.countSpan(text, split.open, enc),
      close: this.countSpan(text, split.close, enc),
      days,
    };
  }
}

/**
 * Exact count of a record's text, computed per visit chunk. Chunks joined by an inexact seam are
 * also counted together so that `total` is always exact.
 */
export function countRecordTokens(
  text: string,
  record: EhrRecord,
  encoding: TokenizerName,
  counter: TokenCounter,
): RecordTokenCounts {
  return countLayoutTokens(text, recordLayout(text, record), encoding, counter);
}

/** `countRecordTokens` for a record's layout (`recordLayout`), computed elsewhere. */
export function countLayoutTokens(
  text: string,
  layout: RecordLayout,
  encoding: TokenizerName,
  counter: TokenCounter,
): RecordTokenCounts {
  const chunks: Span[] = [layout.head, ...layout.visits, layout.tail];
  const counts = chunks.map((c) => counter.countSpan(text, c, encoding));
  let total = 0;
  let i = 0;
  while (i < chunks.length) {
    let j = i;
    while (j < chunks.length - 1 && !layout.exact[j]) j++;
    if (j === i) total += counts[i];
    else total += counter.countRange(text, chunks[i].start, chunks[j].end, encoding);
    i = j + 1;
  }
  const visits = counts.slice(1, counts.length - 1);
  const sum = counts.reduce((a, b) => a + b, 0);
  return {
    encoding,
    total,
    head: counts[0],
    tail: counts[counts.length - 1],
    visits,
    seamAdjustment: total - sum,
    layout,
  };
}
