/**
 * The run store: `<workspace>/.medalign/runs/<instruction id>/<run file>.json`, one file per run,
 * written atomically (a temporary file in the same folder, then rename), plus `.medalign/.gitignore`
 * so runs and the audit log (both PHI) are not committed unless the user decides otherwise.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { RunRecord, RunSummary } from '../core/run/runRecord';
import {
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

/** Writes `text` to `file` atomically: readers see the old file or the whole new one, never a part. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    await fsp.writeFile(tmp, text, { encoding: 'utf8', mode: 0o600 });
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/** Creates `<root>/.medalign/` with its `.gitignore` (kept as the user left it if it exists). */
export async function ensureMedalignDir(root: string): Promise<string> {
  const dir = path.join(root, MEDALIGN_DIR);
  await fsp.mkdir(dir, { recursive: true });
  const gi = path.join(dir, '.gitignore');
  try {
    await fsp.writeFile(gi, MEDALIGN_GITIGNORE, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return dir;
}

export interface StoredRun {
  /** Absolute path of the run file. */
  file: string;
  run: RunRecord;
}

export interface StoredSummary extends RunSummary {
  file: string;
}

export class RunStore {
  readonly runsDir: string;

  constructor(readonly root: string) {
    this.runsDir = path.join(root, MEDALIGN_DIR, RUNS_DIR);
  }

  /** Folders known to exist (saves a mkdir per run; a deleted folder is made again on ENOENT). */
  private readonly madeDirs = new Set<string>();

  /** Saves a run; returns its file. `secrets` are checked for once more and scrubbed (belt and braces). */
  async save(run: RunRecord, secrets: readonly string[] = []): Promise<string> {
    const dir = path.join(this.runsDir, runDirName(run.instruction.id));
    let text = serializeRun(run);
    for (const s of secrets) {
      if (s.length >= 4 && text.includes(s)) text = text.split(s).join('[redacted]');
    }
    const file = path.join(dir, runFileName(run));
    const make = async () => {
      // `.medalign/` with its .gitignore first, so runs never exist without it.
      await ensureMedalignDir(this.root);
      await fsp.mkdir(dir, { recursive: true });
      this.madeDirs.add(dir);
    };
    if (!this.madeDirs.has(dir)) await make();
    try {
      await writeFileAtomic(file, text);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.madeDirs.delete(dir);
      await make();
      await writeFileAtomic(file, text);
    }
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

  /** Runs, newest first; only those of one instruction when `instructionId` is given. */
  async list(filter: { instructionId?: string } = {}): Promise<StoredSummary[]> {
    const files = await this.files(filter.instructionId);
    const out: StoredSummary[] = [];
    for (const file of files) {
      const run = await this.read(file);
      if (!run) continue;
      if (filter.instructionId !== undefined && run.instruction.id !== filter.instructionId) continue;
      out.push({ ...summarizeRun(run), file });
    }
    return out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }

  /** The newest run of an instruction (for "Last run"). */
  async latest(instructionId: string): Promise<StoredRun | undefined> {
    const [s] = await this.list({ instructionId });
    if (!s) return undefined;
    const run = await this.read(s.file);
    return run ? { file: s.file, run } : undefined;
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
