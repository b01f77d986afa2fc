/**
 * The audit log, `<workspace>/.medalign/audit.log`: one JSON line per request that carried a record
 * (time, endpoint id, host, instruction id, record hash, token count, attempt, run id), appended
 * *before* the request is sent. Never content, never a key, never through a link.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { AuditEntry } from '../core/run/runRecord';
import { AUDIT_LOG, MEDALIGN_DIR, formatAuditLine } from '../core/run/runRecord';
import { ensureMedalignDir } from './store';
import { appendNoFollow } from './safeFs';

export function auditLogPath(root: string): string {
  return path.join(root, MEDALIGN_DIR, AUDIT_LOG);
}

/**
 * Appends one line (a single `O_APPEND` write, so concurrent runs do not interleave lines). Never
 * through a link: a linked `.medalign` or `audit.log` is refused with an error naming it.
 */
export async function appendAudit(root: string, entry: AuditEntry): Promise<void> {
  await ensureMedalignDir(root);
  await appendNoFollow(root, auditLogPath(root), formatAuditLine(entry));
}

/** The audit log's entries (for tests and tooling). */
export async function readAudit(root: string): Promise<AuditEntry[]> {
  const text = await fsp.readFile(auditLogPath(root), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as AuditEntry);
}
