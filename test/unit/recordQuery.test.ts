import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseRecord } from '../../engine/src/core/record/parse';
import { dayLabel, locate, visitEventCounts, visitLabel } from '../../engine/src/core/record/query';
import { generateRecord } from '../fixtures/recordGenerator';

const sample = readFileSync(
  join(__dirname, '..', '..', '..', 'test', 'fixtures', 'records', 'sample-ehr-clean.xml'),
  'utf8',
);

test('locate: the innermost element at an offset', () => {
  const r = parseRecord(sample);
  const noteAt = sample.indexOf('<note type="NULL"');
  const loc = locate(r, noteAt + 3);
  assert.equal(loc.visitIndex, 0);
  assert.equal(loc.dayIndex, 0);
  assert.equal(loc.event?.kind, 'note');
  assert.equal(loc.event?.type, 'NULL');
  const codeAt = sample.indexOf('Mean blood pressure');
  const c = locate(r, codeAt);
  assert.equal(c.code?.description, 'Mean blood pressure');
  assert.equal(c.event?.kind, 'measurement');
  const second = locate(r, sample.indexOf('<visit type="Visit"'));
  assert.equal(second.visitIndex, 1);
  assert.equal(second.day, undefined);
  assert.deepEqual(locate(r, 0), {});
  const lastPerson = sample.lastIndexOf('Birth:');
  assert.equal(locate(r, lastPerson).inPerson, true);
});

test('locate agrees with a linear scan on a large record', () => {
  const text = generateRecord({ seed: 9, targetChars: 200_000 });
  const r = parseRecord(text);
  for (let off = 0; off < text.length; off += 997) {
    const loc = locate(r, off);
    const vi = r.visits.findIndex((v) => off >= v.range.start && off < v.range.end);
    assert.equal(loc.visitIndex ?? -1, vi);
    if (vi >= 0) {
      const di = r.visits[vi].days.findIndex((d) => off >= d.range.start && off < d.range.end);
      assert.equal(loc.dayIndex ?? -1, di);
    }
  }
});

test('labels and counts', () => {
  const r = parseRecord(sample);
  assert.equal(visitLabel(r.visits[0]), 'Emergency Room Visit · 2018-10-08');
  assert.equal(dayLabel(r.visits[2].days[0]), '2022-05-15 · 8 events');
  assert.deepEqual(visitEventCounts(r.visits[0]), { events: 11, notes: 2 });
  assert.equal(visitLabel({ days: [], range: { start: 0, end: 0 } }), 'Visit · ?');
});
