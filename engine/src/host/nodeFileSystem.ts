import { promises as fsp } from 'node:fs';
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
