/**
 * An experiment's resume keys (run/experiment.ts `planKeys`, the fast planning of thousands of runs)
 * are the run engine's own (host/prepare.ts `RunPreparer.plan`), for every sample instruction in
 * every cell — templates (a file and the built-in one), models, contexts, strategies — so a verdict
 * finds exactly the runs the engine made, and an experiment never re-sends a run it already has.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot, withoutRuns } from '../helpers/fixtures';
import { loadExperiment, planKeys } from '../../engine/src/run/experiment';
import type { LoadedExperiment } from '../../engine/src/run/experiment';
import { RunPreparer } from '../../engine/src/host/prepare';

const dir = mkdtempSync(path.join(os.tmpdir(), 'medalign-experiment-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('planKeys gives the keys RunPreparer.plan gives, and fails where it fails', async () => {
  cpSync(path.join(repoRoot, 'samples'), dir, { recursive: true, filter: withoutRuns });
  writeFileSync(
    path.join(dir, 'experiments', 'keys.experiment.json'),
    JSON.stringify({
      instructions: '../instructions',
      template: ['builtin', '../templates/clinician-system.prompt'],
      model: ['baseline', 'local-vllm', 'gpt-4o'],
      context: ['4k', 32768],
      strategy: ['recent', 'bm25'],
    }),
  );
  const loaded = (await loadExperiment(path.join(dir, 'experiments', 'keys.experiment.json'), {
    folders: [dir],
  })) as LoadedExperiment;
  assert.equal(loaded.resolution.cells?.cells.length, 24);
  assert.ok(loaded.jobs.length >= 24 * 17, String(loaded.jobs.length));
  const fast = await planKeys(loaded.root, loaded.jobs);
  const preparer = new RunPreparer(undefined, { folders: [dir] });
  let ok = 0;
  for (let i = 0; i < loaded.jobs.length; i++) {
    const slow = await preparer.plan(loaded.jobs[i]);
    const f = fast[i];
    assert.equal(
      f.ok,
      slow.ok,
      `${loaded.jobs[i].file} cell ${loaded.jobs[i].cell}: ${f.ok ? '' : f.message}`,
    );
    if (slow.ok && f.ok) {
      assert.equal(f.key, slow.plan.key);
      assert.equal(f.id, slow.plan.instruction.id);
      assert.equal(f.gold, slow.plan.instruction.gold);
      ok++;
    }
  }
  assert.ok(ok >= 24 * 17, `${ok} keys compared`);
  // Cells differ: every key of one instruction is its own.
  const first = fast.slice(0, 24).map((k) => (k.ok ? k.key : ''));
  assert.equal(new Set(first).size, 24);
});
