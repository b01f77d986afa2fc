/**
 * Issue 12: `medalign export medalign <folder> --out <dir> --with-reviews` as a process: two
 * reviewers' files add labels and ranks to the model-response rows; a stale judgement is left out.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { publicSampleXml } from '../helpers/fixtures';
import { TempDirs, runCliProcess } from '../helpers/cliProcess';
import { writeReleaseFolder } from '../helpers/releaseFiles';
import type { ReviewFile, ReviewLabel } from '../../engine/src/core/review/reviewFile';
import { candidateOfRun } from '../../engine/src/core/review/reviewStatus';
import type { RunRecord } from '../../engine/src/core/run/runRecord';
import { ReviewStore, reviewableRuns } from '../../engine/src/run/reviewStore';
import { RunStore } from '../../engine/src/run/store';

const dirs = new TempDirs();
after(() => {
  for (const d of dirs.all) fs.rmSync(d, { recursive: true, force: true });
});

function judgement(
  run: RunRecord,
  label: ReviewLabel,
  rank: number,
  tags: string[],
  answerHash?: string,
): ReviewFile['answers'][number] {
  const c = candidateOfRun(run);
  return {
    run: { id: run.id, key: run.key },
    endpoint: c.endpoint,
    model: c.model,
    context: c.context,
    contextLabel: c.contextLabel,
    hashes: { ...c.hashes, ...(answerHash !== undefined ? { answer: answerHash } : {}) },
    label,
    tags,
    comment: 'a comment that must not be exported',
    rank,
    submittedAt: '2026-11-30T12:00:00.000Z',
  };
}

const table = (text: string) => {
  const [head, ...rows] = text.trimEnd().split('\n');
  const header = head.split('\t');
  return { header, rows: rows.map((l) => l.split('\t')) };
};

test('export --with-reviews adds two reviewers\u2019 labels and ranks to the run rows and leaves a stale judgement out', async () => {
  const dir = dirs.make('medalign-reviews-');
  fs.writeFileSync(
    path.join(dir, 'medalign.config.json'),
    JSON.stringify({ recordsFolder: 'records', instructionsFolder: 'instructions' }),
  );
  const g = writeReleaseFolder(path.join(dir, 'rel'), {
    instructions: 2,
    models: 1,
    annotators: 1,
    patients: 1,
  });
  assert.equal((await runCliProcess(dir, ['import', 'rel'])).status, 0);
  fs.writeFileSync(path.join(dir, 'records', `${g.patients[0]}.xml`), publicSampleXml);
  const id = g.ids[0];
  const file = path.join('instructions', `${id}.medalign`);
  for (const ctx of ['8k', '2k']) {
    const run = await runCliProcess(dir, ['run', file, '--model', 'baseline', '--context', ctx, '--quiet']);
    assert.equal(run.status, 0, run.stderr);
  }
  const stored = await reviewableRuns(new RunStore(dir), id);
  assert.equal(stored.length, 2);
  const run2k = stored.find((s) => s.run.contextLabel === '2k')!.run;
  const run8k = stored.find((s) => s.run.contextLabel === '8k')!.run;
  const reviews = new ReviewStore(dir, 'reviews');
  const base = { format: 'medalign-review', version: 1, instruction: { id, file }, blinded: true } as const;
  await reviews.write({
    ...base,
    reviewer: 'Dr A',
    updatedAt: '2026-11-30T12:00:00.000Z',
    answers: [
      judgement(run8k, 'correct', 1, []),
      judgement(run2k, 'incorrect', 2, ['omission', 'hallucination']),
    ],
  });
  await reviews.write({
    ...base,
    reviewer: 'Dr B',
    updatedAt: '2026-11-30T12:00:00.000Z',
    // The 8k judgement was made on a different answer text: stale.
    answers: [judgement(run8k, 'incorrect', 2, [], '0000000000000000:1'), judgement(run2k, 'correct', 1, [])],
  });

  const e = await runCliProcess(dir, [
    'export',
    'medalign',
    'instructions',
    '--out',
    'out',
    '--with-reviews',
  ]);
  assert.equal(e.status, 0, e.stderr);
  assert.match(e.stderr, new RegExp(`instruction ${id}: 1 stale judgement left out`));
  const text = fs.readFileSync(path.join(dir, 'out', 'clinician-reviewed-model-responses.tsv'), 'utf8');
  assert.doesNotMatch(text, /must not be exported/, 'comments are not exported');
  const t = table(text);
  // The release's review columns (as imported), then the ones it lacks, once each.
  for (const c of [
    'model_name',
    'model_response',
    'context_length',
    'clinician_rank',
    'correct',
    'annotator',
    'error_tags',
  ])
    assert.equal(t.header.filter((h) => h === c).length, 1, c);
  const col = (r: string[], c: string) => r[t.header.indexOf(c)];
  const judged = t.rows
    .filter((r) => col(r, 'model_name') === 'baseline')
    .map((r) => [
      col(r, 'context_length'),
      col(r, 'annotator'),
      col(r, 'correct'),
      col(r, 'clinician_rank'),
      col(r, 'error_tags'),
    ]);
  assert.deepEqual(judged, [
    // Runs oldest first (8k was run first); Dr B's 8k judgement is stale and left out.
    ['8k', 'Dr A', 'yes', '1', ''],
    ['2k', 'Dr A', 'no', '2', 'omission; hallucination'],
    ['2k', 'Dr B', 'yes', '1', ''],
  ]);
  for (const r of t.rows.filter((x) => col(x, 'model_name') === 'baseline'))
    assert.equal(col(r, 'instruction_id'), id);

  // No answer text beyond what --with-runs exports.
  const runs = await runCliProcess(dir, [
    'export',
    'medalign',
    'instructions',
    '--out',
    'runs',
    '--with-runs',
  ]);
  assert.equal(runs.status, 0, runs.stderr);
  const r = table(fs.readFileSync(path.join(dir, 'runs', 'clinician-reviewed-model-responses.tsv'), 'utf8'));
  const answers = (x: ReturnType<typeof table>) =>
    new Set(x.rows.map((row) => row[x.header.indexOf('model_response')]));
  assert.deepEqual(answers(t), answers(r));

  const helm = await runCliProcess(dir, ['export', 'helm', 'instructions', '--out', 'h', '--with-reviews']);
  assert.equal(helm.status, 2);
  assert.match(helm.stderr, /--with-reviews is for `export medalign`/);
});
