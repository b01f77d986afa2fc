/**
 * Document symbols of an EHR XML file: visits (encounters: `Event`), and their days (`Event` too,
 * with the day's event count).
 */
import { DocumentSymbol, SymbolKind } from 'vscode-languageserver-types';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { EhrRecord } from '../record/model';
import { toRange } from './document';

export function recordSymbols(document: TextDocument, record: EhrRecord): DocumentSymbol[] {
  return record.visits.map((v, i) => {
    const date = v.start?.iso.replace('T', ' ') ?? 'no date';
    const head = { start: v.range.start, end: Math.min(v.range.end, v.range.start + 6) };
    const days = v.days.map((d) =>
      DocumentSymbol.create(
        `day ${d.start?.iso.slice(0, 10) ?? 'no date'}`,
        `${d.events.length || ''}`.trim() || undefined,
        SymbolKind.Event,
        toRange(document, d.range),
        toRange(document, { start: d.range.start, end: Math.min(d.range.end, d.range.start + 4) }),
      ),
    );
    return DocumentSymbol.create(
      `visit ${i + 1}: ${date}`,
      v.type,
      SymbolKind.Event,
      toRange(document, v.range),
      toRange(document, head),
      days,
    );
  });
}
