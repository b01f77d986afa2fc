/**
 * Worker thread entry (bundled as dist/recordWorker.js): parses and counts records off the
 * language server's event loop. It hosts one RecordWork and answers WorkerRequests in order.
 *
 * Once a big record (256 KB or more) is counted (for a hover, diagnostics, a fit or a pack), the worker warms its
 * timeline when it has had no request for IDLE_MS: every event's tokens and labels (most of a big
 * record's first timeline model, ~3 s for 50k events on a slow machine), so opening the Record
 * Timeline later only packs. A request that arrives first is answered first.
 */
import { parentPort } from 'node:worker_threads';
import { RecordWork, lightRecord } from '../../../engine/src/core/workspace/recordEngine';
import { registerHfTokenizer } from '../../../engine/src/core/tokens/tokenizer';
import { addServerCounts, serverMissing } from '../../../engine/src/core/tokens/serverTable';
import type { TokenizerName } from '../../../engine/src/core/tokens/tokenizer';
import type { WorkerRequest, WorkerResponse } from './recordWorkerProtocol';

const work = new RecordWork();

const IDLE_MS = 30;
/** Smaller records are not warmed (their first model is quick), nor more than the newest few. */
const WARM_MIN_CHARS = 256 * 1024;
const WARM_QUEUE = 4;
/** Records counted and not yet warmed, by entry and encoding (newest last). */
const toWarm = new Map<string, { uri: string; key: string; encoding: TokenizerName }>();
let warmTimer: ReturnType<typeof setTimeout> | undefined;

function armWarm(): void {
  if (warmTimer !== undefined) clearTimeout(warmTimer);
  warmTimer = undefined;
  if (toWarm.size === 0) return;
  warmTimer = setTimeout(() => {
    warmTimer = undefined;
    // The newest first: the record the user just opened.
    const [k, w] = [...toWarm].pop()!;
    toWarm.delete(k);
    try {
      work.warmTimeline(w.uri, w.key, w.encoding, WARM_MIN_CHARS);
    } catch {
      // Warming is only a head start: the timeline request builds (and reports) the same.
    }
    armWarm();
  }, IDLE_MS);
}

function counted(uri: string, key: string, encoding: TokenizerName): void {
  const k = `${uri}\n${key}\n${encoding}`;
  toWarm.delete(k);
  toWarm.set(k, { uri, key, encoding });
  if (toWarm.size > WARM_QUEUE) toWarm.delete(toWarm.keys().next().value!);
}

function handle(req: WorkerRequest): unknown {
  const c = req.call;
  switch (c.op) {
    case 'load':
      return lightRecord(work.load(c.uri, c.key, c.text));
    case 'counts': {
      const counts = work.counts(c.uri, c.key, c.encoding);
      if (!counts) return undefined;
      counted(c.uri, c.key, c.encoding);
      // The layout can be large; the server needs the totals.
      const { layout: _layout, ...totals } = counts;
      return totals;
    }
    case 'fit': {
      const fit = work.fit(c.uri, c.key, c.req);
      if (fit) counted(c.uri, c.key, c.req.encoding);
      return fit;
    }
    case 'pack': {
      const pack = work.pack(c.uri, c.key, c.req);
      if (pack) counted(c.uri, c.key, c.req.encoding);
      return pack;
    }
    case 'timeline':
      return work.timeline(c.uri, c.key, c.req);
    case 'timelineWire':
      return work.timelineWire(c.uri, c.key, c.req, c.previews);
    case 'timelineFirst':
      return work.timelineFirst(c.uri, c.key, c.req, c.previews);
    case 'timelinePreviews':
      return work.timelinePreviews(c.uri, c.key, c.req, c.ids);
    case 'countText':
      return work.counter.count(c.text, c.encoding);
    case 'describeAt':
      return work.describeAt(c.uri, c.key, c.offset, c.encoding);
    case 'serverMissing':
      return serverMissing(c.table);
    case 'serverCounts':
      addServerCounts(c.table, c.entries);
      return null;
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
  if (warmTimer !== undefined) clearTimeout(warmTimer);
  warmTimer = undefined;
  let res: WorkerResponse;
  try {
    res = { id: req.id, ok: true, result: handle(req) };
  } catch (err) {
    res = { id: req.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
  const evicted = work.takeEvicted();
  if (evicted.length) res.evicted = evicted;
  parentPort?.postMessage(res);
  armWarm();
});
