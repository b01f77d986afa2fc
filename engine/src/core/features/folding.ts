/** Folding ranges: the front matter and each section. */
import { FoldingRange, FoldingRangeKind } from 'vscode-languageserver-types';
import type { ParsedDocument } from './document';
import { trimEnd } from './symbols';

export function getFoldingRanges(parsed: ParsedDocument): FoldingRange[] {
  const { document, file } = parsed;
  const out: FoldingRange[] = [];
  const fm = file.frontMatter;
  if (fm) {
    const start = document.positionAt(fm.open.start).line;
    const end = document.positionAt(fm.span.end).line;
    if (end > start) out.push(FoldingRange.create(start, end, undefined, undefined, FoldingRangeKind.Region));
  }
  for (const s of file.sections) {
    const start = document.positionAt(s.heading.start).line;
    const end = document.positionAt(trimEnd(file.text, s.body.end, s.heading.end)).line;
    if (end > start) out.push(FoldingRange.create(start, end));
  }
  return out;
}
