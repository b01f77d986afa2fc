/**
 * The Record Timeline view's pure state (client/src/timeline): the compressed time axis, kind lanes,
 * hit testing, search and what the own context keeps; the checks on every message between the
 * webview and the extension; and the static page `medalign timeline --html` writes (escaping, CSP).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DAY_MS,
  axisPosition,
  axisTime,
  buildAxis,
  eventKept,
  hitEvent,
  laneCounts,
  laneOf,
  modelAxis,
  placeEvents,
  searchEvents,
} from '../../client/src/timeline/layout';
import { isFromView, isTimelineModel, isToView, wireCacheKey } from '../../client/src/timeline/messages';
import type { TimelineWire } from '../../engine/src/core/timeline/wire';
import type { TimelineEvent, TimelineModel, TimelineVisit } from '../../client/src/timeline/model';
import { TIMELINE_KINDS } from '../../server/src/protocol';
import { jsonForScript, staticTimelinePage } from '../../engine/src/host/timelinePage';

const t = (iso: string) => Date.parse(iso);

/** A small model: `visits` as [start, end, state, event texts]; events dated at the visit's start + i hours. */
function makeModel(
  visits: [string, string, TimelineVisit['state'], string[]][],
  kinds: TimelineEvent['kind'][] = ['note', 'measurement', 'medication'],
): TimelineModel {
  let id = 0;
  let line = 1;
  const vs: TimelineVisit[] = visits.map(([start, end, state, texts], index) => {
    const events: TimelineEvent[] = texts.map((text, i) => {
      const date = new Date(t(`${start}:00Z`) + i * 3_600_000).toISOString().slice(0, 16);
      const e: TimelineEvent = {
        id: id++,
        kind: kinds[i % kinds.length],
        date,
        tokens: 10 + i,
        range: [line, 4, line + 1, 10],
        label: text,
      };
      line += 2;
      return e;
    });
    const v: TimelineVisit = {
      index,
      start,
      end,
      tokens: events.reduce((n, e) => n + e.tokens, 0),
      range: [events[0]?.range[0] ?? 0, 0, line, 0],
      state,
      keptTokens: state === 'kept' ? 1 : 0,
      days: [{ date: start, tokens: 5, events: events.length }],
      events,
    };
    if (state === 'partial') v.kept = events.slice(Math.ceil(events.length / 2)).map((e) => e.id);
    return v;
  });
  return {
    version: 1,
    record: 'records/r.xml',
    encoding: 'cl100k_base',
    tokens: vs.reduce((n, v) => n + v.tokens, 0),
    strategy: 'recent',
    context: 8192,
    events: id,
    first: vs[0]?.start ?? null,
    last: vs.at(-1)?.end ?? null,
    visits: vs,
    cuts: [
      {
        context: 8192,
        label: '8k',
        keptTokens: 100,
        keptFrom: vs.at(-1)?.start ?? null,
        keptVisits: 1,
        keptEvents: 1,
        fits: false,
        ok: true,
        own: true,
      },
    ],
    problems: [],
  };
}

test('axis: a ten-year gap between two busy months is compressed and marked; busy time keeps its scale', () => {
  const a: [number, number] = [t('2010-01-01'), t('2010-02-01')];
  const b: [number, number] = [t('2020-01-01'), t('2020-03-01')];
  const axis = buildAxis([a, b]);
  assert.equal(axis.breaks.length, 1);
  assert.equal(axis.breaks[0].from, a[1] + DAY_MS);
  assert.equal(axis.breaks[0].to, b[0] - DAY_MS);
  const pa = axisPosition(axis, a[1]) - axisPosition(axis, a[0]);
  const pb = axisPosition(axis, b[1]) - axisPosition(axis, b[0]);
  // Both busy spans are drawn at the same time scale (31 vs 60 days)...
  assert.ok(Math.abs(pb / pa - 60 / 31) < 0.01, `${pb / pa}`);
  // ...and together they take most of the axis, not the 2.5% they would on a linear one: the ten
  // years are drawn as 30 days (half the 60-day threshold).
  assert.ok(pa + pb > 0.7, `busy share ${pa + pb}`);
  const gap = axisPosition(axis, b[0]) - axisPosition(axis, a[1]);
  assert.ok(gap > 0 && gap < 0.3, `gap ${gap}`);
  assert.ok(axis.breaks[0].at > axisPosition(axis, a[1]) && axis.breaks[0].at < axisPosition(axis, b[0]));
  assert.equal(axisPosition(axis, t('2000-01-01')), 0);
  assert.equal(axisPosition(axis, t('2030-01-01')), 1);
});

