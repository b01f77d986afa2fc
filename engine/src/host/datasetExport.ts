/**
 * `medalign export` over the file system: reads the instruction files, writes the core's export
 * (the release's files or HELM's) and copies records. docs/datasets.md.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { exportHelm, exportRelease } from '../core/dataset/exporter';
import type { ExportFile, ExportProblem, RunReview, RunRow } from '../core/dataset/exporter';
import { slotId } from '../core/review/reviewFile';
import { candidateOfRun, staleFields } from '../core/review/reviewStatus';
import { CONFIG_FILE_NAME, parseConfig } from '../core/workspace/config';
import type { LoadedReview } from '../run/reviewStore';
import { ReviewStore } from '../run/reviewStore';
import type { DatasetInstruction } from '../core/dataset/model';
import { readInstructionText } from '../core/dataset/read';
import { HELM_EHR_FOLDER } from '../core/dataset/release';
import { INSTRUCTION_EXT } from '../core/workspace/workspace';
import { RunStore, writeFileAtomic } from '../run/store';
import { DatasetError } from './dataset';

async function statOrUndefined(p: string) {
  return fsp.stat(p).catch(() => undefined);
}

export interface ExportOptions {
  /** Folders or `.medalign` files to export. */
  paths: string[];
  out: string;
  target: 'medalign' | 'helm';
  /** The project's records folder (HELM export copies `<person_id>.xml` from it). */
  recordsFolder: string;
  /** With the project folder: add each instruction's latest complete run per model and context (`--with-runs`). */
  runsRoot?: string;
  /**
   * With `runsRoot`: add the clinicians' current, submitted judgements of those runs from the review
   * files (`--with-reviews`); stale ones and drafts are left out (stale ones counted in a warning).
   */
  withReviews?: boolean;
}

export interface ExportSummary {
  out: string;
  files: { name: string; rows: number }[];
  instructions: number;
  records: number;
  problems: (ExportProblem & { file?: string })[];
}

async function collect(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (p: string): Promise<void> => {
    const st = await statOrUndefined(p);
    if (!st) throw new DatasetError(`no such file or folder: ${p}`);
    if (st.isFile()) {
      out.push(p);
      return;
    }
    for (const e of await fsp.readdir(p, { withFileTypes: true })) {
      if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules')
        await walk(path.join(p, e.name));
      else if (e.isFile() && e.name.endsWith(INSTRUCTION_EXT)) out.push(path.join(p, e.name));
    }
  };
  for (const p of paths) await walk(path.resolve(p));
  return [...new Set(out)].sort();
}

/** Reads the instruction files under `paths` (unreadable ones reported). */
export async function readInstructions(
  paths: readonly string[],
): Promise<{ insts: DatasetInstruction[]; problems: ExportSummary['problems'] }> {
  const insts: DatasetInstruction[] = [];
  const problems: ExportSummary['problems'] = [];
  const ids = new Map<string, string>();
  for (const f of await collect(paths)) {
    const inst = readInstructionText(await fsp.readFile(f, 'utf8'));
    if (!inst) {
      problems.push({
        file: f,
        severity: 'warning',
        message: `${f} left out: no id or no ## Instruction (medalign check says why)`,
      });
      continue;
    }
    const prev = ids.get(inst.id);
    if (prev !== undefined) {
      problems.push({
        file: f,
        severity: 'warning',
        message: `${f} left out: id ${inst.id} is also ${prev}'s`,
      });
      continue;
    }
    ids.set(inst.id, f);
    insts.push(inst);
  }
  return { insts, problems };
}

async function writeExport(out: string, files: readonly ExportFile[]): Promise<void> {
  await fsp.mkdir(out, { recursive: true });
  for (const f of files) await writeFileAtomic(path.join(out, f.name), f.text);
}

