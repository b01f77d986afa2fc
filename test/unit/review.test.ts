import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  answerTextHash,
  blindLabel,
  blindOrder,
  candidateOfRun,
  judge,
  latestAnswers,
  parseReviewFile,
  progressText,
  reviewFilePath,
  reviewProgress,
  reviewStatus,
  serializeReview,
  slotId,
  staleFields,
  staleReason,
} from '../../engine/src/core/review';
import type { ReviewCandidate, ReviewFile, ReviewedAnswer } from '../../engine/src/core/review';
import { fakeRun as run } from '../helpers/reviewFixtures';
import { parseConfig } from '../../engine/src/core/workspace/config';
import Ajv from 'ajv';
import * as fs from 'node:fs';
import * as path from 'node:path';

function judged(c: ReviewCandidate, over: Partial<ReviewedAnswer> = {}): ReviewedAnswer {
  return {
    run: { id: c.runId, key: c.runKey },
    endpoint: c.endpoint,
    model: c.model,
    context: c.context,
    contextLabel: c.contextLabel,
    hashes: { ...c.hashes },
    label: 'correct',
    tags: [],
    comment: '',
    rank: 1,
    submittedAt: '2026-11-30T17:00:00.000Z',
    ...over,
  };
}

function sampleReview(answers: ReviewedAnswer[]): ReviewFile {
  return {
    format: 'medalign-review',
    version: 1,
    instruction: { id: '7222697931', file: 'instructions/a.medalign' },
    reviewer: 'Ada Lovelace',
    blinded: true,
    updatedAt: '2026-11-30T17:00:00.000Z',
    answers,
  };
}

const RUNS = [
  run({ id: '20261130T100000000Z-aaaaaa', endpoint: 'gpt4', createdAt: '2026-11-30T10:00:00.000Z' }),
  run({ id: '20261130T110000000Z-bbbbbb', endpoint: 'gpt4', createdAt: '2026-11-30T11:00:00.000Z' }),
  run({
    id: '20261130T120000000Z-cccccc',
    endpoint: 'gpt4',
    createdAt: '2026-11-30T12:00:00.000Z',
    status: 'error',
    response: 'half an ans',
  }),
  run({
    id: '20261130T090000000Z-dddddd',
    endpoint: 'gpt4',
    context: 2048,
    createdAt: '2026-11-30T09:00:00.000Z',
  }),
  run({ id: '20261130T093000000Z-eeeeee', endpoint: 'llama', createdAt: '2026-11-30T09:30:00.000Z' }),
  run({
    id: '20261130T130000000Z-ffffff',
    endpoint: 'llama',
    createdAt: '2026-11-30T13:00:00.000Z',
    response: '   ',
  }),
];

test('latestAnswers: the newest complete, non-empty answer of each endpoint/model/context, in a fixed order', () => {
  const latest = latestAnswers(RUNS);
  assert.deepEqual(
    latest.map((r) => r.id),
    ['20261130T090000000Z-dddddd', '20261130T110000000Z-bbbbbb', '20261130T093000000Z-eeeeee'],
  );
  assert.deepEqual(latestAnswers([...RUNS].reverse()), latest);
});

test('review file: serialize → parse round trip; stable key order, sorted answers, trailing newline', () => {
  const cands = latestAnswers(RUNS).map(candidateOfRun);
  const review = sampleReview([
    judged(cands[2], {
      label: 'incorrect',
      tags: ['omission', 'wrong fact'],
      comment: 'missed the A1c',
      rank: 2,
    }),
    judged(cands[0], { rank: 1 }),
    judged(cands[1], { rank: 1, label: null, submittedAt: null }),
  ]);
  const text = serializeReview(review);
  assert.ok(text.endsWith('}\n'));
  const parsed = parseReviewFile(text);
  assert.ok(parsed.ok, JSON.stringify(parsed));
  assert.equal(serializeReview(parsed.review), text);
  // Sorted by endpoint, then context: gpt4 2k, gpt4 32k, llama 32k.
  assert.deepEqual(
    parsed.review.answers.map((a) => `${a.endpoint}@${a.contextLabel}`),
    ['gpt4@2k', 'gpt4@32k', 'llama@32k'],
  );
  // Key order is the schema's, whatever order the object was built in.
  const shuffled = { ...review, answers: review.answers.map((a) => ({ ...a, rank: a.rank, run: a.run })) };
  assert.equal(serializeReview(shuffled), text);
  const top = Object.keys(JSON.parse(text) as object);
  assert.deepEqual(top, ['format', 'version', 'instruction', 'reviewer', 'blinded', 'updatedAt', 'answers']);
  const first = Object.keys((JSON.parse(text) as ReviewFile).answers[0]);
  assert.deepEqual(first, [
    'run',
    'endpoint',
    'model',
    'context',
    'contextLabel',
    'hashes',
    'label',
    'tags',
    'comment',
    'rank',
    'submittedAt',
  ]);
  // No answer text in the file: only its hash.
  for (const r of RUNS) assert.ok(!text.includes(r.response.trim() || '\u0000'), r.response);
});

