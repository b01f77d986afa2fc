/**
 * Document symbols (outline, breadcrumbs): the front matter under its id (a mapping: `Object`, its
 * keys `Property`), then the sections (`String`, as Markdown headings are).
 */
import { DocumentSymbol, SymbolKind } from 'vscode-languageserver-types';
import { frontMatterPairs, toRange } from './document';
import type { ParsedDocument } from './document';

export function findDocumentSymbols(parsed: ParsedDocument): DocumentSymbol[] {
  const { document, file } = parsed;
  const out: DocumentSymbol[] = [];
  const fm = file.frontMatter;
  if (fm) {
    const pairs = frontMatterPairs(file);
    const id = pairs.find((p) => p.key === 'id');
    const children = pairs.map((p) => {
      const end = p.valueSpan?.end ?? p.keySpan.end;
      return DocumentSymbol.create(
        p.key,
        scalarText(p.value),
        SymbolKind.Property,
        toRange(document, { start: p.keySpan.start, end }),
        toRange(document, p.keySpan),
      );
    });
    out.push(
      DocumentSymbol.create(
        id ? `id: ${String(id.value)}` : 'front matter',
        'front matter',
        SymbolKind.Object,
        toRange(document, fm.span),
        toRange(document, id?.valueSpan ?? fm.open),
        children,
      ),
    );
  }
  for (const s of file.sections) {
    out.push(
      DocumentSymbol.create(
        s.name || '(untitled)',
        undefined,
        SymbolKind.String,
        toRange(document, { start: s.heading.start, end: trimEnd(file.text, s.body.end, s.heading.end) }),
        toRange(document, s.nameSpan.end > s.nameSpan.start ? s.nameSpan : s.heading),
      ),
    );
  }
  return out;
}

/** The end offset with trailing whitespace dropped, never before `min`. */
export function trimEnd(text: string, end: number, min: number): number {
  let e = end;
  while (e > min && /\s/.test(text[e - 1])) e--;
  return e;
}

function scalarText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v) ?? '';
}
