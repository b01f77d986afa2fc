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
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { URI } from 'vscode-uri';
import type { FileSystem } from '../core/host';
import { parseInstruction, sectionText } from '../core/format/parse';
import { SECTION_GOLD } from '../core/features/sections';
import { packRequest, resolveRunSettings } from '../core/features/runSettings';
import type { RunSettings } from '../core/features/runSettings';
import type { PackResult, PackStrategy } from '../core/packing/pack';
import { DEFAULT_TEMPLATE_SOURCE } from '../core/template/defaults';
import { normalizeId } from '../core/workspace/idIndex';
import { Workspace, findProjectRoot } from '../core/workspace/workspace';
import { BASELINE_MODEL, CONFIG_FILE_NAME } from '../core/workspace/config';
import { endpointTarget } from '../core/run/guard';
import type { RunError } from '../core/run/errors';
import type { RunDraft } from '../core/run/runRecord';
import { promptHash, runKey } from '../core/run/runRecord';
import { nodeFileSystem } from '../node/nodeFileSystem';

export interface RunJob {
  /** The `.medalign` file (absolute path, or relative to the process's cwd). */
  file: string;
  /** The file's current text (an unsaved editor buffer); read from disk when absent. */
  text?: string;
  /** Overrides of the front matter: an endpoint id or `baseline`, a context (`32k`, 8192), a strategy. */
  model?: string;
  context?: string | number;
  strategy?: PackStrategy;
  /** The workspace folder; default: the nearest folder up with medalign.config.json, else the file's parent's parent. */
  workspaceRoot?: string;
}

export interface RunPlan {
  job: RunJob;
  /** Absolute path of the workspace folder (where `.medalign/` goes). */
  workspaceRoot: string;
  instruction: { id: string; file: string; relFile: string; hash: string; gold: string };
  record: { file: string; relFile: string; hash: string; chars: number; uri: string };
  template: { file?: string; relFile?: string; hash: string; builtin: boolean };
  settings: RunSettings;
  /** Origin requests go to (endpoints only). */
  origin?: string;
  key: string;
}

export interface PreparedRun extends RunPlan {
  pack: PackResult;
  packMs: number;
  /** What the run record will say about this run before it is sent. */
  draft: RunDraft;
}

export type PlanResult = { ok: true; plan: RunPlan } | { ok: false; file: string; error: RunError };
export type PrepareResult = { ok: true; run: PreparedRun } | { ok: false; file: string; error: RunError };

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
export class RunPreparer {
  private readonly workspaces = new Map<
    string,
    { ws: Workspace; config: Promise<Workspace>; version: string }
  >();
  private readonly texts = new Map<string, CachedText>();
  private readonly roots = new Map<string, Promise<string>>();

