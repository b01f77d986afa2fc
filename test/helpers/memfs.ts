/** An in-memory FileSystem for unit tests: paths are `file:///ws/...` URIs. */
import type { FileStat, FileSystem, FileType } from '../../engine/src/core/host';

export class MemFs implements FileSystem {
  readonly files = new Map<string, { text: string; mtime: number }>();
  /** Symbolic links: link URI → target URI (a file or a folder). */
  readonly links = new Map<string, string>();
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

  /** Makes `path` a symbolic link to `target` (a path under /ws or a `file://` URI). */
  symlink(path: string, target: string): void {
    const uri = path.startsWith('file://') ? path : MemFs.uri(path);
    this.links.set(uri, target.startsWith('file://') ? target : MemFs.uri(target));
  }

  /** `uri` with every link among its prefixes replaced by its target. */
  private follow(uri: string): string {
    let cur = uri;
    for (let hops = 0; hops < 40; hops++) {
      let changed = false;
      for (const [link, target] of this.links) {
        if (cur === link || cur.startsWith(link + '/')) {
          cur = target + cur.slice(link.length);
          changed = true;
          break;
        }
      }
      if (!changed) return cur;
    }
    return cur;
  }

  realpath(uri: string): Promise<string | undefined> {
    const real = this.follow(uri);
    return this.stat(real).then((s) => (s ? real : undefined));
  }

  delete(path: string): void {
    this.files.delete(path.startsWith('file://') ? path : MemFs.uri(path));
  }

  readFile(uri: string): Promise<string | undefined> {
    this.reads++;
    return Promise.resolve(this.files.get(this.follow(uri))?.text);
  }

  stat(link: string): Promise<FileStat | undefined> {
    const uri = this.follow(link);
    const f = this.files.get(uri);
    if (f) return Promise.resolve({ type: 'file', size: f.text.length, mtime: f.mtime });
    const prefix = uri.endsWith('/') ? uri : uri + '/';
    for (const k of this.files.keys()) {
      if (k.startsWith(prefix)) return Promise.resolve({ type: 'directory', size: 0, mtime: 0 });
    }
    return Promise.resolve(undefined);
  }

  readDirectory(link: string): Promise<[string, FileType][]> {
    const uri = this.follow(link);
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
