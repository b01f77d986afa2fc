/**
 * `medalign count <record.xml> [--encoding …]`: the exact token count of a record, with its visits,
 * events, notes and dates. A light module (main.ts loads it for `count` alone): a big record's count
 * begins at once, on this thread (the tokenizer's load, then the count), while a worker thread
 * parses the record (host/parallelCount.ts). `--model` / `--verify` counts go to records.ts.
 */
import * as path from 'node:path';
import { URI } from 'vscode-uri';
import { parseRecord } from '../core/record/parse';
import { isEncodingName } from '../core/tokens/encodings';
import type { EncodingName } from '../core/tokens/encodings';
import { formatTokenCount } from '../core/tokens/models';
import { statRecord } from '../core/workspace/records';
import { nodeFileSystem } from '../host/nodeFileSystem';
import {
  countGuessedChunks,
  countLayoutWithPrecounts,
  startParseWorker,
  summarizeRecord,
} from '../host/parallelCount';
import type { RecordSummary } from '../host/parallelCount';
import { parseArgs } from './argv';
import type { ParsedArgs } from './argv';
import type { CliIo } from './io';
import type * as RecordsModule from './records';

export const COUNT_USAGE =
  'usage: medalign count <record.xml> [--encoding cl100k_base|o200k_base | --model <endpoint> | --verify <endpoint>] [--json]';

/** `count`'s options. */
export function parseCountArgs(args: readonly string[]): ParsedArgs {
  return parseArgs(
    args,
    ['encoding', 'model', 'verify', 'allow-phi-endpoint', 'allow-root'],
    ['json', 'trust'],
  );
}

/** A count in an endpoint's tokenizer (its config names it), or in an encoding of gpt-tokenizer. */
export type CountTarget =
  | { kind: 'endpoint'; file: string; endpointId: string }
  | { kind: 'encoding'; file: string; encoding: EncodingName };

/** What `count` was asked to count (`file` as given); throws the usage error a user sees. */
export function countTarget(p: ParsedArgs): CountTarget {
  if (p.positional.length !== 1) throw new Error(COUNT_USAGE);
  const file = p.positional[0];
  const endpointId = p.values.get('verify')?.at(-1) ?? p.values.get('model')?.at(-1);
  if (endpointId !== undefined) return { kind: 'endpoint', file, endpointId };
  const encoding = p.values.get('encoding')?.at(-1) ?? 'cl100k_base';
  if (!isEncodingName(encoding))
    throw new Error(`unknown encoding '${encoding}': use cl100k_base or o200k_base`);
  return { kind: 'encoding', file, encoding };
}

export async function runCount(args: string[], io: CliIo): Promise<number> {
  const p = parseCountArgs(args);
  const target = countTarget(p);
  if (target.kind === 'endpoint') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const records = require('./records') as typeof RecordsModule;
    return records.countForEndpoint(target.file, target.endpointId, p, io);
  }
  const shown = target.file;
  const { encoding } = target;
  const uri = URI.file(path.resolve(io.cwd, shown)).toString();
  // Counting needs no project config (the encoding is an option): none is read or validated.
  const found = await statRecord(nodeFileSystem, uri);
  if (!found.exists) throw new Error(`no such record: ${shown}`);
  // A record refused for its size is never read.
  const worker = found.record ? undefined : startParseWorker(found.size);
  let summary: RecordSummary;
  let text = '';
  try {
    if (found.record) summary = summarizeRecord('', found.record);
    else {
      const read = await nodeFileSystem.readFile(uri);
      if (read === undefined) throw new Error(`no such record: ${shown}`);
      text = read;
      const parsed = worker?.parse(text);
      // The worker parses while this thread counts the guessed layout's chunks.
      const pre = parsed ? countGuessedChunks(text, encoding) : undefined;
      summary = (await parsed) ?? summarizeRecord(text, parseRecord(text));
      if (summary.ok && summary.layout) return print(io, shown, encoding, p, summary, text, pre);
    }
  } finally {
    // A worker never given the text would wait for it and keep the process alive.
    worker?.dispose();
  }
  for (const m of summary.errors) io.err(`${shown}: ${m}\n`);
  return 1;
}

function print(
  io: CliIo,
  shown: string,
  encoding: EncodingName,
  p: ParsedArgs,
  s: RecordSummary,
  text: string,
  pre: ReturnType<typeof countGuessedChunks> | undefined,
): number {
  const counts = countLayoutWithPrecounts(text, s.layout!, encoding, pre);
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
  if (p.flags.has('json')) io.out(JSON.stringify(result, null, 2) + '\n');
  else {
    io.out(
      `${shown}: ${formatTokenCount(counts.total, false)} tokens (${encoding}), ${s.visits} visits, ${s.events} events, ${s.notes} notes` +
        (s.firstDate && s.lastDate ? `, ${s.firstDate.slice(0, 10)} → ${s.lastDate.slice(0, 10)}` : '') +
        '\n',
    );
  }
  return 0;
}
