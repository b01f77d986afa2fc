/**
 * Exact token counts in-process, for the CLI (and tests) to give the runner: the editor's extension
 * host has no tokenizer and asks the language server instead (medalign/countTokens).
 */
import type { EncodingName } from '../core/tokens/encodings';
import { getTokenizer } from '../core/tokens/encodings';

export function countTokens(text: string, encoding: EncodingName): number {
  return getTokenizer(encoding).count(text);
}
