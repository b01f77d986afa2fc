/**
 * The timeline model in columns (core/timeline/wire.ts): the view's wire format gives back the very
 * model (with or without its previews), is much smaller than the model's JSON, and is refused when
 * any column is malformed.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseRecord } from '../../engine/src/core/record/parse';
import { TokenCounter } from '../../engine/src/core/tokens/counter';
import { buildTimeline } from '../../engine/src/core/timeline/build';
import type { TimelineInput } from '../../engine/src/core/timeline/build';
import type { TimelineModel } from '../../engine/src/core/timeline/model';
import { emptyTimeline } from '../../engine/src/core/timeline/model';
import {
  PREVIEW_LAZY,
  decodeTimeline,
  encodeTimeline,
  isTimelineWire,
  timelinePreviews,
  wireDateMs,
} from '../../engine/src/core/timeline/wire';
import type { TimelineWire } from '../../engine/src/core/timeline/wire';
import { LocalRecordEngine } from '../../engine/src/core/workspace/recordEngine';
import type { TimelineRequest } from '../../engine/src/core/workspace/recordEngine';
import { isTimelineModel } from '../../client/src/timeline/messages';
import { dayTimes, timeOf } from '../../client/src/timeline/layout';
import { denseRecord } from '../bench/timelineBench';
import { generateRecord } from '../fixtures/recordGenerator';

const root = join(__dirname, '..', '..', '..');
const counter = new TokenCounter();

function timeline(text: string, over: Partial<TimelineInput> = {}): TimelineModel {
  return buildTimeline({
    text,
    record: parseRecord(text),
    instruction: 'What was the most recent glucose, and was metformin changed?',
    encoding: 'cl100k_base',
    counter,
    context: 8192,
    strategy: 'recent',
    label: 'r.xml',
    ...over,
  });
}

/** The model without its events' previews. */
function withoutPreviews(m: TimelineModel): TimelineModel {
  return {
    ...m,
    visits: m.visits.map((v) => ({
      ...v,
      events: v.events.map(({ preview: _p, ...e }) => e),
    })),
  };
}

/** Through JSON, as the wire carries it. */
const viaJson = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

const records: [string, string][] = [
  [
    'the public sample',
    readFileSync(join(root, 'test', 'fixtures', 'records', 'sample-ehr-clean.xml'), 'utf8'),
  ],
  ['samples/records/2000002.xml', readFileSync(join(root, 'samples', 'records', '2000002.xml'), 'utf8')],
  ['a generated record with long notes', generateRecord({ seed: 3, targetChars: 200_000 })],
  ['a dense record', denseRecord(3000, 11)],
];

for (const [name, text] of records) {
  test(`wire: ${name} decodes to the same model, with and without previews`, () => {
    for (const strategy of ['recent', 'bm25', 'none'] as const) {
      const m = timeline(text, { strategy });
      const all = viaJson(encodeTimeline(m, { previews: true, stamp: 's1' }));
      assert.ok(isTimelineWire(all));
      assert.equal(all.stamp, 's1');
      assert.deepEqual(decodeTimeline(all), viaJson(m));
      assert.ok(isTimelineModel(decodeTimeline(all)));

      const lazy = new Set<number>();
      const none = viaJson(encodeTimeline(m, { previews: false }));
      assert.ok(isTimelineWire(none));
      assert.deepEqual(decodeTimeline(none, lazy), viaJson(withoutPreviews(m)));
      const withPreview = m.visits.flatMap((v) => v.events).filter((e) => e.preview !== undefined);
      assert.deepEqual(
        [...lazy].sort((a, b) => a - b),
        withPreview.map((e) => e.id).sort((a, b) => a - b),
      );
      // The previews asked for later are the model's own.
      const ids = [...lazy];
      assert.deepEqual(
        timelinePreviews(m, ids),
        ids.map((id) => withPreview.find((e) => e.id === id)!.preview),
      );
    }
  });
}

test('wire: previews are shipped only when they are small (64 KiB by default)', () => {
  const m = timeline(generateRecord({ seed: 5, targetChars: 300_000 }));
  const chars = m.visits.flatMap((v) => v.events).reduce((n, e) => n + (e.preview?.length ?? 0), 0);
  assert.ok(chars > 1000, `${chars} preview characters`);
  assert.ok(encodeTimeline(m, { previews: chars - 1 }).events.preview.some((p) => p === PREVIEW_LAZY));
  assert.ok(encodeTimeline(m, { previews: chars }).events.preview.every((p) => p !== PREVIEW_LAZY));
  const small = timeline(records[0][1]);
  assert.ok(encodeTimeline(small).events.preview.every((p) => p !== PREVIEW_LAZY));
});

test('wire: a 50k-event model is a fraction of its JSON', () => {
  const m = timeline(denseRecord(50_000));
  const json = JSON.stringify(m).length;
  const wire = JSON.stringify(encodeTimeline(m, { previews: false })).length;
  assert.ok(wire < json / 3, `wire ${wire} vs model ${json}`);
});

