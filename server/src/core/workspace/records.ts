/**
 * Records by URI. Existence and the version key come from `stat` (mtime:size); parsing and every
 * token computation go to the RecordEngine, which caches by that key, so an unchanged record is read
 * and parsed once. I/O goes through the injected FileSystem.
 */
import type { FileSystem } from '../host';
import type { EhrRecord } from '../record/model';
import type { RecordEngine } from './recordEngine';

export interface RecordInfo {
  uri: string;
  exists: boolean;
  /** Bytes on disk. */
  size?: number;
  /** The version key the engine knows this content by. */
  key?: string;
  record?: EhrRecord;
}

export class RecordStore {
  private readonly cache = new Map<string, RecordInfo>();
  private readonly pending = new Map<string, Promise<RecordInfo>>();

  constructor(
    private readonly fs: FileSystem,
    readonly engine: RecordEngine,
  ) {}

  async get(uri: string): Promise<RecordInfo> {
    const stat = await this.fs.stat(uri);
    if (!stat || stat.type !== 'file') {
      this.cache.delete(uri);
      return { uri, exists: false };
    }
    const key = `${stat.mtime}:${stat.size}`;
    const hit = this.cache.get(uri);
    if (hit?.key === key) return hit;
    const pendingKey = `${uri}@${key}`;
    let p = this.pending.get(pendingKey);
    if (!p) {
      p = this.load(uri, key, stat.size).finally(() => this.pending.delete(pendingKey));
      this.pending.set(pendingKey, p);
    }
    return p;
  }

  invalidate(uri: string): void {
    this.cache.delete(uri);
  }

  private async load(uri: string, key: string, size: number): Promise<RecordInfo> {
    const record = await this.engine.load(uri, key, () => this.fs.readFile(uri));
    if (!record) return { uri, exists: false };
    const info: RecordInfo = { uri, exists: true, size, key, record };
    this.cache.set(uri, info);
    return info;
  }
}
