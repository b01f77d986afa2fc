/**
 * Finding what is at an offset of a record (for hovers on `<visit>`, `<day>`, `<note>`, ...), and
 * short labels for outlines.
 */
import { isoDay } from './dates';
import type { CodeEntry, Day, EhrRecord, RecordEvent, SourceRange, Visit } from './model';

export interface RecordLocation {
  visitIndex?: number;
  visit?: Visit;
  dayIndex?: number;
  day?: Day;
  eventIndex?: number;
  event?: RecordEvent;
  code?: CodeEntry;
  /** The offset is inside the demographics (`<person>`) block the model keeps. */
  inPerson?: boolean;
}

function contains(r: SourceRange, offset: number): boolean {
  return offset >= r.start && offset < r.end;
}

/** Index of the item whose range contains `offset` (items sorted by start, not overlapping), or -1. */
function search<T extends { range: SourceRange }>(items: readonly T[], offset: number): number {
  let lo = 0;
  let hi = items.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = items[mid].range;
    if (offset < r.start) hi = mid - 1;
    else if (offset >= r.end) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** The innermost visit/day/event/code at `offset` (binary search: cheap on 2 MB records). */
export function locate(record: EhrRecord, offset: number): RecordLocation {
  const loc: RecordLocation = {};
  if (record.person !== undefined && contains(record.person.range, offset)) loc.inPerson = true;
  const vi = search(record.visits, offset);
  if (vi < 0) return loc;
  loc.visitIndex = vi;
  loc.visit = record.visits[vi];
  const di = search(loc.visit.days, offset);
  if (di < 0) return loc;
  loc.dayIndex = di;
  loc.day = loc.visit.days[di];
  const ei = search(loc.day.events, offset);
  if (ei < 0) return loc;
  loc.eventIndex = ei;
  loc.event = loc.day.events[ei];
  const ci = search(loc.event.codes, offset);
  if (ci >= 0) loc.code = loc.event.codes[ci];
  return loc;
}

/** `Emergency Room Visit · 2018-10-08` (type and day; `?` for a missing or unparseable date). */
export function visitLabel(visit: Visit): string {
  return `${visit.type ?? 'Visit'} · ${visit.start !== undefined ? isoDay(visit.start) : '?'}`;
}

/** `2018-10-08 · 11 events` */
export function dayLabel(day: Day): string {
  return `${day.start !== undefined ? isoDay(day.start) : '?'} · ${day.events.length} event${day.events.length === 1 ? '' : 's'}`;
}

/** Number of events (and notes) in a visit. */
export function visitEventCounts(visit: Visit): { events: number; notes: number } {
  let events = 0;
  let notes = 0;
  for (const d of visit.days) {
    events += d.events.length;
    for (const e of d.events) if (e.kind === 'note') notes++;
  }
  return { events, notes };
}