  constructor(private readonly fs: FileSystem = nodeFileSystem) {}

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
    const st = await fsp.stat(path.join(root, CONFIG_FILE_NAME)).catch(() => undefined);
    const version = st ? `${st.mtimeMs}:${st.size}` : 'none';
    let w = this.workspaces.get(root);
    if (w === undefined) {
      const ws = new Workspace(this.fs, URI.file(root).toString());
      w = { ws, config: ws.loadConfig().then(() => ws), version };
      this.workspaces.set(root, w);
    } else if (w.version !== version) {
      const ws = w.ws;
      w.version = version;
      w.config = ws.loadConfig().then(() => ws);
    }
    return w.config;
  }

  /** The workspace folder of a file: the nearest folder up with medalign.config.json (cached per folder). */
  private rootOf(file: string): Promise<string> {
    const dir = path.dirname(file);
    let r = this.roots.get(dir);
    if (r === undefined) {
      r = findProjectRoot(this.fs, URI.file(file).toString()).then((found) =>
        found !== undefined ? URI.parse(found).fsPath : path.dirname(dir),
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
    const root = job.workspaceRoot !== undefined ? path.resolve(job.workspaceRoot) : await this.rootOf(file);
    const ws = await this.workspace(root);
    const parsed = parseInstruction(text);
    const id = normalizeId(parsed.data?.['id']);
    if (id === undefined) return configError(file, `${path.basename(file)} has no id in its front matter.`);
    const overrides: { model?: string; context?: string | number; strategy?: PackStrategy } = {};
    if (job.model !== undefined) overrides.model = job.model;
    if (job.context !== undefined) overrides.context = job.context;
    if (job.strategy !== undefined) overrides.strategy = job.strategy;
    const settings = await resolveRunSettings(parsed, uri, ws, this.fs, overrides);
    if (settings.instruction.trim() === '') {
      return configError(file, `${path.basename(file)} has no text under '## Instruction'.`);
    }
    if (settings.model !== BASELINE_MODEL && settings.endpoint === undefined) {
      return configError(
        file,
        `Model '${settings.model}' is neither '${BASELINE_MODEL}' nor an endpoint id in medalign.config.json.`,
      );
    }
    if (settings.templateMissing) {
      return configError(
        file,
        `The template ${settings.templateUri ? URI.parse(settings.templateUri).fsPath : ''} does not exist.`,
      );
    }
    const resolved = ws.resolveRecord(uri, parsed.data);
    if (!resolved) return configError(file, `${path.basename(file)} names no patient or record.`);
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
      key: runKey({
        instructionHash,
        recordHash: record.hash,
        templateHash,
        endpointId: settings.model,
        model: settings.endpoint?.model ?? BASELINE_MODEL,
        ...(origin !== undefined ? { origin } : {}),
        context: settings.context,
        strategy: settings.strategy,
        reserve: settings.reserve,
      }),
      ...(origin !== undefined ? { origin } : {}),
    };
    return { ok: true, plan };
  }

  /** Packs a plan's prompt (CPU: parse once per record content, counts cached, then the packing). */
  async pack(plan: RunPlan): Promise<PrepareResult> {
    const t0 = performance.now();
    const ws = await this.workspace(plan.workspaceRoot);
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
    const pack = await ws.engine.pack(plan.record.uri, plan.record.hash, packRequest(plan.settings));
    if (!pack) return configError(plan.instruction.file, `Could not pack ${plan.record.relFile}.`);
    return { ok: true, run: withPack(plan, pack, performance.now() - t0) };
  }

  async prepare(job: RunJob): Promise<PrepareResult> {
    const p = await this.plan(job);
    return p.ok ? this.pack(p.plan) : p;
  }
}

/**
 * A prepared run from a plan and a pack made elsewhere (e.g. the language server's worker already
 * packed the prompt for the preview). The pack must come from the same record text the plan hashed.
 */
export function withPack(plan: RunPlan, pack: PackResult, packMs = 0): PreparedRun {
  return { ...plan, pack, packMs, draft: draftOf(plan, pack, packMs) };
}

/** The run record's fields known before sending. */
export function draftOf(plan: RunPlan, pack: PackResult, packMs?: number): RunDraft {
  const s = plan.settings;
  const d: RunDraft = {
    key: plan.key,
    instruction: { id: plan.instruction.id, file: plan.instruction.relFile, hash: plan.instruction.hash },
    record: { file: plan.record.relFile, hash: plan.record.hash, chars: plan.record.chars },
    template: {
      hash: plan.template.hash,
      builtin: plan.template.builtin,
      ...(plan.template.relFile !== undefined ? { file: plan.template.relFile } : {}),
    },
    endpoint: {
      id: s.model,
      kind: s.endpoint?.kind ?? 'baseline',
      model: s.endpoint?.model ?? BASELINE_MODEL,
      ...(plan.origin !== undefined ? { origin: plan.origin } : {}),
    },
    context: s.context,
    contextLabel: s.contextLabel,
    strategy: s.strategy,
    reserve: s.reserve,
    encoding: pack.encoding,
    estimated: pack.estimated,
    tokens: {
      prompt: pack.budget.prompt,
      recordKept: pack.kept.tokens,
      recordCut: pack.cut.tokens,
      recordBudget: pack.budget.recordBudget,
      visitsKept: pack.kept.visits,
      visitsCut: pack.cut.visits,
    },
    promptHash: promptHash(pack.messages),
  };
  if (packMs !== undefined) d.packMs = packMs;
  return d;
}
