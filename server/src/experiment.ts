/**
 * Experiment files in the language server: diagnostics beyond the schema (pushed on open and
 * change), completion of model ids and template paths, `medalign/experimentPlan` (the size, cells
 * and runs the CodeLens and the run command use) and `medalign/experimentVerdict` (the verdict from
 * the run store, built by the node entry's runtime). The logic is the core's
 * (`features/experiment.ts`); this file only wires it.
 */
import type { CancellationToken, CompletionList, CompletionParams, Connection } from 'vscode-languageserver';
import type { TextDocuments } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { URI } from 'vscode-uri';
import type { FileSystem } from '../../engine/src/core/host';
import type { Workspace } from '../../engine/src/core/workspace/workspace';
import type { ExperimentResolution } from '../../engine/src/core/features/experiment';
import {
  experimentCompletion,
  experimentDiagnostics,
  experimentJobs,
  resolveExperiment,
} from '../../engine/src/core/features/experiment';
import { isExperimentFile, DEFAULT_CONCURRENCY } from '../../engine/src/core/experiment/spec';
import type { ProjectConfig } from '../../engine/src/core/workspace/config';
import type { ExperimentJobParam, ExperimentPlanResult, ExperimentVerdictResult } from './protocol';
import { ExperimentPlanRequest, ExperimentVerdictRequest } from './protocol';

export { isExperimentFile };

/** What the node entry computes for `medalign/experimentVerdict` (it reads the run and review stores). */
export type ExperimentVerdictRuntime = (a: {
  root: string;
  config: ProjectConfig;
  resolution: ExperimentResolution;
  jobs: ExperimentJobParam[];
  cache: boolean;
  limit: number;
}) => Promise<Extract<ExperimentVerdictResult, { ok: true }>>;

export interface ExperimentDeps {
  fs: FileSystem;
  workspaceFor: (uri: string) => Promise<Workspace>;
  runSafe: <T>(
    what: string,
    empty: T,
    fn: () => Promise<T> | T,
    token?: CancellationToken,
  ) => Promise<unknown>;
  verdict?: ExperimentVerdictRuntime;
}

export function registerExperiments(
  connection: Connection,
  documents: TextDocuments<TextDocument>,
  deps: ExperimentDeps,
): {
  /** Validates an open experiment document (debounced by the caller's edits). */
  onText: (document: TextDocument) => void;
  onClose: (uri: string) => void;
  complete: (p: CompletionParams, token: CancellationToken) => Promise<CompletionList | null>;
} {
  const timers = new Map<string, ReturnType<typeof setTimeout>>();

  async function resolve(uri: string, text?: string) {
    const t = text ?? documents.get(uri)?.getText() ?? (await deps.fs.readFile(uri));
    if (t === undefined) return undefined;
    const ws = await deps.workspaceFor(uri);
    await ws.refreshConfig();
    return { ws, r: await resolveExperiment(t, uri, ws, deps.fs) };
  }

  async function validate(live: TextDocument): Promise<void> {
    const doc = TextDocument.create(live.uri, live.languageId, live.version, live.getText());
    const got = await resolve(doc.uri, doc.getText());
    if (!got) return;
    if (documents.get(doc.uri)?.version !== doc.version) return;
    await connection.sendDiagnostics({
      uri: doc.uri,
      version: doc.version,
      diagnostics: experimentDiagnostics(doc, got.r),
    });
  }

  const emptyPlan = (message: string): ExperimentPlanResult => ({
    ok: false,
    name: '',
    size: 'not runnable',
    runs: 0,
    instructions: 0,
    runnable: false,
    root: '',
    problems: [{ message, severity: 'error' }],
    cells: [],
    jobs: [],
    concurrency: DEFAULT_CONCURRENCY,
  });

  connection.onRequest(
    ExperimentPlanRequest.type,
    (p, token) =>
      deps.runSafe(
        'experiment plan',
        emptyPlan('internal error: see the server log'),
        async (): Promise<ExperimentPlanResult> => {
          const got = await resolve(p.uri, p.text);
          if (!got) return emptyPlan(`Cannot read ${p.uri}`);
          const { r, ws } = got;
          return {
            ok: r.spec !== undefined,
            name: r.name,
            size: r.size,
            runs: r.runs,
            instructions: r.instructions.length,
            runnable: r.runnable,
            root: URI.parse(ws.root).fsPath,
            problems: r.problems.map((x) => ({ message: x.message, severity: x.severity })),
            cells: r.cells?.cells ?? [],
            jobs: experimentJobs(r),
            concurrency: r.spec?.concurrency ?? DEFAULT_CONCURRENCY,
          };
        },
        token,
      ) as Promise<ExperimentPlanResult>,
  );

  connection.onRequest(
    ExperimentVerdictRequest.type,
    (p, token) =>
      deps.runSafe(
        'experiment verdict',
        { ok: false, error: 'internal error: see the server log' },
        async (): Promise<ExperimentVerdictResult> => {
          if (!deps.verdict) return { ok: false, error: 'This server cannot build verdicts.' };
          const got = await resolve(p.uri, p.text);
          if (!got) return { ok: false, error: `Cannot read ${p.uri}` };
          const { r, ws } = got;
          if (!r.spec || !r.cells)
            return { ok: false, error: r.problems[0]?.message ?? 'The experiment is invalid.' };
          return deps.verdict({
            root: URI.parse(ws.root).fsPath,
            config: ws.config,
            resolution: r,
            jobs: experimentJobs(r),
            cache: p.trusted,
            limit: p.limit ?? 20,
          });
        },
        token,
      ) as Promise<ExperimentVerdictResult>,
  );

  return {
    onText(document) {
      const old = timers.get(document.uri);
      if (old) clearTimeout(old);
      timers.set(
        document.uri,
        setTimeout(() => {
          timers.delete(document.uri);
          void deps.runSafe('experiment validation', undefined, () => validate(document));
        }, 150),
      );
    },
    onClose(uri) {
      const old = timers.get(uri);
      if (old) clearTimeout(old);
      timers.delete(uri);
      void connection.sendDiagnostics({ uri, diagnostics: [] });
    },
    complete: (p, token) =>
      deps.runSafe(
        'experiment completion',
        null,
        async () => {
          const d = documents.get(p.textDocument.uri);
          if (!d) return null;
          return experimentCompletion(d, d.offsetAt(p.position), await deps.workspaceFor(d.uri), deps.fs);
        },
        token,
      ) as Promise<CompletionList | null>,
  };
}
