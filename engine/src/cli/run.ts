/**
 * `medalign run <paths...> [--model a,b] [--context 2k,32k] [--strategy s] [--concurrency N]
 * [--resume] [--export out.jsonl|out.csv] [--allow-phi-endpoint id@origin] [--remember-approval]
 * [--no-store-prompt] [--timeout s]`: runs instructions (files or folders) against models at
 * context lengths, saves every run under `.medalign/runs/`, shows progress on stderr.
 *
 * Keys come only from the environment variable named by each endpoint's `apiKeyEnv`. Non-local
 * endpoints need the user's approval, always of an endpoint id at an origin:
 * `--allow-phi-endpoint <id>@<origin>` (this command) or the approvals file in the home directory
 * (`--remember-approval` adds to it). A bare id is refused with the exact `id@origin` to pass, read
 * from the config, so a workspace cannot re-point an id the user habitually approves.
 */
import { cliServerTokenize } from './countVerify';
import { textTable } from '../core/util/textTable';
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { EndpointConfig } from '../core/workspace/config';
import { CONFIG_FILE_NAME, parseConfig } from '../core/workspace/config';
import { redactDeep } from '../core/run/redact';
import type { ExportRow } from '../core/run/export';
import { exportRow, rowsToCsv, rowsToJsonl } from '../core/run/export';
import type { ApprovalQuery } from '../core/run/guard';
import { approvalKey, approvalQuery, endpointTarget } from '../core/run/guard';
import { FileApprovals, approvalsFilePath, cliApprovalChecker } from '../run/approvals';
import type { JobResult, Progress } from '../run/runMany';
import { runMany } from '../run/runMany';
import { RunPreparer } from '../host/prepare';
import { writeFileAtomic } from '../run/store';
import { projectRootOf } from '../host/projectRoot';
import type { CliIo } from './io';
import { cancelOnSigint, display, noticePrinter, redactingIo } from './io';
import { collectInstructionFiles, knownKeys } from './files';
import {
  allowedRootsOption,
  jobMatrix,
  listOption,
  parseAllowPhiEndpoint,
  parseArgs,
  runMatrixFlags,
  templateOption,
} from './args';
import type { AllowPhiEndpoint, ParsedArgs } from './args';
import { TrustedFolders, trustedFoldersPath } from '../run/trust';
import { ensureTrusted } from './trust';
import { formatInt } from '../core/util/format';
import { countTokens } from '../host/countTokens';

function fmtMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function progressLine(p: Progress, elapsedMs: number): string {
  const width = 24;
  const filled = p.total === 0 ? width : Math.round((p.done / p.total) * width);
  const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
  const parts = [`${p.complete} complete`];
  if (p.skipped) parts.push(`${p.skipped} skipped`);
  if (p.failed) parts.push(`${p.failed} failed`);
  if (p.refused) parts.push(`${p.refused} refused`);
  if (p.cancelled) parts.push(`${p.cancelled} cancelled`);
  return `[${bar}] ${p.done}/${p.total} (${parts.join(', ')}) · ${p.running} running · ${fmtMs(elapsedMs)}`;
}

export function keySourceFor(e: EndpointConfig): string {
  return e.apiKeyEnv
    ? `the environment variable ${e.apiKeyEnv}`
    : `no environment variable: set "apiKeyEnv" for '${e.id}' in medalign.config.json`;
}

export function refusedHint(q: ApprovalQuery, approvalsFile: string): string {
  return (
    `  To send records to '${q.endpointId}' at ${q.origin} for this command: --allow-phi-endpoint ${q.endpointId}@${q.origin}\n` +
    `  To approve it for your user account: add --remember-approval (saved in ${approvalsFile})\n`
  );
}

/**
 * Why a bare `--allow-phi-endpoint <id>` is refused, with the exact `id@origin` to pass for each
 * origin the workspaces' configs give that id.
 */
