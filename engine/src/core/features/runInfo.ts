/**
 * What the run-lens, the status bar and the pickers show about an instruction and its project, all
 * from the one resolution in runSettings.ts (the editor asks the language server for it over
 * `medalign/instructionInfo` and `medalign/projectInfo`; it never parses front matter itself).
 */
import type { FileSystem } from '../host';
import type { InstructionFile } from '../format/parse';
import { sectionText } from '../format/parse';
import { contextSizes, strategies } from '../schema/schemas';
import { endpointNeedsKey, endpointTarget } from '../run/guard';
import type { EndpointConfig, ProjectConfig } from '../workspace/config';
import { normalizeId } from '../workspace/idIndex';
import type { Workspace } from '../workspace/workspace';
import { resolveRunSettings } from './runSettings';
import type { RunOverrides, SettingSource } from './runSettings';
import { SECTION_GOLD, SECTION_INSTRUCTION } from './sections';

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
  contextSizes: string[];
  strategies: string[];
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
    contextSizes: [...contextSizes],
    strategies: [...strategies],
  };
  const id = normalizeId(file.data?.['id']);
  if (id !== undefined) info.id = id;
  if (section) info.instructionOffset = section.heading.start;
  return info;
}
