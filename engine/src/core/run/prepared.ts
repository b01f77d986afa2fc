/**
 * A run before it is sent: what an instruction resolves to (settings, files and their hashes, the
 * resume key) and, once packed, the exact prompt. Plain data, so it crosses the language-server
 * connection: the language server prepares (it has the workspace, the records and their token counts
 * in its worker), the extension host only sends. The CLI prepares in-process with the same code
 * (engine/src/host/prepare.ts).
 */
import type { RunOverrides, RunSettings } from '../features/runSettings';
import type { PackResult } from '../packing/pack';
import { BASELINE_MODEL } from '../workspace/config';
import { storedTokenizerName } from '../tokens/serverTable';
import type { RunError } from './errors';
import type { RunDraft } from './runRecord';
import { promptHash } from './runRecord';

export interface RunJob extends RunOverrides {
  /** The `.medalign` file (absolute path, or relative to the process's cwd). */
  file: string;
  /** The file's current text (an unsaved editor buffer); read from disk when absent. */
  text?: string;
}

export interface RunPlan {
  job: RunJob;
  /** Absolute path of the project folder (where `.medalign/` goes). */
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
  /** For `baseline`: its answer, made where the record was packed (nothing is sent). */
  baseline?: { text: string; passages: number };
}

export type PlanResult = { ok: true; plan: RunPlan } | { ok: false; file: string; error: RunError };
export type PrepareResult = { ok: true; run: PreparedRun } | { ok: false; file: string; error: RunError };

/**
 * Whoever resolves and packs runs: the CLI's in-process `RunPreparer`, or in the editor the language
 * server over `medalign/prepareRun`. Two steps so a resumed batch can skip a job before packing it.
 */
export interface RunPreparation {
  plan(job: RunJob): Promise<PlanResult>;
  pack(plan: RunPlan): Promise<PrepareResult>;
}

/**
 * A prepared run from a plan and a pack of the same record text the plan hashed.
 */
export function withPack(
  plan: RunPlan,
  pack: PackResult,
  packMs = 0,
  baseline?: { text: string; passages: number },
): PreparedRun {
  const run: PreparedRun = { ...plan, pack, packMs, draft: draftOf(plan, pack, packMs) };
  if (baseline !== undefined) run.baseline = baseline;
  return run;
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
    encoding: storedTokenizerName(pack.encoding),
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
  if (pack.kept.firstDate && pack.kept.lastDate && pack.kept.tokens > 0) {
    d.record.keptFrom = pack.kept.firstDate.iso.slice(0, 10);
    d.record.keptTo = pack.kept.lastDate.iso.slice(0, 10);
  }
  if (packMs !== undefined) d.packMs = packMs;
  return d;
}
