/**
 * `strategy: refine` planning (issue 13): a 2 MB record at 8k, its counts cached as the hovers leave
 * them. "plan" is the chunking from the cached chunk counts (target under 100 ms); "plan + exact" also
 * renders every step and counts it exactly (what `medalign pack --json` and a run print).
 */
import { planRefine } from '../../engine/src/core/packing/refine';
import { parseRecord } from '../../engine/src/core/record/parse';
import { TokenCounter } from '../../engine/src/core/tokens/counter';
import { generateRecord } from '../fixtures/recordGenerator';
import { fmt, median, row } from './stats';

export function runRefineBench(): void {
  console.log('\nRefine planning (issue 13) — 2 MB record, 8k context, cl100k_base, medians');
  const text = generateRecord({ seed: 13, targetChars: 2_000_000 });
  const record = parseRecord(text);
  const counter = new TokenCounter();
  const input = {
    text,
    record,
    instruction: 'List every blood pressure recorded and whether it is at goal.',
    context: 8192,
    reserve: 256,
    encoding: 'cl100k_base' as const,
    counter,
    refine: { maxSteps: 1000 },
  };
  counter.countRecord(text, record, 'cl100k_base'); // the record counted once, as for its hover
  const time = (exact: boolean): { ms: number; steps: number } => {
    const ms: number[] = [];
    let steps = 0;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      steps = planRefine(input, exact).steps.length;
      ms.push(performance.now() - t);
    }
    return { ms: median(ms), steps };
  };
  const plan = time(false);
  const exact = time(true);
  row(`plan (${plan.steps} steps, from cached chunk counts)`, fmt(plan.ms), '< 100 ms');
  row(`plan + exact count of every step`, fmt(exact.ms));
}
