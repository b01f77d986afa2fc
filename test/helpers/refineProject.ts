/**
 * A project on disk for in-process `strategy: refine` runs against the local fake OpenAI server:
 * a generated 120k-character record, the test template and one instruction (`instructions/r.medalign`)
 * left to the config's defaults (refine at 4k).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import assert from 'node:assert/strict';
import type { FakeOpenAI } from './fakeOpenAI';
import { TEMPLATE, validInstruction } from './fixtures';
import { generateRecord } from '../fixtures/recordGenerator';
import type { PreparedRun, RunPreparer } from '../../engine/src/host/prepare';

export function makeRefineProject(
  fake: FakeOpenAI,
  o: { prefix: string; maxSteps: number; recordSeed: number; instructionSeed: number },
): string {
  const root = mkdtempSync(path.join(os.tmpdir(), o.prefix));
  for (const d of ['records', 'templates', 'instructions']) mkdirSync(path.join(root, d));
  writeFileSync(
    path.join(root, 'medalign.config.json'),
    JSON.stringify({
      recordsFolder: 'records',
      defaults: {
        model: 'local',
        context: '4k',
        strategy: 'refine',
        template: 'templates/medalign.prompt',
        generationReserve: 128,
        refine: { maxSteps: o.maxSteps },
      },
      endpoints: [{ id: 'local', kind: 'openai-compatible', baseUrl: fake.baseUrl, model: 'fake-llama' }],
    }),
  );
  writeFileSync(
    path.join(root, 'records/1234555.xml'),
    generateRecord({ seed: o.recordSeed, targetChars: 120_000 }),
  );
  writeFileSync(path.join(root, 'templates/medalign.prompt'), TEMPLATE);
  const base = validInstruction(o.instructionSeed).replace(
    /model: baseline\n|context: 32k\n|strategy: recent\n/g,
    '',
  );
  writeFileSync(path.join(root, 'instructions/r.medalign'), base);
  return root;
}

/** The project's instruction, prepared (asserting it could be). */
export async function prepareRefine(preparer: RunPreparer, root: string): Promise<PreparedRun> {
  const r = await preparer.prepare({ file: path.join(root, 'instructions/r.medalign') });
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  return r.run;
}
