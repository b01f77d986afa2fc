/**
 * Experiments over the run store: the jobs of an experiment (each instruction in each cell, with the
 * cell's overrides), the runs that answer them (the newest complete run with the job's resume key:
 * a run already made with identical inputs is reused, never sent again), their scores (built-in
 * metrics and external scorers through the score cache, clinician labels from review files) and
 * the verdict (core/experiment/verdict.ts). The CLI (`medalign experiment`) and the language server
 * (`medalign/experimentVerdict`, for the editor's results view) both come through here.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { URI } from 'vscode-uri';
import { parseInstruction, sectionText } from '../core/format/parse';
import { SECTION_GOLD } from '../core/features/sections';
import { resolveRunSettings, runOverridesOf, settingsError } from '../core/features/runSettings';
import { normalizeId } from '../core/workspace/idIndex';
import { configProblemsMessage } from '../core/workspace/config';
import { endpointTarget } from '../core/run/guard';
import { keyOfRunFileName, runDirName, runKeyOfSettings } from '../core/run/runRecord';
import { sha256 } from '../host/prepare';
import type { StoredRun } from './store';
import type { ExperimentJob, ExperimentResolution } from '../core/features/experiment';
import { experimentJobs, resolveExperiment } from '../core/features/experiment';
import type { ExperimentCell } from '../core/experiment/plan';
import type { Observation, Verdict, VerdictMetric } from '../core/experiment/verdict';
import { buildVerdict, cellPairs } from '../core/experiment/verdict';
import { BUILTIN_METRICS, METRIC_LABELS, isBuiltinMetric } from '../core/metrics/metrics';
import type { BuiltinMetric } from '../core/metrics/metrics';
import type { RunRecord } from '../core/run/runRecord';
import { candidateOfRun, judge } from '../core/review/reviewStatus';
import type { ReviewFile } from '../core/review/reviewFile';
import type { ProjectConfig, ScorerConfig } from '../core/workspace/config';
import { Workspace, resolveProjectRoot } from '../core/workspace/workspace';
import type { FileSystem } from '../core/host';
import { syncNodeFileSystem } from '../host/nodeFileSystem';
import { ReviewStore } from './reviewStore';
import { RunStore } from './store';
import { ScoreCache } from './scoreCache';
import { scorePairs } from './scoring';

export type { ExperimentJob } from '../core/features/experiment';
export { experimentJobs };

export interface LoadedExperiment {
  file: string;
  root: string;
  config: ProjectConfig;
  resolution: ExperimentResolution;
  jobs: ExperimentJob[];
}

/** Reads and resolves an experiment file on disk (the CLI): its project, cells, instructions, jobs. */
export async function loadExperiment(
  file: string,
  o: { folders?: readonly string[]; allowedRoots?: readonly string[]; fs?: FileSystem } = {},
): Promise<LoadedExperiment | { error: string }> {
  const fs = o.fs ?? syncNodeFileSystem;
  const abs = path.resolve(file);
  const uri = URI.file(abs).toString();
  const text = await fs.readFile(uri);
  if (text === undefined) return { error: `cannot read ${file}` };
  const p = await resolveProjectRoot(
    fs,
    uri,
    (o.folders ?? []).map((f) => URI.file(path.resolve(f)).toString()),
  );
  const ws = new Workspace(fs, p.root);
  ws.setAllowedRoots((o.allowedRoots ?? []).map((r) => URI.file(path.resolve(r)).toString()));
  await ws.loadConfig();
  const resolution = await resolveExperiment(text, uri, ws, fs);
  ws.engine.dispose();
  return {
    file: abs,
    root: URI.parse(p.root).fsPath,
    config: ws.config,
    resolution,
    jobs: experimentJobs(resolution),
  };
}

/**
 * A file system that answers each question once (a snapshot for one planning pass): the thousands
 * of runs of an experiment ask about the same few templates, records, folders and config.
 */
export function memoFileSystem(fs: FileSystem): FileSystem {
  const memo = <T>(f: (uri: string) => Promise<T>) => {
    const m = new Map<string, Promise<T>>();
    return (uri: string) => {
      let p = m.get(uri);
      if (!p) m.set(uri, (p = f(uri)));
      return p;
    };
  };
  return {
    readFile: memo((u) => fs.readFile(u)),
    stat: memo((u) => fs.stat(u)),
    readDirectory: memo((u) => fs.readDirectory(u)),
    realpath: memo((u) => fs.realpath(u)),
  };
}

