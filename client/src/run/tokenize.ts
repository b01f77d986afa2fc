/**
 * `medalign/tokenize` (server → client, for `tokenizer: server`): the language server does no HTTP
 * and no approvals, so it asks here. A text goes to the endpoint's `/tokenize` only where the PHI
 * guard allows it: loopback, or approved by the user (checked without prompting: a hover never
 * opens a modal; the hover offers the approval command instead). Nothing is sent in Restricted
 * Mode. Texts go a few at a time; every request has a time limit, so a dead server is a message.
 */
import * as vscode from 'vscode';
import type { TokenizeParams } from '../../../server/src/protocol';
import type { ServerTokenizeAnswer } from '../../../engine/src';
import {
  SERVER_TOKENIZE_CONCURRENCY,
  approvalQuery,
  guardEndpoint,
  mapLimit,
  serverTokenCount,
} from '../../../engine/src';
import type { Approvals } from './approvals';
import type { ApiKeys } from './secrets';

/** Each `/tokenize` request's time limit. */
const TOKENIZE_TIMEOUT_MS = 30_000;

export function tokenizeHandler(
  approvals: Approvals,
  keys: ApiKeys,
  log: vscode.LogOutputChannel,
): (p: TokenizeParams) => Promise<ServerTokenizeAnswer> {
  return async ({ endpoint, texts }) => {
    if (!vscode.workspace.isTrusted) {
      return {
        ok: false,
        reason: 'unavailable',
        message: 'Restricted Mode: nothing is sent to endpoints until you trust this workspace.',
      };
    }
    const q = approvalQuery(endpoint.id, endpoint);
    const decision = guardEndpoint(endpoint.id, endpoint, q !== undefined && approvals.isApproved(q));
    if (!decision.allowed) {
      if (decision.reason === 'not-approved') {
        const { endpointId, origin, host } = decision.approval;
        return {
          ok: false,
          reason: 'not-approved',
          message: decision.message,
          approval: { endpointId, origin, host },
        };
      }
      return { ok: false, reason: 'failed', message: decision.message };
    }
    if (decision.reason === 'baseline')
      return { ok: false, reason: 'failed', message: 'not a model endpoint' };
    const target = decision.target;
    const apiKey = await keys.get(endpoint);
    try {
      const answers = await mapLimit(texts, SERVER_TOKENIZE_CONCURRENCY, (text) =>
        serverTokenCount(endpoint, target, text, {
          ...(apiKey !== undefined ? { apiKey } : {}),
          signal: AbortSignal.timeout(TOKENIZE_TIMEOUT_MS),
        }),
      );
      log.info(`/tokenize: ${texts.length} text(s) counted by '${endpoint.id}' (${target.origin})`);
      return { ok: true, counts: answers.map((a) => a.count), url: answers[0]?.url ?? '' };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log.warn(`/tokenize for '${endpoint.id}' failed: ${message}`);
      return { ok: false, reason: 'failed', message };
    }
  };
}
