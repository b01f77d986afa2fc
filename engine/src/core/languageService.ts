/**
 * The pure language service: one object with every feature, for the three kinds of files —
 * `.medalign` instructions, `.prompt` templates and EHR `.xml` records — over an injected
 * FileSystem and a Workspace. No `vscode`, no LSP server library, no I/O of its own. The language
 * server, the CLI and the tests all call this.
 */
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { CompletionList } from 'vscode-languageserver-types';
import type {
  CodeAction,
  CodeLens,
  Diagnostic,
  DocumentSymbol,
  FoldingRange,
  Hover,
  Location,
  Position,
} from 'vscode-languageserver-types';
import type { FileSystem } from './host';
import { parseInstruction } from './format/parse';
import { parseTemplate } from './template/template';
import type { PromptTemplate } from './template/template';
import type { EhrRecord } from './record/model';
import type { ParsedDocument } from './features/document';
import { doValidation } from './features/validation';
import { doComplete } from './features/completion';
import { doHover } from './features/hover';
import { findDefinition } from './features/definition';
import { findDocumentSymbols } from './features/symbols';
import { getFoldingRanges } from './features/folding';
import { getCodeActions } from './features/codeActions';
import { getCodeLenses } from './features/codeLens';
import { buildPreview } from './features/preview';
import { contextFit } from './features/contextFit';
import { strategyFit } from './features/strategyFit';
import { asModel, instructionTimeline, recordTimeline } from './features/timeline';
import type { TimelineForm } from './features/timeline';
import { emptyTimeline } from './timeline/model';
import type { TimelineModel } from './timeline/model';
import type { ContextFit } from './features/contextFit';
import type { StrategyFit } from './features/strategyFit';
import { instructionRunInfo, summarizeProject } from './features/runInfo';
import type { InstructionRunInfo, ProjectSummary } from './features/runInfo';
import type { RunOverrides } from './features/runSettings';
import { frontMatterEdit } from './features/frontMatterEdit';
import type { TextReplace } from './features/frontMatterEdit';
import type { PreviewOverrides, PromptPreview } from './features/preview';
import { recordDiagnostics } from './features/recordDiagnostics';
import { recordSymbols } from './features/recordSymbols';
import { recordHover } from './features/recordHover';
import { promptDiagnostics } from './features/promptDiagnostics';
import { promptCompletion } from './features/promptCompletion';
import { promptHover } from './features/promptHover';
import { defaultTokenizer } from './features/runSettings';
import type { Workspace } from './workspace/workspace';
import type { Cancel } from './workspace/recordEngine';
import { INSTRUCTION_EXT, RECORD_EXT, TEMPLATE_EXT } from './workspace/workspace';
import { isInside } from './util/uri';

export type FileKind = 'instruction' | 'template' | 'record' | 'other';

