/** Diagnostics for a `.prompt` template: unknown placeholders (with a did-you-mean), missing `{{ehr}}`, ... */
import type { Diagnostic } from 'vscode-languageserver-types';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { PromptTemplate } from '../template/template';
import { DiagnosticSeverity, makeDiagnostic } from './document';
import type { FixData } from './validation';

export function promptDiagnostics(document: TextDocument, template: PromptTemplate): Diagnostic[] {
  return template.diagnostics.map((d) => {
    const severity =
      d.severity === 'error'
        ? DiagnosticSeverity.Error
        : d.severity === 'warning'
          ? DiagnosticSeverity.Warning
          : DiagnosticSeverity.Information;
    const data: FixData | undefined = d.suggestion ? { replacement: `{{${d.suggestion}}}` } : undefined;
    return makeDiagnostic(document, d.range, severity, d.code, d.message, data);
  });
}
