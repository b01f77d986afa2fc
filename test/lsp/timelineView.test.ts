/**
 * `medalign/timelineView` and `medalign/timelinePreviews` over JSON-RPC (the Record Timeline view's
 * requests, through the server's record worker): the columns decode to exactly the model
 * `medalign/timeline` answers; a big model ships without its previews and they come by id, named by
 * the model's stamp; a record changed on disk gives another stamp.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { URI } from 'vscode-uri';
import { makeProjectDir, validInstruction } from '../helpers/fixtures';
import { startServer } from '../helpers/lspClient';
import type { TimelineModel, TimelinePreviews, ViewWire } from '../../server/src/protocol';
import { decodeTimeline, isTimelineWire } from '../../engine/src/core/timeline/wire';
import { generateRecord } from '../fixtures/recordGenerator';
import { unpackView } from '../helpers/viewWire';

function withoutPreviews(m: TimelineModel): TimelineModel {
  return {
    ...m,
    visits: m.visits.map((v) => ({ ...v, events: v.events.map(({ preview: _p, ...e }) => e) })),
  };
}

test('LSP: medalign/timelineView is medalign/timeline in columns; previews of a big record by id, per model stamp', async () => {
  const big = generateRecord({ seed: 12, targetChars: 1_600_000 });
  const dir = makeProjectDir('timeline-view', { 'records/big.xml': big });
  const s = await startServer(URI.file(dir).toString());
  try {
    // The public sample: small, its previews come with the model.
    const file = path.join(dir, 'instructions/a.medalign');
    writeFileSync(file, validInstruction().replace('context: 32k', 'context: 2k'));
    const uri = URI.file(file).toString();
    const model = await s.connection.sendRequest<TimelineModel>('medalign/timeline', { uri });
    const view = await s.connection.sendRequest<ViewWire>('medalign/timelineView', { uri });
    // A small model's columns come as they are.
    assert.equal(view.format, 'columns');
    const wire = unpackView(view);
    assert.ok(isTimelineWire(wire));
    assert.ok(wire.stamp !== '');
    const lazy = new Set<number>();
    assert.deepEqual(decodeTimeline(wire, lazy), model);
    assert.equal(lazy.size, 0);
    // An override: another model, another stamp.
    const other = await s.connection.sendRequest<ViewWire>('medalign/timelineView', {
      uri,
      overrides: { context: '8k' },
    });
    assert.notEqual(other.stamp, wire.stamp);
    assert.equal(other.header.context, 8192);

    // The big record: previews are fetched by id.
    const bigFile = path.join(dir, 'instructions/big.medalign');
    writeFileSync(
      bigFile,
      validInstruction(7222697932).replace('patient: 1234555', 'record: ../records/big.xml'),
    );
    const bigUri = URI.file(bigFile).toString();
    const bigModel = await s.connection.sendRequest<TimelineModel>('medalign/timeline', { uri: bigUri });
    assert.equal(bigModel.record, 'records/big.xml');
    const bigView = await s.connection.sendRequest<ViewWire>('medalign/timelineView', { uri: bigUri });
    // A big model's columns come packed: their gzipped JSON in base64, a fraction of the JSON.
    assert.equal(bigView.format, 'packed');
    const bigWire = unpackView(bigView);
    const bigLazy = new Set<number>();
    assert.deepEqual(decodeTimeline(bigWire, bigLazy), withoutPreviews(bigModel));
    assert.ok(bigLazy.size > 10, `${bigLazy.size} previews left out`);
    assert.ok(JSON.stringify(bigWire).length < JSON.stringify(bigModel).length / 2);
    assert.ok(JSON.stringify(bigView).length < JSON.stringify(bigWire).length / 2);
    const ids = [...bigLazy].slice(0, 20);
    const p = await s.connection.sendRequest<TimelinePreviews>('medalign/timelinePreviews', {
      uri: bigUri,
      ids: [...ids, 10_000_000],
    });
    assert.equal(p.stamp, bigWire.stamp);
    const events = new Map(bigModel.visits.flatMap((v) => v.events.map((e) => [e.id, e] as const)));
    assert.deepEqual(p.previews, [...ids.map((id) => events.get(id)!.preview!), null]);
    // Malformed ids are dropped, not a failure.
    const odd = await s.connection.sendRequest<TimelinePreviews>('medalign/timelinePreviews', {
      uri: bigUri,
      ids: [ids[0], 'x', 1.5],
    });
    assert.deepEqual(odd.previews, [events.get(ids[0])!.preview]);

    // The record changes on disk: a new model, a new stamp; previews asked now are the new model's.
    writeFileSync(path.join(dir, 'records/big.xml'), generateRecord({ seed: 13, targetChars: 300_000 }));
    const changed = await s.connection.sendRequest<ViewWire>('medalign/timelineView', { uri: bigUri });
    assert.notEqual(changed.stamp, bigWire.stamp);
    assert.notEqual(changed.header.tokens, bigWire.header.tokens);
    const again = await s.connection.sendRequest<TimelinePreviews>('medalign/timelinePreviews', {
      uri: bigUri,
      ids: [0],
    });
    assert.equal(again.stamp, changed.stamp);
  } finally {
    await s.close();
  }
});
