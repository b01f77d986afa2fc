/**
 * Records by URI. Existence and the version key come from `stat` (mtime:size); parsing and every
 * token computation go to the RecordEngine, which caches by that key, so an unchanged record is read
 * and parsed once. I/O goes through the injected FileSystem.
 */
import type { FileSystem } from '../host';
import type { EhrRecord } from '../record/model';
import { RECORD_LIMITS, tooLargeRecord } from '../record/parse';
import type { Cancel, RecordEngine } from './recordEngine';

export interface RecordInfo {
  uri: string;
  exists: boolean;
  /** Bytes on disk. */
  size?: number;
  /** The version key the engine knows this content by. */
  key?: string;
  record?: EhrRecord;
}

/**
 * A record file before it is read: missing (or not a file), refused for its size (`record`: the
 * too-large model, so the text is never read), or to be read (`size`, version `key`).
 */
export async function statRecord(
  fs: FileSystem,
  uri: string,
): Promise<
  | { uri: string; exists: false }
  | { uri: string; exists: true; size: number; key: string; record?: EhrRecord }
> {
  const stat = await fs.stat(uri);
  if (!stat || stat.type !== 'file') return { uri, exists: false };
  const key = `${stat.mtime}:${stat.size}`;
  if (stat.size > RECORD_LIMITS.bytes) {
    const record = tooLargeRecord(stat.size, `${stat.size} bytes; at most ${RECORD_LIMITS.bytes}`);
    return { uri, exists: true, size: stat.size, key, record };
  }
  return { uri, exists: true, size: stat.size, key };
}

export class RecordStore {
  constructor(
    private readonly fs: FileSystem,
    readonly engine: RecordEngine,
  ) {}

  /** The record's text as it is on disk now (for `tokenizer: server`: the text the server counts). */
  text(uri: string): Promise<string | undefined> {
    return this.fs.readFile(uri);
  }

  /** The record at `uri` as it is on disk now; the engine parses it once per version. */
  async get(uri: string, cancel?: Cancel): Promise<RecordInfo> {
    const found = await statRecord(this.fs, uri);
    if (!found.exists || found.record) return found;
    const record = await this.engine.load(uri, found.key, () => this.fs.readFile(uri), cancel);
    if (!record) return { uri, exists: false };
    return { ...found, record };
  }
}
