/**
 * `medalign.config.json` at the workspace root: parsed, validated against config.schema.json and
 * filled with defaults. The CLI and the server read it through the same function.
 */
import { validateConfigData } from '../schema/schemas';

export const CONFIG_FILE_NAME = 'medalign.config.json';
export const BASELINE_MODEL = 'baseline';
/**
 * A config beyond this size is not read (a real one is a few kB): JSON and schema checks are linear
 * but a hostile multi-megabyte file would still hold the server's main thread (docs/format.md).
 */
export const CONFIG_MAX_CHARS = 262_144;
/** Schema problems reported per config; the rest are summed up in one more line. */
export const CONFIG_MAX_PROBLEMS = 20;

export type EndpointKind = 'openai' | 'azure-openai' | 'openai-compatible';

export interface EndpointConfig {
  id: string;
  kind: EndpointKind;
  model: string;
  baseUrl?: string;
  apiVersion?: string;
  contextWindow?: number;
  encoding?: 'cl100k_base' | 'o200k_base';
  /** `cl100k_base` | `o200k_base` | `hf:<path>` | `server` (workspace/endpointTokenizer.ts). */
  tokenizer?: string;
  apiKeyEnv?: string;
  headers?: Record<string, string>;
}

/** An external metric (`scorers` in the config): a local command that scores {src, mt, ref} lines. */
export interface ScorerConfig {
  id: string;
  command: string[];
  timeoutSeconds: number;
  batchSize: number;
  higherIsBetter: boolean;
  description?: string;
}

/** Names a scorer may not take: the built-in metrics (core/metrics/metrics.ts). */
const BUILTIN_METRIC_IDS = new Set(['rouge1', 'rouge2', 'rougeL', 'bleu', 'chrf', 'chrfpp']);

/** The `review` section: where review files go, blinding, error tags, the reviewer. */
export interface ReviewConfig {
  folder: string;
  blinded: boolean;
  errorTags: string[];
  reviewer?: string;
}

/** Error tags offered when the config names none (after the MedAlign paper's error analysis). */
export const DEFAULT_ERROR_TAGS: readonly string[] = [
  'wrong fact',
  'omission',
  'hallucinated detail',
  'did not follow the instruction',
  'refused',
];

export const DEFAULT_REVIEW_FOLDER = 'reviews';

export interface ProjectConfig {
  recordsFolder: string;
  instructionsFolder?: string;
  defaults: {
    model: string;
    context: string | number;
    strategy: 'recent' | 'bm25' | 'none' | 'helm' | 'refine';
    template?: string;
    generationReserve: number;
    /** `strategy: refine`'s settings (each may be overridden by an instruction's `refine:`). */
    refine?: RefineDefaults;
  };
  endpoints: EndpointConfig[];
  /** External metrics; absent or empty when none are declared. */
  scorers?: ScorerConfig[];
  review: ReviewConfig;
}

export type RefineOrder = 'oldest-first' | 'newest-first';

export interface RefineDefaults {
  order: RefineOrder;
  /** The refine prompt's path, relative to the workspace root; the built-in one when absent. */
  template?: string;
  maxSteps: number;
}

/** The schema's defaults of `defaults.refine`. */
export const DEFAULT_REFINE_ORDER: RefineOrder = 'oldest-first';
export const DEFAULT_REFINE_MAX_STEPS = 20;

/** The config's `defaults.refine`, with the schema's defaults for what it does not set. */
export function refineDefaults(config: ProjectConfig): RefineDefaults {
  return { order: DEFAULT_REFINE_ORDER, maxSteps: DEFAULT_REFINE_MAX_STEPS, ...config.defaults.refine };
}

/** `refine:` settings read from an object (the config's `defaults.refine` or a front matter's `refine:`); invalid values are left out. */
export function readRefineSettings(v: unknown): Partial<RefineDefaults> {
  const out: Partial<RefineDefaults> = {};
  if (!v || typeof v !== 'object' || Array.isArray(v)) return out;
  const r = v as Record<string, unknown>;
  if (r['order'] === 'oldest-first' || r['order'] === 'newest-first') out.order = r['order'];
  if (typeof r['template'] === 'string' && r['template'].trim() !== '') out.template = r['template'].trim();
  const n = r['maxSteps'];
  if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 1000) out.maxSteps = n;
  return out;
}

