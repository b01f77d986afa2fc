/**
 * What an instruction would be run with: model (and its endpoint and tokenizer), context, strategy,
 * reserve, template and instruction text — from the front matter, falling back to the config's
 * defaults. Hovers, the prompt preview, the run-lens and the CLI all resolve it here.
 */
import type { FileSystem } from '../host';
import { sectionText } from '../format/parse';
import type { InstructionFile } from '../format/parse';
import { checkContext, checkStrategy } from '../schema/schemas';
import { BASELINE_MODEL, CONFIG_FILE_NAME } from '../workspace/config';
import type { EndpointConfig } from '../workspace/config';
import type { ResolvedTemplate, Workspace } from '../workspace/workspace';
import { tokenizerForModel } from '../tokens/models';
import type { TokenizerChoice } from '../tokens/models';
import type { PackStrategy } from '../packing/pack';
import type { PackRequest } from '../workspace/recordEngine';
import { SECTION_INSTRUCTION } from './sections';

/** A setting that cannot be used as written: every feature (diagnostics aside, which say it their
 * own way from the schema) refuses with this message rather than guessing another value. */
export interface RunSettingProblem {
  field: 'model' | 'context' | 'strategy' | 'template' | 'instruction';
  message: string;
}

/** Where a setting's value came from. */
export type SettingSource = 'override' | 'file' | 'default';

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
  from: { model: SettingSource; context: SettingSource; strategy: SettingSource };
  /** Empty when the instruction can be packed and run as resolved. */
  problems: RunSettingProblem[];
}

export interface RunOverrides {
  model?: string;
  context?: string | number;
  strategy?: string;
  /**
   * A template in place of the file's own (an experiment's or `run --template`'s dimension): a file
   * URI, or `builtin` for the built-in MedAlign template. Bounds are checked as for the file's own.
   */
  template?: string;
}

/** The `template` override that means the built-in MedAlign template. */
export const BUILTIN_TEMPLATE = 'builtin';

function pick<T>(override: T | undefined, file: T | undefined, fallback: T): [T, SettingSource] {
  if (override !== undefined) return [override, 'override'];
  if (file !== undefined) return [file, 'file'];
  return [fallback, 'default'];
}

/**
 * The one resolution of what an instruction runs with: the caller's overrides (a picker's window
 * choice, a CLI flag), else the front matter, else the config's defaults. Values the schema rejects
 * are not replaced by a default: they come back as `problems`, and preview, hovers, runs and the
 * CLI all refuse with the same message.
 */
export async function resolveRunSettings(
  file: InstructionFile,
  uri: string,
  workspace: Workspace,
  fs: FileSystem,
  overrides: RunOverrides = {},
): Promise<RunSettings> {
  const data = file.data ?? {};
  const defaults = workspace.config.defaults;
  const problems: RunSettingProblem[] = [];
  const fmModel = typeof data['model'] === 'string' && data['model'] !== '' ? data['model'] : undefined;
  const [model, modelFrom] = pick(overrides.model, fmModel, defaults.model);
  const endpoint = workspace.config.endpoints.find((e) => e.id === model);
  if (model !== BASELINE_MODEL && endpoint === undefined) {
    problems.push({
      field: 'model',
      message: `Model '${model}' is neither '${BASELINE_MODEL}' nor an endpoint id in ${CONFIG_FILE_NAME}.`,
    });
  }
  // `baseline` tokenizes nothing itself: count with cl100k_base, exactly.
  const tokenizer: TokenizerChoice =
    model === BASELINE_MODEL
      ? { encoding: 'cl100k_base', estimated: false, source: 'endpoint' }
      : tokenizerForModel(endpoint?.model ?? model, endpoint?.encoding);
  const fmContext = data['context'] as string | number | undefined;
  const [rawContext, contextFrom] = pick<string | number>(
    overrides.context,
    fmContext ?? undefined,
    defaults.context,
  );
  const ctx = checkContext(rawContext);
  if (!ctx.ok) problems.push({ field: 'context', message: `Context ${ctx.message}` });
  const fallback = checkContext(defaults.context);
  const fmStrategy = data['strategy'] as string | undefined;
  const [rawStrategy, strategyFrom] = pick<string>(
    overrides.strategy,
    fmStrategy ?? undefined,
    defaults.strategy,
  );
  const strat = checkStrategy(rawStrategy);
  if (!strat.ok) problems.push({ field: 'strategy', message: `Strategy ${strat.message}` });
  const section = file.sections.find((s) => s.name === SECTION_INSTRUCTION);
  const instruction = section ? sectionText(file, section) : '';
  if (instruction.trim() === '') {
    problems.push({ field: 'instruction', message: 'The `## Instruction` section is missing or empty.' });
  }
  const settings: RunSettings = {
    model,
    tokenizer,
    // With a problem the numbers below are only for display; nothing packs or runs with them.
    context: ctx.ok ? ctx.tokens : fallback.ok ? fallback.tokens : 32768,
    contextLabel: ctx.ok ? ctx.label : String(rawContext),
    strategy: strat.ok ? (strat.strategy as PackStrategy) : defaults.strategy,
    reserve: defaults.generationReserve,
    instruction,
    from: { model: modelFrom, context: contextFrom, strategy: strategyFrom },
    problems,
  };
  if (endpoint) settings.endpoint = endpoint;
  const t =
    overrides.template === undefined
      ? await workspace.resolveTemplate(uri, data)
      : overrides.template === BUILTIN_TEMPLATE
        ? undefined
        : await (async (): Promise<ResolvedTemplate> => {
            const r: ResolvedTemplate = { uri: overrides.template!, fromConfig: false };
            const outside = await workspace.checkBounds(r.uri, 'template');
            if (outside) r.outside = outside;
            return r;
          })();
  if (t?.outside) {
    settings.templateUri = t.uri;
    settings.templateOutside = t.outside.message;
    problems.push({ field: 'template', message: t.outside.message });
  } else if (t) {
    settings.templateUri = t.uri;
    const source = await fs.readFile(t.uri);
    if (source === undefined) {
      settings.templateMissing = true;
      problems.push({ field: 'template', message: `The template ${workspace.label(t.uri)} does not exist.` });
    } else settings.templateSource = source;
  }
  return settings;
}

/** The first problem's message, for callers that refuse with one sentence. */
export function settingsError(s: RunSettings): string | undefined {
  return s.problems[0]?.message;
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
