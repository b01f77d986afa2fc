/**
 * The only way the core touches the outside world. The server and the CLI implement these over
 * `node:fs`; tests implement them in memory. Nothing in `core/` imports Node built-ins.
 */

export type FileType = 'file' | 'directory';

export interface FileStat {
  type: FileType;
  /** Bytes. */
  size: number;
  /** Milliseconds since the epoch; used as a cache key together with size. */
  mtime: number;
}

export interface FileSystem {
  /** The file's text (UTF-8), or `undefined` when it does not exist or cannot be read. */
  readFile(uri: string): Promise<string | undefined>;
  /** `undefined` when nothing is there. */
  stat(uri: string): Promise<FileStat | undefined>;
  /** Entries of a directory as `[name, type]`; empty when it does not exist. */
  readDirectory(uri: string): Promise<[string, FileType][]>;
  /**
   * The canonical URI of what is at `uri`, every symbolic link followed (`realpath`); `undefined`
   * when nothing is there. The workspace's bounds check (workspace/bounds.ts) relies on it.
   */
  realpath(uri: string): Promise<string | undefined>;
}