export async function exportDataset(o: ExportOptions): Promise<ExportSummary> {
  const { insts, problems } = await readInstructions(o.paths);
  const out = path.resolve(o.out);
  if (o.target === 'medalign') {
    const reviews = o.runsRoot !== undefined && o.withReviews ? await reviewStoreOf(o.runsRoot) : undefined;
    const runs =
      o.runsRoot !== undefined ? await latestRuns(o.runsRoot, insts, reviews, problems) : undefined;
    const r = exportRelease(insts, runs, { reviews: reviews !== undefined });
    await writeExport(out, r.files);
    return {
      out,
      files: r.files.map((f) => ({ name: f.name, rows: f.rows })),
      instructions: insts.length,
      records: 0,
      problems: [...problems, ...r.problems],
    };
  }
  const recordsFolder = path.resolve(o.recordsFolder);
  // A record counts when it resolves inside the records folder (a link elsewhere is not followed,
  // as the editor and the CLI do not read it): its instructions are left out, with the reason.
  const realFolder = await fsp.realpath(recordsFolder).catch(() => recordsFolder);
  const present = new Map<string, string>();
  const outside = new Set<string>();
  for (const n of await fsp.readdir(recordsFolder).catch(() => [] as string[])) {
    if (!n.endsWith('.xml')) continue;
    const real = await fsp.realpath(path.join(recordsFolder, n)).catch(() => undefined);
    if (real === undefined) continue;
    if (real.startsWith(realFolder + path.sep)) present.set(n.slice(0, -4), real);
    else outside.add(n.slice(0, -4));
  }
  const h = exportHelm(insts, (p) => present.has(p));
  for (const p of outside) {
    if (insts.some((i) => i.patient === p)) {
      problems.push({
        severity: 'warning',
        message: `records/${p}.xml links outside the records folder: not exported (nor its instructions)`,
      });
    }
  }
  await writeExport(out, h.files);
  const ehr = path.join(out, HELM_EHR_FOLDER);
  await fsp.mkdir(ehr, { recursive: true });
  for (const p of h.patients) await fsp.copyFile(present.get(p)!, path.join(ehr, `${p}.xml`));
  return {
    out,
    files: [
      ...h.files.map((f) => ({ name: f.name, rows: f.rows })),
      { name: `${HELM_EHR_FOLDER}/`, rows: h.patients.length },
    ],
    instructions: h.ids.length,
    records: h.patients.length,
    problems: [...problems, ...h.problems],
  };
}

/** The project's review files (the config's `review.folder`). */
async function reviewStoreOf(root: string): Promise<ReviewStore> {
  const text = await fsp.readFile(path.join(root, CONFIG_FILE_NAME), 'utf8').catch(() => undefined);
  try {
    return new ReviewStore(root, parseConfig(text).config.review.folder);
  } catch (err) {
    throw new DatasetError((err as Error).message);
  }
}

/**
 * Each instruction's newest complete, non-empty answer per endpoint, model and context; with
 * `reviews`, each answer's submitted judgements that still apply (same answer, instruction, record
 * and template hashes). Stale judgements, drafts and unreadable review files are left out and reported.
 */
async function latestRuns(
  root: string,
  insts: readonly DatasetInstruction[],
  reviews: ReviewStore | undefined,
  problems: ExportSummary['problems'],
): Promise<Map<string, RunRow[]>> {
  const store = new RunStore(root);
  const out = new Map<string, RunRow[]>();
  for (const inst of insts) {
    let loaded: LoadedReview[] = [];
    if (reviews) {
      loaded = await reviews.readAll(inst.id);
      for (const bad of loaded) {
        if (!bad.ok)
          problems.push({
            id: inst.id,
            file: bad.file,
            severity: 'warning',
            message: `${bad.file} left out: ${bad.errors.join('; ')}`,
          });
      }
    }
    let stale = 0;
    const seen = new Set<string>();
    const rows: RunRow[] = [];
    for (const s of await store.list({ instructionId: inst.id })) {
      if (s.status !== 'complete' || s.partial) continue;
      const key = `${s.endpointId}\u0000${s.model}\u0000${s.contextLabel}`;
      if (seen.has(key)) continue;
      const run = await store.read(s.file);
      if (!run || run.response.trim() === '') continue;
      seen.add(key);
      const row: RunRow = {
        model: s.endpointId === s.model ? s.model : `${s.endpointId} (${s.model})`,
        context: s.contextLabel,
        response: run.response,
      };
      if (reviews) {
        const candidate = candidateOfRun(run);
        const judged: RunReview[] = [];
        for (const l of loaded) {
          if (!l.ok) continue;
          const a = l.review.answers.find((x) => slotId(x) === slotId(candidate));
          if (!a || a.submittedAt === null || (a.label === null && a.rank === null)) continue;
          if (staleFields(a, candidate).length > 0) {
            stale++;
            continue;
          }
          judged.push({ annotator: l.review.reviewer, label: a.label, rank: a.rank, tags: a.tags });
        }
        row.reviews = judged;
      }
      rows.push(row);
    }
    if (stale > 0)
      problems.push({
        id: inst.id,
        severity: 'warning',
        message: `instruction ${inst.id}: ${stale} stale judgement${stale === 1 ? '' : 's'} left out (the answer, instruction, record or template changed since it was reviewed)`,
      });
    // Oldest first, so a later run adds rows after the earlier ones.
    if (rows.length) out.set(inst.id, rows.reverse());
  }
  return out;
}

export function formatExportSummary(s: ExportSummary): string {
  const lines = [
    `Exported ${s.instructions} instruction${s.instructions === 1 ? '' : 's'} to ${s.out}: ${s.files.map((f) => `${f.name} (${f.rows} row${f.rows === 1 ? '' : 's'})`).join(', ')}.`,
  ];
  for (const p of s.problems) lines.push(`${p.severity}: ${p.message}`);
  return lines.join('\n') + '\n';
}
