/** Completion of `{{placeholders}}` in `.prompt` templates. */
import { CompletionItemKind, CompletionList, MarkupKind, TextEdit } from 'vscode-languageserver-types';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { completePlaceholder } from '../template/template';
import { toRange } from './document';

export function promptCompletion(document: TextDocument, offset: number): CompletionList {
  const c = completePlaceholder(document.getText(), offset);
  if (!c) return CompletionList.create([], false);
  const range = toRange(document, c.range);
  return CompletionList.create(
    c.items.map((p, i) => ({
      label: p.name,
      kind: CompletionItemKind.Variable,
      detail: p.required ? 'required' : 'record field',
      documentation: { kind: MarkupKind.Markdown, value: p.description },
      textEdit: TextEdit.replace(range, c.closed ? p.name : `${p.name}}}`),
      sortText: String(i),
    })),
    false,
  );
}
