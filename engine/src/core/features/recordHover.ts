/** Hover in an EHR XML file: the visit, day or event under the cursor, its date and token count. */
import { MarkupKind } from 'vscode-languageserver-types';
import type { Hover } from 'vscode-languageserver-types';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { ElementInfo } from '../workspace/recordEngine';
import type { TokenizerChoice } from '../tokens/models';
import { formatTokenCount } from '../tokens/models';
import { toRange } from './document';
import { escapeMarkdown } from '../util/markdown';

export function recordHover(document: TextDocument, info: ElementInfo, tokenizer: TokenizerChoice): Hover {
  const date = info.start ? info.start.iso.replace('T', ' ') : 'no parseable date';
  const what = `**${escapeMarkdown(info.kind)}**${info.type ? ` — ${escapeMarkdown(info.type)}` : ''}`;
  const parts = [
    `${what}`,
    '',
    `- date: ${date}`,
    `- tokens: ${formatTokenCount(info.tokens, tokenizer.estimated)} (${tokenizer.label !== undefined ? escapeMarkdown(tokenizer.label) : tokenizer.encoding})`,
  ];
  if (info.days !== undefined) parts.push(`- days: ${info.days}, events: ${info.events ?? 0}`);
  else if (info.events !== undefined) parts.push(`- events: ${info.events}`);
  parts.push(`- visit ${info.visit + 1} of the record`);
  // Highlight only the start tag line, not a whole visit.
  const line = document.positionAt(info.range.start).line;
  const range = toRange(document, info.range);
  if (range.end.line > line) {
    range.end = {
      line,
      character: document
        .getText({ start: { line, character: 0 }, end: { line: line + 1, character: 0 } })
        .replace(/\r?\n$/, '').length,
    };
  }
  return { contents: { kind: MarkupKind.Markdown, value: parts.join('\n') }, range };
}
