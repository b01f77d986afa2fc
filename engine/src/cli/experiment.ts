/**
 * `medalign experiment <file.experiment.json> [--resume] [--json | --csv | --html out.html] [--out f]
 * [--dry-run] [--concurrency N] [--resamples N] [--seed N] [--scorer id,…|all] [--no-cache]
 * [--allow-phi-endpoint id@origin] [--remember-approval] [--allow-root dir] [--trust]`:
 * plans the experiment (instructions × cells), runs what the run store does not already hold with
 * identical inputs (the run engine's resume: nothing is sent twice), then prints the verdict.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { ApprovalQuery } from '../core/run/guard';
import { approvalKey } from '../core/run/guard';
import { verdictCsv, verdictJson, verdictText } from '../core/experiment/format';
import type { ScorerConfig } from '../core/workspace/config';
import { FileApprovals, approvalsFilePath, cliApprovalChecker } from '../run/approvals';
import { runMany } from '../run/runMany';
import type { Progress } from '../run/runMany';
import { RunPreparer } from '../host/prepare';
import { countTokens } from '../host/countTokens';
import { experimentHtml } from '../host/experimentHtml';
import {
  builtinMetricsOf,
  changedPairs,
  experimentOutcome,
  loadExperiment,
  slotsFromStore,
} from '../run/experiment';
import { writeFileAtomic } from '../run/store';
import { TrustedFolders, trustedFoldersPath } from '../run/trust';
import { UsageError, allowedRootsOption, listOption, parseAllowPhiEndpoint, parseArgs } from './args';
import type { CliIo } from './io';
import { cancelOnSigint, display, noticePrinter, redactingIo } from './io';
import { knownKeys } from './files';
import { ensureTrusted } from './trust';
import { bareIdMessage, keySourceFor, refusedHint } from './run';

function intOption(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (!Number.isInteger(v) || v < min || v > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}`);
  return v;
}

function progressLine(p: Progress): string {
  const parts = [`${p.complete} sent`, `${p.skipped} reused`];
  if (p.failed) parts.push(`${p.failed} failed`);
  if (p.refused) parts.push(`${p.refused} refused`);
  if (p.cancelled) parts.push(`${p.cancelled} cancelled`);
  return `[${p.done}/${p.total}] ${parts.join(', ')}`;
}

export async function runExperiment(args: string[], io: CliIo): Promise<number> {
  const p = parseArgs(
    args,
    ['html', 'out', 'concurrency', 'resamples', 'seed', 'scorer', 'allow-phi-endpoint', 'allow-root'],
    ['json', 'csv', 'resume', 'dry-run', 'no-cache', 'remember-approval', 'trust', 'quiet'],
  );
  if (p.positional.length !== 1) throw new UsageError('give one <name>.experiment.json file');
  const modes = ['json', 'csv'].filter((m) => p.flags.has(m)).length + (p.values.has('html') ? 1 : 0);
  if (modes > 1) throw new UsageError('choose one of --json, --csv and --html <file>');
  const concurrencyFlag = intOption(p.values.get('concurrency')?.at(-1), 'concurrency', 1, 256);
  const resamplesFlag = intOption(p.values.get('resamples')?.at(-1), 'resamples', 100, 100000);
  const seedFlag = intOption(p.values.get('seed')?.at(-1), 'seed', 0, 4294967295);
  const file = path.resolve(io.cwd, p.positional[0]);
  const allowedRoots = allowedRootsOption(p, io.cwd);
  const loaded = await loadExperiment(file, { folders: [io.cwd], allowedRoots });
  if ('error' in loaded) {
    io.err(`medalign experiment: ${loaded.error}\n`);
    return 2;
  }
  const r = loaded.resolution;
  const where = display(io.cwd, file);
  for (const pr of r.problems) {
    const at = pr.path.length > 0 ? ` (${pr.path.join('.')})` : '';
    io.err(`${where}: ${pr.severity}: ${pr.message}${at}\n`);
  }
  if (!r.spec || !r.cells || r.problems.some((x) => x.severity === 'error')) {
    io.err(`medalign experiment: ${where} cannot run; nothing was sent.\n`);
    return 1;
  }
  if (r.runs === 0) {
    io.err(`medalign experiment: ${where} selects no instruction; nothing to run.\n`);
    return 1;
  }
  const spec = r.spec;
  io.err(`medalign experiment: ${r.name}: ${r.size}\n`);
  if (p.flags.has('dry-run')) {
    for (const c of r.cells.cells) {
      const label = Object.entries(c.values)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      io.out(`cell ${c.index + 1}: ${label || 'each instruction as written'}\n`);
    }
    io.out(`${r.size}\n`);
    return 0;
  }

  // Scorers are commands: only with --scorer (or the experiment's own list) in a trusted folder.
  const declared = loaded.config.scorers ?? [];
  const scorerIds = [...new Set([...(spec.scorers ?? []), ...listOption(p, 'scorer')])];
  const scorers: ScorerConfig[] = scorerIds.includes('all')
    ? declared
    : scorerIds.map((id) => {
        const s = declared.find((d) => d.id === id);
        if (!s) throw new UsageError(`scorer '${id}' is not in the config`);
        return s;
      });

  const trusted = await ensureTrusted([loaded.root], {
    command: 'experiment',
    flag: p.flags.has('trust'),
    io,
    store: new TrustedFolders(trustedFoldersPath(io.env)),
  });
  if (!trusted) return 1;
  const secrets = await knownKeys([loaded.root], io.env);
  io = redactingIo(io, secrets);
  const notice = noticePrinter(io);

  // Approvals: as `medalign run` (per endpoint and origin; asked once per endpoint).
  const approvalsFile = new FileApprovals(approvalsFilePath(io.env), [loaded.root]);
  if (!approvalsFile.trusted) {
    io.err(`medalign: ignoring the approvals file ${approvalsFile.file}: it is inside a workspace.\n`);
  }
  const allowGiven = listOption(p, 'allow-phi-endpoint').map(parseAllowPhiEndpoint);
  const bare = allowGiven.find((a) => a.origin === undefined);
  if (bare !== undefined) {
    io.err(`medalign experiment: ${await bareIdMessage(bare.endpointId, [loaded.root])}\n`);
    return 2;
  }
  const allow = allowGiven.map((a) => ({ endpointId: a.endpointId, origin: a.origin ?? '' }));
  const remember = p.flags.has('remember-approval');
  const baseChecker = cliApprovalChecker(allow, approvalsFile);
  const approval = async (q: ApprovalQuery): Promise<boolean> => {
    const ok = await baseChecker(q);
    if (ok && remember && approvalsFile.trusted && allow.some((a) => a.endpointId === q.endpointId)) {
      await approvalsFile.add(q);
    }
    return ok;
  };

  const cancel = cancelOnSigint(io);
  const preparer = new RunPreparer(undefined, { folders: [io.cwd], allowedRoots });
  const refusedShown = new Set<string>();
  const quiet = p.flags.has('quiet');
  const tty = process.stderr.isTTY === true;
  let results;
  try {
    results = await runMany(loaded.jobs, {
      countTokens,
      preparer,
      concurrency: concurrencyFlag ?? spec.concurrency,
      // Identical inputs are never sent twice: the experiment always resumes.
      resume: true,
      approval,
      signal: cancel.signal,
      storePrompt: true,
      stream: true,
      apiKeyFor: (e) => (e.apiKeyEnv ? io.env[e.apiKeyEnv] : undefined),
      keySourceFor,
      onEvent: (_i, e) => {
        if (e.type === 'notice') notice(e.message);
      },
      onProgress: (prog, res) => {
        if (
          res.status === 'refused' &&
          res.error &&
          res.approval &&
          !refusedShown.has(approvalKey(res.approval))
        ) {
          refusedShown.add(approvalKey(res.approval));
          if (tty) io.err('\r\x1b[2K');
          io.err(`medalign: ${res.error.message}\n${refusedHint(res.approval, approvalsFile.file)}`);
        } else if (res.error && res.status !== 'refused' && res.status !== 'cancelled' && !quiet) {
          io.err(`${tty ? '\r\x1b[2K' : ''}medalign: ${path.basename(res.job.file)}: ${res.error.message}\n`);
        }
        if (quiet) return;
        if (tty) io.err(`\r\x1b[2K${progressLine(prog)}${prog.done === prog.total ? '\n' : ''}`);
        else if (prog.done === prog.total || prog.done % 50 === 0) io.err(`${progressLine(prog)}\n`);
      },
    });
  } finally {
    cancel.dispose();
  }
  const sent = results.filter((x) => x.status === 'complete').length;
  const reused = results.filter((x) => x.status === 'skipped').length;
  const failed = results.length - sent - reused;
  io.err(
    `medalign experiment: ${sent} sent, ${reused} reused (identical inputs already ran)${failed ? `, ${failed} failed or not run` : ''}.\n`,
  );

  const slots = await slotsFromStore(loaded.root, loaded.jobs, { allowedRoots });
  const builtins = builtinMetricsOf(spec.metrics);
  const outcome = await experimentOutcome(loaded.root, loaded.config, r.cells.cells, slots, {
    ...(builtins !== undefined ? { metrics: builtins } : {}),
    scorers,
    cache: !p.flags.has('no-cache'),
    resamples: resamplesFlag ?? spec.resamples,
    seed: seedFlag ?? spec.seed,
    onProgress: (m) => io.err(`medalign experiment: ${m}\n`),
  });
  const v = outcome.verdict;
  const outFile = p.values.get('out')?.at(-1);
  const emit = async (text: string) => {
    if (outFile === undefined) return io.out(text);
    const out = path.resolve(io.cwd, outFile);
    await fsp.mkdir(path.dirname(out), { recursive: true });
    await writeFileAtomic(out, text);
    io.err(`medalign experiment: wrote ${display(io.cwd, out)}\n`);
  };
  const html = p.values.get('html')?.at(-1);
  if (p.flags.has('json')) await emit(JSON.stringify(verdictJson(v, r.name, r.size), null, 2) + '\n');
  else if (p.flags.has('csv')) await emit(verdictCsv(v));
  else if (html !== undefined) {
    const out = path.resolve(io.cwd, html);
    const changed = changedPairs(outcome, 10);
    await fsp.mkdir(path.dirname(out), { recursive: true });
    await writeFileAtomic(out, experimentHtml(v, r.name, r.size, changed));
    io.err(`medalign experiment: wrote ${display(io.cwd, out)} (it holds answers and gold responses).\n`);
  } else await emit(verdictText(v, r.name, r.size));
  if (cancel.interrupted()) return 130;
  return failed > 0 ? 1 : 0;
}
