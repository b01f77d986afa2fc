/**
 * `medalign batch export <paths...> [--model a,b] [--context 2k,32k] [--strategy s] [--out file.jsonl]`
 * writes the packed requests as an OpenAI Batch API / vLLM `run-batch` JSONL file, and next to it a
 * manifest (`<name>.manifest.json`) mapping each custom_id to its run. Default output:
 * `.medalign/batch/requests-<time>.jsonl` in the workspace (git-ignored: it holds records).
 *
 * `medalign batch import <results.jsonl> --requests <requests.jsonl> [--no-store-prompt]` reads the
 * results those tools write and saves each as a run in `.medalign/runs/`.
 */
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { BASELINE_MODEL } from '../core/workspace/config';
import { refineBatchProblem } from '../core/packing/refine';
import type { BatchManifest } from '../core/run/batch';
import {
  BATCH_MANIFEST_FORMAT,
  batchCustomId,
  batchRequestLine,
  parseBatchManifest,
  parseBatchRequests,
  parseBatchResults,
  runFromBatchResult,
  serializeManifest,
} from '../core/run/batch';
import { MEDALIGN_DIR, compactStamp, newRunId } from '../core/run/runRecord';
import { getTokenizer, hasTokenizer } from '../core/tokens/tokenizer';
import { RunPreparer } from '../host/prepare';
import { RunStore, ensureMedalignDir, writeFileAtomic } from '../run/store';
import { projectRootOf } from '../host/projectRoot';
import { ensureDirs } from '../run/safeFs';
import type { CliIo } from './io';
import { display, noticePrinter, redactingIo } from './io';
import { collectInstructionFiles, knownKeys } from './files';
import { allowedRootsOption, jobMatrix, parseArgs, runMatrixFlags, templateOption } from './args';
import { TrustedFolders, trustedFoldersPath } from '../run/trust';
import { ensureTrusted } from './trust';

/** `requests.jsonl` → `requests.manifest.json`. */
export function manifestPathFor(requestsFile: string): string {
  return requestsFile.replace(/(\.jsonl)?$/i, '.manifest.json');
}

async function exportBatch(args: string[], io: CliIo): Promise<number> {
  const p = parseArgs(args, ['model', 'context', 'strategy', 'out', 'allow-root', 'template'], ['trust']);
  if (p.positional.length === 0) {
    io.err('medalign batch export: give the instruction files or folders.\n');
    return 2;
  }
  const flags = runMatrixFlags(p);
  if ('error' in flags) {
    io.err(`medalign batch export: ${flags.error}\n`);
    return 2;
  }
  const { models, contexts, strategy } = flags;
  if (models.includes(BASELINE_MODEL)) {
    io.err(`medalign batch export: '${BASELINE_MODEL}' runs locally and needs no batch: use medalign run.\n`);
    return 2;
  }
  const files = await collectInstructionFiles(p.positional, io.cwd);
  // The requests file holds packed records meant for upload: the project folder must be trusted.
  const roots = new Set<string>();
  for (const f of files) roots.add((await projectRootOf(f, [io.cwd])).root);
  const store = new TrustedFolders(trustedFoldersPath(io.env));
  if (
    !(await ensureTrusted([...roots], { command: 'batch export', flag: p.flags.has('trust'), io, store }))
  ) {
    return 1;
  }
  const templates = templateOption(p, io.cwd, (f) => existsSync(f));
  if ('error' in templates) {
    io.err(`medalign batch export: ${templates.error}\n`);
    return 2;
  }
  const jobs = jobMatrix(files, models, contexts, strategy, templates);
  const preparer = new RunPreparer(undefined, {
    folders: [io.cwd],
    allowedRoots: allowedRootsOption(p, io.cwd),
  });
  const lines: string[] = [];
  const entries: BatchManifest['entries'] = {};
  const hosts = new Set<string>();
  let failed = 0;
  let root: string | undefined;
  for (const job of jobs) {
    const r = await preparer.prepare(job);
    if (!r.ok) {
      failed++;
      io.err(`medalign batch export: ${display(io.cwd, r.file)}: ${r.error.message}\n`);
      continue;
    }
    const run = r.run;
    const endpoint = run.settings.endpoint;
    if (endpoint === undefined) {
      failed++;
      io.err(
        `medalign batch export: ${run.instruction.relFile}: '${BASELINE_MODEL}' needs no batch; skipped.\n`,
      );
      continue;
    }
    if (!run.pack.ok) {
      failed++;
      io.err(`medalign batch export: ${run.instruction.relFile}: ${run.pack.error ?? 'cannot pack'}\n`);
      continue;
    }
    const refine = refineBatchProblem(run.pack.refine?.steps.length ?? 0);
    if (refine !== undefined) {
      failed++;
      io.err(`medalign batch export: ${run.instruction.relFile}: ${refine}\n`);
      continue;
    }
    root ??= run.workspaceRoot;
    const id = batchCustomId(run.draft);
    if (entries[id] !== undefined) continue;
    entries[id] = run.draft;
    if (run.origin) hosts.add(new URL(run.origin).host);
    lines.push(
      JSON.stringify(
        batchRequestLine(id, endpoint.kind, endpoint.model, run.pack.messages, run.settings.reserve),
      ),
    );
  }
  if (lines.length === 0) {
    io.err('medalign batch export: nothing to export.\n');
    return 1;
  }
  const now = new Date();
  let out: string;
  const given = p.values.get('out')?.at(-1);
  if (given !== undefined) out = path.resolve(io.cwd, given);
  else {
    const base = root ?? io.cwd;
    await ensureMedalignDir(base, noticePrinter(io));
    const dir = await ensureDirs(base, [MEDALIGN_DIR, 'batch']);
    out = path.join(dir, `requests-${compactStamp(now.toISOString())}.jsonl`);
  }
  await fsp.mkdir(path.dirname(out), { recursive: true });
  await writeFileAtomic(out, lines.join('\n') + '\n');
  const manifest: BatchManifest = {
    format: BATCH_MANIFEST_FORMAT,
    version: 1,
    createdAt: now.toISOString(),
    requestsFile: path.basename(out),
    entries,
  };
  const mpath = manifestPathFor(out);
  await writeFileAtomic(mpath, serializeManifest(manifest));
  io.out(`${display(io.cwd, out)}\n${display(io.cwd, mpath)}\n`);
  io.err(
    `medalign: wrote ${lines.length} request(s)${failed ? ` (${failed} failed)` : ''}. The file holds patient records (PHI): ` +
      `upload it only to a service your data use agreement allows${hosts.size ? ` (these requests are for ${[...hosts].join(', ')})` : ''}, ` +
      `and keep it out of version control.\n` +
      `Then: medalign batch import <results.jsonl> --requests ${display(io.cwd, out)}\n`,
  );
  return failed ? 1 : 0;
}

