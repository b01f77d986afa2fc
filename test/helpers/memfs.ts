/** An in-memory FileSystem for unit tests: paths are `file:///ws/...` URIs. */
import type { FileStat, FileSystem, FileType } from '../../engine/src/core/host';

export class MemFs implements FileSystem {
  readonly files = new Map<string, { text: string; mtime: number }>();
  private clock = 1;
  reads = 0;

  constructor(files: Record<string, string> = {}) {
    for (const [p, t] of Object.entries(files)) this.write(p, t);
  }

  static uri(path: string): string {
    return `file:///ws/${path.replace(/^\/+/, '')}`;
  }

  write(path: string, text: string): string {
    const uri = path.startsWith('file://') ? path : MemFs.uri(path);
    this.files.set(uri, { text, mtime: this.clock++ });
    return uri;
  }

  delete(path: string): void {
    this.files.delete(path.startsWith('file://') ? path : MemFs.uri(path));
  }

  readFile(uri: string): Promise<string | undefined> {
    this.reads++;
    return Promise.resolve(this.files.get(uri)?.text);
  }

  stat(uri: string): Promise<FileStat | undefined> {
    const f = this.files.get(uri);
    if (f) return Promise.resolve({ type: 'file', size: f.text.length, mtime: f.mtime });
    const prefix = uri.endsWith('/') ? uri : uri + '/';
    for (const k of this.files.keys()) {
      if (k.startsWith(prefix)) return Promise.resolve({ type: 'directory', size: 0, mtime: 0 });
    }
    return Promise.resolve(undefined);
  }

  readDirectory(uri: string): Promise<[string, FileType][]> {
    const prefix = uri.endsWith('/') ? uri : uri + '/';
    const out = new Map<string, FileType>();
    for (const k of this.files.keys()) {
      if (!k.startsWith(prefix)) continue;
      const rest = k.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash < 0) out.set(rest, 'file');
      else out.set(rest.slice(0, slash), 'directory');
    }
    return Promise.resolve([...out.entries()]);
  }
}

/** Splits `text` at the `|` caret marker: the text without it and the caret offset. */
export function caret(textWithCaret: string): { text: string; offset: number } {
  const offset = textWithCaret.indexOf('|');
  if (offset < 0) throw new Error('no | caret in text');
  return { text: textWithCaret.slice(0, offset) + textWithCaret.slice(offset + 1), offset };
}