export function fileKind(uri: string): FileKind {
  const path = uri.split(/[?#]/)[0];
  if (path.endsWith(INSTRUCTION_EXT)) return 'instruction';
  if (path.endsWith(TEMPLATE_EXT)) return 'template';
  if (path.endsWith(RECORD_EXT)) return 'record';
  return 'other';
}

export interface LanguageService {
  parse(document: TextDocument): ParsedDocument;
  /**
   * `onDisk`: the document is the file as it is on disk (not open in an editor); a record is then
   * parsed under its disk version, the one instructions naming it use, so it is parsed once.
   */
  doValidation(document: TextDocument, workspace: Workspace, onDisk?: boolean): Promise<Diagnostic[]>;
  doComplete(document: TextDocument, position: Position, workspace: Workspace): Promise<CompletionList>;
  /** `cancel`: the editor no longer wants the answer (work not started yet is dropped). */
  doHover(
    document: TextDocument,
    position: Position,
    workspace: Workspace,
    cancel?: Cancel,
  ): Promise<Hover | null>;
  findDefinition(document: TextDocument, position: Position, workspace: Workspace): Promise<Location[]>;
  findDocumentSymbols(document: TextDocument, workspace: Workspace): Promise<DocumentSymbol[]>;
  getFoldingRanges(document: TextDocument): FoldingRange[];
  getCodeActions(
    document: TextDocument,
    diagnostics: Diagnostic[],
    workspace: Workspace,
  ): Promise<CodeAction[]>;
  getCodeLenses(document: TextDocument): CodeLens[];
  /** What the run-lens, status bar and pickers show about an instruction (one resolution). */
  runInfo(
    document: TextDocument,
    workspace: Workspace,
    overrides?: RunOverrides,
  ): Promise<InstructionRunInfo>;
  projectInfo(workspace: Workspace): ProjectSummary;
  /** The edit that writes `key: value` into the front matter (`undefined`: none is closed). */
  frontMatterEdit(document: TextDocument, key: string, value: string): TextReplace | undefined;
  buildPreview(
    document: TextDocument,
    workspace: Workspace,
    overrides?: PreviewOverrides,
  ): Promise<PromptPreview>;
  /** What the instruction's record keeps at each standard context size (the context picker). */
  contextFit(
    document: TextDocument,
    workspace: Workspace,
    overrides?: RunOverrides,
    cancel?: Cancel,
  ): Promise<ContextFit>;
  /** What each strategy keeps of the instruction's record at its model and context (the strategy picker). */
  strategyFit(
    document: TextDocument,
    workspace: Workspace,
    overrides?: RunOverrides,
    cancel?: Cancel,
  ): Promise<StrategyFit>;
  /**
   * The record timeline of an instruction (its record and settings) or of a record file (the
   * config's defaults). `onDisk`: the document is the file on disk, not an editor's buffer.
   */
  timeline<T = TimelineModel>(
    document: TextDocument,
    workspace: Workspace,
    overrides?: RunOverrides,
    cancel?: Cancel,
    onDisk?: boolean,
    /** The model (default), its columns for the view (`asWire`) or its events' previews (`asPreviews`). */
    form?: TimelineForm<T>,
  ): Promise<T>;
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
  const templates = new Map<string, { version: number; template: PromptTemplate }>();
  const template = (document: TextDocument): PromptTemplate => {
    const hit = templates.get(document.uri);
    if (hit?.version === document.version) return hit.template;
    const t = parseTemplate(document.getText());
    if (templates.size > 100) templates.clear();
    templates.set(document.uri, { version: document.version, template: t });
    return t;
  };
  /** An open record document, parsed by the workspace's engine (keyed by the editor's version). */
  const record = async (
    document: TextDocument,
    ws: Workspace,
    onDisk = false,
  ): Promise<EhrRecord | undefined> => {
    const r = onDisk
      ? (await ws.records.get(document.uri)).record
      : await ws.engine.load(document.uri, `doc:${document.version}`, () =>
          Promise.resolve(document.getText()),
        );
    // Only MedAlign records: other XML files in the workspace (a pom.xml) are left alone.
    if (!r || (r.rootName !== 'record' && !isInside(ws.recordsFolder(), document.uri))) return undefined;
    return r;
  };

  return {
    parse,
    async doValidation(d, ws, onDisk) {
      switch (fileKind(d.uri)) {
        case 'instruction':
          return doValidation(parse(d), d.uri, ws, fs);
        case 'template':
          return promptDiagnostics(d, template(d));
        case 'record': {
          const r = await record(d, ws, onDisk);
          return r ? recordDiagnostics(d, r) : [];
        }
        default:
          return [];
      }
    },
    async doComplete(d, p, ws) {
      switch (fileKind(d.uri)) {
        case 'instruction':
          return doComplete(parse(d), d.offsetAt(p), d.uri, ws);
        case 'template':
          return promptCompletion(d, d.offsetAt(p));
        default:
          return CompletionList.create([], false);
      }
    },
    async doHover(d, p, ws, cancel) {
      switch (fileKind(d.uri)) {
        case 'instruction':
          return doHover(parse(d), d.offsetAt(p), d.uri, ws, fs, cancel);
        case 'template':
          return promptHover(d, template(d), d.offsetAt(p));
        case 'record': {
          if (!(await record(d, ws))) return null;
          const tokenizer = await defaultTokenizer(ws, fs);
          const info = await ws.engine.describeAt(
            d.uri,
            `doc:${d.version}`,
            d.offsetAt(p),
            tokenizer.encoding,
          );
          return info ? recordHover(d, info, tokenizer) : null;
        }
        default:
          return null;
      }
    },
    findDefinition: (d, p, ws) =>
      fileKind(d.uri) === 'instruction'
        ? findDefinition(parse(d), d.offsetAt(p), d.uri, ws, fs)
        : Promise.resolve([]),
    async findDocumentSymbols(d, ws) {
      switch (fileKind(d.uri)) {
        case 'instruction':
          return findDocumentSymbols(parse(d));
        case 'record': {
          const r = await record(d, ws);
          return r ? recordSymbols(d, r) : [];
        }
        default:
          return [];
      }
    },
    getFoldingRanges: (d) => (fileKind(d.uri) === 'instruction' ? getFoldingRanges(parse(d)) : []),
    getCodeActions: (d, diags, ws) => getCodeActions(parse(d), d.uri, diags, ws),
    getCodeLenses: (d) => (fileKind(d.uri) === 'instruction' ? getCodeLenses(parse(d)) : []),
    buildPreview: (d, ws, overrides) => buildPreview(parse(d).file, d.uri, ws, fs, overrides),
    contextFit: (d, ws, overrides, cancel) => contextFit(parse(d).file, d.uri, ws, fs, overrides, cancel),
    strategyFit: (d, ws, overrides, cancel) => strategyFit(parse(d).file, d.uri, ws, fs, overrides, cancel),
    timeline<T>(
      d: TextDocument,
      ws: Workspace,
      overrides?: RunOverrides,
      cancel?: Cancel,
      onDisk?: boolean,
      form: TimelineForm<T> = asModel as unknown as TimelineForm<T>,
    ): Promise<T> {
      switch (fileKind(d.uri)) {
        case 'instruction':
          return instructionTimeline(parse(d).file, d.uri, ws, fs, overrides, cancel, form);
        case 'record':
          return recordTimeline(
            d.uri,
            ws,
            fs,
            overrides,
            cancel,
            onDisk === true ? undefined : { key: `doc:${d.version}`, text: d.getText() },
            form,
          );
        default:
          return Promise.resolve(
            form.empty(
              emptyTimeline(ws.label(d.uri), [
                'Open a `.medalign` instruction or a record (`.xml`) to see its timeline.',
              ]),
            ),
          );
      }
    },
    runInfo: (d, ws, overrides) => instructionRunInfo(parse(d).file, d.uri, ws, fs, overrides),
    projectInfo: (ws) => summarizeProject(ws),
    frontMatterEdit: (d, key, value) => frontMatterEdit(d.getText(), parse(d).file, key, value),
  };
}
