/**
 * `medalign count <record.xml> [--encoding …]`: the exact token count of a record, with its visits,
 * events, notes and dates. A bundle of its own (dist/cliCount.js, entry countMain.ts), so a count
 * does not load the whole CLI: a big record's count begins at once, on this thread (the tokenizer's
 * load, then the count), while a worker thread parses the record (host/parallelCount.ts).
 * `--model` / `--verify` counts are records.ts's.
 */
import * as path from 'node:path';
import { URI } from 'vscode-uri';
import type { EncodingName } from '../core/tokens/encodings';
import { getTokenizer } from '../core/tokens/encodings';
import { formatTokenCount } from '../core/tokens/models';
import { statRecord } from '../core/workspace/records';
import { nodeFileSystem } from '../host/nodeFileSystem';
import {
  countGuessedChunks,
  countLayoutWithPrecounts,
  startParseWorker,
  summarizeRecord,
  summaryOf,
} from '../host/parallelCount';
import type { ChunkCounts, RecordSummary } from '../host/parallelCount';
import type { ParsedArgs } from './argv';
import type { CliIo } from './io';
import type { CountTarget } from './countArgs';

/** `medalign count <record> [--encoding …]` (`countTarget` gave an encoding). */
export async function runEncodingCount(
  target: Extract<CountTarget, { kind: 'encoding' }>,
  p: ParsedArgs,
  io: CliIo,
): Promise<number> {
  const shown = target.file;
  const { encoding } = target;
  const uri = URI.file(path.resolve(io.cwd, shown)).toString();
  // Counting needs no project config (the encoding is an option): none is read or validated.
  const found = await statRecord(nodeFileSystem, uri);
  if (!found.exists) throw new Error(`no such record: ${shown}`);
  // A record refused for its size is never read.
  const worker = found.record ? undefined : startParseWorker(uri, found.size);
  let summary: RecordSummary;
  let text = '';
  try {
    if (found.record) summary = summarizeRecord('', found.record);
    else {
      const reading = nodeFileSystem.readFile(uri);
      // The tokenizer loads (about 0.3 s) while the file is read and, in the worker, parsed.
      getTokenizer(encoding);
      const read = await reading;
      if (read === undefined) throw new Error(`no such record: ${shown}`);
      text = read;
      // The worker parses while this thread counts. The text output says the total only: the whole
      // text's count, which is what the record's chunks add up to (seams where the tokenizer could
      // merge are counted glued: tokens/counter.ts). `--json` gives each visit's count too: the
      // chunks of the layout guessed from the text are counted instead.
      const counted: Counted = p.flags.has('json')
        ? { pre: worker ? countGuessedChunks(text, encoding) : undefined }
        : { total: getTokenizer(encoding).count(text) };
      summary = summaryOf(text, await worker?.result);
      if (summary.ok && summary.layout) return print(io, shown, encoding, summary, text, counted);
    }
  } finally {
    worker?.dispose();
  }
  for (const m of summary.errors) io.err(`${shown}: ${m}\n`);
  return 1;
}

/** What this thread counted while the worker parsed: the whole text (text output), or the guessed layout's chunks (`--json`). */
type Counted = { total: number } | { pre: ChunkCounts | undefined };

function print(
  io: CliIo,
  shown: string,
  encoding: EncodingName,
  s: RecordSummary,
  text: string,
  counted: Counted,
): number {
  if ('pre' in counted) {
    const counts = countLayoutWithPrecounts(text, s.layout!, encoding, counted.pre);
    const result = {
      file: shown,
      encoding,
      tokens: counts.total,
      visits: s.visits,
      events: s.events,
      notes: s.notes,
      firstDate: s.firstDate,
      lastDate: s.lastDate,
      characters: s.characters,
      perVisit: counts.visits,
      warnings: s.warnings,
    };
    io.out(JSON.stringify(result, null, 2) + '\n');
  } else {
    io.out(
      `${shown}: ${formatTokenCount(counted.total, false)} tokens (${encoding}), ${s.visits} visits, ${s.events} events, ${s.notes} notes` +
        (s.firstDate && s.lastDate ? `, ${s.firstDate.slice(0, 10)} → ${s.lastDate.slice(0, 10)}` : '') +
        '\n',
    );
  }
  return 0;
}
