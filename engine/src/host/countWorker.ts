/**
 * Worker thread entry (bundled as dist/countWorker.js): counts the guessed chunks of one record
 * for `medalign count` while the main thread parses it (parallelCount.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { EncodingName } from '../core/tokens/encodings';
import { countGuessedChunks } from './parallelCount';

const { text, encoding } = workerData as { text: string; encoding: EncodingName };
parentPort?.postMessage(countGuessedChunks(text, encoding));
