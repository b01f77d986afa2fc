import { promises as fsp, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { URI } from 'vscode-uri';
import type { FileSystem, FileStat, FileType } from '../core/host';

function toPath(uri: string): string {
  return URI.parse(uri).fsPath;
}

/** The core's FileSystem over node:fs, for `file:` URIs. */
export const nodeFileSystem: FileSystem = {
  async readFile(uri: string): Promise<string | undefined> {
    try {
      return await fsp.readFile(toPath(uri), 'utf8');
    } catch {
      return undefined;
    }
  },
  async stat(uri: string): Promise<FileStat | undefined> {
    try {
      const s = await fsp.stat(toPath(uri));
      return { type: s.isDirectory() ? 'directory' : 'file', size: s.size, mtime: s.mtimeMs };
    } catch {
      return undefined;
    }
  },
  async readDirectory(uri: string): Promise<[string, FileType][]> {
    try {
      const entries = await fsp.readdir(toPath(uri), { withFileTypes: true });
      const out: [string, FileType][] = [];
      for (const e of entries) {
        if (e.isDirectory()) out.push([e.name, 'directory']);
        else if (e.isFile()) out.push([e.name, 'file']);
      }
      return out;
    } catch {
      return [];
    }
  },
  async realpath(uri: string): Promise<string | undefined> {
    try {
      return URI.file(await fsp.realpath(toPath(uri))).toString();
    } catch {
      return undefined;
    }
  },
};

/**
 * The same FileSystem over node:fs's synchronous calls, for one planning pass that reads many small
 * files (an experiment's thousands of runs: `run/experiment.ts` `planKeys`, under a memo): no
 * thread-pool round trip per file, which under load costs more than the reads. It blocks the event
 * loop while it reads, so it is not for a server's per-keystroke work.
 */
export const syncNodeFileSystem: FileSystem = {
  readFile(uri: string): Promise<string | undefined> {
    try {
      return Promise.resolve(readFileSync(toPath(uri), 'utf8'));
    } catch {
      return Promise.resolve(undefined);
    }
  },
  stat(uri: string): Promise<FileStat | undefined> {
    const s = statSync(toPath(uri), { throwIfNoEntry: false });
    return Promise.resolve(
      s === undefined
        ? undefined
        : { type: s.isDirectory() ? 'directory' : 'file', size: s.size, mtime: s.mtimeMs },
    );
  },
  readDirectory(uri: string): Promise<[string, FileType][]> {
    try {
      const out: [string, FileType][] = [];
      for (const e of readdirSync(toPath(uri), { withFileTypes: true })) {
        if (e.isDirectory()) out.push([e.name, 'directory']);
        else if (e.isFile()) out.push([e.name, 'file']);
      }
      return Promise.resolve(out);
    } catch {
      return Promise.resolve([]);
    }
  },
  realpath(uri: string): Promise<string | undefined> {
    try {
      return Promise.resolve(URI.file(realpathSync(toPath(uri))).toString());
    } catch {
      return Promise.resolve(undefined);
    }
  },
};
