/**
 * Records, tokens and packing benchmarks (issue 3). For generated records of 50k, 500k and 2M
 * characters (and one of ~668k cl100k tokens, the largest real record): parse, cold count,
 * warm hover (cache hit), an edit in one visit, pack at 32k and 128k, and the naive way
 * (re-tokenize the whole record per request) as a ratio. Medians.
 */
import { fitTable, packPrompt } from '../../engine/src/core/packing/pack';
import { parseRecord } from '../../engine/src/core/record/parse';
import { TokenCounter } from '../../engine/src/core/tokens/counter';
import type { EncodingName } from '../../engine/src/core/tokens/encodings';
import { clearTokenizerCaches, getTokenizer } from '../../engine/src/core/tokens/encodings';
import { XMLValidator } from 'fast-xml-parser';
import { generateRecord, synthRecord } from '../fixtures/recordGenerator';
import { fmt, median, row } from './stats';

function time<T>(fn: () => T): [number, T] {
  const t = process.hrtime.bigint();
  const r = fn();
  return [Number(process.hrtime.bigint() - t) / 1e6, r];
}

function med<T>(reps: number, fn: (i: number) => T): number {
  return median(runs(reps, fn));
}

function runs<T>(reps: number, fn: (i: number) => T): number[] {
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) xs.push(time(() => fn(i))[0]);
  return xs;
}

let serial = 0;
/** A different instruction each time, so the rendered prompt is never a cache hit. */
function freshInstruction(): string {
  return `${INSTRUCTION} (${++serial})`;
}

const INSTRUCTION = 'What was the most recent hemoglobin A1c, and has metformin been changed since?';

/** The naive way: tokenize the whole record for every request (and, to pack, keep the last N tokens like HELM). */
function naivePack(text: string, enc: EncodingName, budget: number): string {
  const t = getTokenizer(enc);
  const ids = t.encode(text);
  return t.decode(ids.slice(Math.max(0, ids.length - budget)));
}

