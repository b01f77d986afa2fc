/**
 * Experiment files (`<name>.experiment.json`): the one resolution of an experiment (its spec, cells,
 * selected instructions and size) for the CodeLens, the run command and the CLI, and its diagnostics
 * beyond the schema (templates that do not exist or are outside the project, models the config does
 * not know, scorers it does not declare, a selection that matches nothing). The schema's own
 * diagnostics and completion come from the editor's JSON support (package.json `jsonValidation`);
 * the language server adds model ids and template paths to completion.
 */
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Node } from 'yaml';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { CompletionList, Diagnostic } from 'vscode-languageserver-types';
import { CompletionItemKind, DiagnosticSeverity, Range } from 'vscode-languageserver-types';
import type { FileSystem } from '../host';
import { parseInstruction } from '../format/parse';
import { BUILTIN_TEMPLATE } from './runSettings';
import { BASELINE_MODEL, CONFIG_FILE_NAME } from '../workspace/config';
import type { Workspace } from '../workspace/workspace';
import { INSTRUCTION_EXT, TEMPLATE_EXT } from '../workspace/workspace';
import { joinPath, relativePath, dirname } from '../util/uri';
import { SOURCE } from './document';
import type { CellPlan, Dimension } from '../experiment/plan';
import {
  instructionSelector,
  planCells,
  plannedRuns,
  selectInstructions,
  sizeSentence,
} from '../experiment/plan';
import type { RunJob } from '../run/prepared';
import { URI } from 'vscode-uri';
import type { ExperimentSpec } from '../experiment/spec';
import { experimentName, parseExperiment } from '../experiment/spec';

export interface ExperimentProblem {
  path: (string | number)[];
  message: string;
  severity: 'error' | 'warning';
  code: string;
}

export interface ExperimentResolution {
  name: string;
  spec?: ExperimentSpec;
  cells?: CellPlan;
  /** Selected instruction files (URIs, sorted). */
  instructions: string[];
  /** instructions × cells */
  runs: number;
  /** `12 instructions × 4 cells = 48 runs` */
  size: string;
  problems: ExperimentProblem[];
  /** True when nothing stops it from running. */
  runnable: boolean;
}

/** One run of an experiment: an instruction (a path) in a cell, with the cell's overrides. */
export interface ExperimentJob extends RunJob {
  cell: number;
}

/**
 * The jobs of a resolved experiment, instruction by instruction (files as paths): what the editor's
 * and the CLI's experiment runs run, planned once here.
 */
export function experimentJobs(r: ExperimentResolution): ExperimentJob[] {
  if (!r.cells) return [];
  const cells = r.cells.cells;
  return plannedRuns(r.instructions, cells).map((p) => ({
    file: URI.parse(p.instruction).fsPath,
    cell: p.cell,
    ...cells[p.cell].overrides,
  }));
}

const SKIP = new Set(['node_modules', '.git', '.medalign', 'out', 'dist', '.vscode-test', 'test-artifacts']);
const MAX_FILES = 50_000;

/** Every instruction file under `root` (URIs), dot-folders and build folders skipped. */
export async function listInstructionFiles(fs: FileSystem, root: string): Promise<string[]> {
  const out: string[] = [];
  const queue = [root];
  let seen = 0;
  while (queue.length > 0 && seen < MAX_FILES) {
    const dirs = queue.splice(0, 16);
    const listings = await Promise.all(dirs.map(async (d) => [d, await fs.readDirectory(d)] as const));
    for (const [dir, entries] of listings) {
      for (const [name, type] of entries) {
        seen++;
        if (type === 'directory') {
          if (!SKIP.has(name) && !name.startsWith('.')) queue.push(joinPath(dir, name));
        } else if (type === 'file' && name.endsWith(INSTRUCTION_EXT)) out.push(joinPath(dir, name));
      }
    }
  }
  return out.sort();
}

/** The tags of an instruction file (its front matter's `tags`). */
export async function instructionTags(fs: FileSystem, uri: string): Promise<string[]> {
  const text = await fs.readFile(uri);
  if (text === undefined) return [];
  const tags = parseInstruction(text).data?.['tags'];
  return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
}

