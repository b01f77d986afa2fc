/**
 * What an instruction would be run with: model (and its endpoint and tokenizer), context, strategy,
 * reserve, template and instruction text — from the front matter, falling back to the config's
 * defaults. Hovers, the prompt preview, the run-lens and the CLI all resolve it here.
 */
import type { FileSystem } from '../host';
import { sectionText } from '../format/parse';
import type { InstructionFile } from '../format/parse';
import { checkContext, checkStrategy } from '../schema/schemas';
import {
  BASELINE_MODEL,
  CONFIG_FILE_NAME,
  DEFAULT_REFINE_MAX_STEPS,
  DEFAULT_REFINE_ORDER,
  readRefineSettings,
  refineDefaults,
} from '../workspace/config';
import type { EndpointConfig, RefineOrder } from '../workspace/config';
import { dirname, resolvePath } from '../util/uri';
import { contextWindowProblem } from './contextWindow';
import type { ResolvedTemplate, Workspace } from '../workspace/workspace';
import { tokenizerForModel } from '../tokens/models';
import type { TokenizerChoice } from '../tokens/models';
import type { PackStrategy } from '../packing/pack';
import type { PackRequest } from '../workspace/recordEngine';
import { SECTION_INSTRUCTION } from './sections';
import { resolveEndpointTokenizer } from '../workspace/endpointTokenizer';

/** A setting that cannot be used as written: every feature (diagnostics aside, which say it their
 * own way from the schema) refuses with this message rather than guessing another value. */
export interface RunSettingProblem {
  field: 'model' | 'context' | 'strategy' | 'template' | 'instruction' | 'tokenizer' | 'refine';
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
  /** `strategy: refine`'s settings: the instruction's `refine:`, else the config's `defaults.refine`. */
  refine?: RefineSettings;
  /** Empty when the instruction can be packed and run as resolved. */
  problems: RunSettingProblem[];
}

export interface RefineSettings {
  order: RefineOrder;
  maxSteps: number;
  /** The refine template's URI and text; both absent: the built-in refine prompt. */
  templateUri?: string;
  templateSource?: string;
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
  /** `strategy: refine`'s settings in place of the file's `refine:` and the config's (an experiment's
   * `refine` dimensions); they matter only when the strategy is `refine`. */
  refineOrder?: string;
  /** A refine template file URI, or `builtin` for the built-in refine prompt. */
  refineTemplate?: string;
  refineMaxSteps?: number;
}

/** The overrides of a job or a request: only the keys that are set. */
export function runOverridesOf(o: RunOverrides | undefined): RunOverrides {
  const out: RunOverrides = {};
  if (o === undefined) return out;
  if (o.model !== undefined) out.model = o.model;
  if (o.context !== undefined) out.context = o.context;
  if (o.strategy !== undefined) out.strategy = o.strategy;
  if (o.template !== undefined) out.template = o.template;
  if (o.refineOrder !== undefined) out.refineOrder = o.refineOrder;
  if (o.refineTemplate !== undefined) out.refineTemplate = o.refineTemplate;
  if (o.refineMaxSteps !== undefined) out.refineMaxSteps = o.refineMaxSteps;
  return out;
}

/** The refine orders (the schema's `refine.order` enum). */
export const REFINE_ORDERS: readonly RefineOrder[] = ['oldest-first', 'newest-first'];
/** The bounds of `refine.maxSteps` (the schema's). */
export const REFINE_MAX_STEPS_BOUNDS = { min: 1, max: 1000 } as const;

/** Why a refine override cannot be used (`undefined`: it can). */
export function refineOverrideProblem(key: 'order' | 'maxSteps', v: unknown): string | undefined {
  if (key === 'order') {
    return REFINE_ORDERS.includes(v as RefineOrder)
      ? undefined
      : `Refine order ${JSON.stringify(v)} is not one of ${REFINE_ORDERS.join(', ')}.`;
  }
  const { min, max } = REFINE_MAX_STEPS_BOUNDS;
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
    ? undefined
    : `Refine maxSteps ${JSON.stringify(v)} must be a whole number from ${min} to ${max}.`;
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
  const resolvedTokenizer = await modelTokenizer(model, endpoint, workspace, fs);
  const tokenizer = resolvedTokenizer.tokenizer;
  if (resolvedTokenizer.problem !== undefined) {
    problems.push({ field: 'tokenizer', message: resolvedTokenizer.problem });
  }
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
  // The endpoint's context window (config `contextWindow`): a larger context is refused everywhere.
  if (ctx.ok && endpoint !== undefined) {
    const w = contextWindowProblem(ctx.tokens, ctx.label, endpoint);
    if (w !== undefined) problems.push({ field: 'context', message: w.message });
  }
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
  if (settings.strategy === 'refine') await resolveRefine(settings, data, uri, workspace, fs, overrides);
  return settings;
}

