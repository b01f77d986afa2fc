/** The runner's public types (re-exported by runner.ts and the engine's index). */
import type { GuardDecision, ApprovalQuery } from '../../core/run/guard';
import type { RunError } from '../../core/run/errors';
import { redactSecrets } from '../../core/run/errors';
import type { RetryPolicy } from '../../core/run/retry';
import type { RunRecord, RunStatus } from '../../core/run/runRecord';
import type { TokenizerName } from '../../core/tokens/tokenizer';
import type { ClientTimeouts, FetchLike } from '../modelClient';
import type { ApprovalChecker } from '../approvals';
import type { RunStore } from '../store';

export type RunEvent =
  | { type: 'guard'; decision: GuardDecision }
  | { type: 'sending'; attempt: number; host: string; promptTokens: number }
  | { type: 'first-text'; ms: number }
  | { type: 'retrying'; attempt: number; delayMs: number; error: RunError }
  | { type: 'saved'; file: string; status: RunStatus }
  /** `strategy: refine`: step `step` of `of` is being sent (its answer streams through `onText`). */
  | { type: 'step'; step: number; of: number }
  /** Something the engine did on the user's behalf (e.g. restored `.medalign/.gitignore`): show it. */
  | { type: 'notice'; message: string };

export interface ExecuteOptions {
  /** The endpoint's API key (editor: SecretStorage; CLI: the env var named by `apiKeyEnv`). Never stored. */
  apiKey?: string;
  /** Where the key comes from, for the message when it is refused (e.g. "the environment variable X"). */
  keySource?: string;
  /** Asked only for a non-local endpoint. Must answer from user-level state, never the workspace. */
  approval: ApprovalChecker;
  signal?: AbortSignal;
  /** Answer text as it arrives (`text` is everything so far). */
  onText?: (delta: string, text: string) => void;
  onEvent?: (e: RunEvent) => void;
  /** Keep the full prompt in the run file (default true). */
  storePrompt?: boolean;
  /** Default: a store at the prepared run's workspace root. */
  store?: RunStore;
  timeouts?: Partial<ClientTimeouts>;
  retry?: Partial<RetryPolicy>;
  /** Stream the answer (default true). */
  stream?: boolean;
  /** Transport for model requests (tests). */
  fetch?: FetchLike;
  /**
   * `strategy: refine`: continue the newest run of the same key from its last finished step (the
   * finished steps are not sent again). Runs of other strategies ignore it.
   */
  resume?: boolean;
  /** Clock (tests). */
  now?: () => Date;
  /**
   * Exact tokens of the answer when the server reports no usage (and of the baseline's answer): the
   * CLI counts in-process (host/countTokens.ts); the editor asks the language server, so the
   * extension host carries no tokenizer.
   */
  countTokens: (text: string, encoding: TokenizerName) => number | Promise<number>;
}

export type OutcomeStatus = RunStatus | 'refused';

export interface RunOutcome {
  /**
   * `complete` | `cancelled` | `error` (the run was saved, see `file`), or `refused`: the guard said
   * no and nothing was sent. An `error` before anything was sent (no key, pack failed, bad endpoint)
   * is not saved either (`file` is absent).
   */
  status: OutcomeStatus;
  run?: RunRecord;
  file?: string;
  error?: RunError;
  guard?: GuardDecision;
  /** For `refused`: what to ask the user to approve. */
  approval?: ApprovalQuery;
}

/** What one run carries from step to step once the guard let it through. */
export interface RunContext {
  id: string;
  startedAt: Date;
  now: () => Date;
  /** The key, to redact from everything shown and kept. */
  secrets: readonly string[];
  decision: Extract<GuardDecision, { allowed: true }>;
}

/** A refusal or failure before anything was sent (or saved), in the form `executeRun` returns. */
export function notWritable(err: unknown, decision: GuardDecision, secrets: readonly string[]): RunOutcome {
  return {
    status: 'error',
    guard: decision,
    error: {
      kind: 'config',
      message: `${redactSecrets(err instanceof Error ? err.message : String(err), secrets)} Nothing was sent.`,
    },
  };
}
