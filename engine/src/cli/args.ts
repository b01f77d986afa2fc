/** Command-line parsing shared by the `medalign` commands (the parser itself: argv.ts). */
import * as path from 'node:path';
import { checkContext, checkStrategy } from '../core/schema/schemas';
import type { RunJob } from '../host/prepare';
import { URI } from 'vscode-uri';
import { BUILTIN_TEMPLATE } from '../core/features/runSettings';

import { UsageError, parseArgs } from './argv';
import type { ParsedArgs } from './argv';

export { UsageError, parseArgs };
export type { ParsedArgs };

/** All values of a repeatable, comma-separated option. */
export function listOption(p: ParsedArgs, name: string): string[] {
  return (p.values.get(name) ?? [])
    .flatMap((v) => v.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** One job per file × template × model × context (a missing list means "as the file says"). */
export function jobMatrix(
  files: readonly string[],
  models: readonly string[],
  contexts: readonly string[],
  strategy: string | undefined,
  templates: readonly string[] = [],
): RunJob[] {
  const jobs: RunJob[] = [];
  for (const file of files) {
    for (const template of templates.length ? templates : [undefined]) {
      for (const model of models.length ? models : [undefined]) {
        for (const context of contexts.length ? contexts : [undefined]) {
          const job: RunJob = { file };
          if (template !== undefined) job.template = template;
          if (model !== undefined) job.model = model;
          if (context !== undefined) job.context = context;
          if (strategy !== undefined) job.strategy = strategy;
          jobs.push(job);
        }
      }
    }
  }
  return jobs;
}

/**
 * `--template a.prompt,b.prompt` of `run` and `batch export`: template files (relative to the
 * current directory) as file URIs, or `builtin` for MedAlign's own prompt; a file that does not
 * exist is a usage error.
 */
export function templateOption(
  p: ParsedArgs,
  cwd: string,
  exists: (file: string) => boolean,
): string[] | { error: string } {
  const out: string[] = [];
  for (const t of listOption(p, 'template')) {
    if (t === BUILTIN_TEMPLATE) {
      out.push(t);
      continue;
    }
    const abs = path.resolve(cwd, t);
    if (!exists(abs)) return { error: `--template ${t}: no such file` };
    out.push(URI.file(abs).toString());
  }
  return out;
}

/** One `--allow-phi-endpoint` value: an endpoint id at an origin, or a bare id (`origin` absent). */
export interface AllowPhiEndpoint {
  endpointId: string;
  origin?: string;
}

/**
 * Reads `--allow-phi-endpoint <id>@<origin>` (`gpt-4o@https://api.openai.com`). The origin is
 * normalised as a URL parser does (`HTTPS://API.openai.com:443/` → `https://api.openai.com`); a path,
 * credentials, a query or a scheme other than http(s) is a usage error. A value without `@` is a
 * bare id, which the caller refuses (naming the id@origin to pass).
 */
export function parseAllowPhiEndpoint(value: string): AllowPhiEndpoint {
  const v = value.trim();
  if (!v.includes('@')) return { endpointId: v };
  const usage = (why: string) =>
    new UsageError(
      `--allow-phi-endpoint '${v}' ${why}; give <endpoint id>@<origin>, e.g. gpt-4o@https://api.openai.com`,
    );
  // The last `@` followed by a scheme: ids may hold `@`, origins may not.
  const m = /^(.+)@([a-z][a-z0-9+.-]*:.*)$/i.exec(v);
  if (!m) throw usage('is not an endpoint id at an origin');
  let url: URL;
  try {
    url = new URL(m[2]);
  } catch {
    throw usage('does not end in an origin (scheme://host[:port])');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw usage('must name an http:// or https:// origin');
  if (
    url.username !== '' ||
    url.password !== '' ||
    url.pathname !== '/' ||
    url.search !== '' ||
    url.hash !== ''
  ) {
    throw usage('must name an origin only (scheme://host[:port], no path)');
  }
  return { endpointId: m[1], origin: url.origin };
}

/**
 * `--allow-root <folder>` (repeatable): folders outside the workspace that records and templates may
 * come from, for this command. Given by the user on the command line, never read from a workspace.
 */
export function allowedRootsOption(p: ParsedArgs, cwd: string): string[] {
  return (p.values.get('allow-root') ?? []).map((r) => path.resolve(cwd, r));
}

/**
 * `--model`, `--context` and `--strategy` of `run` and `batch export`: lists, with context and
 * strategy checked against the schema (the message every feature gives), or the usage error.
 */
export function runMatrixFlags(
  p: ParsedArgs,
): { models: string[]; contexts: string[]; strategy?: string } | { error: string } {
  const models = listOption(p, 'model');
  const contexts = listOption(p, 'context');
  const strategy = p.values.get('strategy')?.at(-1);
  if (strategy !== undefined) {
    const r = checkStrategy(strategy);
    if (!r.ok) return { error: `--strategy ${r.message}` };
  }
  for (const c of contexts) {
    const r = checkContext(c);
    if (!r.ok) return { error: `--context ${r.message}` };
  }
  return strategy !== undefined ? { models, contexts, strategy } : { models, contexts };
}
