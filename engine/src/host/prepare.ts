/**
 * From an instruction file to a packed prompt ready to run: finds the workspace, resolves the run
 * settings (model, endpoint, context, strategy, template; front matter, then the config's defaults,
 * then the caller's overrides), hashes the instruction file, record and template (sha256 of the
 * text, so `sha256sum` on a record agrees), computes the resume key, and packs. The CLI, the batch
 * runner and the editor all come through here.
 *
 * Two steps, so `--resume` can skip a job before paying for packing: `plan(job)` (files, hashes,
 * settings, key) and `pack(plan)`. `prepare(job)` does both.
 */
import type { ServerTokenize } from '../core/tokens/serverCounts';
import { serverCountWarning, withServerCounts } from '../core/features/serverPack';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { URI } from 'vscode-uri';
import type { FileSystem } from '../core/host';
import { parseInstruction, sectionText } from '../core/format/parse';
import { SECTION_GOLD } from '../core/features/sections';
import { packRequest, resolveRunSettings, runOverridesOf, settingsError } from '../core/features/runSettings';
import { DEFAULT_TEMPLATE_SOURCE } from '../core/template/defaults';
import { normalizeId } from '../core/workspace/idIndex';
import { Workspace, resolveProjectRoot } from '../core/workspace/workspace';
import { BASELINE_MODEL, configProblemsMessage } from '../core/workspace/config';
import { endpointTarget } from '../core/run/guard';
import { baselineAnswer } from '../core/run/baseline';
import { recordFrom } from '../core/packing/helm';
import type { RunError } from '../core/run/errors';
import type { PlanResult, PrepareResult, RunJob, RunPlan, RunPreparation } from '../core/run/prepared';
import { withPack } from '../core/run/prepared';
import { runKeyOfSettings } from '../core/run/runRecord';
import { nodeFileSystem } from './nodeFileSystem';
import { checkWritePaths } from '../run/store';

export type {
  PlanResult,
  PrepareResult,
  RunJob,
  RunPlan,
  PreparedRun,
  RunPreparation,
} from '../core/run/prepared';
export { draftOf, withPack } from '../core/run/prepared';

export interface RunPreparerOptions {
  /**
   * The project (config, record engine with its caches) of a file. The language server passes its
   * own, so a run is packed by the same worker and caches as the hovers and the preview; the CLI
   * leaves it out and gets one workspace per project root.
   */
  workspaceFor?: (fileUri: string) => Promise<Workspace>;
  /** Folders that count as projects when no config is found (the CLI's current directory). */
  folders?: readonly string[];
  /** Folders outside the project that records and templates may come from (the user's own). */
  allowedRoots?: readonly string[];
  /**
   * How a project of this preparer asks an endpoint's `/tokenize` (`tokenizer: server`; the CLI's
   * rule, cli/countVerify.ts). Without it, `tokenizer: server` packs with the estimate.
   */
  serverTokenize?: (ws: Workspace) => ServerTokenize;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function rel(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}

function configError(file: string, message: string): { ok: false; file: string; error: RunError } {
  return { ok: false, file, error: { kind: 'config', message } };
}

interface CachedText {
  mtimeMs: number;
  size: number;
  text: string;
  hash: string;
}

/**
 * Keeps workspaces (config, record engine with its parse and token caches) and hashed record texts
 * across jobs, so a batch packs each record's counts once. One per process (CLI) or per window (editor).
 */
export class RunPreparer implements RunPreparation {
  /** Projects by root; `refreshConfig` re-reads a config that changed on disk (Workspace's own rule). */
  private readonly workspaces = new Map<string, { ws: Workspace; loaded: Promise<unknown> }>();
  private readonly texts = new Map<string, CachedText>();
  private readonly roots = new Map<string, Promise<string>>();

  private allowedRoots: string[] = [];

  constructor(
    private readonly fs: FileSystem = nodeFileSystem,
    private readonly options: RunPreparerOptions = {},
  ) {
    this.setAllowedRoots(options.allowedRoots ?? []);
  }

