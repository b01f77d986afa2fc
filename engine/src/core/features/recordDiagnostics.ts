/** Diagnostics for an EHR XML file: malformed XML, a root other than `<record>`, unparseable dates. */
import type { Diagnostic } from 'vscode-languageserver-types';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { EhrRecord, RecordSeverity } from '../record/model';
import { DiagnosticSeverity, makeDiagnostic } from './document';

const SEVERITY: Record<RecordSeverity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
};

export function recordDiagnostics(document: TextDocument, record: EhrRecord): Diagnostic[] {
  return record.diagnostics.map((d) =>
    makeDiagnostic(document, d.range, SEVERITY[d.severity], d.code, d.message),
  );
}
