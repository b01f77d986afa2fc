/**
 * Planning an experiment: which instructions it selects (folders, files, globs, tags), its cells
 * (every combination of the values given for template, model, context and strategy; a dimension
 * left out takes each instruction's own value) and its runs (instructions × cells). Pure: the caller
 * lists the project's instruction files and reads tags only when a `tag:` filter asks for them.
 */
import type { RunOverrides } from '../features/runSettings';
import { BUILTIN_TEMPLATE } from '../features/runSettings';
import { checkContext, checkStrategy } from '../schema/schemas';
import { dirname, resolvePath } from '../util/uri';
import type { ExperimentSpec } from './spec';

/** The dimensions an experiment varies, in the order cells are listed. */
export const DIMENSIONS = ['template', 'model', 'context', 'strategy'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export interface DimensionValues {
  dimension: Dimension;
  /** As shown (the template as written, the context label). */
  labels: string[];
  /** As passed to the run (a template URI or `builtin`, a context label). */
  overrides: string[];
}

export interface ExperimentCell {
  index: number;
  /** The label of each varied dimension. */
  values: Partial<Record<Dimension, string>>;
  overrides: RunOverrides;
}

export interface CellPlan {
  /** Only the dimensions the experiment varies. */
  dimensions: DimensionValues[];
  cells: ExperimentCell[];
  /** Values that cannot be used (an unknown strategy, a bad context), by dimension. */
  problems: { dimension: Dimension; index: number; message: string }[];
}

/** The cells of an experiment file at `experimentUri`. */
export function planCells(spec: ExperimentSpec, experimentUri: string): CellPlan {
  const dir = dirname(experimentUri);
  const dimensions: DimensionValues[] = [];
  const problems: CellPlan['problems'] = [];
  if (spec.template) {
    dimensions.push({
      dimension: 'template',
      labels: spec.template.map((t) => t.trim()),
      overrides: spec.template.map((t) =>
        t.trim() === BUILTIN_TEMPLATE ? BUILTIN_TEMPLATE : resolvePath(dir, t.trim()),
      ),
    });
  }
  if (spec.model)
    dimensions.push({ dimension: 'model', labels: [...spec.model], overrides: [...spec.model] });
  if (spec.context) {
    const labels = spec.context.map((c, index) => {
      const r = checkContext(c);
      if (!r.ok) problems.push({ dimension: 'context', index, message: `Context ${r.message}` });
      return r.ok ? r.label : String(c);
    });
    dimensions.push({ dimension: 'context', labels, overrides: labels });
  }
  if (spec.strategy) {
    spec.strategy.forEach((s, index) => {
      const r = checkStrategy(s);
      if (!r.ok) problems.push({ dimension: 'strategy', index, message: `Strategy ${r.message}` });
    });
    dimensions.push({ dimension: 'strategy', labels: [...spec.strategy], overrides: [...spec.strategy] });
  }
  const cells: ExperimentCell[] = [];
  const walk = (d: number, values: Partial<Record<Dimension, string>>, overrides: RunOverrides) => {
    if (d === dimensions.length) {
      cells.push({ index: cells.length, values: { ...values }, overrides: { ...overrides } });
      return;
    }
    const dim = dimensions[d];
    dim.labels.forEach((label, i) => {
      walk(d + 1, { ...values, [dim.dimension]: label }, { ...overrides, [dim.dimension]: dim.overrides[i] });
    });
  };
  walk(0, {}, {});
  return { dimensions, cells, problems };
}

/** `a / b / c` of a cell's values (the varied dimensions in order), or `all` for the one cell. */
export function cellLabel(cell: Pick<ExperimentCell, 'values'>): string {
  const parts = DIMENSIONS.flatMap((d) => (cell.values[d] !== undefined ? [cell.values[d]] : []));
  return parts.length > 0 ? parts.join(' · ') : 'as written';
}

// --- Selecting instructions -----------------------------------------------------------------------

export interface Selector {
  /** Absolute URIs: folders and files (matched as prefixes and exactly), and glob patterns. */
  folders: string[];
  files: string[];
  globs: RegExp[];
  /** Instructions must carry one of these tags (none: no tag filter). */
  tags: string[];
}

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const isGlob = (s: string) => /[*?]/.test(s);

/** The selector of `instructions` entries, relative to the experiment file's folder. */
export function instructionSelector(entries: readonly string[], experimentUri: string): Selector {
  const dir = dirname(experimentUri);
  const s: Selector = { folders: [], files: [], globs: [], tags: [] };
  for (const raw of entries) {
    const e = raw.trim();
    if (e.startsWith('tag:')) {
      const t = e.slice(4).trim();
      if (t !== '') s.tags.push(t);
    } else if (isGlob(e)) {
      // Resolve the part before the first wildcard as a path; keep the wildcards as written.
      const cut = e.search(/[*?]/);
      const slash = e.lastIndexOf('/', cut);
      const base = slash >= 0 ? resolvePath(dir, e.slice(0, slash) || '/') : dir;
      const rest = slash >= 0 ? e.slice(slash + 1) : e;
      s.globs.push(globToRegExp(`${base.replace(/\/$/, '')}/${rest}`));
    } else if (/\.medalign$/i.test(e)) s.files.push(resolvePath(dir, e));
    else s.folders.push(resolvePath(dir, e).replace(/\/$/, ''));
  }
  // Only tags given: every instruction of the project, filtered by them.
  return s;
}

/** True when the file (a URI) is selected by its paths (tags are checked by `selectInstructions`). */
export function pathSelected(s: Selector, uri: string): boolean {
  if (s.folders.length === 0 && s.files.length === 0 && s.globs.length === 0) return true;
  if (s.files.includes(uri)) return true;
  if (s.folders.some((f) => uri.startsWith(f + '/'))) return true;
  return s.globs.some((g) => g.test(uri));
}

/**
 * The instruction files (URIs, sorted) an experiment selects out of `candidates` (the project's
 * instruction files). `tagsOf` is asked only when the experiment filters by tag.
 */
export async function selectInstructions(
  s: Selector,
  candidates: Iterable<string>,
  tagsOf: (uri: string) => Promise<readonly string[]> | readonly string[],
): Promise<string[]> {
  const out: string[] = [];
  for (const uri of candidates) {
    if (!pathSelected(s, uri)) continue;
    if (s.tags.length > 0) {
      const tags = await tagsOf(uri);
      if (!s.tags.some((t) => tags.includes(t))) continue;
    }
    out.push(uri);
  }
  return out.sort();
}

export interface PlannedRun {
  /** The instruction file (URI). */
  instruction: string;
  cell: number;
}

/** Every run of the experiment: each instruction in each cell, instruction by instruction. */
export function plannedRuns(instructions: readonly string[], cells: readonly ExperimentCell[]): PlannedRun[] {
  const out: PlannedRun[] = new Array<PlannedRun>(instructions.length * cells.length);
  let k = 0;
  for (const instruction of instructions) for (const c of cells) out[k++] = { instruction, cell: c.index };
  return out;
}

/** `▶ Run experiment · 24 runs` and friends: the size, before anything is sent. */
export function sizeSentence(instructions: number, cells: number): string {
  const runs = instructions * cells;
  return `${instructions} instruction${instructions === 1 ? '' : 's'} × ${cells} cell${cells === 1 ? '' : 's'} = ${runs} run${runs === 1 ? '' : 's'}`;
}
