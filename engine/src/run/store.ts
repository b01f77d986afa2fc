/**
 * The run store: `<workspace>/.medalign/runs/<instruction id>/<run file>.json`, one file per run,
 * written atomically (a temporary file in the same folder, then rename), plus `.medalign/.gitignore`
 * so runs and the audit log (both PHI) are not committed. Nothing is written through a symbolic link
 * (see safeFs.ts): `.medalign`, `runs` and `runs/<id>` must be real folders.
 */
import { constants, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { RunRecord, RunSummary } from '../core/run/runRecord';
import {
  AUDIT_LOG,
  MEDALIGN_DIR,
  MEDALIGN_GITIGNORE,
  RUNS_DIR,
  keyOfRunFileName,
  parseRunRecord,
  runDirName,
  runFileName,
  serializeRun,
  summarizeRun,
} from '../core/run/runRecord';
import { redactDeep } from '../core/run/redact';
import { UnsafePathError, checkDirs, checkFile, ensureDirs, openNoFollow } from './safeFs';

/**
 * Writes `text` to `file` atomically: readers see the old file or the whole new one, never a part.
 * The temporary file is created exclusively and without following links, and the rename replaces
 * `file` itself (a link there is replaced, never followed).
 */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    const fh = await openNoFollow(
      path.dirname(file),
      tmp,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
    );
    try {
      await fh.writeFile(text, 'utf8');
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/** Receives what the engine did on the user's behalf that they should know about. */
export type NoticeSink = (message: string) => void;

/**
 * Creates `<root>/.medalign/` (a real folder, never a link) with its `.gitignore`. The tool owns
 * that file: when it is missing it is written; when it is anything else (other content, a link, not
 * a file) it is restored and `onNotice` is told why.
 */
export async function ensureMedalignDir(root: string, onNotice?: NoticeSink): Promise<string> {
  const dir = await ensureDirs(root, [MEDALIGN_DIR]);
  const gi = path.join(dir, '.gitignore');
  const st = await fsp.lstat(gi).catch(() => undefined);
  let why: string | undefined;
  if (st === undefined) {
    try {
      const fh = await openNoFollow(
        root,
        gi,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
        0o644,
      );
      try {
        await fh.writeFile(MEDALIGN_GITIGNORE, 'utf8');
      } finally {
        await fh.close();
      }
      return dir;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return dir; // another run wrote it just now
    }
  } else if (st.isSymbolicLink()) why = 'it was a symbolic link';
  else if (!st.isFile()) why = 'it was not a file';
  else if (st.size !== Buffer.byteLength(MEDALIGN_GITIGNORE)) why = 'its content had been changed';
  else if ((await fsp.readFile(gi, 'utf8')) !== MEDALIGN_GITIGNORE) why = 'its content had been changed';
  if (why === undefined) return dir;
  await writeFileAtomic(gi, MEDALIGN_GITIGNORE);
  onNotice?.(
    `restored ${MEDALIGN_DIR}/.gitignore (${why}): runs, the audit log and batch files hold patient ` +
      `records (PHI) and must not be committed. MedAlign Studio owns this file and restores it before it writes.`,
  );
  return dir;
}

/**
 * Why a run of `instructionId` must not write in `root` (a linked `.medalign`, `runs`, `runs/<id>`
 * or `audit.log`), or `undefined` when it may. Checked before anything is sent.
 */
export async function checkWritePaths(root: string, instructionId: string): Promise<string | undefined> {
  try {
    await checkDirs(root, [MEDALIGN_DIR, RUNS_DIR, runDirName(instructionId)]);
    await checkFile(root, path.join(root, MEDALIGN_DIR, AUDIT_LOG));
    return undefined;
  } catch (err) {
    if (err instanceof UnsafePathError) return `${err.message} Nothing was sent.`;
    throw err;
  }
}

export interface StoredRun {
  /** Absolute path of the run file. */
  file: string;
  run: RunRecord;
}

export interface StoredSummary extends RunSummary {
  file: string;
}

export interface RunFilter {
  instructionId?: string;
  /** Relative to the store's root, `/`-separated (as `run.instruction.file`). */
  instructionFile?: string;
}

/** A run worth comparing with the gold response: complete, with an answer. */
export function isAnswered(s: Pick<RunSummary, 'status' | 'preview'>): boolean {
  return s.status === 'complete' && s.preview.trim() !== '';
}

export class RunStore {
  readonly runsDir: string;

  constructor(readonly root: string) {
    this.runsDir = path.join(root, MEDALIGN_DIR, RUNS_DIR);
  }

  /** Told when `.medalign/.gitignore` had to be restored. */
  onNotice?: NoticeSink;

  /**
   * Saves a run; returns its file. Every string of the run is redacted of `secrets` (and fragments
   * of them) first. The folders are checked on every save: a link is refused, never followed.
   */
  async save(run: RunRecord, secrets: readonly string[] = []): Promise<string> {
    const text = serializeRun(redactDeep(run, secrets));
    // `.medalign/` with its .gitignore first, so runs never exist without it.
    await ensureMedalignDir(this.root, this.onNotice);
    const dir = await ensureDirs(this.root, [MEDALIGN_DIR, RUNS_DIR, runDirName(run.instruction.id)]);
    const file = path.join(dir, runFileName(run));
    await writeFileAtomic(file, text);
    return file;
  }

  async read(file: string): Promise<RunRecord | undefined> {
    try {
      return parseRunRecord(await fsp.readFile(file, 'utf8'));
    } catch {
      return undefined;
    }
  }

  async delete(file: string): Promise<boolean> {
    const resolved = path.resolve(file);
    if (!resolved.startsWith(this.runsDir + path.sep) || !resolved.endsWith('.json')) return false;
    try {
      // Only in real folders: not through a linked `.medalign`, `runs` or `runs/<id>`.
      const parts = path.relative(this.root, path.dirname(resolved)).split(path.sep);
      await checkDirs(this.root, parts);
      if ((await fsp.lstat(resolved)).isSymbolicLink()) return false;
      await fsp.rm(resolved);
      return true;
    } catch {
      return false;
    }
  }

  private async files(instructionId?: string): Promise<string[]> {
    const dirs =
      instructionId !== undefined
        ? [path.join(this.runsDir, runDirName(instructionId))]
        : (await fsp.readdir(this.runsDir, { withFileTypes: true }).catch(() => []))
            .filter((e) => e.isDirectory())
            .map((e) => path.join(this.runsDir, e.name));
    const out: string[] = [];
    for (const d of dirs) {
      const names = await fsp.readdir(d).catch(() => [] as string[]);
      for (const n of names) if (n.endsWith('.json') && !n.startsWith('.')) out.push(path.join(d, n));
    }
    return out;
  }

  /**
   * Runs, newest first; only those of one instruction when `instructionId` is given, and only those
   * of one instruction file when `instructionFile` is (relative to the root, `/`-separated, as the
   * run records it): two files that share an id share a folder, not their runs.
   */
  async list(filter: RunFilter = {}): Promise<StoredSummary[]> {
    const files = await this.files(filter.instructionId);
    const out: StoredSummary[] = [];
    for (const file of files) {
      const run = await this.read(file);
      if (!run) continue;
      if (filter.instructionId !== undefined && run.instruction.id !== filter.instructionId) continue;
      if (filter.instructionFile !== undefined && run.instruction.file !== filter.instructionFile) continue;
      out.push({ ...summarizeRun(run), file });
    }
    return out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }

  /**
   * The newest run of an instruction (for "Last run"): of one file when `instructionFile` is given;
   * with `answered`, the newest complete run with a non-empty answer (for "Compare with gold").
   */
  async latest(
    instructionId: string,
    o: { instructionFile?: string; answered?: boolean } = {},
  ): Promise<StoredRun | undefined> {
    const list = await this.list({
      instructionId,
      ...(o.instructionFile !== undefined ? { instructionFile: o.instructionFile } : {}),
    });
    for (const s of list) {
      if (o.answered === true && !isAnswered(s)) continue;
      const run = await this.read(s.file);
      if (run && (o.answered !== true || run.response.trim() !== '')) return { file: s.file, run };
    }
    return undefined;
  }

  /** The newest run with this resume key, whatever its status (a refine run resumes from its steps). */
  async findLatest(instructionId: string, key: string): Promise<StoredRun | undefined> {
    const dir = path.join(this.runsDir, runDirName(instructionId));
    const names = await fsp.readdir(dir).catch(() => [] as string[]);
    for (const n of names.sort().reverse()) {
      if (keyOfRunFileName(n) !== key) continue;
      const file = path.join(dir, n);
      const run = await this.read(file);
      if (run?.key === key) return { file, run };
    }
    return undefined;
  }

  /**
   * A complete run with this resume key, if one exists. Only files whose name carries the key are
   * opened, so resuming a big batch does not read every run.
   */
  async findComplete(instructionId: string, key: string): Promise<StoredRun | undefined> {
    const dir = path.join(this.runsDir, runDirName(instructionId));
    const names = await fsp.readdir(dir).catch(() => [] as string[]);
    for (const n of names.sort().reverse()) {
      if (keyOfRunFileName(n) !== key) continue;
      const file = path.join(dir, n);
      const run = await this.read(file);
      if (run?.key === key && run.status === 'complete') return { file, run };
    }
    return undefined;
  }
}
