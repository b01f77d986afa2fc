/**
 * `medalign/timelineView`'s answer as the page reads it: a packed model's columns inflated and parsed
 * (as the page does with DecompressionStream), then checked as every wire is.
 */
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { isTimelineWire, unpackedWire } from '../../engine/src/core/timeline/wire';
import type { TimelineWire, ViewWire } from '../../engine/src/core/timeline/wire';

export function unpackView(w: ViewWire): TimelineWire {
  if (w.format !== 'packed') return w;
  const json = gunzipSync(Buffer.from(w.columns, 'base64')).toString('utf8');
  const wire = unpackedWire(w, JSON.parse(json));
  assert.ok(isTimelineWire(wire), 'the packed columns are a well-formed wire');
  assert.equal(wire.visits.index.length, w.visits, 'the packed visit count');
  return wire;
}
