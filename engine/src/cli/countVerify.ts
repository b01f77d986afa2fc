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
import type { ApprovalQuery } from '../core/run/guard';
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

/** `--verify`: our count and the server's, after the trust and PHI checks. `undefined`: refused (said on stderr). */
export async function verifyWithServer(
  ws: Workspace,
  id: string,
  text: string,
  p: ParsedArgs,
  io: CliIo,
): Promise<VerifyResult | undefined> {
  const ours = await countWithEndpoint(ws, id, text);
  const endpoint = ws.config.endpoints.find((e) => e.id === id)!;
  const root = URI.parse(ws.root).fsPath;
  const trusted = await ensureTrusted([root], {
    command: 'count --verify',
    flag: p.flags.has('trust'),
    io,
    store: new TrustedFolders(trustedFoldersPath(io.env)),
  });
  if (!trusted) return undefined;
  const approvals = new FileApprovals(approvalsFilePath(io.env), [root]);
  const allow = listOption(p, 'allow-phi-endpoint')
    .map(parseAllowPhiEndpoint)
    .map((a) => ({ endpointId: a.endpointId, origin: a.origin ?? '' }));
  const query: ApprovalQuery | undefined = approvalQuery(id, endpoint);
  const approved = query !== undefined && (await cliApprovalChecker(allow, approvals)(query));
  const decision = guardEndpoint(id, endpoint, approved);
  if (!decision.allowed) {
    io.err(`medalign count: ${decision.message}\n`);
    if (decision.reason === 'not-approved') {
      io.err(
        `  To send this record to '${id}' for this command: --allow-phi-endpoint ${id}@${decision.approval.origin}\n`,
      );
    }
    return undefined;
  }
  if (decision.reason === 'baseline') throw new Error(`'${id}' is not a model endpoint`);
  const apiKey = endpoint.apiKeyEnv !== undefined ? io.env[endpoint.apiKeyEnv] : undefined;
  const server = await serverTokenCount(endpoint, decision.target, text, apiKey ? { apiKey } : {});
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
