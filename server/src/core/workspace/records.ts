/**
 * Parsed records by URI, cached by (mtime, size) so an unchanged record is parsed once.
 * I/O goes through the injected FileSystem.
 */
import type { FileSystem } from '../host';
import type { EhrRecord } from '../record/model';
import { parseRecord } from '../record/parse';

export interface RecordInfo {
  uri: string;
  exists: boolean;
  /** Bytes on disk. */
  size?: number;
  /** The file's text (kept for token counts and packing). */
  text?: string;
  record?: EhrRecord;
}

interface Entry {
  mtime: number;
  size: number;
  info: RecordInfo;
}

export class RecordStore {
  private readonly cache = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<RecordInfo>>();

  constructor(
    private readonly fs: FileSystem,
    private readonly parse: (xml: string) => EhrRecord = parseRecord,
  ) {}

  async get(uri: string): Promise<RecordInfo> {
    const stat = await this.fs.stat(uri);
    if (!stat || stat.type !== 'file') {
      this.cache.delete(uri);
      return { uri, exists: false };
    }
    const hit = this.cache.get(uri);
    if (hit && hit.mtime === stat.mtime && hit.size === stat.size) return hit.info;
    const key = `${uri}@${stat.mtime}:${stat.size}`;
    let p = this.pending.get(key);
    if (!p) {
      p = this.load(uri, stat.mtime, stat.size).finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    return p;
  }

  /** Only what is already cached (no I/O); for hot paths that must not wait. */
  peek(uri: string): RecordInfo | undefined {
    return this.cache.get(uri)?.info;
  }

  invalidate(uri: string): void {
    this.cache.delete(uri);
  }

  private async load(uri: string, mtime: number, size: number): Promise<RecordInfo> {
    const text = await this.fs.readFile(uri);
    if (text === undefined) return { uri, exists: false };
    const info: RecordInfo = { uri, exists: true, size, text, record: this.parse(text) };
    this.cache.set(uri, { mtime, size, info });
    return info;
  }
}
