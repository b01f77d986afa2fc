/**
 * Warming a record's timeline (RecordWork.warmTimeline, which the record worker calls when idle after
 * counting a big record): the record's static part is built once, and the model a request then gets
 * is exactly the model built without warming.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordWork } from '../../engine/src/core/workspace/recordEngine';
import type { TimelineRequest } from '../../engine/src/core/workspace/recordEngine';
import { timelineWarm } from '../../engine/src/core/timeline/build';
import { generateRecord } from '../fixtures/recordGenerator';

const req: TimelineRequest = {
  encoding: 'cl100k_base',
  estimated: false,
  instruction: 'What was the most recent hemoglobin A1c?',
  reserve: 256,
  context: 8192,
  strategy: 'recent',
  label: 'records/warm.xml',
};

test('timeline warm-up: builds the static part once; the model is the same as without it', () => {
  const text = generateRecord({ seed: 5, targetChars: 120_000 });
  const warmed = new RecordWork();
  const record = warmed.load('file:///r.xml', 'disk', text);
  assert.ok(record.ok);
  // Below the size asked for: nothing done.
  assert.equal(warmed.warmTimeline('file:///r.xml', 'disk', 'cl100k_base', text.length + 1), false);
  assert.equal(timelineWarm(text, record, 'cl100k_base'), false);
  assert.equal(warmed.warmTimeline('file:///r.xml', 'disk', 'cl100k_base'), true);
  assert.equal(timelineWarm(text, record, 'cl100k_base'), true);
  assert.equal(timelineWarm(text, record, 'o200k_base'), false, 'per encoding');
  // Once is enough; an unknown record does nothing.
  assert.equal(warmed.warmTimeline('file:///r.xml', 'disk', 'cl100k_base'), false);
  assert.equal(warmed.warmTimeline('file:///other.xml', 'disk', 'cl100k_base'), false);

  const cold = new RecordWork();
  cold.load('file:///r.xml', 'disk', text);
  const a = warmed.timeline('file:///r.xml', 'disk', req);
  const b = cold.timeline('file:///r.xml', 'disk', req);
  assert.ok(a && b);
  assert.ok(a.events > 10, `${a.events} events`);
  assert.deepEqual(a, b);
});

test('timeline warm-up: a record that is not valid is not warmed', () => {
  const work = new RecordWork();
  work.load('file:///bad.xml', 'disk', '<record><visit start="01/01/2020"><day>');
  assert.equal(work.warmTimeline('file:///bad.xml', 'disk', 'cl100k_base'), false);
});
