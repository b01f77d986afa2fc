/**
 * A RecordEngine whose work runs in a worker thread, so the language server's event loop is never
 * blocked by parsing or tokenizing a large record. It remembers which records are loaded and counted,
 * so that a hover can answer "counting…" at once instead of waiting (`wait: false`).
 */
import { Worker } from 'node:worker_threads';
import * as path from 'node:path';
import type { EhrRecord } from '../../../engine/src/core/record/model';
import type { EncodingName } from '../../../engine/src/core/tokens/encodings';
import type { FitTable, PackResult } from '../../../engine/src/core/packing/pack';
import { RecordWork, entryKey } from '../../../engine/src/core/workspace/recordEngine';
import type {
  ElementInfo,
  PackRequest,
  RecordEngine,
  RecordTotals,
  TokenRequest,
} from '../../../engine/src/core/workspace/recordEngine';
import type { WorkerCall, WorkerRequest, WorkerResponse } from './recordWorkerProtocol';

export class WorkerRecordEngine implements RecordEngine {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  /** entryKey(uri, key) -> light record, for what the worker has loaded (fewer than it keeps). */
  private readonly loaded = new Map<string, EhrRecord>();
  private static readonly CAPACITY = Math.max(1, RecordWork.CAPACITY - 4);
  private readonly loading = new Map<string, Promise<EhrRecord | undefined>>();
  /** `${uri}@${key}@${encoding}` -> counting (promise) or counted (true). */
  private readonly counted = new Map<string, Promise<unknown> | true>();

  constructor(
    private readonly workerPath: string = path.join(__dirname, 'recordWorker.js'),
    private readonly log: (message: string) => void = () => undefined,
  ) {}

  private call<T>(call: WorkerCall): Promise<T> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ id, call } satisfies WorkerRequest);
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.workerPath);
    w.on('message', (res: WorkerResponse) => {
      const p = this.waiting.get(res.id);
      if (!p) return;
      this.waiting.delete(res.id);
      if (res.ok) p.resolve(res.result);
      else p.reject(new Error(res.error));
    });
    const fail = (err: Error) => {
      this.log(`Record worker stopped: ${err.message}; it restarts on the next request.`);
      if (this.worker === w) this.worker = undefined;
      this.loaded.clear();
      this.counted.clear();
      for (const p of this.waiting.values()) p.reject(err);
      this.waiting.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => {
      if (this.worker === w && code !== 0) fail(new Error(`exit code ${code}`));
      if (this.worker === w) this.worker = undefined;
    });
    w.unref();
    this.worker = w;
    return w;
  }

  async load(
    uri: string,
    key: string,
    read: () => Promise<string | undefined>,
  ): Promise<EhrRecord | undefined> {
    const lk = entryKey(uri, key);
    const have = this.loaded.get(lk);
    if (have) return have;
    let p = this.loading.get(lk);
    if (!p) {
      p = (async () => {
        const text = await read();
        if (text === undefined) return undefined;
        const record = await this.call<EhrRecord>({ op: 'load', uri, key, text });
        this.loaded.set(lk, record);
        if (this.loaded.size > WorkerRecordEngine.CAPACITY) {
          const oldest = this.loaded.keys().next().value!;
          this.loaded.delete(oldest);
          for (const ck of [...this.counted.keys()])
            if (ck.startsWith(`${oldest}\n`)) this.counted.delete(ck);
        }
        return record;
      })().finally(() => this.loading.delete(lk));
      this.loading.set(lk, p);
    }
    return p;
  }

  private isLoaded(uri: string, key: string): boolean {
    return this.loaded.has(entryKey(uri, key));
  }

  /** Starts (or joins) counting; resolves when the worker has the counts. */
  private ensureCounted(uri: string, key: string, encoding: EncodingName): Promise<unknown> | true {
    const ck = `${entryKey(uri, key)}\n${encoding}`;
    const state = this.counted.get(ck);
    if (state) return state;
    const p = this.call<unknown>({ op: 'counts', uri, key, encoding }).then(
      (r) => {
        this.counted.set(ck, true);
        return r;
      },
      (err: unknown) => {
        this.counted.delete(ck);
        throw err;
      },
    );
    this.counted.set(ck, p);
    return p;
  }

  async counts(
    uri: string,
    key: string,
    encoding: EncodingName,
    wait: boolean,
  ): Promise<RecordTotals | 'pending' | undefined> {
    if (!this.isLoaded(uri, key)) return undefined;
    const state = this.ensureCounted(uri, key, encoding);
    if (state !== true && !wait) {
      state.catch(() => undefined);
      return 'pending';
    }
    return this.call<RecordTotals | undefined>({ op: 'counts', uri, key, encoding });
  }

  async fit(
    uri: string,
    key: string,
    req: TokenRequest,
    wait: boolean,
  ): Promise<FitTable | 'pending' | undefined> {
    if (!this.isLoaded(uri, key)) return undefined;
    const state = this.ensureCounted(uri, key, req.encoding);
    if (state !== true) {
      if (!wait) {
        state.catch(() => undefined);
        return 'pending';
      }
      await state;
    }
    return this.call<FitTable | undefined>({ op: 'fit', uri, key, req });
  }

  pack(uri: string, key: string, req: PackRequest): Promise<PackResult | undefined> {
    if (!this.isLoaded(uri, key)) return Promise.resolve(undefined);
    return this.call<PackResult | undefined>({ op: 'pack', uri, key, req });
  }

  countText(text: string, encoding: EncodingName): Promise<number> {
    return this.call<number>({ op: 'countText', text, encoding });
  }

  describeAt(
    uri: string,
    key: string,
    offset: number,
    encoding: EncodingName,
  ): Promise<ElementInfo | undefined> {
    if (!this.isLoaded(uri, key)) return Promise.resolve(undefined);
    return this.call<ElementInfo | undefined>({ op: 'describeAt', uri, key, offset, encoding });
  }

  dispose(): void {
    void this.worker?.terminate();
    this.worker = undefined;
  }
}