test('axis: positions increase with time, and axisTime inverts axisPosition', () => {
  const spans: [number, number][] = [
    [t('2001-05-01'), t('2001-05-03')],
    [t('2001-05-20'), t('2001-06-02')],
    [t('2004-01-01'), t('2004-01-01')],
    [t('2012-07-01'), t('2012-09-30')],
  ];
  const axis = buildAxis(spans);
  assert.equal(
    axis.breaks.length,
    2,
    'visits 17 days apart are one busy span; the 2.5 y and 8.5 y gaps break',
  );
  let last = -1;
  for (let x = t('2001-05-01'); x <= t('2012-09-30'); x += 37 * DAY_MS) {
    const u = axisPosition(axis, x);
    assert.ok(u >= last, `monotonic at ${new Date(x).toISOString()}`);
    last = u;
    assert.ok(Math.abs(axisTime(axis, u) - x) < 1000, 'inverse');
  }
});

test('axis: no dated visit gives a usable unit axis; a one-day visit is not zero-width', () => {
  const empty = buildAxis([]);
  assert.deepEqual(empty.range, [0, 1]);
  const one = buildAxis([[t('2020-01-01'), t('2020-01-01')]]);
  assert.equal(one.breaks.length, 0);
  assert.equal(axisPosition(one, t('2020-01-01')), 0.5);
});

test('lanes: every kind of the model has its lane (docs/timeline.md kinds)', () => {
  assert.deepEqual(
    TIMELINE_KINDS.map((k) => laneOf(k)),
    ['notes', 'measurements', 'medications', 'conditions', 'procedures', 'demographics', 'other'],
  );
  assert.equal(laneOf('drug_exposure'), 'medications');
  assert.equal(laneOf('condition_occurrence'), 'conditions');
  assert.equal(laneOf('visit_detail'), 'other');
});

test('placement and hit testing: the nearest event of the lane under the pointer, filters respected', () => {
  const m = makeModel([
    ['2019-01-01T08:00', '2019-01-01T12:00', 'cut', ['a', 'b', 'c', 'd']],
    ['2021-06-01T08:00', '2021-06-01T10:00', 'kept', ['e', 'f', 'g']],
  ]);
  const axis = modelAxis(m);
  const placed = placeEvents(m, axis);
  assert.equal(placed.length, 7);
  assert.deepEqual(
    placed.map((p) => p.event.label),
    ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
  );
  assert.deepEqual(
    [...laneCounts(m)],
    [
      ['notes', 3],
      ['measurements', 2],
      ['medications', 2],
    ],
  );
  // Zoomed in: the two visits (about 34 days of axis with the gap) over 100,000 px, an hour ≈ 120 px.
  const toPx = (u: number) => 10 + u * 100_000;
  const e = placed.find((p) => p.event.label === 'e')!;
  const x = toPx(e.u);
  assert.equal(hitEvent(placed, x + 2, 'notes', toPx)?.event.label, 'e');
  assert.equal(
    hitEvent(placed, x + 2, 'measurements', toPx, 2),
    undefined,
    'f is an hour away: outside 2 px',
  );
  assert.equal(hitEvent(placed, x + 40, 'notes', toPx), undefined, 'nothing within the radius');
  assert.equal(
    hitEvent(placed, x, 'notes', toPx, 4, (p) => p.event.label !== 'e'),
    undefined,
    'a filtered-out event is not hit',
  );
});

