/**
 * Worker thread entry (bundled as dist/countWorker.js): parses one record for `medalign count`
 * while the main thread loads the tokenizer and counts it (parallelCount.ts).
 */
import { parentPort } from 'node:worker_threads';
import { parseRecord } from '../core/record/parse';
import { summarizeRecord } from './parallelCount';

parentPort?.once('message', (text: string) =>
  parentPort?.postMessage(summarizeRecord(text, parseRecord(text))),
);
