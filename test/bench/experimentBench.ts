/**
 * Experiment benchmarks (issue 14):
 *
 * 1. Planning an experiment of 1,000 instructions × 2 templates × 3 models × 2 contexts (12,000
 *    runs) on disk: reading and checking the file, selecting the instructions, the cells, and each
 *    run's resume key (instruction, record and template hashed, settings resolved: `planKeys`, the
 *    keys the run engine resumes from), the files in the OS cache as on a second look. Target < 1 s.
 * 2. The verdict over 12,000 runs (12 cells, 6 metrics, 24 pairs of cells that differ in one
 *    dimension → 144 intervals) with 2,000 bootstrap resamples each. Target < 2 s.
 *
 * Floors measured in the same run, alternating with the measurement (the machine's load hits both):
 * for (1) reading and hashing the 1,000 instruction files once (what any plan must do); for (2) one
 * pass summing 144 × 2,000 × 1,000 numbers (what any paired bootstrap of these sizes must add).
 * Each figure is printed as a ratio to its floor, which stays put when the machine is busy.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../helpers/fixtures';
import { loadExperiment, planKeys } from '../../engine/src/run/experiment';
import type { LoadedExperiment } from '../../engine/src/run/experiment';
import { planCells } from '../../engine/src/core/experiment/plan';
import { parseExperiment } from '../../engine/src/core/experiment/spec';
import type { Observation, VerdictMetric } from '../../engine/src/core/experiment/verdict';
import { buildVerdict } from '../../engine/src/core/experiment/verdict';
import { Prng } from '../../engine/src/core/metrics/agreement';
import { fmt, median, row, timeMs } from './stats';

export function experimentProject(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medalign-bench-experiment-'));
  mkdirSync(path.join(dir, 'instructions'));
  mkdirSync(path.join(dir, 'records'));
  mkdirSync(path.join(dir, 'templates'));
  for (const p of ['1234555', '2000001', '2000002'])
    writeFileSync(
      path.join(dir, 'records', `${p}.xml`),
      readFileSync(path.join(repoRoot, 'samples', 'records', `${p}.xml`)),
    );
  const tpl = (x: string) =>
    `---\nname: ${x}\n---\n## user\n${x}\nEHR: {{ehr}}\n\nQuestion: {{instruction}}\n`;
  writeFileSync(path.join(dir, 'templates', 'a.prompt'), tpl('A'));
  writeFileSync(path.join(dir, 'templates', 'b.prompt'), tpl('B'));
  writeFileSync(
    path.join(dir, 'medalign.config.json'),
    JSON.stringify({
      recordsFolder: 'records',
      defaults: { model: 'baseline', context: '8k', strategy: 'recent' },
      endpoints: ['m1', 'm2'].map((id) => ({
        id,
        kind: 'openai-compatible',
        baseUrl: 'http://127.0.0.1:9/v1',
        model: 'llama',
      })),
    }),
  );
  for (let i = 0; i < 1000; i++) {
    writeFileSync(
      path.join(dir, 'instructions', `i${String(i).padStart(4, '0')}.medalign`),
      `---\nid: bench-${i}\npatient: ${['1234555', '2000001', '2000002'][i % 3]}\ntags: [t${i % 5}]\n---\n\n## Instruction\nWhat happened at visit ${i}?\n\n## Gold response\nNothing much at visit ${i}.\n`,
    );
  }
  writeFileSync(
    path.join(dir, 'bench.experiment.json'),
    JSON.stringify({
      instructions: 'instructions',
      template: ['templates/a.prompt', 'templates/b.prompt'],
      model: ['baseline', 'm1', 'm2'],
      context: ['4k', '16k'],
    }),
  );
  return dir;
}

async function plan(dir: string): Promise<number> {
  const loaded = (await loadExperiment(path.join(dir, 'bench.experiment.json'), {
    folders: [dir],
  })) as LoadedExperiment;
  return (await planKeys(loaded.root, loaded.jobs)).filter((k) => k.ok).length;
}

export async function runExperimentBench(): Promise<void> {
  console.log('\nExperiments (issue 14)');
  const dir = experimentProject();
  try {
    // The floor: what any plan must do at least — read and hash each instruction file once.
    const readAll = () => {
      let h = 0;
      for (let i = 0; i < 1000; i++) {
        const t = readFileSync(
          path.join(dir, 'instructions', `i${String(i).padStart(4, '0')}.medalign`),
          'utf8',
        );
        h ^= createHash('sha256').update(t).digest()[0];
      }
      return h;
    };
    const [cold, n] = await timeMs(() => plan(dir));
    if (n !== 12000) throw new Error(`planned ${n} runs, not 12000`);
    const warm: number[] = [];
    const cpu: number[] = [];
    const floors: number[] = [];
    for (let k = 0; k < 5; k++) {
      floors.push((await timeMs(readAll))[0]);
      const c0 = process.cpuUsage();
      warm.push((await timeMs(() => plan(dir)))[0]);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    const floor = median(floors);
    row('floor: read and hash 1,000 instruction files (median of 5)', fmt(floor));
    row('plan 1,000 instr × 2 templates × 3 models × 2 contexts, first', fmt(cold));
    row('  the same again, files in the OS cache (median of 5)', fmt(median(warm)), '< 1 s');
    row('  its CPU time (median of 5; the rest is waiting for the CPU and I/O)', fmt(median(cpu)));
    row('  ratio to the floor, measured alternately in this run', `${(median(warm) / floor).toFixed(1)}×`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // The verdict: 12 cells (2 templates × 3 models × 2 contexts) × 1,000 instructions, 6 metrics.
  const parsed = parseExperiment(
    JSON.stringify({
      instructions: 'x',
      template: ['a', 'b'],
      model: ['m0', 'm1', 'm2'],
      context: ['4k', '16k'],
    }),
  );
  if (!parsed.ok) throw new Error('bench experiment');
  const cells = planCells(parsed.spec, 'file:///bench/x.experiment.json').cells;
  const metrics: VerdictMetric[] = ['rouge1', 'rouge2', 'rougeL', 'bleu', 'chrf', 'chrfpp'].map((id) => ({
    id,
    label: id,
    higherIsBetter: true,
    digits: 3,
  }));
  const rng = new Prng(3);
  const observations: Observation[] = [];
  for (let i = 0; i < 1000; i++) {
    for (const c of cells) {
      const scores: Record<string, number> = {};
      for (const m of metrics) scores[m.id] = rng.next() + (c.values.template === 'b' ? 0.02 : 0);
      observations.push({ instruction: `i${i}`, cell: c.index, ok: true, promptTokens: 3000, scores });
    }
  }
  const floors: number[] = [];
  const verdicts: number[] = [];
  let comparisons = 0;
  for (let k = 0; k < 3; k++) {
    floors.push(
      (
        await timeMs(() => {
          const d = new Float64Array(1000).map(() => rng.next());
          let s = 0;
          for (let c = 0; c < 144; c++)
            for (let b = 0; b < 2000; b++) for (let i = 0; i < 1000; i++) s += d[i];
          return s;
        })
      )[0],
    );
    const [ms, v] = await timeMs(() =>
      buildVerdict({ cells, observations, metrics, resamples: 2000, seed: 1 }),
    );
    verdicts.push(ms);
    comparisons = v.comparisons.length;
  }
  row(`floor: sum 144 × 2,000 × 1,000 numbers`, fmt(median(floors)));
  row(`verdict: 12,000 runs, ${comparisons} intervals × 2,000 resamples`, fmt(median(verdicts)), '< 2 s');
  row('  ratio to the floor', `${(median(verdicts) / median(floors)).toFixed(1)}×`);
}