  /**
   * Folders (absolute paths) outside a workspace that its records and templates may come from: the
   * user's own `medalign.allowedRoots` or `--allow-root`, never a workspace's setting. (With
   * `workspaceFor`, the language server sets them on its own workspaces.)
   */
  setAllowedRoots(roots: readonly string[]): void {
    this.allowedRoots = roots.map((r) => URI.file(path.resolve(r)).toString());
    for (const w of this.workspaces.values()) w.ws.setAllowedRoots(this.allowedRoots);
  }

  /** Drops every cache (workspaces with their record engines, texts, roots). The config is re-read
   * by itself when it changes; call this when folders move or a config file appears. */
  reset(): void {
    for (const w of this.workspaces.values()) w.ws.engine.dispose();
    this.workspaces.clear();
    this.texts.clear();
    this.roots.clear();
  }

  /** The workspace at `root`, its config re-read when medalign.config.json changed on disk. */
  private async workspace(root: string): Promise<Workspace> {
    let w = this.workspaces.get(root);
    if (w === undefined) {
      const ws = new Workspace(this.fs, URI.file(root).toString());
      ws.setAllowedRoots(this.allowedRoots);
      ws.serverTokenize = this.options.serverTokenize?.(ws);
      w = { ws, loaded: ws.loadConfig() };
      this.workspaces.set(root, w);
    }
    await w.loaded;
    await w.ws.refreshConfig();
    return w.ws;
  }

  /** The project folder of a file (core/workspace resolveProjectRoot; cached per folder). */
  private rootOf(file: string): Promise<string> {
    const dir = path.dirname(file);
    let r = this.roots.get(dir);
    if (r === undefined) {
      const folders = (this.options.folders ?? []).map((f) => URI.file(path.resolve(f)).toString());
      r = resolveProjectRoot(this.fs, URI.file(file).toString(), folders).then(
        (p) => URI.parse(p.root).fsPath,
      );
      this.roots.set(dir, r);
    }
    return r;
  }

  /** A file's text and sha256, cached by mtime and size. `undefined` when it cannot be read. */
  private async hashedText(file: string): Promise<CachedText | undefined> {
    let st;
    try {
      st = await fsp.stat(file);
    } catch {
      return undefined;
    }
    if (!st.isFile()) return undefined;
    const hit = this.texts.get(file);
    if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit;
    const text = await fsp.readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    const entry: CachedText = { mtimeMs: st.mtimeMs, size: st.size, text, hash: sha256(text) };
    this.texts.set(file, entry);
    if (this.texts.size > 64) this.texts.delete(this.texts.keys().next().value!);
    return entry;
  }

  async plan(job: RunJob): Promise<PlanResult> {
    const file = path.resolve(job.file);
    const text = job.text ?? (await fsp.readFile(file, 'utf8').catch(() => undefined));
    if (text === undefined) return configError(file, `Cannot read ${file}.`);
    const uri = URI.file(file).toString();
    let ws: Workspace;
    let root: string;
    if (this.options.workspaceFor !== undefined) {
      ws = await this.options.workspaceFor(uri);
      root = URI.parse(ws.root).fsPath;
    } else {
      root = await this.rootOf(file);
      ws = await this.workspace(root);
    }
    // The whole config, as its schema says, before anything runs (the CLI and the editor alike).
    if (ws.loaded.problems.length > 0) return configError(file, configProblemsMessage(ws.loaded.problems));
    const parsed = parseInstruction(text);
    const id = normalizeId(parsed.data?.['id']);
    if (id === undefined) return configError(file, `${path.basename(file)} has no id in its front matter.`);
    // Where the run will write (`.medalign`, `runs`, `runs/<id>`, the audit log): no links.
    const unsafe = await checkWritePaths(root, id);
    if (unsafe !== undefined) return configError(file, unsafe);
    const settings = await resolveRunSettings(parsed, uri, ws, this.fs, runOverridesOf(job));
    const problem = settingsError(settings);
    if (problem !== undefined) return configError(file, `${path.basename(file)}: ${problem}`);
    const resolved = await ws.resolveRecord(uri, parsed.data);
    if (!resolved) return configError(file, `${path.basename(file)} names no patient or record.`);
    if (resolved.outside) return configError(file, resolved.outside.message);
    const recordFile = URI.parse(resolved.uri).fsPath;
    const record = await this.hashedText(recordFile);
    if (!record) return configError(file, `The record ${rel(root, recordFile)} does not exist.`);
    const templateSource = settings.templateSource ?? DEFAULT_TEMPLATE_SOURCE;
    const templateFile = settings.templateUri ? URI.parse(settings.templateUri).fsPath : undefined;
    let origin: string | undefined;
    if (settings.endpoint) {
      const t = endpointTarget(settings.endpoint);
      if (!t.ok) return configError(file, t.message);
      origin = t.target.origin;
    }
    const instructionHash = sha256(text);
    const templateHash = sha256(templateSource);
    const plan: RunPlan = {
      job,
      workspaceRoot: root,
      instruction: {
        id,
        file,
        relFile: rel(root, file),
        hash: instructionHash,
        gold: (() => {
          const g = parsed.sections.find((s) => s.name === SECTION_GOLD);
          return g ? sectionText(parsed, g).trim() : '';
        })(),
      },
      record: {
        file: recordFile,
        relFile: rel(root, recordFile),
        hash: record.hash,
        chars: record.text.length,
        uri: resolved.uri,
      },
      template: {
        hash: templateHash,
        builtin: settings.templateSource === undefined,
        ...(templateFile !== undefined ? { file: templateFile, relFile: rel(root, templateFile) } : {}),
      },
      settings,
      key: runKeyOfSettings(
        settings,
        { instructionHash, recordHash: record.hash, ...(origin !== undefined ? { origin } : {}) },
        sha256,
      ),
      ...(origin !== undefined ? { origin } : {}),
    };
    return { ok: true, plan };
  }