export interface ConfigProblem {
  message: string;
  path: string;
}

export interface LoadedConfig {
  config: ProjectConfig;
  /** Whether a config file was found at all. */
  found: boolean;
  problems: ConfigProblem[];
}

export function defaultConfig(): ProjectConfig {
  return {
    recordsFolder: 'records',
    defaults: {
      model: BASELINE_MODEL,
      context: '32k',
      strategy: 'recent',
      generationReserve: 256,
      refine: { order: DEFAULT_REFINE_ORDER, maxSteps: DEFAULT_REFINE_MAX_STEPS },
    },
    endpoints: [],
    review: { folder: DEFAULT_REVIEW_FOLDER, blinded: true, errorTags: [...DEFAULT_ERROR_TAGS] },
  };
}

/** Parses the config text (`undefined`: no file). Invalid parts are reported and replaced by defaults. */
export function parseConfig(text: string | undefined): LoadedConfig {
  const config = defaultConfig();
  if (text === undefined) return { config, found: false, problems: [] };
  if (text.length > CONFIG_MAX_CHARS) {
    return {
      config,
      found: true,
      problems: [
        {
          message: `${CONFIG_FILE_NAME} is too large (${text.length} characters; at most ${CONFIG_MAX_CHARS}): it is not read, defaults apply.`,
          path: '',
        },
      ],
    };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return {
      config,
      found: true,
      problems: [{ message: `${CONFIG_FILE_NAME} is not valid JSON: ${(err as Error).message}`, path: '' }],
    };
  }
  const errors = validateConfigData(raw);
  const problems: ConfigProblem[] = errors.slice(0, CONFIG_MAX_PROBLEMS).map((e) => ({
    message: `${CONFIG_FILE_NAME}${e.instancePath ? ` ${e.instancePath}` : ''}: ${e.message ?? 'invalid'}`,
    path: e.instancePath,
  }));
  if (errors.length > CONFIG_MAX_PROBLEMS) {
    problems.push({
      message: `${CONFIG_FILE_NAME}: ${errors.length - CONFIG_MAX_PROBLEMS} more problems not shown`,
      path: '',
    });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { config, found: true, problems };
  const r = raw as Record<string, unknown>;
  if (typeof r['recordsFolder'] === 'string' && r['recordsFolder'].trim() !== '') {
    config.recordsFolder = r['recordsFolder'];
  }
  if (typeof r['instructionsFolder'] === 'string') config.instructionsFolder = r['instructionsFolder'];
  const d = r['defaults'];
  if (d && typeof d === 'object' && !Array.isArray(d)) {
    const dd = d as Record<string, unknown>;
    if (typeof dd['model'] === 'string') config.defaults.model = dd['model'];
    if (typeof dd['context'] === 'string' || typeof dd['context'] === 'number') {
      config.defaults.context = dd['context'];
    }
    if (
      dd['strategy'] === 'recent' ||
      dd['strategy'] === 'bm25' ||
      dd['strategy'] === 'none' ||
      dd['strategy'] === 'helm' ||
      dd['strategy'] === 'refine'
    ) {
      config.defaults.strategy = dd['strategy'];
    }
    config.defaults.refine = { ...refineDefaults(config), ...readRefineSettings(dd['refine']) };
    if (typeof dd['template'] === 'string') config.defaults.template = dd['template'];
    if (typeof dd['generationReserve'] === 'number' && dd['generationReserve'] >= 0) {
      config.defaults.generationReserve = Math.floor(dd['generationReserve']);
    }
  }
  if (Array.isArray(r['endpoints'])) {
    for (const e of r['endpoints']) {
      if (!e || typeof e !== 'object') continue;
      const ep = e as Record<string, unknown>;
      if (typeof ep['id'] !== 'string' || typeof ep['model'] !== 'string') continue;
      const kind = ep['kind'];
      if (kind !== 'openai' && kind !== 'azure-openai' && kind !== 'openai-compatible') continue;
      const out: EndpointConfig = { id: ep['id'], kind, model: ep['model'] };
      if (typeof ep['baseUrl'] === 'string') out.baseUrl = ep['baseUrl'];
      if (typeof ep['apiVersion'] === 'string') out.apiVersion = ep['apiVersion'];
      if (typeof ep['contextWindow'] === 'number') out.contextWindow = ep['contextWindow'];
      if (ep['encoding'] === 'cl100k_base' || ep['encoding'] === 'o200k_base') out.encoding = ep['encoding'];
      if (
        typeof ep['tokenizer'] === 'string' &&
        /^(cl100k_base|o200k_base|server|hf:.+)$/.test(ep['tokenizer'])
      ) {
        out.tokenizer = ep['tokenizer'];
      }
      if (typeof ep['apiKeyEnv'] === 'string') out.apiKeyEnv = ep['apiKeyEnv'];
      if (ep['headers'] && typeof ep['headers'] === 'object') {
        out.headers = Object.fromEntries(
          Object.entries(ep['headers'] as Record<string, unknown>).filter(
            (kv): kv is [string, string] => typeof kv[1] === 'string',
          ),
        );
      }
      config.endpoints.push(out);
    }
  }
  if (Array.isArray(r['scorers'])) {
    const scorers: ScorerConfig[] = [];
    for (const [i, e] of r['scorers'].entries()) {
      if (!e || typeof e !== 'object') continue;
      const sc = e as Record<string, unknown>;
      const command = sc['command'];
      if (typeof sc['id'] !== 'string' || !/^[A-Za-z][A-Za-z0-9_-]*$/.test(sc['id'])) continue;
      if (!Array.isArray(command) || command.length === 0) continue;
      if (!command.every((c): c is string => typeof c === 'string' && c !== '')) continue;
      if (BUILTIN_METRIC_IDS.has(sc['id']) || scorers.some((x) => x.id === sc['id'])) {
        problems.push({
          message: `${CONFIG_FILE_NAME} /scorers/${i}/id: "${sc['id']}" is already a metric's name; this scorer is not used.`,
          path: `/scorers/${i}/id`,
        });
        continue;
      }
      const timeout = sc['timeoutSeconds'];
      const batch = sc['batchSize'];
      const out: ScorerConfig = {
        id: sc['id'],
        command,
        timeoutSeconds: typeof timeout === 'number' && timeout >= 1 && timeout <= 86400 ? timeout : 600,
        batchSize:
          typeof batch === 'number' && Number.isInteger(batch) && batch >= 1 && batch <= 100000
            ? batch
            : 1000,
        higherIsBetter: sc['higherIsBetter'] !== false,
      };
      if (typeof sc['description'] === 'string') out.description = sc['description'];
      scorers.push(out);
    }
    config.scorers = scorers;
  }
  const rv = r['review'];
  if (rv && typeof rv === 'object' && !Array.isArray(rv)) {
    const rr = rv as Record<string, unknown>;
    if (typeof rr['folder'] === 'string' && rr['folder'].trim() !== '') config.review.folder = rr['folder'];
    if (typeof rr['blinded'] === 'boolean') config.review.blinded = rr['blinded'];
    if (Array.isArray(rr['errorTags'])) {
      const tags = rr['errorTags'].filter((t): t is string => typeof t === 'string' && t.trim() !== '');
      config.review.errorTags = [...new Set(tags.map((t) => t.trim()))];
    }
    if (typeof rr['reviewer'] === 'string' && rr['reviewer'].trim() !== '') {
      config.review.reviewer = rr['reviewer'].trim();
    }
  }
  return { config, found: true, problems };
}

/** Model ids an instruction may name: `baseline` and every endpoint id. */
export function modelIds(config: ProjectConfig): string[] {
  return [BASELINE_MODEL, ...config.endpoints.map((e) => e.id)];
}

/**
 * Why a run is refused when the config breaks its own schema (a workspace someone else wrote can put
 * anything there): every violation, one a line.
 */
export function configProblemsMessage(problems: readonly ConfigProblem[]): string {
  return (
    `${CONFIG_FILE_NAME} does not match its schema (config.schema.json). Nothing was run; nothing was sent. ` +
    `Fix these first:\n${problems.map((p) => `  - ${p.message}`).join('\n')}`
  );
}