/** Where a dimension's list is in the file: `['model']`, `['refine', 'order']`. */
export function dimensionPath(d: Dimension): string[] {
  return d.split('.');
}

/** Resolves an experiment file of the project `ws`. */
export async function resolveExperiment(
  text: string,
  uri: string,
  ws: Workspace,
  fs: FileSystem,
): Promise<ExperimentResolution> {
  const name = experimentName(uri);
  const parsed = parseExperiment(text);
  if (!parsed.ok) {
    return {
      name,
      instructions: [],
      runs: 0,
      size: 'not runnable',
      problems: parsed.problems.map((p) => ({ ...p, severity: 'error', code: 'experiment-schema' })),
      runnable: false,
    };
  }
  const spec = parsed.spec;
  const problems: ExperimentProblem[] = [];
  const cells = planCells(spec, uri);
  for (const p of cells.problems) {
    problems.push({
      path: [...dimensionPath(p.dimension), p.index],
      message: p.message,
      severity: 'error',
      code: 'experiment-value',
    });
  }
  // Templates and refine templates: each must exist inside the project (or an allowed root).
  for (const tdim of cells.dimensions.filter(
    (d) => d.dimension === 'template' || d.dimension === 'refine.template',
  )) {
    const what = tdim.dimension === 'template' ? 'template' : 'refine template';
    const at = dimensionPath(tdim.dimension);
    await Promise.all(
      tdim.overrides.map(async (t, i) => {
        if (t === BUILTIN_TEMPLATE) return;
        const outside = await ws.checkBounds(t, 'template');
        if (outside) {
          problems.push({
            path: [...at, i],
            message: outside.message,
            severity: 'error',
            code: 'experiment-template',
          });
          return;
        }
        const st = await fs.stat(t);
        if (st?.type !== 'file') {
          problems.push({
            path: [...at, i],
            message: `The ${what} ${tdim.labels[i]} does not exist.`,
            severity: 'error',
            code: 'experiment-template',
          });
        } else if (!t.endsWith(TEMPLATE_EXT)) {
          problems.push({
            path: [...at, i],
            message: `${tdim.labels[i]} is not a ${TEMPLATE_EXT} template.`,
            severity: 'warning',
            code: 'experiment-template',
          });
        }
      }),
    );
  }
  // Refine settings with a strategy list that has no `refine`: they would change nothing.
  if (spec.refine && spec.strategy && !spec.strategy.includes('refine')) {
    problems.push({
      path: ['refine'],
      message:
        'The refine settings vary only runs with strategy refine, and `strategy` does not list it: add "refine" to `strategy`, or remove `refine`.',
      severity: 'warning',
      code: 'experiment-refine-unused',
    });
  }
  const ids = ws.config.endpoints.map((e) => e.id);
  (spec.model ?? []).forEach((m, i) => {
    if (m !== BASELINE_MODEL && !ids.includes(m)) {
      problems.push({
        path: ['model', i],
        message: `Model '${m}' is neither '${BASELINE_MODEL}' nor an endpoint id in ${CONFIG_FILE_NAME}${ids.length ? ` (${ids.join(', ')})` : ''}.`,
        severity: 'error',
        code: 'experiment-model',
      });
    }
  });
  const scorerIds = (ws.config.scorers ?? []).map((s) => s.id);
  (spec.scorers ?? []).forEach((s, i) => {
    if (!scorerIds.includes(s)) {
      problems.push({
        path: ['scorers', i],
        message: `No scorer '${s}' in ${CONFIG_FILE_NAME}${scorerIds.length ? ` (${scorerIds.join(', ')})` : ''}.`,
        severity: 'error',
        code: 'experiment-scorer',
      });
    }
  });
  const selector = instructionSelector(spec.instructions, uri);
  const instructions = await selectInstructions(selector, await listInstructionFiles(fs, ws.root), (u) =>
    instructionTags(fs, u),
  );
  if (instructions.length === 0) {
    problems.push({
      path: ['instructions'],
      message: `No instruction in the project matches ${spec.instructions.map((s) => `'${s}'`).join(', ')}.`,
      severity: 'warning',
      code: 'experiment-empty',
    });
  }
  problems.sort((a, b) => a.path.join('.').localeCompare(b.path.join('.')));
  const runs = instructions.length * cells.cells.length;
  return {
    name,
    spec,
    cells,
    instructions,
    runs,
    size: sizeSentence(instructions.length, cells.cells.length),
    problems,
    runnable: runs > 0 && !problems.some((p) => p.severity === 'error'),
  };
}

