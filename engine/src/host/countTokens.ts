/**
 * Exact token counts in-process, for the CLI (and tests) to give the runner: the editor's extension
 * host has no tokenizer and asks the language server instead (medalign/countTokens).
 */
import type { TokenizerName } from '../core/tokens/tokenizer';
import { getTokenizer } from '../core/tokens/tokenizer';

export function countTokens(text: string, encoding: TokenizerName): number {
  return getTokenizer(encoding).count(text);
}
