/**
 * `medalign count <record.xml> --model <endpoint>` and `--verify <endpoint>`: the record's count in
 * the endpoint's tokenizer (its `tokenizer` setting, workspace/endpointTokenizer.ts), and with
 * `--verify` the server's own count from its `/tokenize` route, compared: agree or disagree.
 *
 * `--verify` sends the record to the endpoint, so it goes through what a run goes through: a
 * trusted project folder, and the PHI guard (loopback, or the user's approval of the endpoint id at
 * its origin: `--allow-phi-endpoint id@origin` or the approvals file). Nothing is sent otherwise.
 */
import { URI } from 'vscode-uri';
import type { ApprovalQuery, EndpointTarget } from '../core/run/guard';
import type { EndpointConfig } from '../core/workspace/config';
import type { ServerTokenize, ServerTokenizeRefusal } from '../core/tokens/serverCounts';
import { SERVER_TOKENIZE_CONCURRENCY, mapLimit } from '../core/tokens/serverCounts';
import { approvalQuery, guardEndpoint } from '../core/run/guard';
import { getTokenizer } from '../core/tokens/tokenizer';
import { formatTokenCount, tokenizerLabel } from '../core/tokens/models';
import { resolveEndpointTokenizer } from '../core/workspace/endpointTokenizer';
import { CONFIG_FILE_NAME } from '../core/workspace/config';
import type { Workspace } from '../core/workspace/workspace';
import { nodeFileSystem } from '../host/nodeFileSystem';
import { serverTokenCount } from '../host/serverTokenize';
import { FileApprovals, approvalsFilePath, cliApprovalChecker } from '../run/approvals';
import { TrustedFolders, trustedFoldersPath } from '../run/trust';
import type { ParsedArgs } from './args';
import { listOption, parseAllowPhiEndpoint } from './args';
import type { CliIo } from './io';
import { ensureTrusted } from './trust';

export interface EndpointCount {
  endpoint: string;
  tokenizer: string;
  estimated: boolean;
  tokens: number;
}

/** The record's text counted whole in the endpoint's tokenizer. */
export async function countWithEndpoint(ws: Workspace, id: string, text: string): Promise<EndpointCount> {
  const endpoint = ws.config.endpoints.find((e) => e.id === id);
  if (endpoint === undefined) {
    const ids = ws.config.endpoints.map((e) => e.id);
    throw new Error(
      `no endpoint '${id}' in ${CONFIG_FILE_NAME}${ids.length ? ` (endpoints: ${ids.join(', ')})` : ''}`,
    );
  }
  const r = await resolveEndpointTokenizer(endpoint, ws, nodeFileSystem);
  if (!r.ok) throw new Error(r.message);
  return {
    endpoint: id,
    tokenizer: tokenizerLabel(r.tokenizer),
    estimated: r.tokenizer.estimated,
    tokens: getTokenizer(r.tokenizer.encoding).count(text),
  };
}

export interface VerifyResult extends EndpointCount {
  server: number;
  url: string;
  agree: boolean;
  maxModelLen?: number;
}

/**
 * The CLI's one rule for sending a record to an endpoint's `/tokenize` (`--verify`, `tokenizer:
 * server` in `count`, `pack` and runs): what a run goes through, a trusted project folder and the
 * PHI guard (loopback, or `--allow-phi-endpoint id@origin` / the approvals file). Refusals are
 * said on stderr (`medalign <prefix>: …`) and returned.
 */
export async function cliTokenizeTarget(
  ws: Workspace,
  id: string,
  p: ParsedArgs,
  io: CliIo,
  o: { command: string; prefix: string },
): Promise<
  | { ok: true; endpoint: EndpointConfig; target: EndpointTarget; apiKey?: string }
  | { ok: false; refusal: ServerTokenizeRefusal }