test('search: case-insensitive over label and preview, counted as kept or cut by the own context', () => {
  const m = makeModel([
    ['2019-01-01T08:00', '2019-01-01T12:00', 'cut', ['Labetalol 5 mg', 'BP 210/100']],
    ['2020-01-01T08:00', '2020-01-01T12:00', 'partial', ['labetalol again', 'BP', 'LABETALOL', 'x']],
    ['2021-06-01T08:00', '2021-06-01T10:00', 'kept', ['Note']],
  ]);
  m.visits[2].events[0].preview = '…gave labetalol IV…';
  const r = searchEvents(m, '  LaBeTaLoL ');
  assert.equal(r.count, 4);
  // Partial visit: its last two events are kept (v.kept), so 'LABETALOL' is kept, 'labetalol again' cut.
  assert.equal(r.kept, 2);
  assert.equal(r.cut, 2);
  assert.equal(r.first, '2019-01-01');
  assert.equal(r.last, '2021-06-01');
  assert.equal(searchEvents(m, '').count, 0);
  assert.equal(searchEvents(m, 'nothing like it').count, 0);
  const partial = m.visits[1];
  assert.deepEqual(
    partial.events.map((e) => eventKept(partial, e)),
    [false, false, true, true],
  );
});

test('model check: a well-formed model passes; malformed ones are refused', () => {
  const m = makeModel([['2019-01-01T08:00', '2019-01-01T12:00', 'kept', ['a']]]);
  assert.ok(isTimelineModel(m));
  assert.ok(isTimelineModel(JSON.parse(JSON.stringify(m))));
  /** The model with the value at `path` replaced. */
  const broken = (path: (string | number)[], value: unknown): boolean => {
    const c = JSON.parse(JSON.stringify(m)) as unknown;
    let o = c as Record<string | number, unknown>;
    for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
    o[path[path.length - 1]] = value;
    return isTimelineModel(c);
  };
  assert.equal(broken(['version'], 2), false);
  assert.equal(broken(['strategy'], 'mmr'), false);
  assert.equal(broken(['visits', 0, 'events', 0, 'range'], [1, 2, 3]), false);
  assert.equal(broken(['visits', 0, 'events', 0, 'label'], { html: '<b>' }), false);
  assert.equal(broken(['visits', 0, 'events', 0, 'tokens'], 'NaN'), false);
  assert.equal(broken(['cuts', 0, 'keptFrom'], 5), false);
  assert.equal(broken(['problems'], ['ok', 3]), false);
  assert.equal(broken(['query'], { terms: [{ term: 'x', hits: 1 }] }), false);
  assert.equal(broken(['visits', 0, 'start'], null), true, 'a visit without a date is allowed');
});

