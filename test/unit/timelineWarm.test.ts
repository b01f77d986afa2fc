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

test('timeline warm-up in steps: a visit each; a request between the steps gets the same model, and the warming then ends with it', () => {
  const text = generateRecord({ seed: 8, targetChars: 120_000 });
  const uri = 'file:///s.xml';
  const cold = new RecordWork();
  cold.load(uri, 'disk', text);
  const expected = cold.timeline(uri, 'disk', req);
  assert.ok(expected);

  for (const structureFirst of [false, true]) {
    const work = new RecordWork();
    const record = work.load(uri, 'disk', text);
    // The structure made ahead (in steps too): the counted warming then reuses it.
    if (structureFirst) {
      const s = work.warmStructureSteps(uri, 'disk', true, 0);
      let steps = 0;
      let r = s.next();
      while (r.done !== true) {
        steps++;
        r = s.next();
      }
      assert.equal(steps, record.visits.length, 'a step per visit');
      assert.ok(r.value);
      assert.deepEqual(work.warmStructure(uri, 'disk', true, 0), undefined, 'made');
    }
    const steps = work.warmTimelineSteps(uri, 'disk', 'cl100k_base');
    for (let i = 0; i < 5; i++) assert.equal(steps.next().done, false);
    assert.equal(timelineWarm(text, record, 'cl100k_base'), false, 'not done after 5 visits');
    // A request between the steps: the whole model, exactly as without warming.
    assert.deepEqual(work.timeline(uri, 'disk', req), expected);
    // The warming finds the model made meanwhile and ends at its next step.
    const next = steps.next();
    assert.deepEqual(next, { done: true, value: true });
    assert.equal(timelineWarm(text, record, 'cl100k_base'), true);
    assert.deepEqual(
      work.timeline(uri, 'disk', { ...req, context: 4096 }),
      cold.timeline(uri, 'disk', { ...req, context: 4096 }),
    );
  }
});
