/**
 * The Record Timeline's first paint over JSON-RPC (issue 10, speed): `medalign/timelineView` with
 * `progressive` answers a big record that was never counted with its structure (`header.counting`)
 * before the counted model, asked at the same time, arrives; the structure is the counted model's
 * visits, days and events without a token figure or a cut line; the counted model asked next equals
 * `medalign/timeline`'s. Once counted, the progressive answer is the counted model itself; a small
 * record's first answer is counted at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { URI } from 'vscode-uri';
import { makeProjectDir, validInstruction } from '../helpers/fixtures';
import { startServer } from '../helpers/lspClient';
import type { TimelineModel, ViewWire } from '../../server/src/protocol';
import { decodeTimeline, isTimelineWire } from '../../engine/src/core/timeline/wire';
import { denseRecord } from '../bench/timelineBench';
import { unpackView } from '../helpers/viewWire';

/** The model's structure: what does not depend on counts (ids, kinds, dates, ranges, labels). */
function structure(m: TimelineModel) {
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

test('LSP: the view’s first answer for an uncounted big record is its structure, before the counted model; the counted model is medalign/timeline’s', async () => {
  const dir = makeProjectDir('timeline-first', { 'records/dense.xml': denseRecord(12_000, 5) });
  const s = await startServer(URI.file(dir).toString());
  try {
    const file = path.join(dir, 'instructions/dense.medalign');
    writeFileSync(
      file,
      validInstruction(7222697932).replace('patient: 1234555', 'record: ../records/dense.xml'),
    );
    const uri = URI.file(file).toString();
    const order: string[] = [];
    // As the view does: the progressive request, and (here at the same time) the counted one.
    const first = s.connection
      .sendRequest<ViewWire>('medalign/timelineView', { uri, progressive: true })
      .then((w) => (order.push('structure'), w));
    const counted = s.connection
      .sendRequest<ViewWire>('medalign/timelineView', { uri })
      .then((w) => (order.push('counted'), w));
    const [v1, v2] = await Promise.all([first, counted]);
    assert.deepEqual(order, ['structure', 'counted']);
    // Both big: packed for the view (the page inflates them).
    assert.equal(v1.format, 'packed');
    assert.equal(v2.format, 'packed');
    const w1 = unpackView(v1);
    const w2 = unpackView(v2);
    assert.ok(isTimelineWire(w1) && isTimelineWire(w2));
    assert.equal(w1.header.counting, true);
    assert.equal(w2.header.counting, undefined);
    // The structure says nothing it does not know: no token figure, no cut line, nothing kept or cut.
    const m1 = decodeTimeline(w1);
    assert.equal(m1.tokens, 0);
    assert.deepEqual(m1.cuts, []);
    assert.equal(m1.query, undefined);
    for (const v of m1.visits) {
      assert.equal(v.tokens, 0);
      assert.equal(v.keptTokens, 0);
      assert.equal(v.kept, undefined);
      for (const d of v.days) assert.equal(d.tokens, 0);
      for (const e of v.events) assert.equal(e.tokens, 0);
    }
    const model = await s.connection.sendRequest<TimelineModel>('medalign/timeline', { uri });
    assert.equal(model.counting, undefined);
    assert.ok(model.cuts.length > 0 && model.tokens > 0);
    // The counted columns are exactly medalign/timeline's model (previews aside: a big model's come by id).
    const m2 = decodeTimeline(w2);
    assert.deepEqual(structure(m2), structure(model));
    assert.deepEqual({ ...m2, visits: [] }, { ...model, visits: [] });
    assert.deepEqual(
      m2.visits.map((v) => v.events.map((e) => e.tokens)),
      model.visits.map((v) => v.events.map((e) => e.tokens)),
    );
    // The structure is the same record: visits, days, events, kinds, dates, ranges, labels.
    assert.deepEqual(structure(m1), structure(m2));
    assert.equal(m1.events, model.events);
    assert.equal(m1.first, model.first);
    assert.equal(m1.last, model.last);
    assert.deepEqual(m1.problems, model.problems);
    // Named as the counted model: previews asked for it apply to both.
    assert.equal(w1.stamp, w2.stamp);

    // Counted now: the progressive answer is the counted model itself.
    const again = unpackView(
      await s.connection.sendRequest<ViewWire>('medalign/timelineView', { uri, progressive: true }),
    );
    assert.equal(again.header.counting, undefined);
    assert.deepEqual(decodeTimeline(again), m2);

    // medalign/timeline ignores `progressive`: always counted.
    const asked = await s.connection.sendRequest<TimelineModel>('medalign/timeline', {
      uri,
      progressive: true,
      overrides: { context: '8k' },
    });
    assert.equal(asked.counting, undefined);
    assert.ok(asked.cuts.some((c) => c.own && c.context === 8192));

    // A small record (the public sample): counted at once, one answer.
    const small = path.join(dir, 'instructions/a.medalign');
    writeFileSync(small, validInstruction());
    const smallWire = await s.connection.sendRequest<ViewWire>('medalign/timelineView', {
      uri: URI.file(small).toString(),
      progressive: true,
    });
    assert.equal(smallWire.header.counting, undefined);
    assert.ok(smallWire.header.cuts.length > 0);
  } finally {
    await s.close();
  }
});