/** `refine:` of the front matter over the config's `defaults.refine`, with the refine template read. */
async function resolveRefine(
  settings: RunSettings,
  data: Record<string, unknown>,
  uri: string,
  workspace: Workspace,
  fs: FileSystem,
  overrides: RunOverrides,
): Promise<void> {
  const own = readRefineSettings(data['refine']);
  const defaults = refineDefaults(workspace.config);
  const refine: RefineSettings = {
    order: own.order ?? defaults.order,
    maxSteps: own.maxSteps ?? defaults.maxSteps,
  };
  settings.refine = refine;
  if (overrides.refineOrder !== undefined) {
    const bad = refineOverrideProblem('order', overrides.refineOrder);
    if (bad !== undefined) settings.problems.push({ field: 'refine', message: bad });
    else refine.order = overrides.refineOrder as RefineOrder;
  }
  if (overrides.refineMaxSteps !== undefined) {
    const bad = refineOverrideProblem('maxSteps', overrides.refineMaxSteps);
    if (bad !== undefined) settings.problems.push({ field: 'refine', message: bad });
    else refine.maxSteps = overrides.refineMaxSteps;
  }
  const target =
    overrides.refineTemplate !== undefined
      ? overrides.refineTemplate === BUILTIN_TEMPLATE
        ? undefined
        : overrides.refineTemplate
      : own.template !== undefined
        ? resolvePath(dirname(uri), own.template)
        : defaults.template !== undefined
          ? resolvePath(workspace.root, defaults.template)
          : undefined;
  if (target === undefined) return;
  refine.templateUri = target;
  const outside = await workspace.checkBounds(target, 'template');
  if (outside) {
    settings.problems.push({ field: 'refine', message: outside.message });
    return;
  }
  const source = await fs.readFile(target);
  if (source === undefined) {
    settings.problems.push({
      field: 'refine',
      message: `The refine template ${workspace.label(target)} does not exist.`,
    });
  } else refine.templateSource = source;
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
  if (s.tokenizer.chat !== undefined) req.chat = s.tokenizer.chat;
  if (s.templateSource !== undefined) req.template = s.templateSource;
  if (s.strategy === 'refine') {
    const r = s.refine ?? { order: DEFAULT_REFINE_ORDER, maxSteps: DEFAULT_REFINE_MAX_STEPS };
    req.refine = { order: r.order, maxSteps: r.maxSteps };
    if (r.templateSource !== undefined) req.refine.template = r.templateSource;
  }
  return req;
}

/**
 * The tokenizer of a model (`baseline` or an endpoint id): the endpoint's `tokenizer` setting
 * (workspace/endpointTokenizer.ts), else its encoding or model name. When the setting cannot be
 * used, the model name's tokenizer and the problem.
 */
async function modelTokenizer(
  model: string,
  endpoint: EndpointConfig | undefined,
  workspace: Workspace,
  fs: FileSystem,
): Promise<{ tokenizer: TokenizerChoice; problem?: string }> {
  if (model === BASELINE_MODEL) {
    return { tokenizer: { encoding: 'cl100k_base', estimated: false, source: 'endpoint' } };
  }
  if (endpoint === undefined) return { tokenizer: tokenizerForModel(model) };
  const r = await resolveEndpointTokenizer(endpoint, workspace, fs);
  if (r.ok) return { tokenizer: r.tokenizer };
  return { tokenizer: tokenizerForModel(endpoint.model, endpoint.encoding), problem: r.message };
}

/** The tokenizer of the config's default model (record files are not tied to one instruction). */
export async function defaultTokenizer(workspace: Workspace, fs: FileSystem): Promise<TokenizerChoice> {
  const model = workspace.config.defaults.model;
  const endpoint = workspace.config.endpoints.find((e) => e.id === model);
  return (await modelTokenizer(model, endpoint, workspace, fs)).tokenizer;
}
