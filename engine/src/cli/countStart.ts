/**
 * What `medalign count` counts, read from its options, and its count worker, which main.ts starts
 * before the command's module graph (records.ts: the language service, the schemas) is evaluated,
 * so the worker compiles its tokenizer meanwhile. Only light modules are imported here.
 */
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { isEncodingName } from '../core/tokens/encodings';
import type { EncodingName } from '../core/tokens/encodings';
import { startCountWorker } from '../host/parallelCount';
import type { CountWorker } from '../host/parallelCount';
import { parseArgs } from './argv';
import type { ParsedArgs } from './argv';

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

/** The file's size in bytes (what the worker decision needs before the text is read), 0 if unknown. */
function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

let started: { file: string; encoding: EncodingName; worker: CountWorker | undefined } | undefined;

/**
 * Starts the worker for `count <args>` now, if it will count an encoding (a bad command line is
 * left for the command to report). Taken by `countWorkerFor`; returned for the tests.
 */
export function prestartCountWorker(args: readonly string[], cwd: string): CountWorker | undefined {
  let t: CountTarget;
  try {
    t = countTarget(parseCountArgs(args));
  } catch {
    return undefined;
  }
  if (t.kind !== 'encoding') return undefined;
  const file = path.resolve(cwd, t.file);
  started?.worker?.dispose();
  started = { file, encoding: t.encoding, worker: startCountWorker(t.encoding, fileSize(file)) };
  return started.worker;
}

/**
 * The count worker for `file` (absolute) in `encoding`: the one started early if it was started for
 * them, else a new one (`undefined`: count in-process). A worker started for anything else ends.
 */
export function countWorkerFor(file: string, encoding: EncodingName): CountWorker | undefined {
  const s = started;
  started = undefined;
  if (s && s.file === file && s.encoding === encoding) return s.worker;
  s?.worker?.dispose();
  return startCountWorker(encoding, fileSize(file));
}
