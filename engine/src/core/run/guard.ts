/**
 * The PHI guard: decides, before anything leaves the machine, whether a run may send its prompt
 * (which carries a patient record) to an endpoint.
 *
 * - `baseline` sends nothing and is always allowed.
 * - A loopback endpoint is allowed: a literal loopback address (127.0.0.0/8, ::1, IPv4-mapped
 *   127.x) or exactly the name `localhost` (any case, no trailing dot), which the model client
 *   connects to a loopback address itself, without asking DNS (server/src/run/localhostFetch.ts).
 * - Any other endpoint must be approved by the **user** (VS Code user-level state, the CLI's
 *   `--allow-phi-endpoint` or the approvals file in the home directory). The caller asks its
 *   approval source with the `ApprovalQuery` this module builds; nothing in the workspace counts.
 *
 * Pure: hosts are judged from the URL text only (no DNS), and only by what the connection will use:
 * any name other than `localhost` goes to DNS, so a name that merely *looks* local
 * (`localhost.`, `127.0.0.1.nip.io`, `localhost.example.com`) is remote.
 */
import { BASELINE_MODEL } from '../workspace/config';
import type { EndpointConfig, EndpointKind } from '../workspace/config';

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';
/** Azure OpenAI API version used when the endpoint does not name one. */
export const AZURE_DEFAULT_API_VERSION = '2024-10-21';

/** Where requests for an endpoint go. */
export interface EndpointTarget {
  /** The base URL the client is given, without a trailing slash (Azure: ends in `/openai`). */
  baseUrl: string;
  /** `scheme://host[:port]`: the only origin requests may go to. */
  origin: string;
  /** `host[:port]` as in the URL (IPv6 in brackets): what the audit log and messages show. */
  host: string;
  /** The host name without brackets or port, lower-case (a trailing dot kept). */
  hostname: string;
  loopback: boolean;
}

export type TargetResult = { ok: true; target: EndpointTarget } | { ok: false; message: string };

/** What the user is asked to approve: an endpoint id **at an origin** (so a workspace cannot
 * re-point an approved id elsewhere). */
export interface ApprovalQuery {
  endpointId: string;
  kind: EndpointKind;
  origin: string;
  host: string;
}

export type GuardDecision =
  | { allowed: true; reason: 'baseline' }
  | { allowed: true; reason: 'loopback' | 'approved'; target: EndpointTarget }
  | {
      allowed: false;
      reason: 'not-approved';
      target: EndpointTarget;
      approval: ApprovalQuery;
      message: string;
    }
  | { allowed: false; reason: 'invalid-endpoint'; message: string };

function parseIpv4(host: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : undefined;
}