test('messages: both sides accept only the typed messages', () => {
  const m = makeModel([['2019-01-01T08:00', '2019-01-01T12:00', 'kept', ['a']]]);
  assert.ok(
    isToView({
      type: 'content',
      seq: 1,
      keepView: false,
      content: { state: 'model', model: m, source: 'a' },
    }),
  );
  assert.ok(
    isToView({ type: 'content', seq: 2, keepView: true, content: { state: 'empty', message: 'Open…' } }),
  );
  assert.ok(isToView({ type: 'describe', requestId: 3 }));
  assert.ok(isToView({ type: 'act', action: { kind: 'clickEvent', id: 0 } }));
  assert.ok(!isToView({ type: 'act', action: { kind: 'eval', code: 'alert(1)' } }));
  assert.ok(
    !isToView({
      type: 'content',
      seq: 1,
      keepView: false,
      content: { state: 'model', model: {}, source: 'a' },
    }),
  );
  assert.ok(!isToView({ type: 'html', html: '<img src=x onerror=alert(1)>' }));
  assert.ok(!isToView(null));
  assert.ok(!isToView('content'));

  // A model the page was sent before, by its stamp; the page asks for the columns when it lacks it.
  assert.ok(
    isToView({
      type: 'content',
      seq: 4,
      keepView: false,
      content: { state: 'model', cached: 'rec@1#32k', source: 'a.medalign' },
    }),
  );
  assert.ok(
    !isToView({
      type: 'content',
      seq: 4,
      keepView: false,
      content: { state: 'model', cached: 7, source: 'a' },
    }),
  );
  assert.ok(isFromView({ type: 'missing', seq: 4, stamp: 'rec@1#32k' }));
  // The page's cache key: one record and settings for two instructions are two models.
  const wireOf = (stamp: string, uri: string) => ({ stamp, header: { uri } }) as unknown as TimelineWire;
  assert.notEqual(
    wireCacheKey(wireOf('rec@1#32k', 'a.medalign')),
    wireCacheKey(wireOf('rec@1#32k', 'b.medalign')),
  );
  assert.equal(
    wireCacheKey(wireOf('rec@1#32k', 'a.medalign')),
    wireCacheKey(wireOf('rec@1#32k', 'a.medalign')),
  );
  assert.equal(wireCacheKey(wireOf('', 'a.medalign')), '', 'no stamp: not cached');
  assert.ok(!isFromView({ type: 'missing', seq: 4 }));
  assert.ok(isFromView({ type: 'ready' }));
  assert.ok(isFromView({ type: 'reveal', seq: 1, range: [3, 4, 5, 6] }));
  assert.ok(!isFromView({ type: 'reveal', seq: 1, range: [-1, 0, 0, 0] }));
  assert.ok(!isFromView({ type: 'reveal', seq: 1, range: [1.5, 0, 2, 0] }));
  assert.ok(isFromView({ type: 'useContext', seq: 1, label: '32k' }));
  assert.ok(isFromView({ type: 'useContext', seq: 1, label: '20000' }));
  assert.ok(!isFromView({ type: 'useContext', seq: 1, label: '32k; rm -rf /' }));
  assert.ok(isFromView({ type: 'perf', perf: { firstPaintMs: [12.5], frameMs: [] } }));
  assert.ok(!isFromView({ type: 'perf', perf: { firstPaintMs: ['fast'], frameMs: [] } }));
  assert.ok(!isFromView({ type: 'command', command: 'workbench.action.terminal.new' }));
});

test('static page: the model cannot end its data block; strict CSP; nothing remote', () => {
  const m = makeModel([
    [
      '2019-01-01T08:00',
      '2019-01-01T12:00',
      'kept',
      ['</script><script>window.pwned=1</script>', '<img src=x onerror=alert(1)>'],
    ],
  ]);
  m.record = 'records/<b>r</b>.xml';
  const bundle = 'console.log("renderer");';
  const page = staticTimelinePage(m, bundle);
  const data = /<script type="application\/json" id="timeline-data">([\s\S]*?)<\/script>/.exec(page);
  assert.ok(data, 'the data block');
  assert.deepEqual(JSON.parse(data[1]), m, 'the data round-trips');
  assert.ok(!data[1].includes('<'), 'no < inside the data block');
  assert.equal(page.match(/<script/g)?.length, 2, 'the data block and the renderer only');
  assert.match(
    page,
    /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-[0-9a-f]{32}'; script-src 'nonce-[0-9a-f]{32}'; img-src 'none'/,
  );
  assert.ok(!/(src|href)=["']?(https?:)?\/\//i.test(page), 'no remote resource');
  assert.ok(
    page.includes('records/&#60;b&#62;r&#60;/b&#62;.xml'),
    'the record name is escaped in the page text',
  );
  assert.ok(page.includes('data-mode="static"'));
  assert.equal(JSON.parse(jsonForScript('\u2028</script>&')), '\u2028</script>&');
});
