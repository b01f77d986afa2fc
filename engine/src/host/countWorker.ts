/**
 * Worker thread entry (bundled as dist/countWorker.js): reads and parses one record for
 * `medalign count` while the main thread loads the tokenizer and counts it (parallelCount.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { parseRecord } from '../core/record/parse';
import { hashKey } from '../core/util/hash';
import { nodeFileSystem } from './nodeFileSystem';
import { summarizeRecord } from './parallelCount';
import type { WorkerSummary } from './parallelCount';

const { uri } = workerData as { uri: string };
void nodeFileSystem.readFile(uri).then((text) => {
  const answer: WorkerSummary | null =
    text === undefined ? null : { ...summarizeRecord(text, parseRecord(text)), textKey: hashKey(text) };
  parentPort?.postMessage(answer);
});
