/**
 * Writing inside a workspace that someone else may have prepared (a cloned dataset repository):
 * never through a symbolic link. Folders under the workspace root are checked with `lstat` one
 * component at a time (`.medalign`, `runs`, `runs/<id>`) and a link is refused with an error that
 * names it; files are opened with `O_NOFOLLOW` (and `O_EXCL` for new files), so a link planted as the
 * last component fails instead of being followed. The workspace root itself is the user's choice and
 * is not checked.
 */
import { constants, promises as fsp } from 'node:fs';
import type { Stats } from 'node:fs';
import * as path from 'node:path';

/** 0 where the platform has no such flag (Windows): the lstat checks still apply. */
export const O_NOFOLLOW: number = constants.O_NOFOLLOW ?? 0;
const O_NONBLOCK: number = constants.O_NONBLOCK ?? 0;

/** A path under the workspace that is a link (or not what it should be): nothing is written there. */
export class UnsafePathError extends Error {
  readonly code = 'EMEDALIGNUNSAFE';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
    this.name = 'UnsafePathError';
  }
}

function shown(root: string, p: string): string {
  const r = path.relative(root, p);
  return r === '' || r.startsWith('..') || path.isAbsolute(r) ? p : r.split(path.sep).join('/');
}

async function lstatOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await fsp.lstat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function linkError(root: string, p: string): Promise<UnsafePathError> {
  const target = await fsp.readlink(p).catch(() => undefined);
  return new UnsafePathError(
    p,
    `${shown(root, p)} is a symbolic link${target !== undefined ? ` (to ${target})` : ''}: MedAlign Studio ` +
      `never writes through links (a workspace could point them at any file of yours). Remove it and run again.`,
  );
}

/**
 * Checks the folders `segments` under `root` without creating anything: each that exists must be a
 * real folder, not a link. Missing ones are fine (they will be made).
 */
export async function checkDirs(root: string, segments: readonly string[]): Promise<void> {
  let dir = root;
  for (const seg of segments) {
    dir = path.join(dir, seg);
    const st = await lstatOrUndefined(dir);
    if (st === undefined) return;
    if (st.isSymbolicLink()) throw await linkError(root, dir);
    if (!st.isDirectory()) throw new UnsafePathError(dir, `${shown(root, dir)} is not a folder.`);
  }
}

/** Checks that `file` (under `root`) is absent or a plain file, not a link. */
export async function checkFile(root: string, file: string): Promise<void> {
  const st = await lstatOrUndefined(file);
  if (st === undefined) return;
  if (st.isSymbolicLink()) throw await linkError(root, file);
  if (!st.isFile()) throw new UnsafePathError(file, `${shown(root, file)} is not a regular file.`);
}

/**
 * Makes the folders `segments` under `root` one component at a time (as `mkdir -p` would), refusing
 * any component that is a link or not a folder. Returns the deepest folder.
 */
export async function ensureDirs(root: string, segments: readonly string[]): Promise<string> {
  let dir = root;
  for (const seg of segments) {
    dir = path.join(dir, seg);
    let st = await lstatOrUndefined(dir);
    if (st === undefined) {
      try {
        await fsp.mkdir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      st = await fsp.lstat(dir);
    }
    if (st.isSymbolicLink()) throw await linkError(root, dir);
    if (!st.isDirectory()) throw new UnsafePathError(dir, `${shown(root, dir)} is not a folder.`);
  }
  return dir;
}

/** Opens a file under `root` with `flags | O_NOFOLLOW`; a link gives an `UnsafePathError` naming it. */
export async function openNoFollow(
  root: string,
  file: string,
  flags: number,
  mode = 0o600,
): Promise<fsp.FileHandle> {
  try {
    return await fsp.open(file, flags | O_NOFOLLOW | O_NONBLOCK, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw await linkError(root, file);
    throw err;
  }
}

/**
 * Appends `text` to `file` in one write (`O_APPEND`, so concurrent writers do not interleave lines),
 * creating it (mode 0600) if needed. Refused when `file` is a link, not a regular file, or a hard
 * link to another name (a second name for some file of the user's).
 */
export async function appendNoFollow(root: string, file: string, text: string): Promise<void> {
  const fh = await openNoFollow(root, file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new UnsafePathError(file, `${shown(root, file)} is not a regular file.`);
    if (st.nlink > 1) {
      throw new UnsafePathError(
        file,
        `${shown(root, file)} has ${st.nlink} names (a hard link): MedAlign Studio does not write to it. Remove it and run again.`,
      );
    }
    await fh.write(text);
  } finally {
    await fh.close();
  }
}
