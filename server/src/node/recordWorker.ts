/**
 * Worker thread entry (bundled as dist/recordWorker.js): parses and counts records off the
 * language server's event loop. It hosts one RecordWork and answers WorkerRequests in order.
 */
import { parentPort } from 'node:worker_threads';
import { RecordWork, lightRecord } from '../../../engine/src/core/workspace/recordEngine';
import { registerHfTokenizer } from '../../../engine/src/core/tokens/tokenizer';
import type { WorkerRequest, WorkerResponse } from './recordWorkerProtocol';

const work = new RecordWork();

function handle(req: WorkerRequest): unknown {
  const c = req.call;
  switch (c.op) {
    case 'load':
      return lightRecord(work.load(c.uri, c.key, c.text));
    case 'counts': {
      const counts = work.counts(c.uri, c.key, c.encoding);
      if (!counts) return undefined;
      // The layout can be large; the server needs the totals.
      const { layout: _layout, ...totals } = counts;
      return totals;
    }
    case 'fit':
      return work.fit(c.uri, c.key, c.req);
    case 'pack':
      return work.pack(c.uri, c.key, c.req);
    case 'timeline':
      return work.timeline(c.uri, c.key, c.req);
    case 'countText':
      return work.counter.count(c.text, c.encoding);
    case 'describeAt':
      return work.describeAt(c.uri, c.key, c.offset, c.encoding);
    case 'tokenizer': {
      const name = registerHfTokenizer(
        c.config === undefined ? { json: c.json } : { json: c.json, config: c.config },
      );
      if (name !== c.name) throw new Error(`tokenizer ${c.name} arrived as ${name}`);
      return name;
    }
  }
}

parentPort?.on('message', (req: WorkerRequest) => {
  let res: WorkerResponse;
  try {
    res = { id: req.id, ok: true, result: handle(req) };
  } catch (err) {
    res = { id: req.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
  const evicted = work.takeEvicted();
  if (evicted.length) res.evicted = evicted;
  parentPort?.postMessage(res);
});
