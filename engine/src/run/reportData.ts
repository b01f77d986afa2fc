/**
 * Gathers what the review report needs from a project folder (instructions, their latest answers
 * from the run store, every reviewer's review files, metric scores through the score cache) and
 * turns it into the plain data `buildReport` (core/metrics/report.ts) computes on. Used by
 * `medalign report` and `medalign review export`, and by the editor through the engine's index.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { parseInstruction, sectionText } from '../core/format/parse';
import { SECTION_GOLD, SECTION_INSTRUCTION } from '../core/features/sections';
import { BUILTIN_METRICS, METRIC_LABELS } from '../core/metrics/metrics';
import type { BuiltinMetric } from '../core/metrics/metrics';
import { buildReport } from '../core/metrics/report';
import type { Report, ReportInstruction, ReportMetric } from '../core/metrics/report';
import type { ReviewFile } from '../core/review/reviewFile';
import { candidateOfRun, judge } from '../core/review/reviewStatus';
import type { RunRecord } from '../core/run/runRecord';
import { CONFIG_FILE_NAME, parseConfig } from '../core/workspace/config';
import type { ProjectConfig, ScorerConfig } from '../core/workspace/config';
import { normalizeId } from '../core/workspace/idIndex';
import { ReviewStore, reviewableRuns } from './reviewStore';
import { RunStore } from './store';
import { ScoreCache } from './scoreCache';
import { scorePairs } from './scoring';

const SKIP = new Set(['node_modules', '.git', '.medalign', 'out', 'dist']);
/** An instruction file beyond this is skipped (they are a few kB). */
const MAX_INSTRUCTION_BYTES = 1024 * 1024;

export interface GatheredInstruction {
  id: string;
  /** Relative to the root, `/`-separated. */
  file: string;
  category?: string;
  instruction: string;
  gold: string;
  /** The newest complete answer of each endpoint/model/context. */
  runs: { file: string; run: RunRecord }[];
  reviews: ReviewFile[];
  /** Review files that could not be read, with why. */
  badReviews: { file: string; errors: string[] }[];
}

export interface Gathered {
  root: string;
  config: ProjectConfig;
  instructions: GatheredInstruction[];
}

async function instructionFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = await fsp.readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.isDirectory() && !SKIP.has(e.name) && !e.name.startsWith('.')) await walk(path.join(d, e.name));
      else if (e.isFile() && e.name.endsWith('.medalign')) out.push(path.join(d, e.name));
    }
  };
  const st = await fsp.stat(dir).catch(() => undefined);
  if (!st) throw new Error(`no such file or folder: ${dir}`);
  if (st.isFile()) return [dir];
  await walk(dir);
  return out;
}

/**
 * Reads the instructions under `target` (a folder or one file) of the project at `root`, with their
 * latest answers and reviews. Instructions without an id or a gold response are still listed.
 */
export async function gatherReviewData(root: string, target: string): Promise<Gathered> {
  const configText = await fsp.readFile(path.join(root, CONFIG_FILE_NAME), 'utf8').catch(() => undefined);
  const { config } = parseConfig(configText);
  const store = new RunStore(root);
  const reviews = new ReviewStore(root, config.review.folder);
  const instructions: GatheredInstruction[] = [];
  const seen = new Set<string>();
  for (const file of await instructionFiles(target)) {
    const st = await fsp.stat(file);
    if (st.size > MAX_INSTRUCTION_BYTES) continue;
    const parsed = parseInstruction(await fsp.readFile(file, 'utf8'));
    const id = normalizeId(parsed.data?.['id']);
    if (id === undefined || seen.has(id)) continue;
    seen.add(id);
    const rel = path.relative(root, file).split(path.sep).join('/');
    const section = (name: string) => {
      const s = parsed.sections.find((x) => x.name === name);
      return s ? sectionText(parsed, s).trim() : '';
    };
    const category = parsed.data?.['category'];
    const loaded = await reviews.readAll(id);
    instructions.push({
      id,
      file: rel,
      ...(typeof category === 'string' && category.trim() !== '' ? { category: category.trim() } : {}),
      instruction: section(SECTION_INSTRUCTION),
      gold: section(SECTION_GOLD),
      runs: await reviewableRuns(store, id, rel),
      reviews: loaded.flatMap((r) => (r.ok ? [r.review] : [])),
      badReviews: loaded.flatMap((r) => (r.ok ? [] : [{ file: r.file, errors: r.errors }])),
    });
  }
  return { root, config, instructions };
}

export interface ReportOptions {
  /** Run the config's external scorers (only in a trusted folder: they are commands). */
  scorers?: readonly ScorerConfig[];
  /** Built-in metrics (default: all). */
  metrics?: readonly BuiltinMetric[];
  /** Use the project's score cache (default true). */
  cache?: boolean;
  resamples?: number;
  seed?: number;
  onProgress?: (message: string) => void;
  signal?: AbortSignal;
}

/** Scores every answer that has a gold response, then builds the report. */
export async function reportOf(g: Gathered, o: ReportOptions = {}): Promise<Report> {
  const builtins = o.metrics ?? BUILTIN_METRICS;
  const scorers = o.scorers ?? [];
  const pairs: { src: string; answer: string; gold: string }[] = [];
  const where: [number, number][] = [];
  g.instructions.forEach((ins, i) => {
    if (ins.gold === '') return;
    ins.runs.forEach((r, k) => {
      pairs.push({ src: ins.instruction, answer: r.run.response, gold: ins.gold });
      where.push([i, k]);
    });
  });
  const scored = await scorePairs(pairs, {
    cache: new ScoreCache(o.cache === false ? undefined : g.root),
    metrics: builtins,
    scorers,
    cwd: g.root,
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  const scoresOf = new Map<string, Record<string, number>>();
  where.forEach(([i, k], n) => scoresOf.set(`${i}:${k}`, scored.scores[n]));

  const instructions: ReportInstruction[] = g.instructions.map((ins, i) => {
    const candidates = ins.runs.map((r) => candidateOfRun(r.run));
    return {
      id: ins.id,
      ...(ins.category !== undefined ? { category: ins.category } : {}),
      answers: ins.runs.map((r, k) => ({
        endpoint: r.run.endpoint.id,
        model: r.run.endpoint.model,
        context: r.run.context,
        contextLabel: r.run.contextLabel,
        recordTokens: r.run.tokens.recordKept + r.run.tokens.recordCut,
        scores: scoresOf.get(`${i}:${k}`) ?? {},
      })),
      reviews: ins.reviews.map((review) => ({
        reviewer: review.reviewer,
        judgements: judge(candidates, review).flatMap((j, answer) =>
          j.judged && j.judged.submittedAt !== null
            ? [{ answer, label: j.judged.label, rank: j.judged.rank, stale: j.stale.length > 0 }]
            : [],
        ),
      })),
    };
  });
  const metrics: ReportMetric[] = [
    ...builtins.map((m): ReportMetric => ({
      id: m,
      label: METRIC_LABELS[m],
      higherIsBetter: true,
      scale: m.startsWith('rouge') ? '0-1' : '0-100',
    })),
    ...scorers.map((s): ReportMetric => ({
      id: s.id,
      label: s.id,
      higherIsBetter: s.higherIsBetter,
      scale: 'other',
    })),
  ];
  return buildReport({
    instructions,
    metrics,
    ...(o.resamples !== undefined ? { resamples: o.resamples } : {}),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
  });
}
