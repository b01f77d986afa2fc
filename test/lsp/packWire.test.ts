/**
 * Packing a big timeline model for the view (server/src/node/packWire.ts, in the record worker): the
 * packed columns inflate to exactly the columns; a small model goes as it is; the same columns are
 * packed once; what does not inflate to well-formed columns is refused, never half-drawn.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { PACK_MIN_CHARS, packColumns, packWire } from '../../server/src/node/packWire';
import { RecordWork } from '../../engine/src/core/workspace/recordEngine';
import type { TimelineRequest } from '../../engine/src/core/workspace/recordEngine';
import { isTimelineWire, unpackedWire } from '../../engine/src/core/timeline/wire';
import type { PackedTimelineWire, TimelineWire } from '../../engine/src/core/timeline/wire';
import { denseRecord } from '../bench/timelineBench';
import { unpackView } from '../helpers/viewWire';

const req = {
  encoding: 'cl100k_base',
  estimated: false,
  instruction: 'What was the most recent glucose?',
  reserve: 256,
  context: 8192,
  strategy: 'recent' as const,
  label: 'records/d.xml',
} satisfies TimelineRequest;

function structureOf(events: number): TimelineWire {
  const work = new RecordWork();
  work.load('file:///d.xml', 'disk', denseRecord(events, 3));
  const w = work.timelineFirst('file:///d.xml', 'disk', req, true, 0);
  assert.ok(w);
  return w;
}

test('packWire: a big model’s columns packed (gzipped JSON, base64) and inflated back exactly; a small one as it is', () => {
  const big = structureOf(4_000);
  assert.ok(JSON.stringify(big).length > PACK_MIN_CHARS);
  const p = packWire(big);
  assert.equal(p.format, 'packed');
  const packed = p;
  assert.equal(packed.stamp, big.stamp);
  assert.equal(packed.header, big.header);
  assert.equal(packed.visits, big.visits.index.length);
  assert.ok(packed.columns.length < JSON.stringify(big).length / 3, `${packed.columns.length} base64 chars`);
  assert.deepEqual(unpackView(packed), big);
  // The same columns under another header: packed once (the same string).
  assert.equal(
    (packWire({ ...big, header: { ...big.header, context: 4096 } }) as PackedTimelineWire).columns,
    packed.columns,
  );
  assert.equal(packColumns(big), packed.columns);

  const small = structureOf(20);
  assert.ok(JSON.stringify(small).length < PACK_MIN_CHARS);
  assert.equal(packWire(small), small);
  assert.equal(packColumns(small), null);
  // The threshold is the caller's.
  assert.equal(packWire(structureOf(20), 0).format, 'packed');
});

test('unpackedWire: columns that are not an object, or not well-formed, are refused by the check', () => {
  const big = structureOf(300);
  const header = { stamp: big.stamp, header: big.header };
  for (const bad of [null, 'x', 3, [1, 2], {}, { strings: [], visits: {}, days: {}, events: {} }])
    assert.ok(!isTimelineWire(unpackedWire(header, bad)), JSON.stringify(bad));
  // A column too short (an event's kind lost on the way): refused.
  const broken = JSON.parse(
    JSON.stringify({ ...big, events: { ...big.events, kind: big.events.kind.slice(1) } }),
  );
  assert.ok(!isTimelineWire(unpackedWire(header, broken)));
  // Well-formed: the wire itself.
  const json = JSON.parse(
    JSON.stringify({ strings: big.strings, visits: big.visits, days: big.days, events: big.events }),
  );
  assert.deepEqual(unpackedWire(header, json), big);
  // Gzipped bytes of something else inflate, but are no wire.
  const junk = gzipSync('{"strings": 1}').toString('base64');
  assert.throws(() => unpackView({ ...(packWire(big, 0) as PackedTimelineWire), columns: junk }));
});
