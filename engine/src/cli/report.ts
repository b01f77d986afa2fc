/**
 * `medalign report <folder>` (the paper's tables from the project's runs and review files) and
 * `medalign review export` (every label and rank as one CSV). Scores come through the score cache;
 * external scorers run only with --scorer, in a trusted folder.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { csvLine, formatReportCsv, formatReportText } from '../core/metrics/reportFormat';
import { candidateOfRun, judge } from '../core/review/reviewStatus';
import { slotId } from '../core/review/reviewFile';
import { formatReportHtml } from '../host/reportHtml';
import { projectRootOf } from '../host/projectRoot';
import { gatherReviewData, reportOf } from '../run/reportData';
import { TrustedFolders, trustedFoldersPath } from '../run/trust';
import { UsageError, listOption, parseArgs } from './args';
import type { CliIo } from './io';
import { display } from './io';
import { ensureTrusted } from './trust';

async function rootOf(target: string, cwd: string): Promise<string> {
  const st = await fsp.stat(target).catch(() => undefined);
  if (!st) throw new UsageError(`no such file or folder: ${display(cwd, target)}`);
  const probe = st.isDirectory() ? path.join(target, '_') : target;
  return (await projectRootOf(probe, [cwd])).root;
}

function intOption(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (!Number.isInteger(v) || v < min || v > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}`);
  return v;
}

export async function runReport(args: string[], io: CliIo): Promise<number> {
  const p = parseArgs(
    args,
    ['html', 'out', 'scorer', 'resamples', 'seed'],
    ['json', 'csv', 'trust', 'no-cache'],
  );
  if (p.positional.length > 1) throw new UsageError(`one folder at a time (got ${p.positional.length})`);
  const modes = ['json', 'csv'].filter((m) => p.flags.has(m)).length + (p.values.has('html') ? 1 : 0);
  if (modes > 1) throw new UsageError('choose one of --json, --csv and --html <file>');
  const target = path.resolve(io.cwd, p.positional[0] ?? '.');
  const root = await rootOf(target, io.cwd);
  const resamples = intOption(p.values.get('resamples')?.at(-1), 'resamples', 1, 100000);
  const seed = intOption(p.values.get('seed')?.at(-1), 'seed', 0, 2 ** 31 - 1);
  const g = await gatherReviewData(root, target);
  for (const ins of g.instructions) {
    for (const bad of ins.badReviews)
      io.err(`medalign report: ${display(io.cwd, bad.file)} is skipped: ${bad.errors.join('; ')}\n`);
  }
  const scorerIds = listOption(p, 'scorer');
  const declared = g.config.scorers ?? [];
  const scorers = scorerIds.includes('all')
    ? declared
    : scorerIds.map((id) => {
        const s = declared.find((d) => d.id === id);
        if (!s)
          throw new UsageError(
            `--scorer ${id}: no such scorer in the config (declared: ${declared.map((d) => d.id).join(', ') || 'none'}).`,
          );
        return s;
      });
  if (scorers.length > 0) {
    const store = new TrustedFolders(trustedFoldersPath(io.env));
    if (!(await ensureTrusted([root], { command: 'report --scorer', flag: p.flags.has('trust'), io, store })))
      return 1;
  } else if (declared.length > 0 && !p.flags.has('json') && !p.flags.has('csv')) {
    io.err(
      `medalign report: external scorers declared (${declared.map((d) => d.id).join(', ')}) are not run without --scorer.\n`,
    );
  }
  const report = await reportOf(g, {
    scorers,
    cache: !p.flags.has('no-cache'),
    ...(resamples !== undefined ? { resamples } : {}),
    ...(seed !== undefined ? { seed } : {}),
    onProgress: (m) => io.err(`medalign report: ${m}\n`),
  });
  let text: string;
  if (p.flags.has('json')) text = JSON.stringify(report, null, 2) + '\n';
  else if (p.flags.has('csv')) text = formatReportCsv(report);
  else if (p.values.has('html')) text = formatReportHtml(report);
  else text = formatReportText(report);
  const out = p.values.get('html')?.at(-1) ?? p.values.get('out')?.at(-1);
  if (out !== undefined) {
    const file = path.resolve(io.cwd, out);
    await fsp.writeFile(file, text, 'utf8');
    io.err(`medalign report: wrote ${display(io.cwd, file)}\n`);
  } else io.out(text);
  return 0;
}

export const REVIEW_EXPORT_COLUMNS = [
  'instruction_id',
  'instruction_file',
  'category',
  'reviewer',
  'blinded',
  'endpoint',
  'model',
  'context',
  'run_id',
  'run_key',
  'label',
  'rank',
  'tags',
  'comment',
  'submitted_at',
  'stale',
  'stale_fields',
] as const;

/** `medalign review export [folder] [--out file.csv]`: every reviewer's labels and ranks, one row per answer. */
export async function runReview(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'export') throw new UsageError('usage: medalign review export [folder] [--out reviews.csv]');
  const p = parseArgs(rest, ['out'], []);
  if (p.positional.length > 1) throw new UsageError(`one folder at a time (got ${p.positional.length})`);
  const target = path.resolve(io.cwd, p.positional[0] ?? '.');
  const root = await rootOf(target, io.cwd);
  const g = await gatherReviewData(root, target);
  let csv = csvLine(REVIEW_EXPORT_COLUMNS);
  let rows = 0;
  for (const ins of g.instructions) {
    for (const bad of ins.badReviews)
      io.err(`medalign review export: ${display(io.cwd, bad.file)} is skipped: ${bad.errors.join('; ')}\n`);
    const candidates = ins.runs.map((r) => candidateOfRun(r.run));
    for (const review of ins.reviews) {
      const current = new Map(
        judge(candidates, review).flatMap((j) => (j.judged ? [[slotId(j.judged), j]] : [])),
      );
      for (const a of review.answers) {
        const j = current.get(slotId(a));
        csv += csvLine([
          ins.id,
          ins.file,
          ins.category ?? '',
          review.reviewer,
          review.blinded ? 'yes' : 'no',
          a.endpoint,
          a.model,
          a.contextLabel,
          a.run.id,
          a.run.key,
          a.label ?? '',
          a.rank,
          a.tags.join('; '),
          a.comment,
          a.submittedAt ?? '',
          j ? (j.stale.length ? 'yes' : 'no') : 'no answer now',
          j ? j.stale.join(' ') : '',
        ]);
        rows++;
      }
    }
  }
  const out = p.values.get('out')?.at(-1);
  if (out !== undefined) {
    const file = path.resolve(io.cwd, out);
    await fsp.writeFile(file, csv, 'utf8');
    io.err(`medalign review export: ${rows} row(s) written to ${display(io.cwd, file)}\n`);
  } else io.out(csv);
  return 0;
}
