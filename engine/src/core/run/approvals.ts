/**
 * The user-level approvals file (CLI): which endpoint ids the user approved for patient records,
 * each at one origin. Parsing is tolerant (a damaged file approves nothing); the file lives in the
 * user's home directory, never in a workspace (see engine/src/run/approvals.ts).
 *
 * ```json
 * { "format": "medalign-phi-approvals", "version": 1,
 *   "approvals": [{ "endpointId": "gpt-4o", "origin": "https://api.openai.com", "approvedAt": "2025-01-01T00:00:00.000Z" }] }
 * ```
 */
import type { ApprovalQuery } from './guard';

export const APPROVALS_FORMAT = 'medalign-phi-approvals';

export interface ApprovalEntry {
  endpointId: string;
  origin: string;
  approvedAt: string;
}

/** The entries of an approvals file; anything malformed is dropped. */
export function parseApprovals(text: string | undefined): ApprovalEntry[] {
  if (text === undefined) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return [];
  }
  if (raw === null || typeof raw !== 'object') return [];
  const r = raw as Record<string, unknown>;
  if (r['format'] !== APPROVALS_FORMAT || !Array.isArray(r['approvals'])) return [];
  const out: ApprovalEntry[] = [];
  for (const e of r['approvals'] as unknown[]) {
    if (e === null || typeof e !== 'object') continue;
    const x = e as Record<string, unknown>;
    if (typeof x['endpointId'] !== 'string' || typeof x['origin'] !== 'string') continue;
    out.push({
      endpointId: x['endpointId'],
      origin: x['origin'],
      approvedAt: typeof x['approvedAt'] === 'string' ? x['approvedAt'] : '',
    });
  }
  return out;
}

export function serializeApprovals(entries: readonly ApprovalEntry[]): string {
  return JSON.stringify({ format: APPROVALS_FORMAT, version: 1, approvals: entries }, null, 2) + '\n';
}

/** An entry approves a query when both the endpoint id and the origin match exactly. */
export function isApprovedBy(entries: readonly ApprovalEntry[], q: ApprovalQuery): boolean {
  return entries.some((e) => e.endpointId === q.endpointId && e.origin === q.origin);
}

/** The entries with `q` added (once). */
export function withApproval(
  entries: readonly ApprovalEntry[],
  q: ApprovalQuery,
  now: Date,
): ApprovalEntry[] {
  if (isApprovedBy(entries, q)) return [...entries];
  return [...entries, { endpointId: q.endpointId, origin: q.origin, approvedAt: now.toISOString() }];
}
