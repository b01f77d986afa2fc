/** Command-line parsing shared by the `medalign` commands. */
import * as path from 'node:path';
import type { PackStrategy } from '../core/packing/pack';
import type { RunJob } from '../run/prepare';

export class UsageError extends Error {}

export interface ParsedArgs {
  positional: string[];
  values: Map<string, string[]>;
  flags: Set<string>;
}

/** `--name value`, `--name=value` (repeatable; comma lists split later), boolean `--flag`s. */
export function parseArgs(
  args: readonly string[],
  valued: readonly string[],
  booleans: readonly string[],
): ParsedArgs {
  const r: ParsedArgs = { positional: [], values: new Map(), flags: new Set() };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) {
      r.positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (valued.includes(name)) {
      const v = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (v === undefined || v === '') throw new UsageError(`--${name} needs a value`);
      r.values.set(name, [...(r.values.get(name) ?? []), v]);
    } else if (booleans.includes(name) && eq < 0) {
      r.flags.add(name);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return r;
}

/** All values of a repeatable, comma-separated option. */
export function listOption(p: ParsedArgs, name: string): string[] {
  return (p.values.get(name) ?? [])
    .flatMap((v) => v.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** One job per file × model × context (a missing list means "as the file says"). */
export function jobMatrix(
  files: readonly string[],
  models: readonly string[],
  contexts: readonly string[],
  strategy: PackStrategy | undefined,
): RunJob[] {
  const jobs: RunJob[] = [];
  for (const file of files) {
    for (const model of models.length ? models : [undefined]) {
      for (const context of contexts.length ? contexts : [undefined]) {
        const job: RunJob = { file };
        if (model !== undefined) job.model = model;
        if (context !== undefined) job.context = context;
        if (strategy !== undefined) job.strategy = strategy;
        jobs.push(job);
      }
    }
  }
  return jobs;
}

/**
 * `--allow-root <folder>` (repeatable): folders outside the workspace that records and templates may
 * come from, for this command. Given by the user on the command line, never read from a workspace.
 */
export function allowedRootsOption(p: ParsedArgs, cwd: string): string[] {
  return (p.values.get('allow-root') ?? []).map((r) => path.resolve(cwd, r));
}
