/**
 * The audit log, `<workspace>/.medalign/audit.log`: one JSON line per request that carried a record
 * (time, endpoint id, host, instruction id, record hash, token count, attempt, run id), appended
 * *before* the request is sent. Never content, never a key.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { AuditEntry } from '../core/run/runRecord';
import { AUDIT_LOG, MEDALIGN_DIR, formatAuditLine } from '../core/run/runRecord';
import { ensureMedalignDir } from './store';

export function auditLogPath(root: string): string {
  return path.join(root, MEDALIGN_DIR, AUDIT_LOG);
}

const ready = new Map<string, Promise<string>>();

/** Appends one line (a single `O_APPEND` write, so concurrent runs do not interleave lines). */
export async function appendAudit(root: string, entry: AuditEntry): Promise<void> {
  let p = ready.get(root);
  if (p === undefined) {
    p = ensureMedalignDir(root);
    ready.set(root, p);
    p.catch(() => ready.delete(root));
  }
  await p;
  try {
    await fsp.appendFile(auditLogPath(root), formatAuditLine(entry), { encoding: 'utf8', mode: 0o600 });
  } catch (err) {
    // The folder may have been deleted since: create it again once.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await ensureMedalignDir(root);
    await fsp.appendFile(auditLogPath(root), formatAuditLine(entry), { encoding: 'utf8', mode: 0o600 });
  }
}

/** The audit log's entries (for tests and tooling). */
export async function readAudit(root: string): Promise<AuditEntry[]> {
  const text = await fsp.readFile(auditLogPath(root), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as AuditEntry);
}