/** An instruction file's parse, its gold response and id, by the text's sha256. */
interface ParsedInstruction {
  parsed: ReturnType<typeof parseInstruction>;
  gold: string;
  id: string | undefined;
}
const PARSE_CACHE_MAX = 20_000;
const parseCache = new Map<string, ParsedInstruction>();

/**
 * The parse of an instruction's text, kept by content (sha256) for the next plan in this process
 * (the language server plans an experiment again for each verdict; the text decides the parse, so a
 * changed file is a new entry). Bounded: emptied when it holds more than 20,000 texts.
 */
function parsedInstruction(text: string, hash: string): ParsedInstruction {
  let p = parseCache.get(hash);
  if (p === undefined) {
    const parsed = parseInstruction(text);
    const g = parsed.sections.find((x) => x.name === SECTION_GOLD);
    p = { parsed, gold: g ? sectionText(parsed, g).trim() : '', id: normalizeId(parsed.data?.['id']) };
    if (parseCache.size >= PARSE_CACHE_MAX) parseCache.clear();
    parseCache.set(hash, p);
  }
  return p;
}

/** A job's resume key and what the verdict shows of its instruction, or why it cannot be planned. */
export type PlannedKey =
  | { ok: true; id: string; relFile: string; gold: string; question: string; key: string }
  | { ok: false; relFile: string; message: string };

/**
 * The resume key of every job, as `RunPreparer.plan` computes it (instruction, record and template
 * hashed; settings resolved by the one resolution), without its per-run I/O: each instruction file
 * is read and hashed once, each record and template once, and the file system is a snapshot. The
 * write-path checks and packing are left to the run itself (a plan is not a run). Keys are equal to
 * the preparer's: test/engine/experimentPlan.test.ts checks it.
 */
export async function planKeys(
  root: string,
  jobs: readonly ExperimentJob[],
  o: { fs?: FileSystem; allowedRoots?: readonly string[] } = {},
): Promise<PlannedKey[]> {
  const fs = memoFileSystem(o.fs ?? syncNodeFileSystem);
  const rootUri = URI.file(root).toString();
  const ws = new Workspace(fs, rootUri);
  ws.setAllowedRoots((o.allowedRoots ?? []).map((r) => URI.file(path.resolve(r)).toString()));
  await ws.loadConfig();
  const rel = (f: string) => path.relative(root, f).split(path.sep).join('/');
  const hashes = new Map<string, string>();
  const hashOf = (text: string) => {
    let h = hashes.get(text);
    if (h === undefined) hashes.set(text, (h = sha256(text)));
    return h;
  };
  interface Instr {
    uri: string;
    relFile: string;
    parsed: ReturnType<typeof parseInstruction>;
    id?: string;
    hash: string;
    gold: string;
    record?: { hash: string } | { error: string };
  }
  const instrs = new Map<string, Promise<Instr | undefined>>();
  const instruction = (file: string) => {
    let p = instrs.get(file);
    if (!p) {
      p = (async () => {
        const uri = URI.file(file).toString();
        const text = await fs.readFile(uri);
        if (text === undefined) return undefined;
        const hash = hashOf(text);
        const { parsed, gold, id } = parsedInstruction(text, hash);
        const it: Instr = { uri, relFile: rel(file), parsed, hash, gold };
        if (id !== undefined) it.id = id;
        const resolved = await ws.resolveRecord(uri, parsed.data);
        if (!resolved) it.record = { error: `${path.basename(file)} names no patient or record.` };
        else if (resolved.outside) it.record = { error: resolved.outside.message };
        else {
          const recordText = await fs.readFile(resolved.uri);
          it.record =
            recordText === undefined
              ? { error: `The record ${rel(URI.parse(resolved.uri).fsPath)} does not exist.` }
              : { hash: hashOf(recordText) };
        }
        return it;
      })();
      instrs.set(file, p);
    }
    return p;
  };
  // Each job's file resolved once per distinct path (12,000 jobs name 1,000 files).
  const absOf = new Map<string, string>();
  const abs = (f: string) => {
    let a = absOf.get(f);
    if (a === undefined) absOf.set(f, (a = path.resolve(f)));
    return a;
  };
  // Every instruction read and hashed up front, 32 at a time (the reads overlap).
  const files = [...new Set(jobs.map((j) => abs(j.file)))];
  for (let i = 0; i < files.length; i += 32) await Promise.all(files.slice(i, i + 32).map(instruction));
  // An endpoint's target (origin) once per endpoint, not once per run.
  const targets = new Map<string, ReturnType<typeof endpointTarget>>();
  const out: PlannedKey[] = [];
  for (const job of jobs) {
    const file = abs(job.file);
    const it = await instruction(file);
    const relFile = it?.relFile ?? rel(file);
    if (!it) {
      out.push({ ok: false, relFile, message: `Cannot read ${file}.` });
      continue;
    }
    if (ws.loaded.problems.length > 0) {
      out.push({ ok: false, relFile, message: configProblemsMessage(ws.loaded.problems) });
      continue;
    }
    if (it.id === undefined) {
      out.push({ ok: false, relFile, message: `${path.basename(file)} has no id in its front matter.` });
      continue;
    }
    const settings = await resolveRunSettings(it.parsed, it.uri, ws, fs, runOverridesOf(job));
    const problem = settingsError(settings);
    if (problem !== undefined) {
      out.push({ ok: false, relFile, message: `${path.basename(file)}: ${problem}` });
      continue;
    }
    if (!it.record || 'error' in it.record) {
      out.push({ ok: false, relFile, message: it.record?.error ?? 'no record' });
      continue;
    }
    let origin: string | undefined;
    if (settings.endpoint) {
      let t = targets.get(settings.endpoint.id);
      if (t === undefined) targets.set(settings.endpoint.id, (t = endpointTarget(settings.endpoint)));
      if (!t.ok) {
        out.push({ ok: false, relFile, message: t.message });
        continue;
      }
      origin = t.target.origin;
    }
    const key = runKeyOfSettings(
      settings,
      { instructionHash: it.hash, recordHash: it.record.hash, ...(origin !== undefined ? { origin } : {}) },
      hashOf,
    );
    out.push({ ok: true, id: it.id, relFile, gold: it.gold, question: settings.instruction.trim(), key });
  }
  ws.engine.dispose();
  return out;
}