> {
  const endpoint = ws.config.endpoints.find((e) => e.id === id);
  if (endpoint === undefined) {
    return { ok: false, refusal: { ok: false, reason: 'failed', message: `no endpoint '${id}'` } };
  }
  const root = URI.parse(ws.root).fsPath;
  const trusted = await ensureTrusted([root], {
    command: o.command,
    flag: p.flags.has('trust'),
    io,
    store: new TrustedFolders(trustedFoldersPath(io.env)),
  });
  if (!trusted) {
    return {
      ok: false,
      refusal: { ok: false, reason: 'unavailable', message: `${root} is not a trusted folder (--trust)` },
    };
  }
  const approvals = new FileApprovals(approvalsFilePath(io.env), [root]);
  const allow = listOption(p, 'allow-phi-endpoint')
    .map(parseAllowPhiEndpoint)
    .map((a) => ({ endpointId: a.endpointId, origin: a.origin ?? '' }));
  const query: ApprovalQuery | undefined = approvalQuery(id, endpoint);
  const approved = query !== undefined && (await cliApprovalChecker(allow, approvals)(query));
  const decision = guardEndpoint(id, endpoint, approved);
  if (!decision.allowed) {
    io.err(`medalign ${o.prefix}: ${decision.message}\n`);
    if (decision.reason === 'not-approved') {
      io.err(
        `  To send this record to '${id}' for this command: --allow-phi-endpoint ${id}@${decision.approval.origin}\n`,
      );
      const { endpointId, origin, host } = decision.approval;
      return {
        ok: false,
        refusal: {
          ok: false,
          reason: 'not-approved',
          message: decision.message,
          approval: { endpointId, origin, host },
        },
      };
    }
    return { ok: false, refusal: { ok: false, reason: 'failed', message: decision.message } };
  }
  if (decision.reason === 'baseline') throw new Error(`'${id}' is not a model endpoint`);
  const apiKey = endpoint.apiKeyEnv !== undefined ? io.env[endpoint.apiKeyEnv] : undefined;
  return apiKey
    ? { ok: true, endpoint, target: decision.target, apiKey }
    : { ok: true, endpoint, target: decision.target };
}

/** Each `/tokenize` request's time limit in the CLI. */
const TOKENIZE_TIMEOUT_MS = 30_000;

/**
 * The workspace's `serverTokenize` in the CLI (`tokenizer: server` in `pack` and runs): the rule
 * above, decided once per endpoint per command, then the texts a few at a time.
 */
export function cliServerTokenize(ws: Workspace, p: ParsedArgs, io: CliIo, command: string): ServerTokenize {
  const decided = new Map<string, ReturnType<typeof cliTokenizeTarget>>();
  return async (id, texts) => {
    let d = decided.get(id);
    if (d === undefined)
      decided.set(id, (d = cliTokenizeTarget(ws, id, p, io, { command, prefix: command })));
    let t: Awaited<ReturnType<typeof cliTokenizeTarget>>;
    try {
      t = await d;
    } catch (err) {
      return { ok: false, reason: 'failed', message: (err as Error).message };
    }
    if (!t.ok) return t.refusal;
    const { endpoint, target, apiKey } = t;
    try {
      const answers = await mapLimit(texts, SERVER_TOKENIZE_CONCURRENCY, (text) =>
        serverTokenCount(endpoint, target, text, {
          ...(apiKey !== undefined ? { apiKey } : {}),
          signal: AbortSignal.timeout(TOKENIZE_TIMEOUT_MS),
        }),
      );
      return { ok: true, counts: answers.map((a) => a.count), url: answers[0]?.url ?? '' };
    } catch (err) {
      return { ok: false, reason: 'failed', message: (err as Error).message };
    }
  };
}

/** `--verify`: our count and the server's, after the trust and PHI checks. `undefined`: refused (said on stderr). */
export async function verifyWithServer(
  ws: Workspace,
  id: string,
  text: string,
  p: ParsedArgs,
  io: CliIo,
): Promise<VerifyResult | undefined> {
  const ours = await countWithEndpoint(ws, id, text);
  const t = await cliTokenizeTarget(ws, id, p, io, { command: 'count --verify', prefix: 'count' });
  if (!t.ok) return undefined;
  const server = await serverTokenCount(t.endpoint, t.target, text, t.apiKey ? { apiKey: t.apiKey } : {});
  const out: VerifyResult = {
    ...ours,
    server: server.count,
    url: server.url,
    agree: server.count === ours.tokens,
  };
  if (server.maxModelLen !== undefined) out.maxModelLen = server.maxModelLen;
  return out;
}

/** One line for people: both counts and the verdict. */
export function verifyLine(file: string, v: VerifyResult): string {
  const ours = formatTokenCount(v.tokens, v.estimated);
  const diff = v.server - v.tokens;
  return v.agree
    ? `${file}: agree: ${ours} tokens (${v.tokenizer}) = ${formatTokenCount(v.server, false)} from ${v.url}\n`
    : `${file}: disagree: ours ${ours} tokens (${v.tokenizer}), the server ${formatTokenCount(v.server, false)} (${diff > 0 ? '+' : ''}${diff}, ${((diff / Math.max(1, v.server)) * 100).toFixed(1)}%) from ${v.url}\n`;
}