  /** Packs a plan's prompt (CPU: parse once per record content, counts cached, then the packing). */
  async pack(plan: RunPlan): Promise<PrepareResult> {
    const t0 = performance.now();
    const ws =
      this.options.workspaceFor !== undefined
        ? await this.options.workspaceFor(URI.file(plan.instruction.file).toString())
        : await this.workspace(plan.workspaceRoot);
    const cached = await this.hashedText(plan.record.file);
    const text = cached?.hash === plan.record.hash ? cached.text : undefined;
    const record = await ws.engine.load(plan.record.uri, plan.record.hash, () => Promise.resolve(text));
    if (!record)
      return configError(
        plan.instruction.file,
        `The record ${plan.record.relFile} changed or vanished; run again.`,
      );
    if (!record.ok) {
      return configError(
        plan.instruction.file,
        record.diagnostics[0]?.code === 'record-too-large'
          ? record.diagnostics[0].message.replace(/^The record/, `The record ${plan.record.relFile}`)
          : `The record ${plan.record.relFile} is not a well-formed MedAlign record.`,
      );
    }
    // tokenizer: server → the server's counts where allowed (core/features/serverPack.ts).
    const counted = await withServerCounts(ws, plan.settings, (s) =>
      ws.engine.pack(plan.record.uri, plan.record.hash, packRequest(s)),
    );
    if (!counted.value) return configError(plan.instruction.file, `Could not pack ${plan.record.relFile}.`);
    const warning = serverCountWarning(counted.status, plan.settings.tokenizer.encoding);
    const pack = warning
      ? { ...counted.value, warnings: [...counted.value.warnings, warning] }
      : counted.value;
    let baseline: { text: string; passages: number } | undefined;
    if (plan.settings.model === BASELINE_MODEL && pack.ok) {
      // `helm` cuts mid-element: the baseline quotes the events the cut keeps whole.
      const helmCut = pack.helm !== undefined && !pack.helm.wellFormed && pack.keptRanges[0] !== undefined;
      const a = baselineAnswer(
        pack.ehr,
        plan.settings.instruction,
        helmCut ? { record: recordFrom(record, pack.keptRanges[0].start) } : {},
      );
      baseline = { text: a.text, passages: a.passages.length };
    }
    return { ok: true, run: withPack(plan, pack, performance.now() - t0, baseline) };
  }

  async prepare(job: RunJob): Promise<PrepareResult> {
    const p = await this.plan(job);
    return p.ok ? this.pack(p.plan) : p;
  }
}
