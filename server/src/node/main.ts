/**
 * Node entry of the language server (`medalign-language-server --stdio`, or IPC when VS Code starts
 * it). It only builds the runtime (file system over node:fs, the record worker, the run preparer) and
 * hands the connection to startServer.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from '../server';
import { nodeFileSystem } from '../../../engine/src/host/nodeFileSystem';
import { WorkerRecordEngine } from './workerRecordEngine';
import { LocalRecordEngine } from '../../../engine/src/core/workspace/recordEngine';
import { RunPreparer } from '../../../engine/src/host/prepare';
import { gatherReviewData, reportOf } from '../../../engine/src/run/reportData';
import {
  builtinMetricsOf,
  changedPairs,
  experimentOutcome,
  slotsFromStore,
} from '../../../engine/src/run/experiment';
import { version as SERVER_VERSION } from '../../../package.json';

const args = process.argv.slice(2);
if (args.includes('--version') || args.includes('-v')) {
  process.stdout.write(`medalign-language-server ${SERVER_VERSION}\n`);
  process.exit(0);
}
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(
    'Usage: medalign-language-server --stdio | --node-ipc | --socket=<port>\n' +
      'Speaks the Language Server Protocol for .medalign instruction files.\n',
  );
  process.exit(0);
}

// Event-loop delay, sampled every 5 ms, reported through medalign/serverStats.
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();

// createConnection reads --stdio / --node-ipc / --socket from argv.
const connection = createConnection(ProposedFeatures.all);
let worker: WorkerRecordEngine | undefined;
startServer(connection, {
  fs: nodeFileSystem,
  // MEDALIGN_RECORD_ENGINE=local counts on the main thread (for comparison in `npm run bench`).
  createRecordEngine: (log) =>
    process.env['MEDALIGN_RECORD_ENGINE'] === 'local'
      ? new LocalRecordEngine()
      : (worker = new WorkerRecordEngine(undefined, log)),
  createRunPreparation: (workspaceFor) => new RunPreparer(nodeFileSystem, { workspaceFor }),
  report: async (root, o) => reportOf(await gatherReviewData(root, root), { cache: o.cache }),
  experimentVerdict: async (a) => {
    const spec = a.resolution.spec!;
    const cells = a.resolution.cells!.cells;
    const slots = await slotsFromStore(a.root, a.jobs);
    const builtins = builtinMetricsOf(spec.metrics);
    const outcome = await experimentOutcome(a.root, a.config, cells, slots, {
      ...(builtins !== undefined ? { metrics: builtins } : {}),
      cache: a.cache,
      resamples: spec.resamples,
      seed: spec.seed,
    });
    return {
      ok: true,
      name: a.resolution.name,
      size: a.resolution.size,
      verdict: outcome.verdict,
      changed: changedPairs(outcome, a.limit),
    };
  },
  stats: (reset) => {
    const result = {
      eventLoopDelayMaxMs: loopDelay.max / 1e6,
      eventLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      rssMB: process.memoryUsage.rss() / 1024 / 1024,
      recordJobs: worker?.pendingJobs ?? 0,
    };
    if (reset) loopDelay.reset();
    return result;
  },
});
