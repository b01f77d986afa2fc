/**
 * The record's structure before its tokens are counted (buildTimelineStructure, RecordWork.timelineFirst:
 * the Record Timeline's first paint of a big record): the same visits, days and events as the
 * counted model (ids, kinds, dates, ranges, labels, previews), every token figure 0, no cut line,
 * nothing said about what is kept; nothing tokenized; marked `counting` through the wire.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordWork } from '../../engine/src/core/workspace/recordEngine';
import type { TimelineRequest } from '../../engine/src/core/workspace/recordEngine';
import { buildTimeline, buildTimelineStructure } from '../../engine/src/core/timeline/build';
import type { TimelineModel } from '../../engine/src/core/timeline/model';
import { decodeTimeline, encodeTimeline, isTimelineWire } from '../../engine/src/core/timeline/wire';
import { parseRecord } from '../../engine/src/core/record/parse';
import { TokenCounter } from '../../engine/src/core/tokens/counter';
import { isTimelineModel } from '../../client/src/timeline/messages';
import { generateRecord } from '../fixtures/recordGenerator';
import { publicSampleXml } from '../helpers/fixtures';

const req = {
  encoding: 'cl100k_base',
  estimated: false,
  instruction: 'What was the most recent hemoglobin A1c?',
  reserve: 256,
  context: 8192,
  strategy: 'recent' as const,
  label: 'records/s.xml',
} satisfies TimelineRequest;

function shape(m: TimelineModel) {
  return m.visits.map((v) => ({
    index: v.index,
    type: v.type,
    start: v.start,
    end: v.end,
    range: v.range,
    days: v.days.map((d) => ({ date: d.date, events: d.events })),
    events: v.events.map(({ tokens: _t, ...e }) => e),
  }));
}

test('timeline structure: the counted model’s visits, days and events; no token figure, no cut line', () => {
  for (const seed of [1, 2, 3]) {
    const text = generateRecord({ seed, targetChars: 60_000 });
    const record = parseRecord(text);
    assert.ok(record.ok);
    const counter = new TokenCounter();
    const input = {
      ...req,
      text,
      record,
      counter,
      uri: 'file:///s.xml',
      model: 'baseline',
      problems: ['p0'],
    };
    const st = buildTimelineStructure(input);
    assert.equal(counter.stats.tokenizedChars, 0, 'the structure tokenizes nothing');
    const full = buildTimeline(input);
    assert.equal(st.counting, true);
    assert.equal(full.counting, undefined);
    assert.deepEqual(shape(st), shape(full));
    assert.ok(st.visits.length > 0);
    assert.equal(st.tokens, 0);
    assert.deepEqual(st.cuts, []);
    assert.equal(st.query, undefined);
    assert.equal(st.refine, undefined);
    for (const v of st.visits) {
      assert.equal(v.tokens, 0);
      assert.equal(v.keptTokens, 0);
      assert.equal(v.state, 'kept');
      assert.equal(v.kept, undefined);
      assert.ok(v.days.every((d) => d.tokens === 0) && v.events.every((e) => e.tokens === 0));
    }
    for (const k of [
      'record',
      'uri',
      'encoding',
      'model',
      'strategy',
      'context',
      'events',
      'first',
      'last',
    ] as const)
      assert.deepEqual(st[k], full[k], k);
    assert.equal(st.problems[0], 'p0');
    // Through the wire, still marked; the view's check accepts it.
    const wire = encodeTimeline(st, { previews: true, stamp: 's' });
    assert.ok(isTimelineWire(wire));
    assert.deepEqual(decodeTimeline(wire), st);
    assert.ok(isTimelineModel(st));
    assert.ok(!isTimelineModel({ ...st, counting: false }));
  }
});

test('timeline structure: a record that is not valid gives the counted path’s model (its error)', () => {
  const text = '<record><visit start="01/01/2020 10:00"><day start="01/01/2020 10:00"><note>x</note></day>';
  const record = parseRecord(text);
  assert.equal(record.ok, false);
  const input = { ...req, text, record, counter: new TokenCounter() };
  const st = buildTimelineStructure(input);
  assert.deepEqual(st, buildTimeline(input));
  assert.equal(st.counting, undefined);
  assert.ok(st.error !== undefined);
});

test('RecordWork.timelineFirst: a big uncounted record’s structure (tokenizing nothing), else the counted columns', () => {
  const text = generateRecord({ seed: 9, targetChars: 120_000 });
  const work = new RecordWork();
  work.load('file:///s.xml', 'disk', text);
  const before = work.counter.stats.tokenizedChars;
  const first = work.timelineFirst('file:///s.xml', 'disk', req, true, 100_000);
  assert.ok(first);
  assert.equal(first.header.counting, true);
  assert.equal(work.counter.stats.tokenizedChars, before, 'nothing counted');
  // Asked again while counting: the same answer, with the same columns (not made again).
  const again = work.timelineFirst('file:///s.xml', 'disk', req, true, 100_000);
  assert.deepEqual(again, first);
  assert.equal(again?.events, first.events);
  const counted = work.timelineWire('file:///s.xml', 'disk', req, true);
  assert.ok(counted);
  assert.equal(counted.header.counting, undefined);
  assert.equal(first.stamp, counted.stamp, 'named as the counted model (previews apply to both)');
  // Once the model is counted: it is the first answer.
  assert.equal(work.timelineFirst('file:///s.xml', 'disk', req, true, 100_000), counted);
  // Another context of a record counted already: counted at once (it only packs), no structure in
  // between (a `context:` edit moves the cut lines and keeps the token figures).
  const other = work.timelineFirst('file:///s.xml', 'disk', { ...req, context: 4096 }, true, 100_000);
  assert.equal(other?.header.counting, undefined);
  assert.equal(other?.header.context, 4096);
  assert.equal(other, work.timelineWire('file:///s.xml', 'disk', { ...req, context: 4096 }, true));
  // Another encoding is not counted yet: its structure (it says the encoding asked).
  const o200 = work.timelineFirst('file:///s.xml', 'disk', { ...req, encoding: 'o200k_base' }, true, 100_000);
  assert.equal(o200?.header.counting, true);
  assert.equal(o200?.header.encoding, 'o200k_base');
  // A record under the size: counted at once.
  const small = new RecordWork();
  small.load('file:///s.xml', 'disk', text);
  const direct = small.timelineFirst('file:///s.xml', 'disk', req, true, text.length + 1);
  assert.equal(direct?.header.counting, undefined);
  assert.ok((direct?.header.cuts.length ?? 0) > 0);
  // Not loaded: nothing.
  assert.equal(small.timelineFirst('file:///none.xml', 'disk', req, true), undefined);
});

test('RecordWork.warmStructure: a big record’s structure columns made ahead; each first answer only adds its header', () => {
  const text = generateRecord({ seed: 11, targetChars: 120_000 });
  const uri = 'file:///w.xml';
  const warm = new RecordWork();
  warm.load(uri, 'disk', text);
  // Under the size, unknown records and records that are not valid: nothing to do.
  assert.equal(warm.warmStructure(uri, 'disk', true, text.length + 1), undefined);
  assert.equal(warm.warmStructure('file:///none.xml', 'disk', true, 0), undefined);
  const broken = new RecordWork();
  broken.load(uri, 'disk', text.slice(0, text.length - 20));
  assert.equal(broken.record(uri, 'disk')?.ok, false);
  assert.equal(broken.warmStructure(uri, 'disk', true, 0), undefined);
  const before = warm.counter.stats.tokenizedChars;
  const made = warm.warmStructure(uri, 'disk', true, 100_000);
  assert.ok(made);
  assert.equal(warm.warmStructure(uri, 'disk', true, 100_000), undefined, 'made once');
  assert.equal(warm.counter.stats.tokenizedChars, before, 'nothing counted');
  // The answers equal the structure's model in columns, for each request's header.
  const record = parseRecord(text);
  for (const r of [
    req,
    { ...req, context: 4096, strategy: 'bm25' as const, model: 'gpt-4o', problems: ['p'] },
  ]) {
    const first = warm.timelineFirst(uri, 'disk', r, true, 100_000);
    assert.ok(first);
    const fresh = encodeTimeline(buildTimelineStructure({ ...r, text, record, uri }), {
      previews: true,
      stamp: first.stamp,
    });
    assert.deepEqual(first, fresh);
    assert.equal(first.header.context, r.context);
  }
  const a = warm.timelineFirst(uri, 'disk', req, true, 100_000);
  const b = warm.timelineFirst(uri, 'disk', { ...req, context: 4096 }, true, 100_000);
  assert.equal(a?.events, made.events, 'the warmed columns');
  assert.equal(b?.events, made.events, 'shared by every header');
  assert.notEqual(a?.stamp, b?.stamp);
  // Another previews budget: columns of its own (previews left out of a big model).
  const lazy = warm.timelineFirst(uri, 'disk', req, false, 100_000);
  assert.ok(lazy?.events.preview.every((p) => p < 0));
  assert.deepEqual(lazy?.events.id, a?.events.id);
  // The same text opened in an editor (another key): the same columns as on disk.
  warm.load(uri, 'editor', text);
  assert.deepEqual(warm.timelineFirst(uri, 'editor', req, true, 100_000)?.events, a?.events);
});

test('timeline structure: the counted model built after the structure (reusing it) equals the one built without', () => {
  for (const seed of [4, 5]) {
    const text = generateRecord({ seed, targetChars: 80_000 });
    const input = (record: ReturnType<typeof parseRecord>) => ({
      ...req,
      text,
      record,
      counter: new TokenCounter(),
    });
    const a = parseRecord(text);
    buildTimelineStructure(input(a));
    const afterStructure = buildTimeline(input(a));
    const cold = buildTimeline(input(parseRecord(text)));
    assert.deepEqual(afterStructure, cold);
    assert.ok(afterStructure.tokens > 0 && afterStructure.cuts.length > 0);
  }
  // The public sample (its person block inside a day: the demographics event) as well.
  const sample = publicSampleXml;
  const r1 = parseRecord(sample);
  buildTimelineStructure({ ...req, text: sample, record: r1 });
  assert.deepEqual(
    buildTimeline({ ...req, text: sample, record: r1, counter: new TokenCounter() }),
    buildTimeline({ ...req, text: sample, record: parseRecord(sample), counter: new TokenCounter() }),
  );
});

test('RecordWork: a record dropped from the store drops its structure columns (made anew when it is loaded again)', () => {
  const text = generateRecord({ seed: 12, targetChars: 20_000 });
  const work = new RecordWork();
  work.load('file:///a.xml', 'disk', text);
  assert.ok(work.warmStructure('file:///a.xml', 'disk', true, 0));
  assert.equal(work.warmStructure('file:///a.xml', 'disk', true, 0), undefined, 'kept');
  // Enough other records to drop it (the store keeps RecordWork.CAPACITY).
  const small = publicSampleXml;
  for (let i = 0; i < RecordWork.CAPACITY; i++) work.load(`file:///o${i}.xml`, 'disk', small);
  assert.ok(work.takeEvicted().includes('file:///a.xml\ndisk'));
  work.load('file:///a.xml', 'disk', text);
  assert.ok(
    work.warmStructure('file:///a.xml', 'disk', true, 0),
    'made again: the old columns went with the record',
  );
});
