/**
 * `medalign count`'s early worker (engine/src/cli/countStart.ts): what the options ask for, and the
 * worker started before the command's modules load is the one the count uses, only for the same
 * file and encoding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateRecord } from '../fixtures/recordGenerator';
import {
  countTarget,
  countWorkerFor,
  COUNT_USAGE,
  parseCountArgs,
  prestartCountWorker,
} from '../../engine/src/cli/countStart';
import { countGuessedChunks, PARALLEL_MIN_CHARS } from '../../engine/src/host/parallelCount';

test('countTarget: an encoding (cl100k_base unless named), an endpoint, or the usage error a user sees', () => {
  assert.deepEqual(countTarget(parseCountArgs(['r.xml'])), {
    kind: 'encoding',
    file: 'r.xml',
    encoding: 'cl100k_base',
  });
  assert.deepEqual(countTarget(parseCountArgs(['r.xml', '--encoding=o200k_base', '--json'])), {
    kind: 'encoding',
    file: 'r.xml',
    encoding: 'o200k_base',
  });
  assert.deepEqual(countTarget(parseCountArgs(['--model', 'local', 'r.xml'])), {
    kind: 'endpoint',
    file: 'r.xml',
    endpointId: 'local',
  });
  assert.deepEqual(countTarget(parseCountArgs(['r.xml', '--model', 'a', '--verify', 'b'])), {
    kind: 'endpoint',
    file: 'r.xml',
    endpointId: 'b',
  });
  assert.throws(() => countTarget(parseCountArgs([])), { message: COUNT_USAGE });
  assert.throws(() => countTarget(parseCountArgs(['a.xml', 'b.xml'])), { message: COUNT_USAGE });
  assert.throws(
    () => countTarget(parseCountArgs(['r.xml', '--encoding', 'p50k'])),
    /unknown encoding 'p50k'/,
  );
  assert.throws(() => parseCountArgs(['r.xml', '--nope']), /unknown option --nope/);
});

test('prestartCountWorker: the count takes the early worker for the same file and encoding, and ends it otherwise', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medalign-countstart-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const text = generateRecord({ seed: 21, targetChars: PARALLEL_MIN_CHARS + 20_000 });
  const big = path.join(dir, 'big.xml');
  writeFileSync(big, text);
  writeFileSync(path.join(dir, 'small.xml'), '<record/>\n');

  // Same file (given relative to the current folder) and encoding: the early worker is the one used.
  const early = prestartCountWorker(['big.xml', '--encoding', 'o200k_base'], dir);
  assert.ok(early, 'a big record gets a worker before the command loads (two cores)');
  assert.equal(countWorkerFor(big, 'o200k_base'), early);
  assert.deepEqual(await early.count(text), countGuessedChunks(text, 'o200k_base'));

  // Another encoding: the early worker is ended (it answers nothing) and a new one counts.
  const wrong = prestartCountWorker(['big.xml'], dir);
  assert.ok(wrong);
  const other = countWorkerFor(big, 'o200k_base');
  assert.ok(other);
  assert.notEqual(other, wrong);
  assert.equal(await wrong.count(text), undefined, 'the early worker for cl100k_base was ended');
  assert.deepEqual(await other.count(text), countGuessedChunks(text, 'o200k_base'));

  // No early worker for a small record, an endpoint's count, a missing file or a bad command line
  // (the command reports that itself); nothing is left to take.
  assert.equal(prestartCountWorker(['small.xml'], dir), undefined);
  assert.equal(prestartCountWorker(['big.xml', '--model', 'local'], dir), undefined);
  assert.equal(prestartCountWorker(['missing.xml'], dir), undefined);
  assert.equal(prestartCountWorker(['big.xml', '--bad'], dir), undefined);
  assert.equal(countWorkerFor(path.join(dir, 'small.xml'), 'cl100k_base'), undefined);
});
