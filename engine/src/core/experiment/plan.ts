/**
 * Planning an experiment: which instructions it selects (folders, files, globs, tags), its cells
 * (every combination of the values given for template, model, context, strategy and the refine
 * settings — these only where the strategy is `refine`; a dimension left out takes each
 * instruction's own value) and its runs (instructions × cells). Pure: the caller
 * lists the project's instruction files and reads tags only when a `tag:` filter asks for them.
 */
import type { RunOverrides } from '../features/runSettings';
import { BUILTIN_TEMPLATE, refineOverrideProblem } from '../features/runSettings';
import { checkContext, checkStrategy } from '../schema/schemas';
import { dirname, resolvePath } from '../util/uri';
import type { ExperimentSpec } from './spec';

/** The dimensions an experiment varies, in the order cells are listed. */
export const DIMENSIONS = [
  'template',
  'model',
  'context',
  'strategy',
  'refine.order',
  'refine.template',
  'refine.maxSteps',
] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** `strategy: refine`'s settings: they vary only the cells whose strategy is `refine`. */
export const REFINE_DIMENSIONS: readonly Dimension[] = ['refine.order', 'refine.template', 'refine.maxSteps'];
export const isRefineDimension = (d: Dimension): boolean => REFINE_DIMENSIONS.includes(d);

/** The run override each dimension sets. */
const OVERRIDE_KEY = {
  template: 'template',
  model: 'model',
  context: 'context',
  strategy: 'strategy',
  'refine.order': 'refineOrder',
  'refine.template': 'refineTemplate',
  'refine.maxSteps': 'refineMaxSteps',
} as const satisfies Record<Dimension, keyof RunOverrides>;

/** A dimension's name in sentences and headers. */
export const DIMENSION_LABELS: Record<Dimension, string> = {
  template: 'template',
  model: 'model',
  context: 'context',
  strategy: 'strategy',
  'refine.order': 'refine order',
  'refine.template': 'refine template',
  'refine.maxSteps': 'refine steps',
};

/**
 * A value as a sentence names it: the value itself for template, model, context, strategy and
 * order (`newest-first`); `at most 5 steps`; `refine prompt terse.prompt` (`the built-in refine prompt`).
 */
export function valueLabel(d: Dimension, v: string): string {
  if (d === 'refine.maxSteps') return `at most ${v} step${v === '1' ? '' : 's'}`;
  if (d === 'refine.template')
    return v === BUILTIN_TEMPLATE ? 'the built-in refine prompt' : `refine prompt ${v}`;
  return v;
}

/** A value with its dimension, for the values two compared cells share (`model gpt`, `at most 5 steps`). */
export function fixedLabel(d: Dimension, v: string): string {
  return d === 'refine.maxSteps' || d === 'refine.template'
    ? valueLabel(d, v)
    : `${DIMENSION_LABELS[d]} ${v}`;
}

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
  const refine = spec.refine;
  if (refine?.order) {
    refine.order.forEach((o, index) => {
      const bad = refineOverrideProblem('order', o);
      if (bad !== undefined) problems.push({ dimension: 'refine.order', index, message: bad });
    });
    dimensions.push({ dimension: 'refine.order', labels: [...refine.order], overrides: [...refine.order] });
  }
  if (refine?.template) {
    dimensions.push({
      dimension: 'refine.template',
      labels: refine.template.map((t) => t.trim()),
      overrides: refine.template.map((t) =>
        t.trim() === BUILTIN_TEMPLATE ? BUILTIN_TEMPLATE : resolvePath(dir, t.trim()),
      ),
    });
  }
  if (refine?.maxSteps) {
    refine.maxSteps.forEach((n, index) => {
      const bad = refineOverrideProblem('maxSteps', n);
      if (bad !== undefined) problems.push({ dimension: 'refine.maxSteps', index, message: bad });
    });
    const labels = refine.maxSteps.map(String);
    dimensions.push({ dimension: 'refine.maxSteps', labels, overrides: labels });
  }
  const cells: ExperimentCell[] = [];
  const walk = (d: number, values: Partial<Record<Dimension, string>>, overrides: RunOverrides) => {
    if (d === dimensions.length) {
      cells.push({ index: cells.length, values: { ...values }, overrides: { ...overrides } });
      return;
    }
    const dim = dimensions[d];
    // A refine setting does nothing to a cell of another strategy: that cell is planned once.
    if (isRefineDimension(dim.dimension) && values.strategy !== undefined && values.strategy !== 'refine') {
      walk(d + 1, values, overrides);
      return;
    }
    const key = OVERRIDE_KEY[dim.dimension];
    dim.labels.forEach((label, i) => {
      const o = dim.overrides[i];
      walk(
        d + 1,
        { ...values, [dim.dimension]: label },
        { ...overrides, [key]: key === 'refineMaxSteps' ? Number(o) : o },
      );
    });
  };
  walk(0, {}, {});
  return { dimensions, cells, problems };
}

/** `a / b / c` of a cell's values (the varied dimensions in order), or `all` for the one cell. */
export function cellLabel(cell: Pick<ExperimentCell, 'values'>): string {
  const parts = DIMENSIONS.flatMap((d) => {
    const v = cell.values[d];
    if (v === undefined) return [];
    // Refine settings named, as bare values (`5`, `builtin`) would not say what they are.
    return [d === 'refine.maxSteps' ? `≤${v} steps` : d === 'refine.template' ? `refine ${v}` : v];
  });
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
