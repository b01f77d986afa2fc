/**
 * Packing a big timeline model for the view (core/timeline/wire.ts, PackedTimelineWire): the JSON of
 * its columns gzipped (level 1: the 50k-event structure's 2.1 MB in ~10 ms, to 0.4 MB) and in
 * base64, for the language server connection. Runs in the record worker, which keeps the packed
 * columns as long as it keeps the columns themselves (a structure made when idle after a parse is
 * packed then too), so asking again packs nothing.
 */
import { gzipSync } from 'node:zlib';
import type {
  PackedTimelineWire,
  TimelineColumns,
  TimelineWire,
  ViewWire,
} from '../../../engine/src/core/timeline/wire';

/** Models whose columns' JSON is shorter go as they are (packing would save less than it costs). */
export const PACK_MIN_CHARS = 64 * 1024;

/** Packed columns, by the columns' `events` object (shared by every wire made from the same columns). */
const packed = new WeakMap<object, string | null>();

/** The columns' packed form (base64 of gzipped JSON), or null when their JSON is under `minChars`. */
export function packColumns(c: TimelineColumns, minChars = PACK_MIN_CHARS): string | null {
  const have = packed.get(c.events);
  if (have !== undefined) return have;
  const columns: TimelineColumns = { strings: c.strings, visits: c.visits, days: c.days, events: c.events };
  const json = JSON.stringify(columns);
  const out = json.length < minChars ? null : gzipSync(json, { level: 1 }).toString('base64');
  packed.set(c.events, out);
  return out;
}

/** A wire for the view: packed when its columns are big (see packColumns), else as it is. */
export function packWire(w: TimelineWire, minChars = PACK_MIN_CHARS): ViewWire {
  const columns = packColumns(w, minChars);
  if (columns === null) return w;
  const p: PackedTimelineWire = {
    version: 1,
    format: 'packed',
    stamp: w.stamp,
    header: w.header,
    visits: w.visits.index.length,
    columns,
  };
  return p;
}