export async function runRecordBench(): Promise<void> {
  const enc: EncodingName = 'cl100k_base';
  console.log('\nRecords, tokens, packing (issue 3) — cl100k_base, medians');
  const [loadMs] = time(() => getTokenizer(enc).count('warm up'));
  row('load the cl100k_base tables (once per process)', fmt(loadMs));

  const sizes: [string, number][] = [
    ['50k chars', 50_000],
    ['500k chars', 500_000],
    ['2M chars', 2_000_000],
    ['~668k tokens', 2_250_000],
  ];
  for (const [label, target] of sizes) {
    const text = generateRecord({ seed: 42, targetChars: target });
    const reps = target >= 1_000_000 ? 3 : 7;
    const parseMs = med(reps, () => parseRecord(text));
    const record = parseRecord(text);
    const coldRuns = runs(reps, () => {
      clearTokenizerCaches();
      return new TokenCounter().countRecord(text, record, enc).total;
    });
    const coldMs = median(coldRuns);
    const counter = new TokenCounter();
    const counts = counter.countRecord(text, record, enc);
    // A hover arriving with the same document text (a new string instance with equal content).
    const warmMs = med(21, () => counter.countRecord((' ' + text).slice(1), record, enc).total);
    // An edit inside one visit: only that visit is tokenized again (parse excluded: timed above).
    const mid = record.visits[Math.floor(record.visits.length / 2)];
    const at = text.indexOf('</day>', mid.range.start);
    const edits = [0, 1, 2, 3, 4].map((k) => text.slice(0, at) + `<note>edit ${k}</note>` + text.slice(at));
    const editRecords = edits.map((e) => parseRecord(e));
    let k = 0;
    const editMs = med(edits.length, () => {
      const r = counter.countRecord(edits[k], editRecords[k], enc);
      k++;
      return r;
    });
    const naiveCountMs = med(reps, () => {
      clearTokenizerCaches();
      return getTokenizer(enc).count(text);
    });
    // Each pack gets a new instruction (as when the user edits it): the record's chunk counts are
    // warm, the rendered prompt is new and is counted exactly.
    const pack = (context: number, strategy: 'recent' | 'bm25' = 'recent'): number =>
      med(reps + 2, () =>
        packPrompt({
          text,
          record,
          instruction: freshInstruction(),
          context,
          strategy,
          encoding: enc,
          counter,
        }),
      );
    const pack32 = pack(32_768);
    const pack128 = pack(131_072);
    const bm32 = pack(32_768, 'bm25');
    const fitMs = med(reps + 2, () =>
      fitTable({ text, record, instruction: freshInstruction(), encoding: enc, counter }),
    );
    const naive32 = med(reps, () => naivePack(text, enc, 32_768 - 256 - 40));

    console.log(
      `\n  ${label}: ${text.length.toLocaleString('en-US')} chars, ${counts.total.toLocaleString('en-US')} tokens, ` +
        `${record.visits.length} visits, ${record.eventCount} events`,
    );
    const big = counts.total >= 600_000;
    row('parse (XML -> model)', fmt(parseMs), target >= 2_000_000 ? '< 500 ms' : undefined);
    row('cold count (no cache), median', fmt(coldMs), big ? '< 500 ms' : undefined);
    row('cold count, first run in this process', fmt(coldRuns[0]));
    row('warm hover (cache hit)', fmt(warmMs), '< 5 ms');
    row('count after an edit in one visit (parse excluded)', fmt(editMs));
    row('pack recent at 32k (new instruction, warm counts)', fmt(pack32), big ? '< 150 ms' : undefined);
    row('pack recent at 128k', fmt(pack128));
    row('pack bm25 at 32k', fmt(bm32));
    row('fit table 2k…128k (hover on record)', fmt(fitMs));
    row('naive count (re-tokenize whole record)', fmt(naiveCountMs));
    row('naive pack 32k (tokenize all, keep last tokens)', fmt(naive32));
    row(
      'ratio cold count / naive count (floor: one tokenizer pass)',
      `${(coldMs / naiveCountMs).toFixed(2)}x`,
    );
    row('ratio naive / warm hover', `${(naiveCountMs / Math.max(warmMs, 0.001)).toFixed(0)}x`);
    row('ratio naive / pack 32k', `${(naive32 / pack32).toFixed(1)}x`);
  }
  await Promise.resolve();
  largeRecordBench();
}

/**
 * What the unit tests used to time (test/unit/recordParse.test.ts, test/unit/recordGenerator.test.ts),
 * against peers measured here: parsing the 2M-character synthRecord (seed 11) vs fast-xml-parser's
 * validator alone on the same text (parse runs it too) and a floor (one regex pass over the tags); and
 * generating 2M characters with generateRecord vs the compact synthRecord of the same size.
 */
function largeRecordBench(): void {
  console.log('\n  2M characters: parse and generate, medians of 3');
  const xml = synthRecord({ seed: 11, targetChars: 2_000_000 });
  parseRecord(xml.slice(0, 100_000)); // warm the JIT
  const parseMs = med(3, () => parseRecord(xml));
  const validatorMs = med(3, () => XMLValidator.validate(xml));
  const floorMs = med(3, () => xml.match(/<[^>]*>/g)?.length);
  row('parse 2M chars (synthRecord seed 11)', fmt(parseMs), '< 500 ms');
  row('  peer: fast-xml-parser XMLValidator alone, same text', fmt(validatorMs));
  row('  floor: one regex pass over the tags', fmt(floorMs));
  row('  ratio parse / validator', `${(parseMs / validatorMs).toFixed(2)}x`);
  row('  ratio parse / floor', `${(parseMs / floorMs).toFixed(1)}x`);
  const genMs = med(3, (i) => generateRecord({ seed: 100 + i, targetChars: 2_000_000 }));
  const peerMs = med(3, (i) => synthRecord({ seed: 100 + i, targetChars: 2_000_000 }));
  row('generate 2M chars (generateRecord, seeds 100-102)', fmt(genMs), '< 1,000 ms');
  row('  peer: synthRecord (compact generator), same size', fmt(peerMs));
  row('  ratio generateRecord / synthRecord', `${(genMs / peerMs).toFixed(2)}x`);
}