/** The span of the value at `path` in JSON text (a JSON file is YAML; the `yaml` parser keeps offsets). */
export function spanAtJsonPath(
  text: string,
  path: readonly (string | number)[],
): { start: number; end: number } {
  const whole = {
    start: 0,
    end: Math.min(text.length, Math.max(1, text.indexOf('\n') < 0 ? text.length : text.indexOf('\n'))),
  };
  let node: Node | null | undefined;
  try {
    node = parseDocument(text, { prettyErrors: false }).contents;
  } catch {
    return whole;
  }
  let keySpan: { start: number; end: number } | undefined;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === seg);
      if (!pair) break;
      const k = pair.key as Node;
      if (k.range) keySpan = { start: k.range[0], end: k.range[1] };
      node = pair.value as Node | null;
      if (!node) return keySpan ?? whole;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) break;
      node = item;
    } else break;
  }
  if (node?.range && path.length > 0) return { start: node.range[0], end: node.range[1] };
  return keySpan ?? whole;
}

export function experimentDiagnostics(document: TextDocument, r: ExperimentResolution): Diagnostic[] {
  const text = document.getText();
  return r.problems.map((p) => {
    const s = spanAtJsonPath(text, p.path);
    return {
      range: Range.create(document.positionAt(s.start), document.positionAt(s.end)),
      message: p.message,
      severity: p.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
      code: p.code,
      source: SOURCE,
    };
  });
}

/**
 * Completion inside the `model`, `template` and `refine.template` lists (endpoint ids, `.prompt`
 * files of the project); keys and enums come from the schema through the editor's JSON support.
 */
export async function experimentCompletion(
  document: TextDocument,
  offset: number,
  ws: Workspace,
  fs: FileSystem,
): Promise<CompletionList | null> {
  const text = document.getText();
  const before = text.slice(0, offset);
  // The innermost open `"key": [` before the cursor, not yet closed.
  const m = /"(model|template)"\s*:\s*\[[^\]]*$/.exec(before);
  if (!m) return null;
  const quoteOpen = (before.slice(m.index).match(/"/g)?.length ?? 0) % 2 === 1;
  const wrap = (s: string) => (quoteOpen ? s : JSON.stringify(s));
  if (m[1] === 'model') {
    const items = [BASELINE_MODEL, ...ws.config.endpoints.map((e) => e.id)].map((id) => ({
      label: id,
      kind: CompletionItemKind.Value,
      insertText: wrap(id),
      detail:
        id === BASELINE_MODEL
          ? 'built-in, sends nothing'
          : ws.config.endpoints.find((e) => e.id === id)?.model,
    }));
    return { isIncomplete: false, items };
  }
  const dir = dirname(document.uri);
  const templates: string[] = [];
  const queue = [ws.root];
  while (queue.length > 0 && templates.length < 500) {
    const d = queue.shift()!;
    for (const [name, type] of await fs.readDirectory(d)) {
      if (type === 'directory' && !SKIP.has(name) && !name.startsWith('.')) queue.push(joinPath(d, name));
      else if (type === 'file' && name.endsWith(TEMPLATE_EXT)) templates.push(joinPath(d, name));
    }
  }
  // `"refine": { "template": [` lists refine prompts: the same files, another built-in.
  const inRefine = /"refine"\s*:\s*\{[^{}]*$/.test(before.slice(0, m.index));
  const items = [BUILTIN_TEMPLATE, ...templates.map((t) => relativePath(dir, t))].map((label) => ({
    label,
    kind: label === BUILTIN_TEMPLATE ? CompletionItemKind.Value : CompletionItemKind.File,
    insertText: wrap(label),
    detail:
      label === BUILTIN_TEMPLATE
        ? inRefine
          ? 'the built-in refine prompt'
          : "MedAlign's own prompt"
        : inRefine
          ? 'refine prompt ({{ehr}}, {{instruction}}, {{answer}})'
          : 'prompt template',
  }));
  return { isIncomplete: false, items };
}
