/**
 * One run of a resume key at a time, across processes (two `medalign run … --resume` started
 * together, or the CLI and the editor): `.medalign/runs/<instruction id>/.<key>.lock`, created
 * exclusively and without following links, holding `{ pid, host, nonce, time }`. The holder touches
 * it every `LOCK_REFRESH_MS` while it runs and deletes it when the run is saved.
 *
 * A lock is stale, and taken over, when its process is gone (same host: `kill(pid, 0)` says no such
 * process), or when it has not been touched for `LOCK_STALE_MS` (a crashed holder on another host, a
 * reused pid, or a lock file shipped in a workspace), or when it is not a regular file. Taking over
 * renames the stale file aside first, so of two processes that both found it stale only one wins.
 */
import { constants, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { MEDALIGN_DIR, RUNS_DIR, runDirName } from '../core/run/runRecord';
import { ensureDirs, openNoFollow } from './safeFs';
import type { NoticeSink } from './store';
import { ensureMedalignDir } from './store';

/** A lock not touched for this long is stale (its holder touches it every `LOCK_REFRESH_MS`). */
export const LOCK_STALE_MS = 120_000;
export const LOCK_REFRESH_MS = 30_000;

export interface RunLock {
  readonly file: string;
  release(): Promise<void>;
}

interface LockBody {
  pid?: number;
  host?: string;
  nonce?: string;
}

/** What a lock file is, for "is it still the one I judged stale?": its text, or a marker. */
async function snapshot(file: string): Promise<string | undefined> {
  const st = await fsp.lstat(file).catch(() => undefined);
  if (st === undefined) return undefined;
  if (!st.isFile()) return `<not a file: ${st.mode}>`;
  return fsp.readFile(file, 'utf8').catch(() => '');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the lock at `file` (as `seen`) is stale. */
async function isStale(file: string, seen: string, now: number): Promise<boolean> {
  const st = await fsp.lstat(file).catch(() => undefined);
  if (st === undefined) return false; // gone: just try again
  if (!st.isFile()) return true;
  if (now - st.mtimeMs > LOCK_STALE_MS) return true;
  let body: LockBody;
  try {
    body = JSON.parse(seen) as LockBody;
  } catch {
    return false; // being written, or junk: the age rule decides
  }
  return body.host === os.hostname() && typeof body.pid === 'number' && body.pid > 0 && !alive(body.pid);
}

/**
 * Takes the lock of (`instructionId`, `key`) in the workspace `root`, or returns `undefined` when a
 * live holder has it. Never waits.
 */
export async function tryLockRun(
  root: string,
  instructionId: string,
  key: string,
  onNotice?: NoticeSink,
): Promise<RunLock | undefined> {
  await ensureMedalignDir(root, onNotice);
  const dir = await ensureDirs(root, [MEDALIGN_DIR, RUNS_DIR, runDirName(instructionId)]);
  const file = path.join(dir, `.${key}.lock`);
  for (let attempt = 0; attempt < 4; attempt++) {
    const nonce = randomBytes(8).toString('hex');
    try {
      const fh = await openNoFollow(root, file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL);
      try {
        await fh.writeFile(
          JSON.stringify({ pid: process.pid, host: os.hostname(), nonce, time: new Date().toISOString() }),
          'utf8',
        );
      } finally {
        await fh.close();
      }
      return held(file, nonce);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const seen = await snapshot(file);
    if (seen === undefined) continue; // released meanwhile
    if (!(await isStale(file, seen, Date.now()))) return undefined;
    // Stale: move it aside; if what moved is not what was judged stale, put it back.
    const aside = `${file}.${process.pid}.${nonce}.stale`;
    try {
      await fsp.rename(file, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    if ((await snapshot(aside)) !== seen) await fsp.link(aside, file).catch(() => undefined);
    await fsp.rm(aside, { force: true });
  }
  return undefined;
}

function held(file: string, nonce: string): RunLock {
  const timer = setInterval(() => {
    const t = new Date();
    fsp.utimes(file, t, t).catch(() => undefined);
  }, LOCK_REFRESH_MS);
  timer.unref();
  let released = false;
  return {
    file,
    release: async () => {
      if (released) return;
      released = true;
      clearInterval(timer);
      const text = await snapshot(file);
      if (text === undefined) return;
      try {
        if ((JSON.parse(text) as LockBody).nonce !== nonce) return; // taken over: not ours any more
      } catch {
        return;
      }
      await fsp.rm(file, { force: true });
    },
  };
}
