/**
 * An endpoint's context window (`contextWindow` in medalign.config.json) against what an instruction
 * asks for: the one sentence every feature says when the context (or the prompt plus the reserve for
 * the answer) is larger than the window — the diagnostic, the preview, the run-lens, `pack`, `run`
 * and `batch export` — and the largest standard size that fits (the quick fix, the picker).
 */
import { CONFIG_FILE_NAME } from '../workspace/config';
import type { EndpointConfig } from '../workspace/config';
import type { Diagnostic } from 'vscode-languageserver-types';
import { checkContext, contextSizes, parseContextSize } from '../schema/schemas';
import { formatInt } from '../util/format';
import type { Workspace } from '../workspace/workspace';
import { DiagnosticSeverity, makeDiagnostic, pairFor } from './document';
import type { ParsedDocument } from './document';
import type { FixData } from './validation';

export interface ContextWindowProblem {
  message: string;
  /** The largest of the schema's sizes (`2k` … `128k`) within the window, when one is. */
  fit?: string;
}

/** The largest standard context size (`32k`) of at most `window` tokens. */
export function largestStandardSize(window: number): string | undefined {
  let best: string | undefined;
  for (const label of contextSizes) {
    const n = parseContextSize(label);
    if (n !== undefined && n <= window) best = label;
  }
  return best;
}

function advice(window: number): { text: string; fit?: string } {
  const fit = largestStandardSize(window);
  return fit !== undefined
    ? { text: `use ${fit} or less`, fit }
    : { text: `use a token count of at most ${formatInt(window)}` };
}

/** Why `context` cannot be used with this endpoint (larger than its window), or `undefined`. */
export function contextWindowProblem(
  context: number,
  label: string,
  endpoint: Pick<EndpointConfig, 'id' | 'contextWindow'>,
): ContextWindowProblem | undefined {
  const window = endpoint.contextWindow;
  if (window === undefined || context <= window) return undefined;
  const a = advice(window);
  const shown =
    String(context) === label ? `${formatInt(context)} tokens` : `${label} (${formatInt(context)} tokens)`;
  const out: ContextWindowProblem = {
    message:
      `Context ${shown} is larger than the context window of '${endpoint.id}' ` +
      `(${formatInt(window)} tokens, contextWindow in ${CONFIG_FILE_NAME}): ${a.text}.`,
  };
  if (a.fit !== undefined) out.fit = a.fit;
  return out;
}

/** Why a packed prompt plus the answer's reserve would overflow the endpoint's window, or `undefined`. */
export function promptWindowProblem(
  prompt: number,
  reserve: number,
  endpoint: Pick<EndpointConfig, 'id' | 'contextWindow'>,
): ContextWindowProblem | undefined {
  const window = endpoint.contextWindow;
  if (window === undefined || prompt + reserve <= window) return undefined;
  const a = advice(window);
  const out: ContextWindowProblem = {
    message:
      `The prompt (${formatInt(prompt)} tokens) and the reserve for the answer (${formatInt(reserve)}) need ` +
      `${formatInt(prompt + reserve)} tokens, more than the context window of '${endpoint.id}' ` +
      `(${formatInt(window)} tokens, contextWindow in ${CONFIG_FILE_NAME}): ${a.text}.`,
  };
  if (a.fit !== undefined) out.fit = a.fit;
  return out;
}

/**
 * The diagnostic of an instruction whose context (its own `context:`, or the config's default) is
 * larger than its endpoint's window: on the `context:` value (quick fix: the largest standard size
 * that fits), else on `model:` or the front matter (quick fix: add `context:` with that size).
 */
export function contextWindowDiagnostic(
  parsed: ParsedDocument,
  workspace: Workspace,
): Diagnostic | undefined {
  const { document, file } = parsed;
  const data = file.data ?? {};
  const model =
    typeof data['model'] === 'string' && data['model'] !== ''
      ? data['model']
      : workspace.config.defaults.model;
  const endpoint = workspace.config.endpoints.find((e) => e.id === model);
  if (endpoint?.contextWindow === undefined) return undefined;
  const own = pairFor(file, 'context');
  const c = checkContext(own !== undefined ? data['context'] : workspace.config.defaults.context);
  if (!c.ok) return undefined; // the schema's diagnostic says it
  const problem = contextWindowProblem(c.tokens, c.label, endpoint);
  if (problem === undefined) return undefined;
  if (own?.valueSpan !== undefined) {
    return makeDiagnostic(
      document,
      own.valueSpan,
      DiagnosticSeverity.Error,
      CONTEXT_WINDOW_CODE,
      problem.message,
      problem.fit !== undefined ? ({ replacement: problem.fit } satisfies FixData) : undefined,
    );
  }
  const span = pairFor(file, 'model')?.valueSpan ?? file.frontMatter?.open;
  if (span === undefined) return undefined;
  return makeDiagnostic(
    document,
    span,
    DiagnosticSeverity.Error,
    CONTEXT_WINDOW_CODE,
    `${problem.message} (The context is the default of ${CONFIG_FILE_NAME}.)`,
    problem.fit !== undefined ? ({ insertLine: `context: ${problem.fit}` } satisfies FixData) : undefined,
  );
}

export const CONTEXT_WINDOW_CODE = 'context-window';
