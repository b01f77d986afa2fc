/** `npm run bench`: prints figures (medians); never a pass/fail test. */
import { runLanguageBench } from './languageBench';
import { runRunBench } from './runBench';
import { runHostileBench } from './hostileBench';
import { runCliBench } from './cliBench';
import { runImportBench } from './importBench';
import { runTimelineBench, runTimelineWorkerBench } from './timelineBench';
import { runMetricsBench } from './metricsBench';
import { runHelmBench } from './helmBench';
import { runTokenizerBench } from './tokenizerBench';
import { runRefineBench } from './refineBench';
import { runExperimentBench } from './experimentBench';
import { runVsCodeBench } from './vscodeBench';

async function main(): Promise<void> {
  console.log(`MedAlign Studio benchmarks — node ${process.version}, ${process.platform}/${process.arch}`);
  await runLanguageBench();
  try {
    // The records/tokens/packing benchmarks (issue 3), when present.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require('./recordBench') as { runRecordBench?: () => Promise<void> };
    if (mod.runRecordBench) await mod.runRecordBench();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
  }
  runTokenizerBench();
  runTimelineBench();
  await runTimelineWorkerBench();
  runHelmBench();
  runRefineBench();
  await runRunBench();
  runHostileBench();
  await runCliBench();
  await runMetricsBench();
  await runImportBench();
  await runExperimentBench();
  // Last: it starts code-server and Chromium (skipped when they are not installed).
  runVsCodeBench();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
