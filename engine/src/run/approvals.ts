/**
 * User-level approvals of endpoints for patient records, for the CLI: a file in the user's home
 * directory (`$XDG_CONFIG_HOME/medalign-studio/phi-approvals.json`, by default
 * `~/.config/medalign-studio/phi-approvals.json`; `MEDALIGN_APPROVALS_FILE` overrides the path), plus
 * `--allow-phi-endpoint <id>@<origin>` for one command. A workspace can never approve: a file inside the
 * workspace is ignored even when the path points there. (The editor keeps its approvals in VS Code's
 * user-level state and passes its own checker.)
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ApprovalQuery } from '../core/run/guard';
import type { ApprovalEntry } from '../core/run/approvals';
import { isApprovedBy, parseApprovals, serializeApprovals, withApproval } from '../core/run/approvals';
import { writeFileAtomic } from './store';

export const APPROVALS_ENV = 'MEDALIGN_APPROVALS_FILE';

/** Answers "may this run send records to this endpoint?". May be async (a prompt, a file). */
export type ApprovalChecker = (q: ApprovalQuery) => boolean | Promise<boolean>;

/** Where the user's approvals file is. */
export function approvalsFilePath(env: NodeJS.ProcessEnv = process.env): string {
  const override = env[APPROVALS_ENV];
  if (override !== undefined && override.trim() !== '') return path.resolve(override);
  const base = env['XDG_CONFIG_HOME']?.trim() || path.join(os.homedir(), '.config');
  return path.join(base, 'medalign-studio', 'phi-approvals.json');
}

function inside(folder: string, file: string): boolean {
  const rel = path.relative(path.resolve(folder), path.resolve(file));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export class FileApprovals {
  constructor(
    readonly file: string,
    /** Workspace roots: a file inside one of them is not trusted. */
    private readonly workspaceRoots: readonly string[] = [],
  ) {}

  /** False when the file lies inside a workspace (and is therefore ignored). */
  get trusted(): boolean {
    return !this.workspaceRoots.some((r) => inside(r, this.file));
  }

  async entries(): Promise<ApprovalEntry[]> {
    if (!this.trusted) return [];
    const text = await fsp.readFile(this.file, 'utf8').catch(() => undefined);
    return parseApprovals(text);
  }

  async isApproved(q: ApprovalQuery): Promise<boolean> {
    return isApprovedBy(await this.entries(), q);
  }

  /** Records the user's approval (e.g. `--remember-approval`). */
  async add(q: ApprovalQuery, now = new Date()): Promise<void> {
    if (!this.trusted)
      throw new Error(`The approvals file ${this.file} is inside a workspace; it cannot hold approvals.`);
    await fsp.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.file, serializeApprovals(withApproval(await this.entries(), q, now)));
  }
}

/**
 * The CLI's checker: approved when this endpoint id **at this origin** was given with
 * `--allow-phi-endpoint <id>@<origin>`, or the user's approvals file has this id at this origin.
 */
export function cliApprovalChecker(
  allowed: readonly Pick<ApprovalQuery, 'endpointId' | 'origin'>[],
  file: FileApprovals,
): ApprovalChecker {
  return async (q) =>
    allowed.some((a) => a.endpointId === q.endpointId && a.origin === q.origin) || (await file.isApproved(q));
}
