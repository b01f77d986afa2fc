/** Messages between the language server and its record worker (one place for both sides). */
import type { TokenizerName } from '../../../engine/src/core/tokens/tokenizer';
import type {
  PackRequest,
  TimelineRequest,
  TokenRequest,
} from '../../../engine/src/core/workspace/recordEngine';

export type WorkerCall =
  | { op: 'load'; uri: string; key: string; text: string }
  | { op: 'counts'; uri: string; key: string; encoding: TokenizerName }
  | { op: 'fit'; uri: string; key: string; req: TokenRequest }
  | { op: 'pack'; uri: string; key: string; req: PackRequest }
  | { op: 'timeline'; uri: string; key: string; req: TimelineRequest }
  /**
   * The model in columns (what crosses the thread boundary quickly; `timeline` is decoded from it);
   * `pack`: a big model's columns packed for the view (packWire.ts).
   */
  | {
      op: 'timelineWire';
      uri: string;
      key: string;
      req: TimelineRequest;
      previews: boolean | number;
      pack?: boolean;
    }
  | { op: 'timelinePreviews'; uri: string; key: string; req: TimelineRequest; ids: number[] }
  /** The view's first answer: the counted columns when ready, else the structure (counts nothing). */
  | {
      op: 'timelineFirst';
      uri: string;
      key: string;
      req: TimelineRequest;
      previews: boolean | number;
      pack?: boolean;
    }
  | { op: 'countText'; text: string; encoding: TokenizerName }
  | { op: 'describeAt'; uri: string; key: string; offset: number; encoding: TokenizerName }
  /** `tokenizer: server` (tokens/serverTable.ts): a table's missing texts, and the server's counts. */
  | { op: 'serverMissing'; table: string }
  | { op: 'serverCounts'; table: string; entries: [string, number][] }
  /** A Hugging Face tokenizer's files, sent once per worker before the first call that names it. */
  | { op: 'tokenizer'; name: TokenizerName; json: string; config?: string };

/** The tokenizer a call counts with, if any. */
export function callTokenizer(call: WorkerCall): TokenizerName | undefined {
  // The structure counts nothing (a counted model that is ready was counted with the tokenizer).
  if (call.op === 'timelineFirst') return undefined;
  if ('encoding' in call) return call.encoding;
  if ('req' in call) return call.req.encoding;
  return undefined;
}

export interface WorkerRequest {
  id: number;
  call: WorkerCall;
}

/** `evicted`: records the worker dropped while answering (their `entryKey`s). */
export type WorkerResponse = (
  { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string }
) & { evicted?: string[] };
