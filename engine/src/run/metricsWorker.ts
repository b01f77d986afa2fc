/**
 * Worker thread entry (bundled as dist/metricsWorker.js): scores chunks of answer/gold pairs with
 * every built-in metric for `metricsPool.ts`. The same core functions as the main thread, so the
 * scores are the same numbers.
 */
import { parentPort } from 'node:worker_threads';
import { BUILTIN_METRICS, scoreAnswer } from '../core/metrics/metrics';
import type { MetricsChunk, MetricsChunkResult } from './metricsWorkerProtocol';

const port = parentPort;
if (port) {
  port.on('message', (chunk: MetricsChunk) => {
    let reply: MetricsChunkResult;
    try {
      const scores = new Float64Array(chunk.golds.length * BUILTIN_METRICS.length);
      for (let i = 0; i < chunk.golds.length; i++) {
        const all = scoreAnswer(chunk.golds[i], chunk.answers[i]);
        for (let k = 0; k < BUILTIN_METRICS.length; k++)
          scores[i * BUILTIN_METRICS.length + k] = all[BUILTIN_METRICS[k]];
      }
      reply = { id: chunk.id, scores };
      port.postMessage(reply, [scores.buffer]);
    } catch (err) {
      reply = { id: chunk.id, error: err instanceof Error ? err.message : String(err) };
      port.postMessage(reply);
    }
  });
}