/** The newest complete run of each key, for one instruction's runs folder (read once). */
async function completeRunsOf(store: RunStore, id: string): Promise<Map<string, StoredRun>> {
  const dir = path.join(store.runsDir, runDirName(id));
  const names = (await fsp.readdir(dir).catch(() => [] as string[])).sort().reverse();
  const byKey = new Map<string, string[]>();
  for (const n of names) {
    const k = keyOfRunFileName(n);
    if (k === undefined) continue;
    const list = byKey.get(k);
    if (list) list.push(n);
    else byKey.set(k, [n]);
  }
  const out = new Map<string, StoredRun>();
  for (const [k, files] of byKey) {
    for (const n of files) {
      const file = path.join(dir, n);
      const run = await store.read(file);
      if (run?.key === k && run.status === 'complete') {
        out.set(k, { file, run });
        break;
      }
    }
  }
  return out;
}

/** What the verdict knows about one job. */
export interface ExperimentSlot {
  cell: number;
  /** The instruction's id (its file, relative to the root, when it has none). */
  instruction: string;
  /** Relative to the root, `/`-separated. */
  file: string;
  gold: string;
  /** The instruction's text (external scorers' `src`). */
  question: string;
  run?: RunRecord;
  runFile?: string;
  /** Why there is no answer (planning failed, or no complete run with this job's inputs). */
  missing?: string;
}

/**
 * The answer of each job from the run store: the newest complete run with the job's resume key
 * (identical inputs; `planKeys`), each instruction's runs folder read once.
 */
