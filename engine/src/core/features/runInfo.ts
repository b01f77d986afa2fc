/**
 * What the run-lens, the status bar and the pickers show about an instruction and its project, all
 * from the one resolution in runSettings.ts (the editor asks the language server for it over
 * `medalign/instructionInfo` and `medalign/projectInfo`; it never parses front matter itself).
 */
import type { FileSystem } from '../host';
import type { InstructionFile, Span } from '../format/parse';
import { sectionText } from '../format/parse';
import { contextSizes, strategies } from '../schema/schemas';
import { endpointNeedsKey, endpointTarget } from '../run/guard';
import type { EndpointConfig, ProjectConfig } from '../workspace/config';
import { normalizeId } from '../workspace/idIndex';
import type { Workspace } from '../workspace/workspace';
import { packRequest, resolveRunSettings } from './runSettings';
import type { RunOverrides, SettingSource } from './runSettings';
import { SECTION_GOLD, SECTION_INSTRUCTION } from './sections';
import { pairFor } from './document';

export interface EndpointSummary {
  endpoint: EndpointConfig;
  origin?: string;
  host?: string;
  loopback: boolean;
  needsKey: boolean;
  problem?: string;
}

export interface ProjectSummary {
  /** The project folder's URI. */
  root: string;
  hasConfig: boolean;
  defaults: ProjectConfig['defaults'];
  endpoints: EndpointSummary[];
  configProblems: string[];
  /** The config's `review` section (folder, blinding, error tags, reviewer). */
  review: ProjectConfig['review'];
}

export interface InstructionRunInfo {
  id?: string;
  model: string;
  context: string;
  strategy: string;
  from: { model: SettingSource; context: SettingSource; strategy: SettingSource };
  problems: string[];
  /** Offset of the `## Instruction` heading. */
  instructionOffset?: number;
  gold: string;
  /** The `## Instruction` section's text (what a reviewer reads above the answers). */
  instruction: string;
  contextSizes: string[];
  strategies: string[];
  /** `strategy: refine`: how many steps the packer plans (what the run-lens shows before running). */
  refineSteps?: number;
  /** The model's endpoint's context window (`contextWindow`), when the config gives one. */
  contextWindow?: number;
  /**
   * Why the file cannot run as it is, and where (the run-lens shows it instead of ▶ Run and links
   * to it): a broken front matter first, then an invalid model, context, strategy, template or a
   * missing `## Instruction`.
   */
  blocker?: RunBlocker;
}

export interface RunBlocker {
  message: string;
  /** The span of the problem in the file (the value that is wrong, or the front matter). */
  span: Span;
}

/** Why `file` cannot run, from its syntax problems and the resolved settings' problems. */
export function runBlocker(
  file: InstructionFile,
  problems: readonly { field: string; message: string }[],
  from: { model: SettingSource; context: SettingSource; strategy: SettingSource },
): RunBlocker | undefined {
  const syntax = file.problems.find((p) => p.severity === 'error');
  if (syntax) return { message: `The front matter is broken: ${syntax.message}`, span: syntax.span };
  const first = problems[0];
  if (!first) return undefined;
  const fallback: Span = file.frontMatter?.open ?? { start: 0, end: 0 };
  let span: Span | undefined;
  if (first.field === 'model' || first.field === 'context' || first.field === 'strategy') {
    if (from[first.field] === 'file') span = pairFor(file, first.field)?.valueSpan;
  } else if (first.field === 'template') {
    span = pairFor(file, 'template')?.valueSpan;
  } else if (first.field === 'instruction') {
    span = file.sections.find((x) => x.name === SECTION_INSTRUCTION)?.heading;
  } else if (first.field === 'tokenizer' && from.model === 'file') {
    // The endpoint's tokenizer is in the config; in this file, the model names the endpoint.
    span = pairFor(file, 'model')?.valueSpan;
  }
  return { message: first.message, span: span ?? fallback };
}

export function summarizeEndpoint(endpoint: EndpointConfig): EndpointSummary {
  const t = endpointTarget(endpoint);
  const out: EndpointSummary = { endpoint, loopback: false, needsKey: endpointNeedsKey(endpoint) };
  if (t.ok) {
    out.origin = t.target.origin;
    out.host = t.target.host;
    out.loopback = t.target.loopback;
  } else out.problem = t.message;
  return out;
}

export function summarizeProject(workspace: Workspace): ProjectSummary {
  return {
    root: workspace.root,
    hasConfig: workspace.loaded.found,
    defaults: workspace.config.defaults,
    endpoints: workspace.config.endpoints.map(summarizeEndpoint),
    configProblems: workspace.loaded.problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)),
    review: workspace.config.review,
  };
}

export async function instructionRunInfo(
  file: InstructionFile,
  uri: string,
  workspace: Workspace,
  fs: FileSystem,
  overrides: RunOverrides = {},
): Promise<InstructionRunInfo> {
  const s = await resolveRunSettings(file, uri, workspace, fs, overrides);
  const section = file.sections.find((x) => x.name === SECTION_INSTRUCTION);
  const gold = file.sections.find((x) => x.name === SECTION_GOLD);
  const info: InstructionRunInfo = {
    model: s.model,
    context: s.contextLabel,
    strategy: s.problems.some((p) => p.field === 'strategy')
      ? String(overrides.strategy ?? file.data?.['strategy'])
      : s.strategy,
    from: s.from,
    problems: s.problems.map((p) => p.message),
    gold: gold ? sectionText(file, gold).trim() : '',
    instruction: section ? sectionText(file, section).trim() : '',
    contextSizes: [...contextSizes],
    strategies: [...strategies],
  };
  const id = normalizeId(file.data?.['id']);
  if (id !== undefined) info.id = id;
  if (section) info.instructionOffset = section.heading.start;
  const blocker = runBlocker(file, s.problems, s.from);
  if (blocker) info.blocker = blocker;
  if (s.endpoint?.contextWindow !== undefined) info.contextWindow = s.endpoint.contextWindow;
  if (s.strategy === 'refine' && s.problems.length === 0 && !blocker && file.data) {
    // The step count from the packer itself (the record's counts are cached by the hovers).
    const resolved = await workspace.resolveRecord(uri, file.data);
    if (resolved && !resolved.outside) {
      const rec = await workspace.records.get(resolved.uri);
      if (rec.exists && rec.key && rec.record?.ok) {
        const pack = await workspace.engine.pack(resolved.uri, rec.key, packRequest(s));
        if (pack?.ok && pack.refine) info.refineSteps = pack.refine.steps.length;
      }
    }
  }
  return info;
}
