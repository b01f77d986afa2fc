import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../helpers/fixtures';
import { generateRecord, synthRecord } from '../fixtures/recordGenerator';
import { parseRecord } from '../../engine/src/core/record/parse';
import { guessVisitRanges, layoutOfVisits, recordLayout } from '../../engine/src/core/record/layout';
import { countRecordTokens, TokenCounter } from '../../engine/src/core/tokens/counter';
import type { EncodingName } from '../../engine/src/core/tokens/encodings';
import {
  countGuessedChunks,
  countLayoutWithPrecounts,
  countWithPrecounts,
  PARALLEL_MIN_CHARS,
  startParseWorker,
  summarizeRecord,
} from '../../engine/src/host/parallelCount';

const sample = readFileSync(path.join(repoRoot, 'test/fixtures/records/sample-ehr-clean.xml'), 'utf8');

/** Records whose guessed layout is right, and records built to make it wrong. */
const records: [string, string][] = [
  ['the public sample', sample],
  ['the public sample with CRLF', sample.replace(/\n/g, '\r\n')],
  ['a generated record with quirks', generateRecord({ seed: 7, visits: 30 })],
  ...[3, 4, 5, 6].map((seed): [string, string] => [
    `a synthetic record with quirks (seed ${seed})`,
    synthRecord({ seed, targetChars: 60_000, quirks: true }),
  ]),
  ['visits glued without a line break', sample.replace(/<\/visit>\s*<visit/g, '</visit><visit')],
  [
    'a <visit> inside a comment',
    sample.replace('<visit', '<!-- <visit type="x"> not one </visit> --><visit'),
  ],
  ['a <visit> in the text of an event', sample.replace('</code>', ' see <visit> </code>')],
  ['no visits', '<record>\n  <person>x</person>\n</record>\n'],
];

for (const [name, text] of records) {
  for (const encoding of ['cl100k_base', 'o200k_base'] as EncodingName[]) {
    test(`count with a worker's precounts equals the in-process count: ${name}, ${encoding}`, () => {
      const record = parseRecord(text);
      const expected = countRecordTokens(text, record, encoding, new TokenCounter());
      const got = countWithPrecounts(text, record, encoding, countGuessedChunks(text, encoding));
      assert.deepEqual(got, expected);
    });
  }
}

test('the guessed layout of well-formed records is the parsed one (so the worker does the counting)', () => {
  for (const [, text] of records.slice(0, 8)) {
    const record = parseRecord(text);
    assert.ok(record.visits.length > 0);
    assert.deepEqual(layoutOfVisits(text, guessVisitRanges(text)), recordLayout(text, record));
  }
});

test('guessVisitRanges skips <visit_detail> and self-closing visits end at their own tag', () => {
  const text =
    '<record>\n  <visit a="1">\n    <visit_detail>\n    </visit_detail>\n  </visit>\n  <visit b="2"/>\n</record>\n';
  const ranges = guessVisitRanges(text);
  assert.deepEqual(
    ranges.map((r) => text.slice(r.start, r.end)),
    ['<visit a="1">\n    <visit_detail>\n    </visit_detail>\n  </visit>', '<visit b="2"/>'],
  );
});

test('startParseWorker: a worker thread parses a big record, and its summary and layout equal the in-process ones', async () => {
  const text = generateRecord({ seed: 11, targetChars: PARALLEL_MIN_CHARS + 50_000 });
  const w = startParseWorker(text.length);
  assert.ok(w, 'a record over PARALLEL_MIN_CHARS goes to a worker (this machine has two cores)');
  const got = await w.parse(text);
  assert.ok(got, 'the worker answered');
  const record = parseRecord(text);
  assert.deepEqual(got, summarizeRecord(text, record));
  assert.deepEqual(got.layout, recordLayout(text, record));
  // Counted from the worker's layout with this thread's guessed-layout counts: the in-process count.
  assert.deepEqual(
    countLayoutWithPrecounts(text, got.layout, 'cl100k_base', countGuessedChunks(text, 'cl100k_base')),
    countRecordTokens(text, record, 'cl100k_base', new TokenCounter()),
  );
});

test('startParseWorker: a broken record comes back not ok with its errors and no layout', async () => {
  const text = generateRecord({ seed: 13, targetChars: PARALLEL_MIN_CHARS + 30_000 }).replace(
    '</record>',
    '',
  );
  const w = startParseWorker(text.length);
  assert.ok(w);
  const got = await w.parse(text);
  assert.ok(got);
  assert.equal(got.ok, false);
  assert.ok(got.errors.length > 0);
  assert.equal(got.layout, undefined);
  assert.deepEqual(got, summarizeRecord(text, parseRecord(text)));
});

test('startParseWorker: a small file, one core or no bundle parse in-process; disposed unused, it ends', async () => {
  assert.equal(startParseWorker(1_000), undefined, 'a small file stays in-process');
  assert.equal(startParseWorker(PARALLEL_MIN_CHARS, path.join(repoRoot, 'no-such-worker.js')), undefined);
  // Never given a text (the record could not be read): disposed, it exits, so nothing waits on it.
  const unused = startParseWorker(PARALLEL_MIN_CHARS + 10_000);
  assert.ok(unused);
  const parse = unused.parse.bind(unused);
  unused.dispose();
  assert.equal(await parse(sample), undefined, 'a disposed worker answers nothing, and the caller parses');
});