export async function slotsFromStore(
  root: string,
  jobs: readonly ExperimentJob[],
  o: { fs?: FileSystem; allowedRoots?: readonly string[] } = {},
): Promise<ExperimentSlot[]> {
  const keys = await planKeys(root, jobs, o);
  const store = new RunStore(root);
  const runsOf = new Map<string, Promise<Map<string, StoredRun>>>();
  const out: ExperimentSlot[] = [];
  for (let i = 0; i < jobs.length; i++) {
    const k = keys[i];
    if (!k.ok) {
      out.push({
        cell: jobs[i].cell,
        instruction: k.relFile,
        file: k.relFile,
        gold: '',
        question: '',
        missing: k.message,
      });
      continue;
    }
    let runs = runsOf.get(k.id);
    if (!runs) runsOf.set(k.id, (runs = completeRunsOf(store, k.id)));
    const done = (await runs).get(k.key);
    const slot: ExperimentSlot = {
      cell: jobs[i].cell,
      instruction: k.id,
      file: k.relFile,
      gold: k.gold,
      question: k.question,
    };
    if (done) {
      slot.run = done.run;
      slot.runFile = done.file;
    } else slot.missing = 'not run yet (or its last run did not complete)';
    out.push(slot);
  }
  return out;
}

export const CLINICIAN_METRIC = 'clinician';