test('review file: bad input gives clear errors, never a throw', () => {
  const cands = latestAnswers(RUNS).map(candidateOfRun);
  const good = JSON.parse(serializeReview(sampleReview([judged(cands[0])]))) as Record<string, unknown>;
  const cases: [string, RegExp][] = [
    ['', /not valid JSON/],
    ['[1,2]', /expected a JSON object/],
    ['{"format":"medalign-run"}', /"format" must be "medalign-review"/],
    [JSON.stringify({ ...good, version: 2 }), /version 2 is not supported/],
    [JSON.stringify({ ...good, extra: 1 }), /\(top level\): unknown key "extra"/],
    [
      JSON.stringify({ ...good, answers: [{ ...(good['answers'] as object[])[0], label: 'maybe' }] }),
      /answers\/0\/label: must be "correct", "incorrect" or null/,
    ],
    [
      JSON.stringify({ ...good, answers: [{ ...(good['answers'] as object[])[0], rank: 0 }] }),
      /answers\/0\/rank/,
    ],
    [
      JSON.stringify({ ...good, answers: [{ ...(good['answers'] as object[])[0], rank: 3 }] }),
      /answers\/0\/rank: 3 is beyond the number of answers \(1\)/,
    ],
    [
      JSON.stringify({
        ...good,
        answers: [(good['answers'] as object[])[0], (good['answers'] as object[])[0]],
      }),
      /answers\/1: the same answer \(gpt4 · 2k\) as answers\/0/,
    ],
    [JSON.stringify({ ...good, reviewer: '  ' }), /reviewer: must not be blank/],
    [
      '{"format":"medalign-review","version":1,' + '"x":'.repeat(1) + '"' + 'y'.repeat(1_100_000) + '"}',
      /too large/,
    ],
  ];
  for (const [text, re] of cases) {
    const r = parseReviewFile(text);
    assert.equal(r.ok, false, text.slice(0, 80));
    if (!r.ok) assert.match(r.errors.join('\n'), re, text.slice(0, 80));
  }
});

test('blinding: deterministic per reviewer and instruction, labels A, B, C…, differs between reviewers', () => {
  const items = ['gpt4@2k', 'gpt4@32k', 'llama@32k', 'mistral@32k', 'baseline@32k', 'claude@8k'];
  const a1 = blindOrder('Ada', '7222697931', items, (x) => x);
  const a2 = blindOrder('Ada', '7222697931', [...items].reverse(), (x) => x);
  assert.deepEqual(a1, a2);
  assert.deepEqual(
    a1.map((b) => b.label),
    ['A', 'B', 'C', 'D', 'E', 'F'],
  );
  assert.deepEqual([...a1.map((b) => b.item)].sort(), [...items].sort());
  // Another reviewer or another instruction: (almost surely) another order; over a few, certainly.
  const orders = new Set(
    ['Ada', 'Bea', 'Cy', 'Dee'].map((r) =>
      blindOrder(r, '7222697931', items, (x) => x)
        .map((b) => b.item)
        .join(','),
    ),
  );
  assert.ok(orders.size > 1);
  const byInstruction = new Set(
    ['1', '2', '3', '4'].map((id) =>
      blindOrder('Ada', id, items, (x) => x)
        .map((b) => b.item)
        .join(','),
    ),
  );
  assert.ok(byInstruction.size > 1);
  // Adding an answer keeps the others in the same relative order.
  const withMore = blindOrder('Ada', '7222697931', [...items, 'new@4k'], (x) => x)
    .map((b) => b.item)
    .filter((x) => x !== 'new@4k');
  assert.deepEqual(
    withMore,
    a1.map((b) => b.item),
  );
  assert.deepEqual([0, 25, 26, 27, 701, 702].map(blindLabel), ['A', 'Z', 'AA', 'AB', 'ZZ', 'AAA']);
});

test('stale detection: a judgement whose hashes differ from the current run is stale, and says why', () => {
  const cands = latestAnswers(RUNS).map(candidateOfRun);
  const c = cands[0];
  assert.deepEqual(staleFields(judged(c), c), []);
  const newer = candidateOfRun({ ...RUNS[3], response: 'a different answer' });
  assert.deepEqual(staleFields(judged(c), newer), ['answer']);
  const edited = {
    ...newer,
    hashes: { ...newer.hashes, instruction: 'f'.repeat(64), record: 'e'.repeat(64) },
  };
  assert.deepEqual(staleFields(judged(c), edited), ['instruction', 'record', 'answer']);
  assert.equal(
    staleReason(['instruction', 'record', 'answer']),
    'the instruction, the record and the answer changed since it was reviewed',
  );
  assert.equal(answerTextHash('x'), answerTextHash('x'));
  assert.notEqual(answerTextHash('x'), answerTextHash('y'));
  const j = judge([edited, cands[1]], sampleReview([judged(c)]));
  assert.equal(j[0].judged?.run.id, c.runId);
  assert.deepEqual(j[0].stale, ['instruction', 'record', 'answer']);
  assert.equal(j[1].judged, undefined);
});

