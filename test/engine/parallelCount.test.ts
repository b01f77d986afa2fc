import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { URI } from 'vscode-uri';
import { hashKey } from '../../engine/src/core/util/hash';
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
  summaryOf,
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

/** `text` written to a temporary file: its URI. */
function fileOf(t: TestContext, text: string): { uri: string; file: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medalign-parse-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'record.xml');
  writeFileSync(file, text);
  return { uri: URI.file(file).toString(), file };
}

test('startParseWorker: a worker reads and parses a big record; its summary and layout equal the in-process ones', async (t) => {
  const text = generateRecord({ seed: 11, targetChars: PARALLEL_MIN_CHARS + 50_000 });
  const w = startParseWorker(fileOf(t, text).uri, text.length);
  assert.ok(w, 'a record over PARALLEL_MIN_CHARS goes to a worker (this machine has two cores)');
  const got = await w.result;
  assert.ok(got, 'the worker answered');
  const record = parseRecord(text);
  assert.deepEqual(got, { ...summarizeRecord(text, record), textKey: hashKey(text) });
  assert.deepEqual(got.layout, recordLayout(text, record));
  assert.equal(summaryOf(text, got), got, 'taken for the text it read');
  // Counted from the worker's layout with this thread's guessed-layout counts: the in-process count.
  assert.ok(got.layout);
  assert.deepEqual(
    countLayoutWithPrecounts(text, got.layout, 'cl100k_base', countGuessedChunks(text, 'cl100k_base')),
    countRecordTokens(text, record, 'cl100k_base', new TokenCounter()),
  );
});

test('startParseWorker: a broken record comes back not ok with its errors and no layout', async (t) => {
  const text = generateRecord({ seed: 13, targetChars: PARALLEL_MIN_CHARS + 30_000 }).replace(
    '</record>',
    '',
  );
  const w = startParseWorker(fileOf(t, text).uri, text.length);
  assert.ok(w);
  const got = await w.result;
  assert.ok(got);
  assert.equal(got.ok, false);
  assert.ok(got.errors.length > 0);
  assert.equal(got.layout, undefined);
  assert.deepEqual(got, { ...summarizeRecord(text, parseRecord(text)), textKey: hashKey(text) });
});

test('startParseWorker: a file changed after the worker read it is parsed here; a missing file gives undefined', async (t) => {
  const before = generateRecord({ seed: 14, targetChars: PARALLEL_MIN_CHARS + 20_000 });
  const { uri, file } = fileOf(t, before);
  const w = startParseWorker(uri, before.length);
  assert.ok(w);
  const got = await w.result;
  assert.ok(got);
  const after = generateRecord({ seed: 15, targetChars: PARALLEL_MIN_CHARS + 20_000 });
  writeFileSync(file, after);
  assert.deepEqual(summaryOf(after, got), summarizeRecord(after, parseRecord(after)));
  assert.notDeepEqual(summaryOf(after, got).layout, got.layout);
  const missing = startParseWorker(
    URI.file(path.join(path.dirname(file), 'gone.xml')).toString(),
    PARALLEL_MIN_CHARS,
  );
  assert.ok(missing);
  assert.equal(await missing.result, undefined);
});

test('startParseWorker: a small file, or no bundle, parse in-process; disposed, a worker answers nothing', async (t) => {
  const { uri } = fileOf(t, sample);
  assert.equal(startParseWorker(uri, 1_000), undefined, 'a small file stays in-process');
  assert.equal(
    startParseWorker(uri, PARALLEL_MIN_CHARS, path.join(repoRoot, 'no-such-worker.js')),
    undefined,
  );
  const unused = startParseWorker(uri, PARALLEL_MIN_CHARS + 10_000);
  assert.ok(unused);
  unused.dispose();
  assert.equal(await unused.result, undefined, 'a disposed worker answers nothing, and the caller parses');
});
