/**
 * Worker thread entry (bundled as dist/countWorker.js): counts the guessed chunks of one record
 * for `medalign count` while the main thread parses it (parallelCount.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { EncodingName } from '../core/tokens/encodings';
import { getTokenizer } from '../core/tokens/encodings';
import { countGuessedChunks } from './parallelCount';

const { encoding } = workerData as { encoding: EncodingName };
// Loaded before the text arrives: the main thread is still reading the file.
getTokenizer(encoding).count('<record>');
parentPort?.once('message', (text: string) => parentPort?.postMessage(countGuessedChunks(text, encoding)));
