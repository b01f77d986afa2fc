/**
 * `medalign runs [paths...] [--json]`: lists saved runs, newest first. With instruction files, only
 * their runs; with folders (or nothing: the current folder), every run of their workspace.
 */
import { textTable } from '../core/util/textTable';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { parseInstruction } from '../core/format/parse';
import { normalizeId } from '../core/workspace/idIndex';
import { RunStore } from '../run/store';
import type { StoredSummary } from '../run/store';
import { projectRootOf } from '../host/projectRoot';
import type { CliIo } from './io';
import { parseArgs } from './args';

/** A file's project, or a folder's (the folder itself when no config is found above it). */
async function rootOf(p: string, isFile: boolean, cwd: string): Promise<string> {
  return (await projectRootOf(isFile ? p : path.join(p, '_'), isFile ? [cwd] : [p])).root;
}

function fmtMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export async function runRuns(args: string[], io: CliIo): Promise<number> {
  let paths: string[];
  let json: boolean;
  try {
    const p = parseArgs(args, [], ['json']);
    paths = p.positional;
    json = p.flags.has('json');
  } catch (err) {
    io.err(`medalign runs: ${(err as Error).message}\n`);
    return 2;
  }
  const wanted: { root: string; instructionId?: string }[] = [];
  for (const raw of paths.length ? paths : ['.']) {
    const p = path.resolve(io.cwd, raw);
    let st;
    try {
      st = await fsp.stat(p);
    } catch {
      io.err(`medalign runs: no such file or folder: ${raw}\n`);
      return 2;
    }
    if (st.isFile()) {
      const id = normalizeId(parseInstruction(await fsp.readFile(p, 'utf8')).data?.['id']);
      if (id === undefined) {
        io.err(`medalign runs: ${raw} has no id.\n`);
        return 2;
      }
      wanted.push({ root: await rootOf(p, true, io.cwd), instructionId: id });
    } else {
      wanted.push({ root: await rootOf(p, false, io.cwd) });
    }
  }
  const seen = new Set<string>();
  const runs: StoredSummary[] = [];
  for (const w of wanted) {
    const store = new RunStore(w.root);
    const list = await store.list(w.instructionId !== undefined ? { instructionId: w.instructionId } : {});
    for (const s of list) {
      if (seen.has(s.file)) continue;
      seen.add(s.file);
      runs.push(s);
    }
  }
  runs.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  const rel = (f: string) => {
    const r = path.relative(io.cwd, f);
    return r.startsWith('..') ? f : r;
  };
  if (json) {
    io.out(
      JSON.stringify(
        runs.map((r) => ({ ...r, file: rel(r.file) })),
        null,
        2,
      ) + '\n',
    );
    return 0;
  }
  if (runs.length === 0) {
    io.out('No runs yet.\n');
    return 0;
  }
  const head = [
    'created',
    'instruction',
    'model',
    'context',
    'status',
    'prompt',
    'completion',
    'time',
    'file',
  ];
  const rows = runs.map((r) => [
    r.createdAt.replace('T', ' ').slice(0, 19),
    r.instructionId,
    r.endpointId,
    r.contextLabel,
    r.status === 'complete'
      ? r.finishReason && r.finishReason !== 'stop'
        ? `complete (${r.finishReason})`
        : 'complete'
      : `${r.status}${r.errorKind && r.errorKind !== 'cancelled' ? ` (${r.errorKind})` : ''}`,
    String(r.promptTokens),
    String(r.completionTokens),
    fmtMs(r.totalMs),
    rel(r.file),
  ]);
  io.out(textTable(head, rows));
  io.out(`${runs.length} run(s).\n`);
  return 0;
}
