/**
 * `tokenizer: server` for everything that packs (the preview, `medalign pack`, runs, the context
 * hover, the timeline): the same synchronous packing, counted with the server's numbers.
 *
 * A round packs with the endpoint's count table (tokens/serverTable.ts): texts the table knows are
 * the server's counts, the others the fallback encoding's, noted as missing. The missing texts
 * (every element the packer counted: head, visits, tail, and the days and events of a visit it cut
 * inside) are asked from the server through the workspace's `serverTokenize`, a few at a time,
 * each distinct text once and never again (cached by content), and the packing runs again. Packing
 * with exact counts may cut elsewhere and need a few more counts, so this repeats, at most
 * MAX_ROUNDS times. When the server cannot count (not approved, down, no /tokenize, 429), the
 * result is the estimate, flagged as such, with why.
 */
import { isEncodingName } from '../tokens/encodings';
import type { TokenizerChoice } from '../tokens/models';
import { countWithServer, serverCountKey } from '../tokens/serverCounts';
import type { ServerTokenizeRefusal } from '../tokens/serverCounts';
import { serverTableName } from '../tokens/serverTable';
import { hashKey } from '../util/hash';
import type { Workspace } from '../workspace/workspace';
import type { RunSettings } from './runSettings';

/** Packing rounds at most (the first, then one per batch of texts asked). */
export const MAX_ROUNDS = 4;

export interface ServerCountStatus {
  /** Every count is the server's. */
  exact: boolean;
  /** Texts sent to the server in this call (0 when all were cached). */
  asked: number;
  /** Why the counts are estimates, as a sentence (when not exact). */
  reason?: string;
  /** What to approve, when the endpoint is not approved for patient records. */
  approval?: ServerTokenizeRefusal['approval'];
}

/** Generations per table: a new one whenever the table gains counts (serverTable.ts). */
const generations = new Map<string, number>();

/**
 * `run(settings)` with the server's counts when the instruction's endpoint has `tokenizer: server`
 * (otherwise `run(s)` as is, no status). `tokenizer` is what to show: exact from the server, or the
 * estimate with the fallback encoding.
 */
export async function withServerCounts<T>(
  ws: Workspace,
  s: RunSettings,
  run: (s: RunSettings) => Promise<T>,
): Promise<{ value: T; tokenizer: TokenizerChoice; status?: ServerCountStatus }> {
  const endpoint = s.endpoint;
  const fallback = s.tokenizer.encoding;
  const engine = ws.engine;
  if (
    !s.tokenizer.server ||
    endpoint === undefined ||
    !isEncodingName(fallback) ||
    engine.serverMissing === undefined ||
    engine.addServerCounts === undefined
  ) {
    return { value: await run(s), tokenizer: s.tokenizer };
  }
  const key = serverCountKey(endpoint);
  const table = hashKey(key);
  let asked = 0;
  let refusal: ServerTokenizeRefusal | undefined;
  const tokenizer = (estimated: boolean): TokenizerChoice => ({
    ...s.tokenizer,
    encoding: serverTableName(fallback, table, generations.get(table) ?? 0),
    estimated,
    label: estimated ? `estimate with ${fallback}` : `the server's /tokenize · endpoint ${endpoint.id}`,
  });
  for (let round = 1; ; round++) {
    const exact = tokenizer(false);
    const value = await run({ ...s, tokenizer: exact });
    const missing = await engine.serverMissing(table);
    if (missing.length === 0) {
      return { value, tokenizer: { ...exact, encoding: fallback }, status: { exact: true, asked } };
    }
    if (round >= MAX_ROUNDS) break;
    if (ws.serverTokenize === undefined) {
      refusal = {
        ok: false,
        reason: 'unavailable',
        message: 'this program does not ask endpoints for counts.',
      };
      break;
    }
    const answer = await countWithServer(
      ws.serverCounts,
      key,
      endpoint.id,
      missing.map((m) => m.text),
      ws.serverTokenize,
    );
    if (!answer.ok) {
      refusal = answer;
      break;
    }
    asked += answer.asked ?? 0;
    await engine.addServerCounts(
      table,
      missing.map((m, i): [string, number] => [m.key, answer.counts[i]]),
    );
    generations.set(table, (generations.get(table) ?? 0) + 1);
  }
  // The same counts (the server's where known), shown as the estimate they are.
  const estimate = tokenizer(true);
  const value = await run({ ...s, tokenizer: estimate });
  const status: ServerCountStatus = {
    exact: false,
    asked,
    reason:
      refusal === undefined
        ? `the server's counts did not settle in ${MAX_ROUNDS} rounds`
        : refusal.reason === 'not-approved'
          ? `endpoint '${endpoint.id}' is not approved for patient records, so nothing was sent to its /tokenize`
          : `the server's /tokenize did not count: ${refusal.message}`,
  };
  if (refusal?.approval !== undefined) status.approval = refusal.approval;
  return { value, tokenizer: { ...estimate, encoding: fallback }, status };
}

/** One line for a pack's warnings when the counts are not the server's. */
export function serverCountWarning(
  status: ServerCountStatus | undefined,
  fallback: string,
): string | undefined {
  if (status === undefined || status.exact) return undefined;
  return `Token counts are estimates with ${fallback}: ${status.reason}.`;
}
