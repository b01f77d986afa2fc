/**
 * Records with CRLF (or CR) line endings are sent with LF, as HELM reads them (Python text mode):
 * every strategy, the exact counts and the fit table's total agree with the LF record.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { PackStrategy } from '../../engine/src/core/packing/pack';
import { fitTable, packPrompt } from '../../engine/src/core/packing/pack';
import { parseRecord } from '../../engine/src/core/record/parse';
import { TokenCounter } from '../../engine/src/core/tokens/counter';
import { generateRecord } from '../fixtures/recordGenerator';

const lf = readFileSync(
  join(__dirname, '..', '..', '..', 'test', 'fixtures', 'records', 'sample-ehr-clean.xml'),
  'utf8',
);
const counter = new TokenCounter();
const q = 'What antihypertensives were given in the ED?';

function pack(text: string, strategy: PackStrategy, context: number) {
  return packPrompt({
    text,
    record: parseRecord(text),
    instruction: q,
    context,
    strategy,
    encoding: 'cl100k_base',
    counter,
  });
}

test('a CRLF or CR record is sent with LF line endings by every strategy, with the same counts as the LF file', () => {
  for (const text of [lf.replace(/\n/g, '\r\n'), lf.replace(/\n/g, '\r')]) {
    assert.ok(parseRecord(text).ok);
    for (const strategy of ['recent', 'bm25', 'none', 'helm'] as const) {
      const a = pack(lf, strategy, 32768);
      const b = pack(text, strategy, 32768);
      assert.equal(b.ehr, lf, strategy);
      assert.ok(!b.messages.some((m) => m.content.includes('\r')), strategy);
      assert.deepEqual(b.messages, a.messages, strategy);
      assert.equal(b.budget.record, a.budget.record, strategy);
      assert.equal(b.budget.prompt, a.budget.prompt, strategy);
    }
    const fa = fitTable({
      text: lf,
      record: parseRecord(lf),
      instruction: q,
      encoding: 'cl100k_base',
      counter,
    });
    const fb = fitTable({
      text,
      record: parseRecord(text),
      instruction: q,
      encoding: 'cl100k_base',
      counter,
    });
    assert.equal(fb.total, fa.total);
  }
});

test('a CRLF record cut by recent: LF only, exactly counted, within the limit', () => {
  const text = generateRecord({ seed: 4, targetChars: 60_000 }).replace(/\n/g, '\r\n');
  for (const context of [2048, 4096, 8192]) {
    const r = pack(text, 'recent', context);
    assert.ok(r.ok);
    assert.ok(!r.ehr.includes('\r'));
    assert.equal(r.budget.record, counter.count(r.ehr, 'cl100k_base'));
    assert.ok(r.budget.prompt <= r.budget.limit);
    // Still the file's own content, only the line endings changed.
    const kept = r.keptRanges.map((s) => text.slice(s.start, s.end)).join('');
    assert.equal(kept.replace(/\r\n/g, '\n'), r.ehr);
  }
});
