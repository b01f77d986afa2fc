/**
 * Folders the user trusts to run from, for the CLI (the editor has VS Code's Workspace Trust): a
 * file in the user's home, `$XDG_CONFIG_HOME/medalign-studio/trusted-folders.json` (by default
 * `~/.config/medalign-studio/trusted-folders.json`), never in a workspace. A run reads a cloned
 * project's instructions, config and records and sends them to endpoints that project names, so the
 * first `medalign run` (or `batch export`) in a folder asks, or needs `--trust`.
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from './store';

export const TRUSTED_FOLDERS_FORMAT = 'medalign-trusted-folders';

/** `$XDG_CONFIG_HOME/medalign-studio`, by default `~/.config/medalign-studio`. */
export function userConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env['XDG_CONFIG_HOME']?.trim() || path.join(os.homedir(), '.config');
  return path.join(path.resolve(base), 'medalign-studio');
}

export function trustedFoldersPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(userConfigDir(env), 'trusted-folders.json');
}

function inside(folder: string, file: string): boolean {
  const rel = path.relative(folder, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** A folder's real path (links followed); the path itself when it cannot be resolved. */
async function real(folder: string): Promise<string> {
  return fsp.realpath(folder).catch(() => path.resolve(folder));
}

interface TrustedFile {
  format: string;
  version: 1;
  folders: { path: string; trustedAt: string }[];
}

function parse(text: string | undefined): TrustedFile['folders'] {
  if (text === undefined) return [];
  try {
    const raw = JSON.parse(text) as Partial<TrustedFile>;
    if (raw.format !== TRUSTED_FOLDERS_FORMAT || !Array.isArray(raw.folders)) return [];
    return raw.folders.filter(
      (f): f is { path: string; trustedAt: string } =>
        !!f && typeof f.path === 'string' && path.isAbsolute(f.path) && typeof f.trustedAt === 'string',
    );
  } catch {
    return [];
  }
}

export class TrustedFolders {
  constructor(readonly file: string = trustedFoldersPath()) {}

  private async entries(): Promise<TrustedFile['folders']> {
    return parse(await fsp.readFile(this.file, 'utf8').catch(() => undefined));
  }

  /**
   * True when `folder` (or a folder above it) was trusted. A trust file inside the folder itself is
   * ignored: a workspace cannot trust itself.
   */
  async isTrusted(folder: string): Promise<boolean> {
    const f = await real(folder);
    if (inside(f, await real(path.dirname(this.file)))) return false;
    return (await this.entries()).some((e) => inside(e.path, f));
  }

  /** Remembers the user's trust in `folder`. */
  async add(folder: string, now = new Date()): Promise<void> {
    const f = await real(folder);
    if (inside(f, await real(path.dirname(this.file)))) {
      throw new Error(`The trusted-folders file ${this.file} is inside ${f}; a folder cannot trust itself.`);
    }
    const folders = (await this.entries()).filter((e) => e.path !== f);
    folders.push({ path: f, trustedAt: now.toISOString() });
    await fsp.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const data: TrustedFile = { format: TRUSTED_FOLDERS_FORMAT, version: 1, folders };
    await writeFileAtomic(this.file, JSON.stringify(data, null, 2) + '\n');
  }
}
