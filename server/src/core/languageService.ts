/**
 * The pure language service for `.medalign` files: one object with every feature, over an injected
 * FileSystem and a Workspace. No `vscode`, no LSP server library, no I/O of its own. The language
 * server, the CLI and the tests all call this.
 */
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type {
  CodeAction,
  CompletionList,
  Diagnostic,
  DocumentSymbol,
  FoldingRange,
  Hover,
  Location,
  Position,
} from 'vscode-languageserver-types';
import type { FileSystem } from './host';
import { parseInstruction } from './format/parse';
import type { ParsedDocument } from './features/document';
import { doValidation } from './features/validation';
import { doComplete } from './features/completion';
import { doHover } from './features/hover';
import { findDefinition } from './features/definition';
import { findDocumentSymbols } from './features/symbols';
import { getFoldingRanges } from './features/folding';
import { getCodeActions } from './features/codeActions';
import type { Workspace } from './workspace/workspace';

export interface LanguageService {
  parse(document: TextDocument): ParsedDocument;
  doValidation(document: TextDocument, workspace: Workspace): Promise<Diagnostic[]>;
  doComplete(document: TextDocument, position: Position, workspace: Workspace): Promise<CompletionList>;
  doHover(document: TextDocument, position: Position, workspace: Workspace): Promise<Hover | null>;
  findDefinition(document: TextDocument, position: Position, workspace: Workspace): Promise<Location[]>;
  findDocumentSymbols(document: TextDocument): DocumentSymbol[];
  getFoldingRanges(document: TextDocument): FoldingRange[];
  getCodeActions(
    document: TextDocument,
    diagnostics: Diagnostic[],
    workspace: Workspace,
  ): Promise<CodeAction[]>;
}

export function getLanguageService(fs: FileSystem): LanguageService {
  // One parse per document version, shared by every feature.
  const cache = new Map<string, { version: number; parsed: ParsedDocument }>();
  const parse = (document: TextDocument): ParsedDocument => {
    const hit = cache.get(document.uri);
    if (hit && hit.version === document.version && hit.parsed.document === document) return hit.parsed;
    const parsed = { document, file: parseInstruction(document.getText()) };
    if (cache.size > 500) cache.clear();
    cache.set(document.uri, { version: document.version, parsed });
    return parsed;
  };
  return {
    parse,
    doValidation: (d, ws) => doValidation(parse(d), d.uri, ws, fs),
    doComplete: (d, p, ws) => doComplete(parse(d), d.offsetAt(p), d.uri, ws),
    doHover: (d, p, ws) => doHover(parse(d), d.offsetAt(p), d.uri, ws),
    findDefinition: (d, p, ws) => findDefinition(parse(d), d.offsetAt(p), d.uri, ws, fs),
    findDocumentSymbols: (d) => findDocumentSymbols(parse(d)),
    getFoldingRanges: (d) => getFoldingRanges(parse(d)),
    getCodeActions: (d, diags, ws) => getCodeActions(parse(d), d.uri, diags, ws),
  };
}
