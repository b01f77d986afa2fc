/**
 * What `medalign count` was asked: its options and what they name (a record in an encoding, or in
 * an endpoint's tokenizer). Light: the `medalign` entry (bin.ts) reads it before choosing a bundle.
 */
import { isEncodingName } from '../core/tokens/encodings';
import type { EncodingName } from '../core/tokens/encodings';
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
