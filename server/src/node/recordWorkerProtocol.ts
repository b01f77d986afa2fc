/** Messages between the language server and its record worker (one place for both sides). */
import type { EncodingName } from '../../../engine/src/core/tokens/encodings';
import type {
  PackRequest,
  TimelineRequest,
  TokenRequest,
} from '../../../engine/src/core/workspace/recordEngine';

export type WorkerCall =
  | { op: 'load'; uri: string; key: string; text: string }
  | { op: 'counts'; uri: string; key: string; encoding: EncodingName }
  | { op: 'fit'; uri: string; key: string; req: TokenRequest }
  | { op: 'pack'; uri: string; key: string; req: PackRequest }
  | { op: 'timeline'; uri: string; key: string; req: TimelineRequest }
  | { op: 'countText'; text: string; encoding: EncodingName }
  | { op: 'describeAt'; uri: string; key: string; offset: number; encoding: EncodingName };

export interface WorkerRequest {
  id: number;
  call: WorkerCall;
}

/** `evicted`: records the worker dropped while answering (their `entryKey`s). */
export type WorkerResponse = (
  { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string }
) & { evicted?: string[] };
