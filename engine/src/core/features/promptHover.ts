/** Hover on a `{{placeholder}}` in a `.prompt` template. */
import { MarkupKind } from 'vscode-languageserver-types';
import type { Hover } from 'vscode-languageserver-types';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { PLACEHOLDERS, placeholderAt } from '../template/template';
import type { PromptTemplate } from '../template/template';
import { toRange } from './document';
import { codeSpan } from '../util/markdown';

export function promptHover(document: TextDocument, template: PromptTemplate, offset: number): Hover | null {
  const use = placeholderAt(template, offset);
  if (!use) return null;
  const info = PLACEHOLDERS.find((p) => p.name === use.name);
  const value = info
    ? `**{{${info.name}}}**${info.required ? ' (required)' : ''}\n\n${info.description}`
    : `Unknown placeholder ${codeSpan(`{{${use.name}}}`)}: it is sent as written. Known: ${PLACEHOLDERS.map((p) => `\`${p.name}\``).join(', ')}.`;
  return { contents: { kind: MarkupKind.Markdown, value }, range: toRange(document, use.range) };
}
