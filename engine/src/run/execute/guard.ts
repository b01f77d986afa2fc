/**
 * Step 1 of a run: may it be sent? The packed prompt, the PHI guard (and, for a non-local endpoint,
 * the caller's approval), a real `.medalign/` with the tool's .gitignore, safe write paths, and for
 * a model endpoint its key. Sends nothing; a run it stops is not saved.
 */
import { BASELINE_MODEL } from '../../core/workspace/config';
import type { EndpointConfig } from '../../core/workspace/config';
import type { EndpointTarget, GuardDecision } from '../../core/run/guard';
import { approvalQuery, endpointNeedsKey, guardEndpoint } from '../../core/run/guard';
import type { PreparedRun } from '../../core/run/prepared';
import { promptWindowProblem } from '../../core/features/contextWindow';
import { RunStore, checkWritePaths, ensureMedalignDir } from '../store';
import type { ExecuteOptions, RunOutcome } from './types';
import { notWritable } from './types';

/** Where a run that passed the guard goes: the baseline's prepared answer, or a model endpoint. */
export type SendPlan =
  | { kind: 'baseline'; answer: { text: string; passages: number } }
  | { kind: 'model'; endpoint: EndpointConfig; target: EndpointTarget };

export type GuardResult =
  | { ok: false; outcome: RunOutcome }
  | {
      ok: true;
      decision: Extract<GuardDecision, { allowed: true }>;
      store: RunStore;
      plan: SendPlan;
    };

async function approved(p: PreparedRun, o: ExecuteOptions): Promise<GuardDecision> {
  const { model, endpoint } = p.settings;
  const query = approvalQuery(model, endpoint);
  let yes = false;
  if (query !== undefined) {
    try {
      yes = (await o.approval(query)) === true;
    } catch {
      yes = false;
    }
  }
  return guardEndpoint(model, endpoint, yes);
}

/** Runs every check, in order, before anything touches the network (emits the `guard` event). */
export async function guardRun(
  p: PreparedRun,
  o: ExecuteOptions,
  secrets: readonly string[],
): Promise<GuardResult> {
  const { settings } = p;
  const endpoint = settings.endpoint;
  if (!p.pack.ok) {
    const message = p.pack.error ?? 'The prompt could not be packed.';
    return { ok: false, outcome: { status: 'error', error: { kind: 'pack', message } } };
  }

  // The packed prompt and the answer's reserve within the endpoint's context window.
  const overflow = endpoint
    ? promptWindowProblem(p.pack.budget.prompt, settings.reserve, endpoint)
    : undefined;
  if (overflow !== undefined) {
    return { ok: false, outcome: { status: 'error', error: { kind: 'pack', message: overflow.message } } };
  }

  // The guard, before anything else touches the network.
  const decision = await approved(p, o);
  o.onEvent?.({ type: 'guard', decision });
  if (!decision.allowed) {
    if (decision.reason === 'not-approved') {
      return {
        ok: false,
        outcome: {
          status: 'refused',
          guard: decision,
          approval: decision.approval,
          error: { kind: 'refused', message: decision.message },
        },
      };
    }
    return {
      ok: false,
      outcome: { status: 'error', guard: decision, error: { kind: 'config', message: decision.message } },
    };
  }

  const store = o.store ?? new RunStore(p.workspaceRoot);
  // `.medalign/` must be a real folder and its .gitignore the tool's before anything is written or sent.
  try {
    await ensureMedalignDir(p.workspaceRoot, (message) => o.onEvent?.({ type: 'notice', message }));
  } catch (err) {
    return { ok: false, outcome: notWritable(err, decision, secrets) };
  }
  // Checked again here (the preparer did when it planned): a run whose file could not be saved safely is not sent.
  const unsafe = await checkWritePaths(p.workspaceRoot, p.instruction.id);
  if (unsafe !== undefined)
    return {
      ok: false,
      outcome: { status: 'error', guard: decision, error: { kind: 'config', message: unsafe } },
    };

  if (decision.reason === 'baseline' || settings.model === BASELINE_MODEL) {
    const answer = p.baseline;
    if (answer === undefined) {
      return {
        ok: false,
        outcome: {
          status: 'error',
          error: { kind: 'internal', message: 'The baseline answer was not prepared.' },
        },
      };
    }
    return { ok: true, decision, store, plan: { kind: 'baseline', answer } };
  }

  if (endpoint === undefined)
    return {
      ok: false,
      outcome: {
        status: 'error',
        error: { kind: 'config', message: 'No endpoint to send to. Choose a model.' },
      },
    };
  if (endpointNeedsKey(endpoint) && (o.apiKey === undefined || o.apiKey === '')) {
    const where =
      o.keySource ??
      (endpoint.apiKeyEnv ? `the environment variable ${endpoint.apiKeyEnv}` : 'the API key store');
    return {
      ok: false,
      outcome: {
        status: 'error',
        guard: decision,
        error: {
          kind: 'no-key',
          message: `'${endpoint.id}' needs an API key and none is set (${where}). Nothing was sent. Set the key, then run again.`,
        },
      },
    };
  }
  return { ok: true, decision, store, plan: { kind: 'model', endpoint, target: decision.target } };
}
