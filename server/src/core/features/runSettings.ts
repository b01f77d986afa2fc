/**
 * What an instruction would be run with: model (and its endpoint and tokenizer), context, strategy,
 * reserve, template and instruction text — from the front matter, falling back to the config's
 * defaults. Hovers, the prompt preview, the run-lens and the CLI all resolve it here.
 */
import type { FileSystem } from '../host';
import { sectionText } from '../format/parse';
import type { InstructionFile } from '../format/parse';
import { parseContextSize } from '../schema/schemas';
import { BASELINE_MODEL } from '../workspace/config';
import type { EndpointConfig } from '../workspace/config';
import type { Workspace } from '../workspace/workspace';
import { tokenizerForModel } from '../tokens/models';
import type { TokenizerChoice } from '../tokens/models';
import type { PackStrategy } from '../packing/pack';
import type { PackRequest } from '../workspace/recordEngine';
import { SECTION_INSTRUCTION } from './sections';

export interface RunSettings {
  /** `baseline` or an endpoint id. */
  model: string;
  endpoint?: EndpointConfig;
  tokenizer: TokenizerChoice;
  /** Context window in tokens, and how it was written. */
  context: number;
  contextLabel: string;
  strategy: PackStrategy;
  reserve: number;
  instruction: string;
  templateUri?: string;
  /** The template's text; `undefined` means the built-in MedAlign template. */
  templateSource?: string;
  /** The template file is named but could not be read. */
  templateMissing?: boolean;
  /** The template is outside the workspace (workspace/bounds.ts): why it was not read. */
  templateOutside?: string;
}

const STRATEGIES: readonly PackStrategy[] = ['recent', 'bm25', 'none'];

export async function resolveRunSettings(
  file: InstructionFile,
  uri: string,
  workspace: Workspace,
  fs: FileSystem,
  overrides: { model?: string; context?: string | number; strategy?: PackStrategy } = {},
): Promise<RunSettings> {
  const data = file.data ?? {};
  const defaults = workspace.config.defaults;
  const model =
    overrides.model ?? (typeof data['model'] === 'string' && data['model'] ? data['model'] : defaults.model);
  const endpoint = workspace.config.endpoints.find((e) => e.id === model);
  // `baseline` tokenizes nothing itself: count with cl100k_base, exactly.
  const tokenizer: TokenizerChoice =
    model === BASELINE_MODEL
      ? { encoding: 'cl100k_base', estimated: false, source: 'endpoint' }
      : tokenizerForModel(endpoint?.model ?? model, endpoint?.encoding);
  const rawContext =
    overrides.context ?? (data['context'] as string | number | undefined) ?? defaults.context;
  const context = parseContextSize(rawContext) ?? parseContextSize(defaults.context) ?? 32768;
  const rawStrategy = overrides.strategy ?? data['strategy'];
  const strategy = STRATEGIES.includes(rawStrategy as PackStrategy)
    ? (rawStrategy as PackStrategy)
    : defaults.strategy;
  const section = file.sections.find((s) => s.name === SECTION_INSTRUCTION);
  const settings: RunSettings = {
    model,
    tokenizer,
    context,
    contextLabel: typeof rawContext === 'number' ? String(rawContext) : String(rawContext),
    strategy,
    reserve: defaults.generationReserve,
    instruction: section ? sectionText(file, section) : '',
  };
  if (endpoint) settings.endpoint = endpoint;
  const t = await workspace.resolveTemplate(uri, data);
  if (t?.outside) {
    settings.templateUri = t.uri;
    settings.templateOutside = t.outside.message;
  } else if (t) {
    settings.templateUri = t.uri;
    const source = await fs.readFile(t.uri);
    if (source === undefined) settings.templateMissing = true;
    else settings.templateSource = source;
  }
  return settings;
}

export function packRequest(s: RunSettings): PackRequest {
  const req: PackRequest = {
    encoding: s.tokenizer.encoding,
    estimated: s.tokenizer.estimated,
    instruction: s.instruction,
    reserve: s.reserve,
    context: s.context,
    strategy: s.strategy,
  };
  if (s.templateSource !== undefined) req.template = s.templateSource;
  return req;
}

/** The tokenizer of the config's default model (record files are not tied to one instruction). */
export function defaultTokenizer(workspace: Workspace): TokenizerChoice {
  const model = workspace.config.defaults.model;
  if (model === BASELINE_MODEL) return { encoding: 'cl100k_base', estimated: false, source: 'endpoint' };
  const endpoint = workspace.config.endpoints.find((e) => e.id === model);
  return tokenizerForModel(endpoint?.model ?? model, endpoint?.encoding);
}
