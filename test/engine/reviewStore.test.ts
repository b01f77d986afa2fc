/**
 * Review files on disk: the answers to review from the run store, atomic writes under the review
 * folder, reading back, broken files, links refused, a folder outside the project refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunStore } from '../../engine/src/run/store';
import { ReviewStore, reviewFolderSegments, reviewableRuns } from '../../engine/src/run/reviewStore';
import { candidateOfRun } from '../../engine/src/core/review';
import type { ReviewFile } from '../../engine/src/core/review';
import { fakeRun } from '../helpers/reviewFixtures';

let root: string;
before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'medalign-review-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

const SECRET_ANSWER = 'The patient has hypertension</script><img src=x onerror=alert(1)>';

test('reviewableRuns: the newest complete answer of each model/context from the run store', async () => {
  const store = new RunStore(root);
  await store.save(
    fakeRun({ id: '20261130T100000000Z-aaaaaa', endpoint: 'gpt4', createdAt: '2026-11-30T10:00:00.000Z' }),
  );
  await store.save(
    fakeRun({
      id: '20261130T110000000Z-bbbbbb',
      endpoint: 'gpt4',
      createdAt: '2026-11-30T11:00:00.000Z',
      response: SECRET_ANSWER,
    }),
  );
  await store.save(
    fakeRun({
      id: '20261130T120000000Z-cccccc',
      endpoint: 'gpt4',
      createdAt: '2026-11-30T12:00:00.000Z',
      status: 'cancelled',
    }),
  );
  await store.save(
    fakeRun({ id: '20261130T090000000Z-dddddd', endpoint: 'llama', createdAt: '2026-11-30T09:00:00.000Z' }),
  );
  await store.save(
    fakeRun({
      id: '20261130T090000000Z-eeeeee',
      endpoint: 'other-instruction',
      createdAt: '2026-11-30T09:00:00.000Z',
      instructionId: '1',
    }),
  );
  const runs = await reviewableRuns(store, '7222697931');
  assert.deepEqual(
    runs.map((r) => r.run.id),
    ['20261130T110000000Z-bbbbbb', '20261130T090000000Z-dddddd'],
  );
  assert.ok(runs[0]?.file.endsWith('.json'));
  assert.deepEqual(await reviewableRuns(store, 'nothing-here'), []);
});

test('ReviewStore: writes <folder>/<id>/<reviewer>.json atomically, reads it back, holds no answer text', async () => {
  const runs = await reviewableRuns(new RunStore(root), '7222697931');
  const reviews = new ReviewStore(root, 'qa/reviews');
  const review: ReviewFile = {
    format: 'medalign-review',
    version: 1,
    instruction: { id: '7222697931', file: 'instructions/a.medalign' },
    reviewer: 'Ada Lovelace',
    blinded: true,
    updatedAt: '2026-11-30T17:00:00.000Z',
    answers: runs.map(({ run }, i) => {
      const c = candidateOfRun(run);
      return {
        run: { id: c.runId, key: c.runKey },
        endpoint: c.endpoint,
        model: c.model,
        context: c.context,
        contextLabel: c.contextLabel,
        hashes: c.hashes,
        label: i === 0 ? 'incorrect' : 'correct',
        tags: i === 0 ? ['omission'] : [],
        comment: '',
        rank: i === 0 ? 2 : 1,
        submittedAt: '2026-11-30T17:00:00.000Z',
      };
    }),
  };
  const file = await reviews.write(review);
  assert.equal(file, path.join(root, 'qa', 'reviews', '7222697931', 'Ada_Lovelace.json'));
  assert.equal(reviews.fileOf('7222697931', 'Ada Lovelace'), file);
  const text = readFileSync(file, 'utf8');
  assert.ok(!text.includes('hypertension') && !text.includes('onerror'), text);
  assert.deepEqual(
    readdirSync(path.dirname(file)).filter((n) => n.endsWith('.tmp')),
    [],
  );
  const back = await reviews.read('7222697931', 'Ada Lovelace');
  assert.ok(back?.ok);
  assert.deepEqual(
    back.review.answers.map((a) => a.rank),
    [2, 1],
  );
  assert.equal(await reviews.read('7222697931', 'Nobody'), undefined);
  // A second reviewer: a second file; readAll and list see both.
  await reviews.write({ ...review, reviewer: 'Bea' });
  assert.deepEqual(
    (await reviews.readAll('7222697931')).map((r) => path.basename(r.file)),
    ['Ada_Lovelace.json', 'Bea.json'],
  );
  assert.equal((await reviews.list()).length, 2);
});

test('ReviewStore: a broken file gives its problems; links and folders outside the project are refused', async () => {
  const reviews = new ReviewStore(root, 'reviews');
  mkdirSync(path.join(root, 'reviews', '42'), { recursive: true });
  writeFileSync(path.join(root, 'reviews', '42', 'Ada.json'), '{"format":"medalign-review","version":1}');
  const broken = await reviews.read('42', 'Ada');
  assert.equal(broken?.ok, false);
  if (broken && !broken.ok) assert.match(broken.errors.join('\n'), /missing "instruction"/);

  // A link planted as the review file: not followed for reading or writing.
  const outside = path.join(root, 'outside.txt');
  writeFileSync(outside, 'do not touch');
  symlinkSync(outside, path.join(root, 'reviews', '42', 'Bea.json'));
  const linked = await reviews.read('42', 'Bea');
  assert.equal(linked?.ok, false);
  // A linked instruction folder: writing is refused and nothing is written through it.
  const target = mkdtempSync(path.join(os.tmpdir(), 'medalign-review-target-'));
  try {
    symlinkSync(target, path.join(root, 'reviews', '43'));
    await assert.rejects(
      reviews.write({
        format: 'medalign-review',
        version: 1,
        instruction: { id: '43' },
        reviewer: 'Ada',
        blinded: true,
        updatedAt: '2026-11-30T17:00:00.000Z',
        answers: [],
      }),
      /reviews\/43 is a symbolic link/,
    );
    assert.deepEqual(readdirSync(target), []);
  } finally {
    rmSync(target, { recursive: true, force: true });
  }
  assert.equal(readFileSync(outside, 'utf8'), 'do not touch');

  assert.throws(() => reviewFolderSegments('../elsewhere'), /must stay inside the project/);
  assert.throws(() => reviewFolderSegments('/etc'), /must be relative to the project root/);
  assert.deepEqual(reviewFolderSegments('./qa//reviews/'), ['qa', 'reviews']);
});
