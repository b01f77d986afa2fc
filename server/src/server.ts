/**
 * The language server: wires an LSP connection to the pure language service. Handlers only find the
 * document and its workspace, then delegate; each is wrapped by `runSafe` so an exception becomes a
 * logged error and an empty answer, never a dead server.
 */
import {
  CodeActionKind,
  DidChangeWatchedFilesNotification,
  WatchKind,
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
import { URI } from 'vscode-uri';
import type { FileSystem } from '../../engine/src/core/host';
import { fileKind, getLanguageService } from '../../engine/src/core/languageService';
import { isExperimentFile, registerExperiments } from './experiment';
import type { ExperimentVerdictRuntime } from './experiment';
import type { RecordEngine } from '../../engine/src/core/workspace/recordEngine';
import { LocalRecordEngine, VIEW_PREVIEW_CHARS } from '../../engine/src/core/workspace/recordEngine';
import {
  Workspace,
  resolveProjectRoot,
  INSTRUCTION_EXT,
  RECORD_EXT,
  TEMPLATE_EXT,
} from '../../engine/src/core/workspace/workspace';
import { CONFIG_FILE_NAME, defaultConfig } from '../../engine/src/core/workspace/config';
import { dirname, fsPathOf, isInside, joinPath } from '../../engine/src/core/util/uri';
import type { PreviewOverrides } from '../../engine/src/core/features/preview';
import type { RunOverrides } from '../../engine/src/core/features/runSettings';
import { runOverridesOf } from '../../engine/src/core/features/runSettings';
import type { ProjectSummary } from '../../engine/src/core/features/runInfo';
import type { RunJob, RunPreparation } from '../../engine/src/core/run/prepared';
import { checkContext, checkStrategy } from '../../engine/src/core/schema/schemas';
import { RECORD_LIMITS } from '../../engine/src/core/record/parse';
import { emptyTimeline } from '../../engine/src/core/timeline/model';
import { strategyInfos } from '../../engine/src/core/features/strategyFit';
import { encodeTimeline } from '../../engine/src/core/timeline/wire';
import { asFirstWire, asModel, asPreviews, asWire } from '../../engine/src/core/features/timeline';
import type { TimelineForm } from '../../engine/src/core/features/timeline';

import {
  CheckSettingRequest,
  ContextFitRequest,
  StrategyFitRequest,
  CountTokensRequest,
  FrontMatterEditRequest,
  InstructionInfoRequest,
  PlanRunRequest,
  PrepareRunRequest,
  AllowedRootsNotification,
  PreviewPromptRequest,
  ProjectInfoRequest,
  ServerStatsRequest,
  TimelineRequest,
  TimelinePreviewsRequest,
  TimelineViewRequest,
  ReportRequest,
  TokenizeRequest,
} from './protocol';
import { serverCountKey } from '../../engine/src/core/tokens/serverCounts';
import type { ServerTokenizeAnswer } from '../../engine/src/core/tokens/serverCounts';
import type {
  InstructionInfoResult,
  ContextFitResult,
  StrategyFitResult,
  PrepareRunParams,
  PreviewPromptResult,
  ProjectInfo,
  ServerStatsResult,
  TimelineModel,
  TimelineParams,
  TimelinePreviews,
  ViewWire,
  ReportResult,
} from './protocol';
import type { Report } from '../../engine/src/core/metrics/report';

/** How long a hover waits for the server's `/tokenize` count (through the client). */
const TOKENIZE_WAIT_MS = 5000;

export interface ServerRuntime {
  fs: FileSystem;
  /** Where records are parsed and counted (the node entry passes a worker-thread engine). */
  createRecordEngine?: (log: (message: string) => void) => RecordEngine;
  /** Process health figures (event-loop delay), when the runtime can measure them. */
  stats?: (reset: boolean) => ServerStatsResult;
  /**
   * Resolves and packs runs (`medalign/planRun`, `medalign/prepareRun`) with the server's own
   * workspaces, so a run is packed by the same record engine and caches as hovers and the preview.
   * The node entry passes the engine's RunPreparer (it hashes files with node:crypto).
   */
  createRunPreparation?: (workspaceFor: (uri: string) => Promise<Workspace>) => RunPreparation;
  /** The review report of a project folder (`medalign/report`); the node entry gathers it from disk. */
  report?: (root: string, o: { cache: boolean }) => Promise<Report>;
  /** An experiment's verdict from the run store (`medalign/experimentVerdict`; experiment.ts). */
  experimentVerdict?: ExperimentVerdictRuntime;
}

/** Instructions first (what a user looks for in Problems), then templates, then records; each sorted. */
/** A strategy fit that packed nothing, with why (the schema's strategies still listed). */
function strategyFitFailure(message: string): StrategyFitResult {
  return {
    ok: false,
    message,
    model: '',
    context: 0,
    contextLabel: '',
    strategy: '',
    strategies: strategyInfos(),
    rows: [],
  };
}

function orderForValidation(uris: Iterable<string>): string[] {
  const rank = (u: string) => ['instruction', 'template', 'record'].indexOf(fileKind(u));
  return [...uris].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
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
  /** Closed files we published diagnostics for, so they can be cleared later. */
  const publishedClosed = new Set<string>();
  /** Projects whose files were all listed by a scan: their closed files are reported too. */
  const reported = new Set<Workspace>();
  let folders: string[] = [];
  /** The user's extra roots (URIs), from the client's user-level setting only. */
  let allowedRoots: string[] = [];
  let watchDynamically = false;
  let ready: Promise<void> = Promise.resolve();

  const log = (message: string) => connection.console.log(message);

  /** The client answers `medalign/tokenize` (it said so in its initialization options). */
  let answersTokenize = false;

  /**
   * `tokenizer: server`: the client (which holds approvals, keys and HTTP) counts for us. A hover
   * waits at most TOKENIZE_WAIT_MS; a later answer still fills the cache, so hovering again shows it.
   */
  function attachServerTokenize(w: Workspace): void {
    w.serverTokenize = async (endpointId, texts) => {
      const endpoint = w.config.endpoints.find((e) => e.id === endpointId);
      if (!answersTokenize || endpoint === undefined) {
        return {
          ok: false,
          reason: 'unavailable',
          message: 'this editor does not ask endpoints for token counts.',
        };
      }
      const asked = connection
        .sendRequest(TokenizeRequest.type, { root: w.root, endpoint, texts })
        .then((a): ServerTokenizeAnswer => {
          if (a.ok && a.counts.length === texts.length) {
            const key = serverCountKey(endpoint);
            texts.forEach((t, i) => w.serverCounts.set(key, t, a.counts[i]));
          }
          return a;
        })
        .catch((err: unknown): ServerTokenizeAnswer => ({
          ok: false,
          reason: 'failed',
          message: err instanceof Error ? err.message : String(err),
        }));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<ServerTokenizeAnswer>((resolve) => {
        timer = setTimeout(
          () =>
            resolve({
              ok: false,
              reason: 'unavailable',
              message: `the server is still counting (over ${TOKENIZE_WAIT_MS / 1000} s); hover again in a moment.`,
            }),
          TOKENIZE_WAIT_MS,
        );
      });
      try {
        return await Promise.race([asked, late]);
      } finally {
        clearTimeout(timer);
      }
    };
  }

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

  /** Project roots by folder (one stat walk per folder; dropped when a config file appears or goes). */
  const roots = new Map<string, Promise<{ root: string; hasConfig: boolean }>>();

  /** The project of a file: core/workspace resolveProjectRoot, the rule the CLI and runs use too. */
  async function workspaceFor(uri: string): Promise<Workspace> {
    const dir = dirname(uri);
    let r = roots.get(dir);
    if (r === undefined) {
      r = resolveProjectRoot(fs, uri, folders);
      roots.set(dir, r);
    }
    const { root, hasConfig } = await r;
    const scanned = workspaces.find((w) => w.root === root);
    if (scanned) return scanned;
    let w = loose.get(root);
    if (!w) {
      // A project that is not a workspace folder (a config deeper down, or a file outside every
      // folder). Without a config it is not scanned: the file's grandparent may be a home directory.
      w = new Workspace(fs, root, engine);
      w.setAllowedRoots(allowedRoots);
      attachServerTokenize(w);
      loose.set(root, w);
      await w.loadConfig();
      if (hasConfig) {
        await w.scan();
        reported.add(w);
        // Its files are reported too, unless a workspace folder's scan already listed them.
        queueClosed(
          w,
          [...w.files].filter((u) => !workspaces.some((f) => f.files.has(u))),
        );
      }
    }
    return w;
  }

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    folders = (params.workspaceFolders ?? []).map((f) => f.uri.replace(/\/$/, ''));
    if (folders.length === 0 && params.rootUri) folders = [params.rootUri.replace(/\/$/, '')];
    const options = params.initializationOptions as
      { allowedRoots?: unknown; watchesFiles?: unknown } | undefined;
    // The extension watches the files itself (its own watcher, no second one registered here).
    watchDynamically =
      !!params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration &&
      options?.watchesFiles !== true;
    allowedRoots = rootUris(options?.allowedRoots);
    answersTokenize = (options as { serverTokenize?: unknown } | undefined)?.serverTokenize === true;
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
          // Deleted folders (one event for the folder): what was inside is cleared.
          { globPattern: '**/*', kind: WatchKind.Delete },
        ],
      });
    }
    ready = (async () => {
      const started = Date.now();
      for (const root of folders) {
        const w = new Workspace(fs, root, engine);
        w.setAllowedRoots(allowedRoots);
        attachServerTokenize(w);
        await w.loadConfig();
        const { instructions } = await w.scan();
        // Open documents win over what is on disk.
        for (const d of documents.all())
          if (isInside(root, d.uri) && isInstruction(d.uri)) w.updateInstruction(d.uri, d.getText());
        workspaces.push(w);
        reported.add(w);
        log(
          `Indexed ${instructions} instruction files in ${w.label(root) || root} (${Date.now() - started} ms).`,
        );
      }
    })().catch((err) => connection.console.error(`Workspace scan failed: ${String(err)}`));
    void ready.then(() => revalidateAll());
  });

  /** Absolute paths (or `file:` URIs) from the client → folder URIs; anything else is dropped. */
  function rootUris(value: unknown): string[] {
    if (!Array.isArray(value)) return [];
    return value
      .filter((v): v is string => typeof v === 'string' && v.trim() !== '')
      .map((v) => (v.startsWith('file:') ? URI.parse(v) : URI.file(v)).toString().replace(/\/$/, ''))
      .filter((u) => u.startsWith('file:///'));
  }

  connection.onNotification(AllowedRootsNotification.type, (p) => {
    allowedRoots = rootUris(p.roots);
    for (const w of [...workspaces, ...loose.values()]) w.setAllowedRoots(allowedRoots);
    void ready.then(() => revalidateAll());
  });

  // --- Diagnostics (push): open documents, and every file of a scanned project -------------------
  // Open documents are validated on open and on every edit. Closed files of a scanned project
  // (a workspace folder, or a folder with medalign.config.json) are validated from disk, one at a
  // time in the background after the scan and again when they, their record or template, their id's
  // other holders or the config change: the Problems panel lists the whole workspace, as
  // `medalign check` does.
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

  /** Instruction → the files its diagnostics depend on (record, template); and the reverse. */
  const dependenciesOf = new Map<string, string[]>();
  const dependents = new Map<string, Set<string>>();
  function setDependencies(uri: string, deps: string[]): void {
    for (const old of dependenciesOf.get(uri) ?? []) dependents.get(old)?.delete(uri);
    if (deps.length === 0) dependenciesOf.delete(uri);
    else dependenciesOf.set(uri, deps);
    for (const dep of deps) {
      let set = dependents.get(dep);
      if (!set) dependents.set(dep, (set = new Set()));
      set.add(uri);
    }
  }

  async function diagnose(document: TextDocument, ws: Workspace, onDisk: boolean) {
    if (isInstruction(document.uri))
      setDependencies(document.uri, ws.dependencies(document.uri, service.parse(document).file.data));
    return service.doValidation(document, ws, onDisk);
  }

  async function validate(live: TextDocument): Promise<void> {
    // Open documents are updated in place by later edits: validate a snapshot of this version.
    const document = TextDocument.create(live.uri, live.languageId, live.version, live.getText());
    const diagnostics = await runSafe('validation', [], async () =>
      diagnose(document, await workspaceFor(document.uri), false),
    );
    // Publish only if the document is still at that version (a newer edit re-validates).
    const current = documents.get(document.uri);
    if (current?.version !== document.version) return;
    publishedClosed.delete(document.uri);
    await connection.sendDiagnostics({ uri: document.uri, version: document.version, diagnostics });
  }

  /** Closed files waiting to be validated from disk (a set: queued twice, validated once). */
  const backlog = new Set<string>();
  let draining: Promise<void> | undefined;
  /** Versions for documents read from disk: negative, so never an editor's, and new each time. */
  let diskVersion = 0;
  const yieldToRequests = () => new Promise<void>((resolve) => setImmediate(resolve));

  /** Validates `uris` of `ws` from disk in the background (open ones are validated as documents). */
  function queueClosed(ws: Workspace | undefined, uris: Iterable<string>): void {
    for (const uri of uris) {
      if (!isOurs(uri)) continue;
      const open = documents.get(uri);
      if (open) scheduleValidation(open);
      else if (!ws || reported.has(ws)) backlog.add(uri);
    }
    draining ??= drain().finally(() => (draining = undefined));
  }

  /** Closed files validated together (their reads and stats overlap; the CPU work stays small). */
  const DRAIN_BATCH = 8;

  async function drain(): Promise<void> {
    await ready;
    while (backlog.size > 0) {
      const batch: string[] = [];
      for (const uri of backlog) {
        batch.push(uri);
        if (batch.length === DRAIN_BATCH) break;
      }
      for (const uri of batch) backlog.delete(uri);
      await Promise.all(batch.filter((uri) => !documents.get(uri)).map((uri) => validateClosed(uri)));
      // Every request that came meanwhile is answered before the next batch.
      await yieldToRequests();
    }
  }

  async function clearClosed(uri: string): Promise<void> {
    setDependencies(uri, []);
    if (publishedClosed.delete(uri)) await connection.sendDiagnostics({ uri, diagnostics: [] });
  }

  async function validateClosed(uri: string): Promise<void> {
    await runSafe('workspace validation', undefined, async () => {
      const ws = await workspaceFor(uri);
      if (!reported.has(ws)) return clearClosed(uri);
      const kind = fileKind(uri);
      // A file replaced by a link out of the workspace after the scan (or created as one) is not read.
      if (kind === 'other' || (await ws.checkBounds(uri, kind))) return clearClosed(uri);
      const st = await fs.stat(uri);
      if (st?.type !== 'file') return clearClosed(uri);
      // A record beyond the size limit is refused by the record store before it is read.
      const text = kind === 'record' && st.size > RECORD_LIMITS.bytes ? '' : await fs.readFile(uri);
      if (text === undefined) return clearClosed(uri);
      // Other XML (a pom.xml) is not ours: only records-folder files or a `<record` near the start.
      if (
        kind === 'record' &&
        text !== '' &&
        !isInside(ws.recordsFolder(), uri) &&
        !text.slice(0, 4096).includes('<record')
      )
        return clearClosed(uri);
      const document = TextDocument.create(
        uri,
        kind === 'instruction' ? 'medalign' : kind,
        --diskVersion,
        text,
      );
      const diagnostics = await diagnose(document, ws, true);
      if (documents.get(uri)) return; // opened meanwhile: the open document's diagnostics win
      if (diagnostics.length === 0 && !publishedClosed.has(uri)) return;
      if (diagnostics.length > 0) publishedClosed.add(uri);
      else publishedClosed.delete(uri);
      await connection.sendDiagnostics({ uri, diagnostics });
    });
  }

  /** Every file of every scanned project, and every open document. */
  function revalidateAll(): void {
    for (const d of documents.all()) if (isOurs(d.uri)) scheduleValidation(d);
    for (const ws of reported) queueClosed(ws, orderForValidation(ws.files));
  }

  /** Files whose duplicate-id diagnostic may change when `uri`'s id goes from `before` to its current id. */
  function idNeighbours(ws: Workspace, uri: string, before: string | undefined): string[] {
    const after = ws.ids.idFor(uri);
    if (before === after) return [];
    return [...(before ? ws.ids.urisFor(before) : []), ...(after ? ws.ids.urisFor(after) : [])].filter(
      (u) => u !== uri,
    );
  }

  /** An open document's text changed (or it was opened): re-index its id and validate. */
  function onDocumentText(document: TextDocument, opened: boolean): void {
    if (isExperimentFile(document.uri)) {
      void ready.then(() => experiments.onText(document));
      return;
    }
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
      scheduleValidation(document);
      // A changed id can create or clear duplicates in other files.
      queueClosed(ws, idNeighbours(ws, document.uri, before));
    })();
  }

  documents.onDidOpen((e) => onDocumentText(e.document, true));
  documents.onDidChangeContent((e) => onDocumentText(e.document, false));

  documents.onDidClose((e) => {
    const uri = e.document.uri;
    if (isExperimentFile(uri)) experiments.onClose(uri);
    if (!isOurs(uri)) return;
    void runSafe('close', undefined, async () => {
      const ws = await workspaceFor(uri);
      if (isInstruction(uri)) {
        const before = ws.ids.idFor(uri);
        ws.updateInstruction(uri, await fs.readFile(uri));
        queueClosed(ws, idNeighbours(ws, uri, before));
      }
      if (reported.has(ws) && (await fs.stat(uri))?.type === 'file') {
        // Reported as it is on disk now (the editor may have closed it without saving).
        publishedClosed.add(uri);
        queueClosed(ws, [uri]);
      } else {
        setDependencies(uri, []);
        await connection.sendDiagnostics({ uri, diagnostics: [] });
      }
    });
  });

  /** File events are gathered for a moment (a checkout or a save-all sends many at once). */
  const fileEvents = new Map<string, number>();
  let fileEventsTimer: ReturnType<typeof setTimeout> | undefined;
  connection.onDidChangeWatchedFiles((params) => {
    for (const c of params.changes) fileEvents.set(c.uri, c.type);
    fileEventsTimer ??= setTimeout(() => {
      fileEventsTimer = undefined;
      const changes = [...fileEvents];
      fileEvents.clear();
      void runSafe('file change', undefined, () => onFilesChanged(changes));
    }, 50);
  });

  /**
   * A deleted folder comes as one event for the folder: the files known inside it (scanned, or with
   * problems published) are handled as deleted too, so their problems do not outlive them.
   */
  function withDeletedFolders(changes: [string, number][]): [string, number][] {
    const out: [string, number][] = [];
    const given = new Set(changes.map(([u]) => u));
    for (const [uri, type] of changes) {
      out.push([uri, type]);
      if (type !== FileChangeType.Deleted || isOurs(uri) || uri.endsWith('/' + CONFIG_FILE_NAME)) continue;
      const prefix = uri.endsWith('/') ? uri : `${uri}/`;
      const inside = new Set<string>();
      for (const u of publishedClosed) if (u.startsWith(prefix)) inside.add(u);
      for (const ws of reported) for (const u of ws.files) if (u.startsWith(prefix)) inside.add(u);
      for (const u of inside) if (!given.has(u)) out.push([u, FileChangeType.Deleted]);
    }
    return out;
  }

  async function onFilesChanged(events: [string, number][]): Promise<void> {
    const changes = withDeletedFolders(events);
    for (const [uri, type] of changes) {
      const deleted = type === FileChangeType.Deleted;
      if (uri.endsWith('/' + CONFIG_FILE_NAME)) {
        roots.clear();
        const ws = await workspaceFor(uri);
        await ws.loadConfig();
        // Records folder, defaults and endpoints: every file of the project may change.
        for (const d of documents.all()) if (isOurs(d.uri) && isInside(ws.root, d.uri)) scheduleValidation(d);
        queueClosed(ws, orderForValidation(ws.files));
        continue;
      }
      if (!isOurs(uri)) continue;
      const ws = await workspaceFor(uri);
      if (isInstruction(uri)) {
        const before = ws.ids.idFor(uri);
        if (!documents.get(uri)) ws.updateInstruction(uri, deleted ? undefined : await fs.readFile(uri));
        queueClosed(ws, idNeighbours(ws, uri, before));
      } else if (deleted) {
        ws.files.delete(uri);
      } else {
        ws.files.add(uri);
      }
      if (deleted) await clearClosed(uri);
      else queueClosed(ws, [uri]);
      // Instructions that name this record or template (existing or not).
      queueClosed(ws, [...(dependents.get(uri) ?? [])]);
    }
  }

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

  const completion = forDocument<CompletionParams, CompletionList | null>('completion', null, (d, ws, p) =>
    service.doComplete(d, p.position, ws),
  );
  connection.onCompletion((p, token) =>
    isExperimentFile(p.textDocument.uri) ? experiments.complete(p, token) : completion(p, token),
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
        const ws = await currentWorkspaceFor(p.uri);
        const overrides: PreviewOverrides = {};
        if (p.model !== undefined) overrides.model = p.model;
        if (p.context !== undefined) overrides.context = p.context;
        if (p.strategy !== undefined) overrides.strategy = p.strategy;
        const pv = await service.buildPreview(doc, ws, overrides);
        const result: PreviewPromptResult = {
          ok: pv.ok,
          text: pv.text,
          header: pv.header,
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
        if (pv.templated !== undefined) result.templated = pv.templated;
        return result;
      },
      token,
    ),
  );

  // --- Runs: the one resolution, for the extension host (which only sends) --------------------------
  /** A project whose config is as on disk now (a run must not use one a watcher has not updated yet). */
  async function currentWorkspaceFor(uri: string): Promise<Workspace> {
    const ws = await workspaceFor(uri);
    await ws.refreshConfig();
    return ws;
  }
  const preparation = runtime.createRunPreparation?.(currentWorkspaceFor);
  const experiments = registerExperiments(connection, documents, {
    fs,
    workspaceFor,
    runSafe,
    ...(runtime.experimentVerdict ? { verdict: runtime.experimentVerdict } : {}),
  });
  const overridesOf = (o: PrepareRunParams['overrides']): RunOverrides => runOverridesOf(o);
  /** The instruction's text: the caller's, else the open document's, else the file on disk. */
  async function instructionDoc(uri: string, text?: string): Promise<TextDocument | undefined> {
    const open = documents.get(uri);
    if (text === undefined && open) return open;
    const t = text ?? (await fs.readFile(uri));
    return t === undefined ? undefined : TextDocument.create(uri, 'medalign', open?.version ?? 0, t);
  }
  function jobOf(p: PrepareRunParams, text: string | undefined): RunJob {
    const job: RunJob = { file: fsPathOf(p.uri), ...overridesOf(p.overrides) };
    if (text !== undefined) job.text = text;
    return job;
  }
  const noPreparation = {
    ok: false as const,
    file: '',
    error: { kind: 'internal' as const, message: 'This server cannot prepare runs.' },
  };
  const projectOf = (ws: Workspace): ProjectInfo => {
    const p: ProjectSummary = service.projectInfo(ws);
    return { ...p, root: fsPathOf(p.root) };
  };

  connection.onRequest(PlanRunRequest.type, (p, token) =>
    runSafe(
      'plan run',
      noPreparation,
      async () => {
        if (!preparation) return noPreparation;
        return preparation.plan(jobOf(p, p.text ?? documents.get(p.uri)?.getText()));
      },
      token,
    ),
  );
  connection.onRequest(PrepareRunRequest.type, (p, token) =>
    runSafe(
      'prepare run',
      noPreparation,
      async () => {
        if (!preparation) return noPreparation;
        if ('plan' in p) return preparation.pack(p.plan);
        const planned = await preparation.plan(jobOf(p, p.text ?? documents.get(p.uri)?.getText()));
        return planned.ok ? preparation.pack(planned.plan) : planned;
      },
      token,
    ),
  );
  connection.onRequest(ContextFitRequest.type, (p, token) =>
    runSafe<ContextFitResult>(
      'context fit',
      { ok: false, message: 'internal error: see the server log', strategy: '', model: '', rows: [] },
      async () => {
        const d = await instructionDoc(p.uri, p.text);
        if (!d) return { ok: false, message: `cannot read ${p.uri}`, strategy: '', model: '', rows: [] };
        const ws = await currentWorkspaceFor(p.uri);
        return service.contextFit(d, ws, overridesOf(p.overrides), token);
      },
      token,
    ),
  );
  connection.onRequest(StrategyFitRequest.type, (p, token) =>
    runSafe<StrategyFitResult>(
      'strategy fit',
      strategyFitFailure('internal error: see the server log'),
      async () => {
        const d = await instructionDoc(p.uri, p.text);
        if (!d) return strategyFitFailure(`cannot read ${p.uri}`);
        const ws = await currentWorkspaceFor(p.uri);
        return service.strategyFit(d, ws, overridesOf(p.overrides), token);
      },
      token,
    ),
  );
  /** The timeline of an instruction or a record file, in the form asked (model, columns, previews). */
  const timelineOf = async <T>(
    p: TimelineParams,
    form: TimelineForm<T>,
    token: CancellationToken,
  ): Promise<T> => {
    const ws = await currentWorkspaceFor(p.uri);
    if (fileKind(p.uri) !== 'instruction') {
      // An open record is shown as edited; a closed one as on disk (read once, by the record store).
      // Any other file gets a model that says what to open.
      const open = documents.get(p.uri);
      const d = open ?? TextDocument.create(p.uri, 'xml', 0, '');
      return service.timeline(d, ws, overridesOf(p.overrides), token, open === undefined, form);
    }
    const d = await instructionDoc(p.uri, p.text);
    if (!d) return form.empty(emptyTimeline(ws.label(p.uri), [`Cannot read ${ws.label(p.uri)}.`]));
    return service.timeline(d, ws, overridesOf(p.overrides), token, false, form);
  };
  const noTimeline = () =>
    emptyTimeline('', [
      'No timeline: the request was cancelled or failed (see the MedAlign language server log).',
    ]);
  connection.onRequest(TimelineRequest.type, (p, token) =>
    runSafe<TimelineModel>('timeline', noTimeline(), () => timelineOf(p, asModel, token), token),
  );
  connection.onRequest(TimelineViewRequest.type, (p, token) =>
    runSafe<ViewWire>(
      'timeline view',
      encodeTimeline(noTimeline()),
      () =>
        timelineOf(
          p,
          p.progressive === true ? asFirstWire(VIEW_PREVIEW_CHARS) : asWire(VIEW_PREVIEW_CHARS),
          token,
        ),
      token,
    ),
  );
  connection.onRequest(TimelinePreviewsRequest.type, (p, token) => {
    const ids = Array.isArray(p.ids) ? p.ids.filter((n) => Number.isInteger(n)).slice(0, 100_000) : [];
    return runSafe<TimelinePreviews>(
      'timeline previews',
      { stamp: '', previews: ids.map(() => null) },
      () => timelineOf(p, asPreviews(ids), token),
      token,
    );
  });
  connection.onRequest(CheckSettingRequest.type, (p) =>
    runSafe<string | null>('check setting', null, () => {
      const r = p.key === 'context' ? checkContext(p.value) : checkStrategy(p.value);
      return r.ok ? null : r.message;
    }),
  );
  connection.onRequest(CountTokensRequest.type, (p) =>
    // In the record engine (the worker): an answer is counted off the main thread, with its cache.
    runSafe('count tokens', -1, () => engine.countText(p.text, p.encoding)),
  );
  connection.onRequest(InstructionInfoRequest.type, (p, token) =>
    runSafe<InstructionInfoResult | null>(
      'instruction info',
      null,
      async () => {
        const d = await instructionDoc(p.uri, p.text);
        if (!d) return null;
        const ws = await currentWorkspaceFor(p.uri);
        const info = await service.runInfo(d, ws, overridesOf(p.overrides));
        const { instructionOffset, blocker, ...rest } = info;
        const out: InstructionInfoResult = { ...rest, project: projectOf(ws) };
        if (instructionOffset !== undefined) out.instructionLine = d.positionAt(instructionOffset).line;
        if (blocker) {
          const range = { start: d.positionAt(blocker.span.start), end: d.positionAt(blocker.span.end) };
          out.blocker = { message: blocker.message, range };
        }
        return out;
      },
      token,
    ),
  );
  connection.onRequest(ProjectInfoRequest.type, (p) =>
    runSafe<ProjectInfo>(
      'project info',
      {
        root: p.root,
        hasConfig: false,
        defaults: { model: 'baseline', context: '32k', strategy: 'recent', generationReserve: 256 },
        endpoints: [],
        configProblems: [],
        review: defaultConfig().review,
      },
      async () =>
        projectOf(await currentWorkspaceFor(joinPath(URI.file(p.root).toString(), CONFIG_FILE_NAME))),
    ),
  );
  connection.onRequest(FrontMatterEditRequest.type, (p) =>
    runSafe('front matter edit', null, async () => {
      const d = await instructionDoc(p.uri, p.text);
      const e = d && service.frontMatterEdit(d, p.key, p.value);
      if (!d || !e) return null;
      return { range: { start: d.positionAt(e.start), end: d.positionAt(e.end) }, newText: e.newText };
    }),
  );

  connection.onRequest(
    ServerStatsRequest.type,
    (p): ServerStatsResult =>
      runtime.stats?.(p.reset ?? false) ?? { eventLoopDelayMaxMs: -1, eventLoopDelayP99Ms: -1, rssMB: -1 },
  );

  connection.onRequest(ReportRequest.type, async (p): Promise<ReportResult> => {
    if (!runtime.report) return { ok: false, error: 'This server cannot build reports.' };
    if (typeof p?.root !== 'string' || p.root === '') return { ok: false, error: 'No project folder given.' };
    try {
      return { ok: true, report: await runtime.report(p.root, { cache: p.cache === true }) };
    } catch (err) {
      connection.console.error(`report: ${String(err)}`);
      return { ok: false, error: (err as Error).message ?? String(err) };
    }
  });

  connection.onShutdown(() => engine.dispose());

  documents.listen(connection);
  connection.listen();
}