/** Expands an IPv6 address (no brackets, no zone) into 8 numbers, or `undefined`. */
function parseIpv6(host: string): number[] | undefined {
  let h = host;
  // A trailing dotted IPv4 (`::ffff:127.0.0.1`) becomes two groups.
  const v4 = /^(.*:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(h);
  if (v4) {
    const p = parseIpv4(v4[2]);
    if (!p) return undefined;
    h = `${v4[1]}${((p[0] << 8) | p[1]).toString(16)}:${((p[2] << 8) | p[3]).toString(16)}`;
  }
  const halves = h.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  return all.map((g) => parseInt(g, 16));
}

/**
 * Normalises a host (`host` or `host:port`, IPv6 with or without brackets) the way a URL parser does
 * (`127.1` → `127.0.0.1`, `0x7f000001` → `127.0.0.1`, `[0:0::1]:8080` → `::1`, upper case → lower
 * case), without brackets or port. A trailing dot is kept on names (`localhost.` is another name
 * than `localhost`: it is looked up in DNS); `undefined` when it is not a host.
 */
export function normalizeHost(host: string): string | undefined {
  let h = host.trim();
  if (h === '') return undefined;
  // A bare IPv6 address (more than one colon, no brackets) gets its brackets.
  if (!h.startsWith('[') && h.split(':').length > 2) h = `[${h}]`;
  let parsed: URL;
  try {
    parsed = new URL(`http://${h}/`);
  } catch {
    return undefined;
  }
  // Anything after the host (a path, credentials) means this was not a host.
  if (parsed.username !== '' || parsed.password !== '' || parsed.pathname !== '/') return undefined;
  let name = parsed.hostname.toLowerCase();
  if (name.startsWith('[') && name.endsWith(']')) name = name.slice(1, -1);
  return name;
}

/**
 * True for a literal loopback address (127.0.0.0/8, `::1`, IPv4-mapped 127.x; with or without
 * brackets and port) and for exactly the name `localhost` (any case, no trailing dot). Decided from
 * the text alone, as the connection will use it: any other name (`localhost.`, one that resolves to
 * 127.0.0.1) is looked up in DNS and is not loopback.
 */
export function isLoopbackHost(host: string): boolean {
  const name = normalizeHost(host);
  if (name === undefined) return false;
  if (name === 'localhost') return true;
  const v4 = parseIpv4(name);
  if (v4) return v4[0] === 127;
  const v6 = parseIpv6(name);
  if (!v6) return false;
  // ::1
  if (v6.slice(0, 7).every((g) => g === 0) && v6[7] === 1) return true;
  // ::ffff:127.x.y.z (IPv4-mapped)
  if (v6.slice(0, 5).every((g) => g === 0) && v6[5] === 0xffff) return v6[6] >> 8 === 127;
  return false;
}

/** The base URL and origin requests for this endpoint go to, or why there is none. */
export function endpointTarget(endpoint: EndpointConfig): TargetResult {
  const raw = endpoint.baseUrl?.trim() || (endpoint.kind === 'openai' ? OPENAI_DEFAULT_BASE_URL : undefined);
  if (raw === undefined) {
    return {
      ok: false,
      message: `Endpoint '${endpoint.id}' has no baseUrl in medalign.config.json (required for ${endpoint.kind}).`,
    };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, message: `Endpoint '${endpoint.id}': baseUrl is not a valid URL.` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, message: `Endpoint '${endpoint.id}': baseUrl must be http:// or https://.` };
  }
  if (url.username !== '' || url.password !== '') {
    // Never echo the URL: the credentials in it are secrets.
    return {
      ok: false,
      message: `Endpoint '${endpoint.id}': baseUrl must not contain credentials; use apiKeyEnv (CLI) or the editor's Set API Key.`,
    };
  }
  if (url.search !== '' || url.hash !== '') {
    return {
      ok: false,
      message: `Endpoint '${endpoint.id}': baseUrl must not have a query or fragment${endpoint.kind === 'azure-openai' ? ' (the API version goes in apiVersion)' : ''}.`,
    };
  }
  let path = url.pathname.replace(/\/+$/, '');
  if (endpoint.kind === 'azure-openai' && !/\/openai(\/|$)/.test(path)) path += '/openai';
  const hostname = normalizeHost(url.host) ?? url.hostname;
  return {
    ok: true,
    target: {
      baseUrl: `${url.origin}${path}`,
      origin: url.origin,
      host: url.host,
      hostname,
      loopback: isLoopbackHost(hostname),
    },
  };
}

/** The approval to ask the user for, or `undefined` when none is needed (baseline, loopback) or possible. */
export function approvalQuery(
  model: string,
  endpoint: EndpointConfig | undefined,
): ApprovalQuery | undefined {
  if (model === BASELINE_MODEL || endpoint === undefined) return undefined;
  const t = endpointTarget(endpoint);
  if (!t.ok || t.target.loopback) return undefined;
  return { endpointId: endpoint.id, kind: endpoint.kind, origin: t.target.origin, host: t.target.host };
}

/** A stable key for an approval (endpoint id at origin), for caches and stores. */
export function approvalKey(q: Pick<ApprovalQuery, 'endpointId' | 'origin'>): string {
  return `${q.endpointId} @ ${q.origin}`;
}

/**
 * The guard's decision for a run with `model` (an endpoint id or `baseline`). `approved` is the
 * user's answer to `approvalQuery(...)` (ignored when no approval is needed).
 */
export function guardEndpoint(
  model: string,
  endpoint: EndpointConfig | undefined,
  approved: boolean,
): GuardDecision {
  if (model === BASELINE_MODEL) return { allowed: true, reason: 'baseline' };
  if (endpoint === undefined) {
    return {
      allowed: false,
      reason: 'invalid-endpoint',
      message: `Model '${model}' is neither '${BASELINE_MODEL}' nor an endpoint id in medalign.config.json.`,
    };
  }
  const t = endpointTarget(endpoint);
  if (!t.ok) return { allowed: false, reason: 'invalid-endpoint', message: t.message };
  if (t.target.loopback) return { allowed: true, reason: 'loopback', target: t.target };
  if (approved) return { allowed: true, reason: 'approved', target: t.target };
  return {
    allowed: false,
    reason: 'not-approved',
    target: t.target,
    approval: { endpointId: endpoint.id, kind: endpoint.kind, origin: t.target.origin, host: t.target.host },
    message:
      `Endpoint '${endpoint.id}' (${t.target.host}) is not on this machine and you have not approved it for ` +
      `patient records (PHI) at ${t.target.origin}. Nothing was sent. Approve it only if your data use ` +
      `agreement allows sending records to ${t.target.origin}; a workspace file cannot approve it.`,
  };
}

/** True when the endpoint needs an API key (OpenAI and Azure always; compatible servers only if they name one). */
export function endpointNeedsKey(endpoint: EndpointConfig): boolean {
  return endpoint.kind !== 'openai-compatible' || endpoint.apiKeyEnv !== undefined;
}