test('status and progress: reviewed, stale, partial, unreviewed; "12 of 62 reviewed by you"', () => {
  const cands = latestAnswers(RUNS).map(candidateOfRun);
  const all = sampleReview(cands.map((c, i) => judged(c, { rank: i + 1 })));
  assert.equal(reviewStatus(cands, all), 'reviewed');
  assert.equal(reviewStatus(cands, undefined), 'unreviewed');
  assert.equal(reviewStatus([], all), 'none');
  const draft = sampleReview([judged(cands[0], { submittedAt: null })]);
  assert.equal(reviewStatus(cands, draft), 'partial');
  const empty = sampleReview([judged(cands[0], { submittedAt: null, label: null, rank: null })]);
  assert.equal(reviewStatus(cands, empty), 'unreviewed');
  const changed = cands.map((c, i) => (i === 1 ? { ...c, hashes: { ...c.hashes, answer: 'other' } } : c));
  assert.equal(reviewStatus(changed, all), 'stale');
  // One more model since the review: not all answers judged.
  const more = [...cands, { ...cands[0], endpoint: 'new', runId: 'x' }];
  assert.equal(reviewStatus(more, all), 'partial');
  assert.equal(slotId(cands[0]), 'gpt4\u0000gpt4-model\u00002048');

  const statuses = [
    ...Array<'reviewed'>(12).fill('reviewed'),
    'stale' as const,
    'partial' as const,
    ...Array<'unreviewed'>(48).fill('unreviewed'),
    'none' as const,
  ];
  const p = reviewProgress(statuses);
  assert.deepEqual(p, { total: 62, reviewed: 12, stale: 1, partial: 1, unreviewed: 48 });
  assert.equal(progressText(p), '12 of 62 reviewed by you (1 stale, 1 in progress)');
});

test('review file path and config: <folder>/<instruction id>/<reviewer>.json; review section defaults', () => {
  assert.equal(
    reviewFilePath('reviews', '7222697931', 'Ada Lovelace'),
    'reviews/7222697931/Ada_Lovelace.json',
  );
  assert.equal(reviewFilePath('qa\\reviews/', '../x', '..'), 'qa/reviews/.._x/_...json');
  const d = parseConfig('{}').config.review;
  assert.deepEqual(d, {
    folder: 'reviews',
    blinded: true,
    errorTags: ['wrong fact', 'omission', 'hallucinated detail', 'did not follow the instruction', 'refused'],
  });
  const c = parseConfig(
    JSON.stringify({
      review: { folder: 'qa', blinded: false, errorTags: ['late', 'late', 'wrong dose'], reviewer: 'Bea' },
    }),
  );
  assert.deepEqual(
    c.problems.map((p) => p.message),
    [
      'medalign.config.json /review/errorTags: must NOT have duplicate items (items ## 1 and 0 are identical)',
    ],
  );
  assert.deepEqual(c.config.review, {
    folder: 'qa',
    blinded: false,
    errorTags: ['late', 'wrong dose'],
    reviewer: 'Bea',
  });
  const bad = parseConfig(JSON.stringify({ review: { blinded: 'yes', color: 1 } }));
  assert.equal(bad.config.review.blinded, true);
  assert.ok(bad.problems.some((p) => /review/.test(p.message)));
});

test('review file: the hand-written check agrees with review.schema.json (ajv) on valid and broken files', () => {
  const schema = JSON.parse(
    fs.readFileSync(path.join(__dirname, '../../../engine/src/core/schema/review.schema.json'), 'utf8'),
  ) as object;
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
  const cands = latestAnswers(RUNS).map(candidateOfRun);
  const good = JSON.parse(
    serializeReview(
      sampleReview([judged(cands[0]), judged(cands[1], { label: null, rank: null, submittedAt: null })]),
    ),
  ) as Record<string, unknown>;
  const a0 = (good['answers'] as Record<string, unknown>[])[0];
  const variants: unknown[] = [
    good,
    { ...good, extra: 1 },
    { ...good, blinded: 'yes' },
    { ...good, reviewer: '' },
    { ...good, instruction: { id: '' } },
    { ...good, instruction: { id: 'x', file: 3 } },
    { ...good, answers: 'none' },
    { ...good, answers: [{ ...a0, label: 'maybe' }] },
    { ...good, answers: [{ ...a0, rank: 1.5 }] },
    { ...good, answers: [{ ...a0, context: -1 }] },
    { ...good, answers: [{ ...a0, tags: [''] }] },
    { ...good, answers: [{ ...a0, tags: 'omission' }] },
    { ...good, answers: [{ ...a0, hashes: { instruction: 'a', record: 'b', template: 'c' } }] },
    { ...good, answers: [{ ...a0, response: 'the answer text' }] },
    { ...good, answers: [{ ...a0, submittedAt: 5 }] },
    { ...good, answers: [{ ...a0, comment: 'x'.repeat(20_001) }] },
    { ...good, answers: [7] },
  ];
  variants.forEach((v, i) => {
    const bySchema = validate(v);
    const byParser = parseReviewFile(JSON.stringify(v)).ok;
    assert.equal(byParser, bySchema, `variant ${i}: ${JSON.stringify(validate.errors)}`);
  });
});
