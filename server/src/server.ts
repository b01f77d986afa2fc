/**
 * The language server: wires an LSP connection to the pure language service. Handlers only find the
 * document and its workspace, then delegate; each is wrapped by `runSafe` so an exception becomes a
 * logged error and an empty answer, never a dead server.
 */
import {
  CodeActionKind,
  DidChangeWatchedFilesNotification,
  FileChangeType,
  TextDocumentSyncKind,
  TextDocuments,
} from 'vscode-languageserver';
import type {
  CancellationToken,
  CodeAction,
  CodeActionParams,
  CodeLens,
  CodeLensParams,
  CompletionList,
  CompletionParams,
  DefinitionParams,
  DocumentSymbol,
  DocumentSymbolParams,
  FoldingRange,
  FoldingRangeParams,
  Hover,
  HoverParams,
  Location,
  Connection,
  InitializeParams,
  InitializeResult,
  ResponseError,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { FileSystem } from './core/host';
import { fileKind, getLanguageService } from './core/languageService';
import type { RecordEngine } from './core/workspace/recordEngine';
import { LocalRecordEngine } from './core/workspace/recordEngine';
import {
  Workspace,
  findProjectRoot,
  INSTRUCTION_EXT,
  RECORD_EXT,
  TEMPLATE_EXT,
} from './core/workspace/workspace';
import { CONFIG_FILE_NAME } from './core/workspace/config';
import { dirname, isInside } from './core/util/uri';
import type { PreviewOverrides } from './core/features/preview';
import { PreviewPromptRequest, ServerStatsRequest } from './protocol';
import type { PreviewPromptResult, ServerStatsResult } from './protocol';

export interface ServerRuntime {
  fs: FileSystem;
  /** Where records are parsed and counted (the node entry passes a worker-thread engine). */
  createRecordEngine?: (log: (message: string) => void) => RecordEngine;
  /** Process health figures (event-loop delay), when the runtime can measure them. */
  stats?: (reset: boolean) => ServerStatsResult;
}

export function startServer(connection: Connection, runtime: ServerRuntime): void {
  const { fs } = runtime;
  const documents = new TextDocuments(TextDocument);
  const service = getLanguageService(fs);
  const engine = (runtime.createRecordEngine ?? (() => new LocalRecordEngine()))((m) =>
    connection.console.log(m),
  );
  const workspaces: Workspace[] = [];
  const loose = new Map<string, Workspace>();
  /** Closed files we published diagnostics for (duplicate ids), so they can be cleared later. */
  const publishedClosed = new Set<string>();
  let folders: string[] = [];
  let watchDynamically = false;
  let ready: Promise<void> = Promise.resolve();

  const log = (message: string) => connection.console.log(message);

  function runSafe<T>(what: string, empty: T, fn: () => Promise<T> | T, token?: CancellationToken) {
    return (async (): Promise<T | ResponseError<void>> => {
      try {
        if (token?.isCancellationRequested) return empty;
        await ready;
        const result = await fn();
        return token?.isCancellationRequested ? empty : result;
      } catch (err) {
        // Work dropped because the request was cancelled is not a failure.
        if (token?.isCancellationRequested) return empty;
        connection.console.error(
          `${what} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        );
        return empty;
      }
    })() as Promise<T>;
  }

  const isInstruction = (uri: string) => fileKind(uri) === 'instruction';
  /** Documents the server has features for. */
  const isOurs = (uri: string) => fileKind(uri) !== 'other';

  async function workspaceFor(uri: string): Promise<Workspace> {
    let best: Workspace | undefined;
    for (const w of workspaces)
      if (isInside(w.root, uri) && (!best || w.root.length > best.root.length)) best = w;
    if (best) return best;
    // Outside every workspace folder: the nearest folder with medalign.config.json, else the
    // file's grandparent (instructions/x.medalign next to records/), which is not scanned: it may
    // be a home directory.
    const configRoot = await findProjectRoot(fs, uri);
    const root = configRoot ?? dirname(dirname(uri));
    let w = loose.get(root);
    if (!w) {
      w = new Workspace(fs, root, engine);
      loose.set(root, w);
      await w.loadConfig();
      if (configRoot) await w.scan();
    }
    return w;
  }

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    folders = (params.workspaceFolders ?? []).map((f) => f.uri.replace(/\/$/, ''));
    if (folders.length === 0 && params.rootUri) folders = [params.rootUri.replace(/\/$/, '')];
    watchDynamically = !!params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration;
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        completionProvider: { triggerCharacters: [':', ' ', '#', '/', '.'], resolveProvider: false },
        hoverProvider: true,
        definitionProvider: true,
        documentSymbolProvider: true,
        foldingRangeProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        codeLensProvider: { resolveProvider: false },
      },
      serverInfo: { name: 'medalign-language-server' },
    };
  });

  connection.onInitialized(() => {
    if (watchDynamically) {
      void connection.client.register(DidChangeWatchedFilesNotification.type, {
        watchers: [
          { globPattern: `**/*${INSTRUCTION_EXT}` },
          { globPattern: `**/*${TEMPLATE_EXT}` },
          { globPattern: `**/*${RECORD_EXT}` },
          { globPattern: `**/${CONFIG_FILE_NAME}` },
        ],
      });
    }
    ready = (async () => {
      const started = Date.now();
      for (const root of folders) {
        const w = new Workspace(fs, root, engine);
        await w.loadConfig();
        const { instructions } = await w.scan();
        // Open documents win over what is on disk.
        for (const d of documents.all())
          if (isInside(root, d.uri) && isInstruction(d.uri)) w.updateInstruction(d.uri, d.getText());
        workspaces.push(w);
        log(
          `Indexed ${instructions} instruction files in ${w.label(root) || root} (${Date.now() - started} ms).`,
        );
      }
    })().catch((err) => connection.console.error(`Workspace scan failed: ${String(err)}`));
    void ready.then(() => revalidateAll());
  });

  // --- Diagnostics (push) -------------------------------------------------------------------------
  const pending = new Map<string, ReturnType<typeof setTimeout>>();

  function scheduleValidation(document: TextDocument, delay = 0): void {
    const t = pending.get(document.uri);
    if (t) clearTimeout(t);
    pending.set(
      document.uri,
      setTimeout(() => {
        pending.delete(document.uri);
        void validate(document);
      }, delay),
    );
  }

  async function validate(live: TextDocument): Promise<void> {
    // Open documents are updated in place by later edits: validate a snapshot of this version.
    const document = TextDocument.create(live.uri, live.languageId, live.version, live.getText());
    const diagnostics = await runSafe('validation', [], async () => {
      const ws = await workspaceFor(document.uri);
      return service.doValidation(document, ws);
    });
    // Publish only if the document is still at that version (a newer edit re-validates).
    const current = documents.get(document.uri);
    if (current && current.version !== document.version) return;
    await connection.sendDiagnostics({ uri: document.uri, version: document.version, diagnostics });
  }

  /** Open documents, plus closed files that share an id with another file. */
  async function revalidateAll(): Promise<void> {
    for (const d of documents.all()) if (isOurs(d.uri)) scheduleValidation(d);
    const dupes = new Set<string>();
    for (const w of [...workspaces, ...loose.values()]) for (const u of w.ids.duplicatedUris()) dupes.add(u);
    for (const uri of dupes) {
      if (documents.get(uri)) continue;
      const text = await fs.readFile(uri);
      if (text === undefined) continue;
      publishedClosed.add(uri);
      await validate(TextDocument.create(uri, 'medalign', 0, text));
    }
    for (const uri of [...publishedClosed]) {
      if (dupes.has(uri) || documents.get(uri)) continue;
      publishedClosed.delete(uri);
      await connection.sendDiagnostics({ uri, diagnostics: [] });
    }
  }

  /** An open document's text changed (or it was opened): re-index its id and validate. */
  function onDocumentText(document: TextDocument, opened: boolean): void {
    if (!isInstruction(document.uri)) {
      // Records and templates: validation only (a record being typed waits for a pause).
      if (isOurs(document.uri)) void ready.then(() => scheduleValidation(document, opened ? 0 : 150));
      return;
    }
    void (async () => {
      await ready;
      const ws = await workspaceFor(document.uri);
      const before = ws.ids.idFor(document.uri);
      ws.updateInstruction(document.uri, document.getText());
      if (opened) publishedClosed.delete(document.uri);
      // A changed id can create or clear duplicates in other files.
      if (before !== ws.ids.idFor(document.uri)) await revalidateAll();
      else scheduleValidation(document);
    })();
  }

  documents.onDidOpen((e) => onDocumentText(e.document, true));
  documents.onDidChangeContent((e) => onDocumentText(e.document, false));

  documents.onDidClose((e) => {
    if (!isInstruction(e.document.uri)) {
      if (isOurs(e.document.uri)) void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
      return;
    }
    void (async () => {
      const ws = await workspaceFor(e.document.uri);
      ws.updateInstruction(e.document.uri, await fs.readFile(e.document.uri));
      await connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
      await revalidateAll();
    })();
  });

  connection.onDidChangeWatchedFiles((params) => {
    void runSafe('file change', undefined, async () => {
      for (const change of params.changes) {
        const uri = change.uri;
        const ws = await workspaceFor(uri);
        const deleted = change.type === FileChangeType.Deleted;
        if (uri.endsWith('/' + CONFIG_FILE_NAME)) await ws.loadConfig();
        else if (isInstruction(uri)) {
          if (!documents.get(uri)) ws.updateInstruction(uri, deleted ? undefined : await fs.readFile(uri));
        } else {
          if (deleted) ws.files.delete(uri);
          else ws.files.add(uri);
        }
      }
      await revalidateAll();
    });
  });

  // --- Requests -----------------------------------------------------------------------------------
  const featureDoc = (uri: string) => {
    const d = documents.get(uri);
    return d && isOurs(uri) ? d : undefined;
  };

  /**
   * A request handler about one open document: finds it (only the kinds we serve) and its
   * workspace, then delegates to the language service, inside runSafe.
   */
  function forDocument<P extends { textDocument: { uri: string } }, R>(
    what: string,
    empty: R,
    fn: (document: TextDocument, workspace: Workspace, params: P, token: CancellationToken) => R | Promise<R>,
  ) {
    return (params: P, token: CancellationToken): Promise<R> =>
      runSafe(
        what,
        empty,
        async () => {
          const d = featureDoc(params.textDocument.uri);
          return d ? fn(d, await workspaceFor(d.uri), params, token) : empty;
        },
        token,
      );
  }

  connection.onCompletion(
    forDocument<CompletionParams, CompletionList | null>('completion', null, (d, ws, p) =>
      service.doComplete(d, p.position, ws),
    ),
  );
  connection.onHover(
    forDocument<HoverParams, Hover | null>('hover', null, (d, ws, p, token) =>
      service.doHover(d, p.position, ws, token),
    ),
  );
  connection.onDefinition(
    forDocument<DefinitionParams, Location[]>('definition', [], (d, ws, p) =>
      service.findDefinition(d, p.position, ws),
    ),
  );
  connection.onDocumentSymbol(
    forDocument<DocumentSymbolParams, DocumentSymbol[]>('document symbols', [], (d, ws) =>
      service.findDocumentSymbols(d, ws),
    ),
  );
  connection.onFoldingRanges(
    forDocument<FoldingRangeParams, FoldingRange[]>('folding', [], (d) => service.getFoldingRanges(d)),
  );
  connection.onCodeAction(
    forDocument<CodeActionParams, CodeAction[]>('code actions', [], (d, ws, p) =>
      service.getCodeActions(d, p.context.diagnostics, ws),
    ),
  );
  connection.onCodeLens(
    forDocument<CodeLensParams, CodeLens[]>('code lens', [], (d) => service.getCodeLenses(d)),
  );

  connection.onRequest(PreviewPromptRequest.type, (p, token) =>
    runSafe<PreviewPromptResult>(
      'prompt preview',
      {
        ok: false,
        error: 'internal error: see the server log',
        text: '',
        messages: [],
        model: '',
        context: 0,
        strategy: '',
        dependsOn: [],
      },
      async () => {
        // The preview may be asked for a file that is not open (from the explorer or the CLI).
        const text = documents.get(p.uri)?.getText() ?? (await fs.readFile(p.uri));
        if (text === undefined) {
          return {
            ok: false,
            error: `cannot read ${p.uri}`,
            text: `Cannot read ${p.uri}\n`,
            messages: [],
            model: '',
            context: 0,
            strategy: '',
            dependsOn: [p.uri],
          };
        }
        const doc = TextDocument.create(p.uri, 'medalign', documents.get(p.uri)?.version ?? 0, text);
        const ws = await workspaceFor(p.uri);
        const overrides: PreviewOverrides = {};
        if (p.model !== undefined) overrides.model = p.model;
        if (p.context !== undefined) overrides.context = p.context;
        if (p.strategy !== undefined) overrides.strategy = p.strategy;
        const pv = await service.buildPreview(doc, ws, overrides);
        const result: PreviewPromptResult = {
          ok: pv.ok,
          text: pv.text,
          messages: pv.messages,
          model: pv.settings.model,
          context: pv.settings.context,
          strategy: pv.settings.strategy,
          dependsOn: [
            p.uri,
            ...(pv.settings.templateUri ? [pv.settings.templateUri] : []),
            ...(pv.recordUri ? [pv.recordUri] : []),
            ws.configUri,
          ],
        };
        if (pv.error !== undefined) result.error = pv.error;
        if (pv.pack) result.promptTokens = pv.pack.budget.prompt;
        return result;
      },
      token,
    ),
  );

  connection.onRequest(
    ServerStatsRequest.type,
    (p): ServerStatsResult =>
      runtime.stats?.(p.reset ?? false) ?? { eventLoopDelayMaxMs: -1, eventLoopDelayP99Ms: -1, rssMB: -1 },
  );

  connection.onShutdown(() => engine.dispose());

  documents.listen(connection);
  connection.listen();
}