export interface ExperimentOptions {
  /** Built-in metrics (default: the experiment's `metrics`, else all). */
  metrics?: readonly BuiltinMetric[];
  /** External scorers to run (only in a trusted folder: they are commands). */
  scorers?: readonly ScorerConfig[];
  /** Use the project's score cache (default true). */
  cache?: boolean;
  resamples: number;
  seed: number;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

export interface ExperimentOutcome {
  verdict: Verdict;
  cells: ExperimentCell[];
  slots: ExperimentSlot[];
  /** Per slot: metric id → score (aligned with `slots`). */
  scores: Record<string, number>[];
}

/** The share of clinicians who judged this answer correct (submitted, not stale); NaN when none did. */
export function clinicianCorrectness(run: RunRecord, reviews: readonly ReviewFile[]): number {
  const candidate = candidateOfRun(run);
  let n = 0;
  let correct = 0;
  for (const review of reviews) {
    const [j] = judge([candidate], review);
    if (!j.judged || j.judged.submittedAt === null || j.judged.label === null || j.stale.length > 0) continue;
    n++;
    if (j.judged.label === 'correct') correct++;
  }
  return n > 0 ? correct / n : NaN;
}

/** Scores the slots' answers and computes the verdict. */
export async function experimentOutcome(
  root: string,
  config: ProjectConfig,
  cells: readonly ExperimentCell[],
  slots: readonly ExperimentSlot[],
  o: ExperimentOptions,
): Promise<ExperimentOutcome> {
  const builtins = o.metrics ?? BUILTIN_METRICS;
  const scorers = o.scorers ?? [];
  const pairs: { src: string; answer: string; gold: string }[] = [];
  const where: number[] = [];
  slots.forEach((s, i) => {
    if (s.run && s.run.response.trim() !== '' && s.gold !== '') {
      pairs.push({ src: s.question, answer: s.run.response, gold: s.gold });
      where.push(i);
    }
  });
  const scored = await scorePairs(pairs, {
    cache: new ScoreCache(o.cache === false ? undefined : root),
    metrics: builtins,
    scorers,
    cwd: root,
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  const scores: Record<string, number>[] = slots.map(() => ({}));
  where.forEach((i, k) => (scores[i] = { ...scored.scores[k] }));

  // Clinician labels, where reviews judged these very answers.
  const reviewStore = new ReviewStore(root, config.review.folder);
  const reviewsOf = new Map<string, ReviewFile[]>();
  let labelled = 0;
  for (let i = 0; i < slots.length; i++) {
    const s = slots[i];
    if (!s.run) continue;
    let reviews = reviewsOf.get(s.instruction);
    if (!reviews) {
      const loaded = await reviewStore.readAll(s.instruction);
      reviews = loaded.flatMap((r) => (r.ok ? [r.review] : []));
      reviewsOf.set(s.instruction, reviews);
    }
    if (reviews.length === 0) continue;
    const c = clinicianCorrectness(s.run, reviews);
    if (!Number.isNaN(c)) {
      scores[i][CLINICIAN_METRIC] = c;
      labelled++;
    }
  }

  const metrics: VerdictMetric[] = [
    ...builtins.map((m) => ({
      id: m,
      label: METRIC_LABELS[m],
      higherIsBetter: true,
      digits: m.startsWith('rouge') ? 3 : 2,
    })),
    ...scorers.map((s) => ({ id: s.id, label: s.id, higherIsBetter: s.higherIsBetter, digits: 3 })),
    ...(labelled > 0
      ? [{ id: CLINICIAN_METRIC, label: 'clinician correctness', higherIsBetter: true, digits: 3 }]
      : []),
  ];
  const observations: Observation[] = slots.map((s, i) => ({
    instruction: s.instruction,
    cell: s.cell,
    ok: s.run !== undefined && s.run.response.trim() !== '',
    ...(s.run ? { promptTokens: s.run.tokens.prompt } : {}),
    scores: scores[i],
  }));
  const verdict = buildVerdict({ cells, observations, metrics, resamples: o.resamples, seed: o.seed });
  return { verdict, cells: [...cells], slots: [...slots], scores };
}

/** The experiment's own `metrics` as built-in metric ids (unknown ones are left to the schema). */
export function builtinMetricsOf(names: readonly string[] | undefined): BuiltinMetric[] | undefined {
  return names === undefined ? undefined : names.filter(isBuiltinMetric);
}

// --- What changed between two cells ------------------------------------------------------------

export interface ChangedAnswer {
  instruction: string;
  file: string;
  /** 1 − the Jaccard similarity of the two answers' word sets (0: same words, 1: none shared). */
  change: number;
  /** b − a of ROUGE-L (else the first metric), when both have it. */
  delta: number | null;
  a: string;
  b: string;
  gold: string;
}

function words(s: string): Set<string> {
  return new Set(s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
}

/** 1 − Jaccard similarity of the word sets. */
export function answerChange(a: string, b: string): number {
  if (a === b) return 0;
  const wa = words(a);
  const wb = words(b);
  if (wa.size === 0 && wb.size === 0) return 0;
  let common = 0;
  for (const w of wa) if (wb.has(w)) common++;
  return 1 - common / (wa.size + wb.size - common);
}

/** The instructions that changed most between two cells (`a`, `b`: cell indexes). */
export interface ChangedPair {
  a: number;
  b: number;
  /** The metric of each row's `delta` (its label). */
  metric?: string;
  rows: ChangedAnswer[];
}

/** The metric the changed answers' differences are shown in: ROUGE-L when there, else the first. */
function deltaMetric(outcome: ExperimentOutcome) {
  return outcome.verdict.metrics.find((m) => m.id === 'rougeL') ?? outcome.verdict.metrics[0];
}

/** For every pair of cells that differ in one dimension, its `limit` most changed answers. */
export function changedPairs(outcome: ExperimentOutcome, limit = 20): ChangedPair[] {
  const m = deltaMetric(outcome);
  return cellPairs(outcome.cells).map(({ a, b }) => ({
    a: a.index,
    b: b.index,
    ...(m ? { metric: m.label } : {}),
    rows: changedMost(outcome, a.index, b.index, limit),
  }));
}

/**
 * The instructions answered in both cells, those whose answers changed most first (then by the
 * size of the ROUGE-L difference, else the first metric's); at most `limit`.
 */
export function changedMost(
  outcome: ExperimentOutcome,
  cellA: number,
  cellB: number,
  limit = 50,
): ChangedAnswer[] {
  const metric = deltaMetric(outcome)?.id;
  const at = new Map<string, number>();
  outcome.slots.forEach((s, i) => {
    if (s.cell === cellB && s.run) at.set(s.instruction, i);
  });
  const out: ChangedAnswer[] = [];
  outcome.slots.forEach((s, i) => {
    if (s.cell !== cellA || !s.run) return;
    const j = at.get(s.instruction);
    if (j === undefined) return;
    const sb = outcome.slots[j];
    const va = metric !== undefined ? outcome.scores[i][metric] : undefined;
    const vb = metric !== undefined ? outcome.scores[j][metric] : undefined;
    out.push({
      instruction: s.instruction,
      file: s.file,
      change: answerChange(s.run.response, sb.run!.response),
      delta: va !== undefined && vb !== undefined && !Number.isNaN(va) && !Number.isNaN(vb) ? vb - va : null,
      a: s.run.response,
      b: sb.run!.response,
      gold: s.gold,
    });
  });
  out.sort(
    (x, y) =>
      y.change - x.change ||
      Math.abs(y.delta ?? 0) - Math.abs(x.delta ?? 0) ||
      (x.instruction < y.instruction ? -1 : 1),
  );
  return out.slice(0, limit);
}
