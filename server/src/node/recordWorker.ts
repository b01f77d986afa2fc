/**
 * Worker thread entry (bundled as dist/recordWorker.js): parses and counts records off the
 * language server's event loop. It hosts one RecordWork and answers WorkerRequests in order.
 *
 * When it has had no request for IDLE_MS, the worker warms the big records (256 KB or more) it last
 * handled: once one is parsed, its structure's columns, packed (what the Record Timeline paints
 * first, ~100 ms for 50k events); once it is counted (for a hover, diagnostics, a fit or a pack), its timeline: every
 * event's tokens and labels (most of a big record's first counted model, ~0.6 s for 50k events), so
 * opening the Record Timeline later only packs. A request that arrives first is answered first, and
 * one that arrives while a record is warmed waits for one visit's work, not the record's (the warming
 * goes on in slices once the worker is idle again).
 */
import { parentPort } from 'node:worker_threads';
import {
  RecordWork,
  STRUCTURE_MIN_CHARS,
  lightRecord,
} from '../../../engine/src/core/workspace/recordEngine';
import { registerHfTokenizer } from '../../../engine/src/core/tokens/tokenizer';
import { addServerCounts, serverMissing } from '../../../engine/src/core/tokens/serverTable';
import type { TokenizerName } from '../../../engine/src/core/tokens/tokenizer';
import type { WorkerRequest, WorkerResponse } from './recordWorkerProtocol';
import { packColumns, packWire } from './packWire';
import type { TimelineColumns } from '../../../engine/src/core/timeline/wire';
import type { Steps } from '../../../engine/src/core/util/steps';

const work = new RecordWork();

const IDLE_MS = 30;
/** Smaller records are not warmed (their first model is quick), nor more than the newest few. */
const WARM_MIN_CHARS = STRUCTURE_MIN_CHARS;
const WARM_QUEUE = 4;

/**
 * Work done when idle, newest first: a big record's structure for the view's first paint once it is
 * parsed (`structure`), and its counted timeline once it is counted (`timeline`). Structures go first:
 * they are quick, and what the view paints first.
 */
interface WarmJob {
  kind: 'structure' | 'timeline';
  uri: string;
  key: string;
  encoding?: TokenizerName;
}
const toWarm = new Map<string, WarmJob>();

/**
 * A slice of warming runs at most this long (a visit at least): between slices the worker handles
 * the messages that came, and after one it waits IDLE_MS again before going on.
 */
const SLICE_MS = 8;
/** The warming in progress: its steps (a visit each), and what to do with its result. */
let warming: { steps: Steps<unknown>; done: (result: unknown) => void } | undefined;
let warmTimer: { cancel(): void } | undefined;

function nextWarm(): [string, WarmJob] | undefined {
  const jobs = [...toWarm];
  for (let i = jobs.length - 1; i >= 0; i--) if (jobs[i][1].kind === 'structure') return jobs[i];
  return jobs.pop();
}

function startWarm(w: WarmJob): void {
  warming =
    w.kind === 'structure'
      ? {
          steps: work.warmStructureSteps(w.uri, w.key),
          // Packed for the view too (what the first answer sends).
          done: (columns) => {
            if (columns !== undefined) packColumns(columns as TimelineColumns);
          },
        }
      : { steps: work.warmTimelineSteps(w.uri, w.key, w.encoding!, WARM_MIN_CHARS), done: () => undefined };
}

function warmSlice(): void {
  warmTimer = undefined;
  const until = Date.now() + SLICE_MS;
  try {
    while (Date.now() < until) {
      if (!warming) {
        const next = nextWarm();
        if (!next) return;
        toWarm.delete(next[0]);
        startWarm(next[1]);
      }
      const w = warming!;
      const r = w.steps.next();
      if (r.done === true) {
        warming = undefined;
        w.done(r.value);
      }
    }
  } catch {
    // Warming is only a head start: the timeline request builds (and reports) the same.
    warming = undefined;
  }
  if (!warming && toWarm.size === 0) return;
  // The next slice once the messages that came meanwhile are handled.
  const immediate = setImmediate(warmSlice);
  warmTimer = { cancel: () => clearImmediate(immediate) };
}

/** Warming goes on (or starts) once no request has come for IDLE_MS. */
function armWarm(): void {
  warmTimer?.cancel();
  warmTimer = undefined;
  if (!warming && toWarm.size === 0) return;
  const timer = setTimeout(warmSlice, IDLE_MS);
  warmTimer = { cancel: () => clearTimeout(timer) };
}

function warmLater(job: WarmJob): void {
  const k = `${job.kind}\n${job.uri}\n${job.key}\n${job.encoding ?? ''}`;
  toWarm.delete(k);
  toWarm.set(k, job);
  const kept = [...toWarm].filter(([, j]) => j.kind === job.kind);
  if (kept.length > WARM_QUEUE) toWarm.delete(kept[0][0]);
}

function counted(uri: string, key: string, encoding: TokenizerName): void {
  warmLater({ kind: 'timeline', uri, key, encoding });
}

function handle(req: WorkerRequest): unknown {
  const c = req.call;
  switch (c.op) {
    case 'load': {
      const record = work.load(c.uri, c.key, c.text);
      if (record.ok && c.text.length >= WARM_MIN_CHARS)
        warmLater({ kind: 'structure', uri: c.uri, key: c.key });
      return lightRecord(record);
    }
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
    case 'timelineWire': {
      const w = work.timelineWire(c.uri, c.key, c.req, c.previews);
      return c.pack === true && w ? packWire(w) : w;
    }
    case 'timelineFirst': {
      const w = work.timelineFirst(c.uri, c.key, c.req, c.previews);
      return c.pack === true && w ? packWire(w) : w;
    }
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
  warmTimer?.cancel();
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