async function importBatch(args: string[], io: CliIo): Promise<number> {
  const p = parseArgs(args, ['requests'], ['no-store-prompt']);
  const [resultsArg] = p.positional;
  const requestsArg = p.values.get('requests')?.at(-1);
  if (resultsArg === undefined || p.positional.length > 1 || requestsArg === undefined) {
    io.err(
      'medalign batch import: usage: medalign batch import <results.jsonl> --requests <requests.jsonl>\n',
    );
    return 2;
  }
  const resultsFile = path.resolve(io.cwd, resultsArg);
  const requestsFile = path.resolve(io.cwd, requestsArg);
  const mpath = manifestPathFor(requestsFile);
  const [resultsText, requestsText, manifestText] = await Promise.all(
    [resultsFile, requestsFile, mpath].map((f) => fsp.readFile(f, 'utf8').catch(() => undefined)),
  );
  if (resultsText === undefined) {
    io.err(`medalign batch import: cannot read ${resultsArg}\n`);
    return 2;
  }
  const manifest = manifestText === undefined ? undefined : parseBatchManifest(manifestText);
  if (manifest === undefined) {
    io.err(
      `medalign batch import: no valid manifest at ${display(io.cwd, mpath)} (written by medalign batch export).\n`,
    );
    return 2;
  }
  const storePrompt = !p.flags.has('no-store-prompt');
  const messages = new Map<string, ReturnType<typeof parseBatchRequests>['items'][number]['messages']>();
  if (requestsText !== undefined)
    for (const r of parseBatchRequests(requestsText).items) messages.set(r.customId, r.messages);
  const parsed = parseBatchResults(resultsText);
  for (const problem of parsed.problems) io.err(`medalign batch import: ${resultsArg} ${problem}\n`);
  const { root } = await projectRootOf(path.join(io.cwd, '_'), [io.cwd]);
  // Results can echo a key (whole or in part): the keys of this workspace's endpoints are redacted.
  const secrets = await knownKeys([root], io.env);
  io = redactingIo(io, secrets);
  const store = new RunStore(root);
  store.onNotice = noticePrinter(io);
  let complete = 0;
  let errors = 0;
  let unknown = 0;
  const now = new Date();
  for (const result of parsed.items) {
    const draft = manifest.entries[result.customId];
    if (draft === undefined) {
      unknown++;
      io.err(`medalign batch import: custom_id ${result.customId} is not in the manifest; skipped.\n`);
      continue;
    }
    const msgs = storePrompt ? messages.get(result.customId) : undefined;
    const run = runFromBatchResult(draft, result, {
      id: newRunId(now),
      now,
      ...(msgs !== undefined ? { messages: msgs } : {}),
      // Batch files are OpenAI's: an hf tokenizer not loaded in this process counts with cl100k_base.
      countCompletion: (t) =>
        getTokenizer(hasTokenizer(draft.encoding) ? draft.encoding : 'cl100k_base').count(t),
      context: { secrets },
    });
    await store.save(run, secrets);
    if (run.status === 'complete') complete++;
    else errors++;
  }
  const missing = Object.keys(manifest.entries).length - complete - errors;
  io.out(
    `Imported ${complete + errors} run(s) into ${display(io.cwd, store.runsDir)}: ${complete} complete, ${errors} failed` +
      `${missing > 0 ? `; ${missing} request(s) have no result` : ''}${unknown ? `; ${unknown} unknown result(s)` : ''}.\n`,
  );
  return errors > 0 || parsed.problems.length > 0 || unknown > 0 ? 1 : 0;
}

export async function runBatch(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  try {
    if (sub === 'export') return await exportBatch(rest, io);
    if (sub === 'import') return await importBatch(rest, io);
  } catch (err) {
    io.err(`medalign batch ${sub}: ${(err as Error).message}\n`);
    return 2;
  }
  io.err('medalign batch: use `medalign batch export ...` or `medalign batch import ...`\n');
  return 2;
}