export async function bareIdMessage(id: string, roots: readonly string[]): Promise<string> {
  const lines: string[] = [];
  for (const root of roots) {
    const text = await fsp.readFile(path.join(root, CONFIG_FILE_NAME), 'utf8').catch(() => undefined);
    for (const endpoint of parseConfig(text).config.endpoints) {
      if (endpoint.id !== id) continue;
      const q = approvalQuery(id, endpoint);
      const t = endpointTarget(endpoint);
      const line =
        q !== undefined
          ? `  --allow-phi-endpoint ${id}@${q.origin}`
          : t.ok
            ? `  ('${id}' is at ${t.target.origin}, on this machine: it needs no approval)`
            : `  ('${id}': ${t.message})`;
      if (!lines.includes(line)) lines.push(line);
    }
  }
  const head =
    `--allow-phi-endpoint needs the endpoint id and the origin you approve sending patient records to ` +
    `(<id>@<origin>), so that a workspace cannot re-point '${id}' elsewhere.`;
  return lines.length > 0
    ? `${head} Check where the workspace sends '${id}', then pass:\n${lines.join('\n')}`
    : `${head} No ${CONFIG_FILE_NAME} of these files has an endpoint '${id}'.`;
}

export async function runRun(args: string[], io: CliIo): Promise<number> {
  let p: ParsedArgs;
  try {
    p = parseArgs(
      args,
      [
        'model',
        'context',
        'strategy',
        'concurrency',
        'export',
        'allow-phi-endpoint',
        'timeout',
        'allow-root',
        'template',
      ],
      ['resume', 'remember-approval', 'no-store-prompt', 'no-stream', 'quiet', 'trust'],
    );
  } catch (err) {
    io.err(`medalign run: ${(err as Error).message}\n`);
    return 2;
  }
  if (p.positional.length === 0) {
    io.err('medalign run: give the instruction files or folders to run.\n');
    return 2;
  }
  const flags = runMatrixFlags(p);
  if ('error' in flags) {
    io.err(`medalign run: ${flags.error}\n`);
    return 2;
  }
  const { models, contexts, strategy } = flags;
  const concurrency = Number(p.values.get('concurrency')?.at(-1) ?? '4');
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
    io.err('medalign run: --concurrency must be a whole number from 1 to 256\n');
    return 2;
  }
  const timeoutS = p.values.get('timeout')?.at(-1);
  const timeoutMs = timeoutS !== undefined ? Number(timeoutS) * 1000 : undefined;
  if (timeoutMs !== undefined && !(timeoutMs > 0)) {
    io.err('medalign run: --timeout must be a number of seconds\n');
    return 2;
  }
  const exportPath = p.values.get('export')?.at(-1);
  if (exportPath !== undefined && !/\.(jsonl|csv)$/i.test(exportPath)) {
    io.err('medalign run: --export must name a .jsonl or .csv file\n');
    return 2;
  }
  let files: string[];
  try {
    files = await collectInstructionFiles(p.positional, io.cwd);
  } catch (err) {
    io.err(`medalign run: ${(err as Error).message}\n`);
    return 2;
  }
  if (files.length === 0) {
    io.err('medalign run: no .medalign files found.\n');
    return 2;
  }

  const templates = templateOption(p, io.cwd, (f) => existsSync(f));
  if ('error' in templates) {
    io.err(`medalign run: ${templates.error}\n`);
    return 2;
  }
  const jobs = jobMatrix(files, models, contexts, strategy, templates);

  // Approvals: --allow-phi-endpoint for this command, else the user's file (never one in a workspace).
  const roots = new Set<string>();
  for (const f of files) roots.add((await projectRootOf(f, [io.cwd])).root);
  // Every run (baseline too) reads the project's records: the project folder must be trusted.
  const trusted = await ensureTrusted([...roots], {
    command: 'run',
    flag: p.flags.has('trust'),
    io,
    store: new TrustedFolders(trustedFoldersPath(io.env)),
  });
  if (!trusted) return 1;
  const secrets = await knownKeys(roots, io.env);
  io = redactingIo(io, secrets);
  const notice = noticePrinter(io);
  const approvalsFile = new FileApprovals(approvalsFilePath(io.env), [...roots]);
  if (!approvalsFile.trusted) {
    io.err(`medalign: ignoring the approvals file ${approvalsFile.file}: it is inside a workspace.\n`);
  }
  let allowGiven: AllowPhiEndpoint[];
  try {
    allowGiven = listOption(p, 'allow-phi-endpoint').map(parseAllowPhiEndpoint);
  } catch (err) {
    io.err(`medalign run: ${(err as Error).message}\n`);
    return 2;
  }
  const bare = allowGiven.find((a) => a.origin === undefined);
  if (bare !== undefined) {
    io.err(`medalign run: ${await bareIdMessage(bare.endpointId, [...roots])}\n`);
    return 2;
  }
  const allow = allowGiven.map((a) => ({ endpointId: a.endpointId, origin: a.origin ?? '' }));
  const remember = p.flags.has('remember-approval');
  const baseChecker = cliApprovalChecker(allow, approvalsFile);
  const approval = async (q: ApprovalQuery): Promise<boolean> => {
    const ok = await baseChecker(q);
    const flagged = allow.some((a) => a.endpointId === q.endpointId && a.origin === q.origin);
    if (ok && remember && flagged && approvalsFile.trusted) {
      await approvalsFile.add(q);
      io.err(
        `medalign: approved '${q.endpointId}' at ${q.origin} for your user account (${approvalsFile.file}).\n`,
      );
    }
    return ok;
  };

  const cancel = cancelOnSigint(io);

  const single = jobs.length === 1;
  const quiet = p.flags.has('quiet');
  const tty = process.stderr.isTTY === true;
  const started = performance.now();
  let lastLine = 0;
  const preparer = new RunPreparer(undefined, {
    folders: [io.cwd],
    allowedRoots: allowedRootsOption(p, io.cwd),
    // tokenizer: server → packed with the server's counts, under the run's own trust and PHI rule.
    serverTokenize: (ws) => cliServerTokenize(ws, p, io, 'run'),
  });
  const refusedShown = new Set<string>();
  let refineStep = 0;
  let results: JobResult[];
  try {
    results = await runMany(jobs, {
      countTokens,
      preparer,
      concurrency,
      resume: p.flags.has('resume'),
      approval,
      signal: cancel.signal,
      storePrompt: !p.flags.has('no-store-prompt'),
      stream: !p.flags.has('no-stream'),
      ...(timeoutMs !== undefined ? { timeouts: { headersMs: timeoutMs, idleMs: timeoutMs } } : {}),
      apiKeyFor: (e) => (e.apiKeyEnv ? io.env[e.apiKeyEnv] : undefined),
      keySourceFor,
      onText: (_i, delta) => {
        // A refine run's steps stream to stderr; its final answer goes to stdout at the end.
        if (!single || quiet) return;
        if (refineStep > 0) io.err(delta);
        else io.out(delta);
      },
      onEvent: (_i, e) => {
        if (e.type === 'notice') notice(e.message);
        if (e.type === 'step' && single && !quiet) {
          io.err(`${refineStep > 0 ? '\n' : ''}medalign: refine step ${e.step} of ${e.of}\n`);
          refineStep = e.step;
        }
      },
      onProgress: (prog, r) => {
        if (r.status === 'refused' && r.error && r.approval && !refusedShown.has(approvalKey(r.approval))) {
          refusedShown.add(approvalKey(r.approval));
          if (tty && !single) io.err('\r\x1b[2K');
          io.err(`medalign: ${r.error.message}\n${refusedHint(r.approval, approvalsFile.file)}`);
        }
        if (single) return;
        const elapsed = performance.now() - started;
        if (tty) {
          if (elapsed - lastLine > 100 || prog.done === prog.total) {
            lastLine = elapsed;
            io.err(`\r\x1b[2K${progressLine(prog, elapsed)}`);
            if (prog.done === prog.total) io.err('\n');
          }
        } else {
          const what = [
            r.instructionId ?? path.basename(r.job.file),
            r.model ?? '',
            r.contextLabel ?? '',
          ].join(' ');
          io.err(
            `[${prog.done}/${prog.total}] ${r.status.padEnd(9)} ${what}${r.run ? ` · ${fmtMs(r.run.timings.totalMs)}` : ''}${r.error && r.status !== 'refused' ? ` · ${r.error.message}` : ''}\n`,
          );
        }
      },
    });
  } finally {
    cancel.dispose();
  }

  if (single) {
    const r = results[0];
    if (refineStep > 0 && r.run && !quiet) {
      io.err('\n');
      io.out(r.run.response.endsWith('\n') ? r.run.response : `${r.run.response}\n`);
    } else if (r.status === 'skipped') {
      // Nothing was streamed: show the earlier answer.
      if (r.run && !quiet) io.out(r.run.response.endsWith('\n') ? r.run.response : `${r.run.response}\n`);
    } else if (r.run && !quiet && r.run.response !== '' && !r.run.response.endsWith('\n')) {
      io.out('\n');
    }
    if (r.file) {
      const t = r.run?.tokens;
      io.err(
        `medalign: ${r.status}${r.run?.finishReason && r.status === 'complete' ? ` (${r.run.finishReason})` : ''} · ` +
          `${t ? `prompt ${formatInt(t.prompt)} tokens, completion ${formatInt(t.completion)} · ` : ''}` +
          `${r.run ? `${fmtMs(r.run.timings.totalMs)} · ` : ''}${r.status === 'skipped' ? 'already ran: ' : 'saved '}${display(io.cwd, r.file)}\n`,
      );
    }
    if (r.error && r.status !== 'refused' && r.status !== 'complete')
      io.err(`medalign: ${r.error.message}\n`);
  } else {
    io.out(summaryTable(results, io.cwd, templates.length > 0));
  }

  if (exportPath !== undefined) {
    const rows: ExportRow[] = [];
    for (const r of results) {
      if (r.run && r.file)
        rows.push(redactDeep(exportRow(r.run, display(io.cwd, r.file), r.gold ?? ''), secrets));
    }
    const out = path.resolve(io.cwd, exportPath);
    await fsp.mkdir(path.dirname(out), { recursive: true });
    await writeFileAtomic(out, /\.csv$/i.test(out) ? rowsToCsv(rows) : rowsToJsonl(rows));
    io.err(`medalign: exported ${rows.length} run(s) to ${display(io.cwd, out)} (it holds patient data).\n`);
  }

  if (cancel.interrupted()) return 130;
  return results.every((r) => r.status === 'complete' || r.status === 'skipped') ? 0 : 1;
}

function summaryTable(results: readonly JobResult[], cwd: string, withTemplate = false): string {
  // The template column only when --template chose templates (as written otherwise).
  const rows = results.map((r) => [
    r.status,
    r.instructionId ?? path.basename(r.job.file),
    r.model ?? '',
    r.contextLabel ?? '',
    ...(withTemplate ? [r.run ? (r.run.template.file ?? 'builtin') : ''] : []),
    r.run ? String(r.run.tokens.prompt) : '',
    r.run ? String(r.run.tokens.completion) : '',
    r.run ? fmtMs(r.run.timings.totalMs) : '',
    r.file ? display(cwd, r.file) : (r.error?.message ?? ''),
  ]);
  const head = [
    'status',
    'instruction',
    'model',
    'context',
    ...(withTemplate ? ['template'] : []),
    'prompt',
    'completion',
    'time',
    'run file / error',
  ];
  return textTable(head, rows);
}
