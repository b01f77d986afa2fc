/**
 * An experiment file (`<name>.experiment.json`): which instructions, and the values of each
 * dimension to compare. Parsed and checked against `schema/experiment.schema.json` (the single
 * source of its keys; `context` and `strategy` items refer to the instruction schema, so a strategy
 * added there is accepted here). Never throws: a bad file gives problems with the path of the value.
 */
import { validateExperimentData } from '../schema/schemas';

export const EXPERIMENT_SUFFIX = '.experiment.json';

export function isExperimentFile(uriOrPath: string): boolean {
  return uriOrPath.toLowerCase().endsWith(EXPERIMENT_SUFFIX);
}

/** The experiment's name: its file name without `.experiment.json`. */
export function experimentName(uriOrPath: string): string {
  const base = uriOrPath.split(/[\\/]/).pop() ?? uriOrPath;
  return isExperimentFile(base) ? base.slice(0, -EXPERIMENT_SUFFIX.length) : base;
}

export interface ExperimentSpec {
  description?: string;
  /** Folders, files, globs and `tag:<name>` filters, as written. */
  instructions: string[];
  template?: string[];
  model?: string[];
  context?: (string | number)[];
  strategy?: string[];
  /** `strategy: refine`'s settings to compare (each list as written). */
  refine?: RefineSpec;
  metrics?: string[];
  scorers?: string[];
  resamples: number;
  seed: number;
  concurrency: number;
}

export interface RefineSpec {
  order?: string[];
  template?: string[];
  maxSteps?: number[];
}

export const DEFAULT_RESAMPLES = 2000;
export const DEFAULT_SEED = 1;
export const DEFAULT_CONCURRENCY = 4;

/** A problem with the file, at a JSON path (`[]` for the whole file). */
export interface SpecProblem {
  path: (string | number)[];
  message: string;
}

export type SpecResult = { ok: true; spec: ExperimentSpec } | { ok: false; problems: SpecProblem[] };

/** The longest experiment file read (they are a few hundred bytes). */
export const MAX_EXPERIMENT_CHARS = 1024 * 1024;

function pointerPath(p: string): (string | number)[] {
  if (p === '') return [];
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^[0-9]+$/.test(s) ? Number(s) : s));
}

/** Reads and checks an experiment file's text. */
export function parseExperiment(text: string): SpecResult {
  if (text.length > MAX_EXPERIMENT_CHARS) {
    return { ok: false, problems: [{ path: [], message: 'The experiment file is larger than 1 MB.' }] };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return {
      ok: false,
      problems: [{ path: [], message: `The experiment file is not valid JSON: ${(err as Error).message}` }],
    };
  }
  const errors = validateExperimentData(data);
  if (errors.length > 0) {
    const seen = new Set<string>();
    const problems: SpecProblem[] = [];
    for (const e of errors) {
      // anyOf reports each branch; keep one message per place.
      if (e.keyword === 'anyOf' || e.keyword === 'if') continue;
      const path = pointerPath(e.instancePath);
      let message = `${e.instancePath === '' ? 'The experiment' : `'${path.join('.')}'`} ${e.message ?? 'is invalid'}`;
      if (e.keyword === 'additionalProperties') {
        const key = (e.params as { additionalProperty?: string }).additionalProperty ?? '';
        path.push(key);
        message = `Unknown key '${key}'.`;
      } else if (e.keyword === 'enum') {
        const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues ?? [];
        let value: unknown = data;
        for (const seg of path) value = (value as Record<string | number, unknown> | undefined)?.[seg];
        message = `${JSON.stringify(value) ?? String(value)} is not one of ${allowed.map(String).join(', ')}.`;
      }
      const k = `${path.join('.')}\u0000${message}`;
      if (seen.has(k)) continue;
      seen.add(k);
      problems.push({ path, message });
    }
    if (problems.length === 0) problems.push({ path: [], message: 'The experiment file is invalid.' });
    return { ok: false, problems };
  }
  const d = data as Record<string, unknown>;
  const list = <T>(k: string): T[] | undefined => (Array.isArray(d[k]) ? (d[k] as T[]) : undefined);
  const ins = d['instructions'];
  const spec: ExperimentSpec = {
    instructions: typeof ins === 'string' ? [ins] : (ins as string[]),
    resamples: typeof d['resamples'] === 'number' ? d['resamples'] : DEFAULT_RESAMPLES,
    seed: typeof d['seed'] === 'number' ? d['seed'] : DEFAULT_SEED,
    concurrency: typeof d['concurrency'] === 'number' ? d['concurrency'] : DEFAULT_CONCURRENCY,
  };
  if (typeof d['description'] === 'string') spec.description = d['description'];
  for (const k of ['template', 'model', 'strategy', 'metrics', 'scorers'] as const) {
    const v = list<string>(k);
    if (v !== undefined) spec[k] = v;
  }
  const c = list<string | number>('context');
  if (c !== undefined) spec.context = c;
  const r = d['refine'];
  if (r !== null && typeof r === 'object' && !Array.isArray(r)) {
    const ro = r as Record<string, unknown>;
    const refine: RefineSpec = {};
    if (Array.isArray(ro['order'])) refine.order = ro['order'] as string[];
    if (Array.isArray(ro['template'])) refine.template = ro['template'] as string[];
    if (Array.isArray(ro['maxSteps'])) refine.maxSteps = ro['maxSteps'] as number[];
    if (Object.keys(refine).length > 0) spec.refine = refine;
  }
  return { ok: true, spec };
}