test('wire: dates round-trip, odd ones as strings', () => {
  const m = emptyTimeline('r.xml', []);
  m.visits.push({
    index: 0,
    start: '2019-04-02T14:05',
    end: '0099-12-31T23:59',
    tokens: 3,
    range: [0, 0, 3, 0],
    state: 'kept',
    keptTokens: 3,
    days: [{ date: null, tokens: 1, events: 1 }],
    events: [
      {
        id: 0,
        kind: 'other',
        tag: 'x',
        date: '2019-02-30T00:00',
        tokens: 1,
        range: [1, 2, 1, 9],
        label: 'x',
      },
    ],
  });
  const w = encodeTimeline(m);
  assert.equal(typeof w.visits.start[0], 'number');
  assert.equal(w.events.date[0], '2019-02-30T00:00');
  assert.deepEqual(decodeTimeline(viaJson(w)), viaJson(m));
  assert.equal(wireDateMs(w.visits.start[0]), Date.parse('2019-04-02T14:05'));
  assert.ok(Number.isNaN(wireDateMs(null)));
});

test('wire: malformed columns are refused', () => {
  const good = viaJson(encodeTimeline(timeline(records[1][1]), { previews: true }));
  assert.ok(isTimelineWire(good));
  const bad: [string, (w: TimelineWire) => void][] = [
    ['a short column', (w) => w.events.tokens.pop()],
    ['a label out of range', (w) => (w.events.label[0] = w.strings.length)],
    ['an unknown kind', (w) => (w.events.kind[0] = 99)],
    ['a negative line', (w) => (w.events.range[0] = -1_000_000)],
    ['a fractional token count', (w) => (w.events.tokens[0] = 1.5)],
    ['a visit state', (w) => (w.visits.state[0] = 3)],
    ['more events than the visits say', (w) => (w.visits.events[0] += 1)],
    ['a non-string in the strings', (w) => ((w.strings as unknown[])[0] = 7)],
    ['an object date', (w) => ((w.events.date as unknown[])[0] = {})],
    ['another format', (w) => ((w as { format: string }).format = 'rows')],
  ];
  for (const [what, spoil] of bad) {
    const w = viaJson(good);
    spoil(w);
    assert.equal(isTimelineWire(w), false, what);
  }
  assert.equal(isTimelineWire(null), false);
  assert.equal(isTimelineWire('x'), false);
});

test('record engine: the view’s columns and previews come from one cached model per record version and settings', async () => {
  const text = generateRecord({ seed: 9, targetChars: 300_000 });
  const engine = new LocalRecordEngine();
  const work = engine.work;
  work.load('file:///r.xml', 'k1', text);
  const req: TimelineRequest = {
    instruction: 'glucose?',
    reserve: 1024,
    encoding: 'cl100k_base',
    estimated: false,
    context: 8192,
    strategy: 'recent',
    label: 'r.xml',
  };
  const model = (await engine.timeline('file:///r.xml', 'k1', req))!;
  const wire = (await engine.timelineWire('file:///r.xml', 'k1', req, false))!;
  assert.ok(wire.stamp.length > 0);
  const lazy = new Set<number>();
  assert.deepEqual(decodeTimeline(viaJson(wire), lazy), viaJson(withoutPreviews(model)));
  assert.ok(lazy.size > 0);
  const ids = [...lazy].slice(0, 5);
  const p = (await engine.timelinePreviews('file:///r.xml', 'k1', req, [...ids, 999_999]))!;
  assert.equal(p.stamp, wire.stamp);
  assert.deepEqual(p.previews, [...timelinePreviews(model, ids), null]);
  // Another context: another model, another stamp.
  const other = (await engine.timelineWire('file:///r.xml', 'k1', { ...req, context: 16384 }, false))!;
  assert.notEqual(other.stamp, wire.stamp);
  // Another version of the record: another stamp.
  work.load('file:///r.xml', 'k2', text);
  const again = (await engine.timelineWire('file:///r.xml', 'k2', req, false))!;
  assert.notEqual(again.stamp, wire.stamp);
  assert.equal(await engine.timelineWire('file:///r.xml', 'nope', req, false), undefined);
});

test('layout: dayTimes gives timeOf’s numbers (local time, odd forms parsed whole)', () => {
  const time = dayTimes();
  const dates = [
    '2019-04-02T14:05',
    '2019-04-02T00:00',
    '2019-04-02T23:59',
    '2021-03-28T02:30',
    '2021-10-31T02:30',
    '2020-02-29T12:00',
    '2019-02-30T10:00',
    '2019-04-02',
    '2019-04-02T25:00',
    'nonsense-value!!',
  ];
  for (const d of dates) assert.equal(time(d), timeOf(d), d);
  assert.equal(time(null), undefined);
});
