/** The record timeline model (core/timeline): visits, days, events, kinds, dates, ranges, tokens and cut lines. */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { PackResult, PackStrategy } from '../../engine/src/core/packing/pack';
import { packPrompt, STANDARD_CONTEXTS } from '../../engine/src/core/packing/pack';
import { xmlTerms } from '../../engine/src/core/packing/bm25';
import { parseRecord } from '../../engine/src/core/record/parse';
import { TokenCounter } from '../../engine/src/core/tokens/counter';
import type { EncodingName } from '../../engine/src/core/tokens/encodings';
import { parseTemplate } from '../../engine/src/core/template/template';
import type { TimelineInput } from '../../engine/src/core/timeline/build';
import { buildTimeline, clip, timelineKind } from '../../engine/src/core/timeline/build';
import type { TimelineEvent, TimelineModel, TimelineRange } from '../../engine/src/core/timeline/model';
import { generateRecord, rng, synthRecord } from '../fixtures/recordGenerator';

const sample = readFileSync(
  join(__dirname, '..', '..', '..', 'test', 'fixtures', 'records', 'sample-ehr-clean.xml'),
  'utf8',
);
const counter = new TokenCounter();
const QUESTION = 'What was the NIHSS score after tPA was given?';

function timeline(text: string, over: Partial<TimelineInput> = {}): TimelineModel {
  return buildTimeline({
    text,
    record: parseRecord(text),
    instruction: QUESTION,
    encoding: 'cl100k_base',
    counter,
    context: 32768,
    strategy: 'recent',
    label: 'r.xml',
    ...over,
  });
}

/** Offsets of a [line, character] range, computed independently of the builder. */
function offsetsOf(text: string, r: TimelineRange): [number, number] {
  const lines = text.split('\n');
  const at = (line: number, ch: number) => lines.slice(0, line).reduce((n, l) => n + l.length + 1, 0) + ch;
  return [at(r[0], r[1]), at(r[2], r[3])];
}

function allEvents(m: TimelineModel): TimelineEvent[] {
  return m.visits.flatMap((v) => v.events);
}

test('timeline of the public sample: visits, days, events with kinds, dates, labels, ranges and tokens', () => {
  const record = parseRecord(sample);
  const m = timeline(sample);
  assert.equal(m.version, 1);
  assert.equal(m.record, 'r.xml');
  assert.equal(m.encoding, 'cl100k_base');
  const counts = counter.countRecord(sample, record, 'cl100k_base');
  assert.equal(m.tokens, counts.total);
  assert.equal(m.events, 30);
  assert.equal(m.first, '2018-10-08T20:00');
  assert.equal(m.last, '2022-05-15T14:15');
  assert.deepEqual(
    m.visits.map((v) => [v.type, v.start, v.end, v.tokens]),
    [
      ['Emergency Room Visit', '2018-10-08T20:00', '2018-10-08T21:00', counts.visits[0]],
      ['Visit', '2018-10-20T11:00', '2018-10-20T13:45', counts.visits[1]],
      ['Neurology Clinic Visit', '2022-05-15T14:00', '2022-05-15T14:15', counts.visits[2]],
    ],
  );
  assert.deepEqual(
    m.visits.map((v) => v.days.map((d) => [d.date, d.events])),
    [[['2018-10-08T20:00', 11]], [['2018-10-20T11:00', 11]], [['2022-05-15T14:00', 8]]],
  );
  const kinds = new Map<string, number>();
  for (const e of allEvents(m)) kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1);
  // The sample's tags: 3 condition_occurrence, 9 measurement + 3 observation, 2 drug_exposure,
  // 5 procedure_occurrence, 5 note, 3 visit_detail; the most recent person block once.
  assert.deepEqual(Object.fromEntries([...kinds].sort()), {
    demographics: 1,
    diagnosis: 3,
    measurement: 12,
    medication: 2,
    note: 5,
    other: 3,
    procedure: 5,
  });
  const events = allEvents(m);
  assert.deepEqual(
    events.map((e) => e.id),
    events.map((_, i) => i),
    'ids in record order',
  );
  const first = events[0];
  assert.equal(first.kind, 'diagnosis');
  assert.equal(first.date, '2018-10-08T20:00');
  assert.equal(
    first.label,
    clip('Cerebral infarction due to unspecified occlusion or stenosis of cerebral arteries', 60),
  );
  const [s, e] = offsetsOf(sample, first.range);
  assert.equal(sample.slice(s, e), sample.slice(record.visits[0].days[0].events[0].range.start, e));
  assert.ok(
    sample.slice(s, e).startsWith('<condition_occurrence') &&
      sample.slice(s, e).endsWith('</condition_occurrence>'),
  );
  const other = events.find((x) => x.kind === 'other');
  assert.equal(other?.tag, 'visit_detail');
  assert.equal(other?.label, 'Thousand Oaks EMERGENCY DEPARTMENT');
  const note = events.find((x) => x.kind === 'note')!;
  assert.equal(note.label, 'emergency department note');
  assert.ok(note.preview !== undefined && note.preview.length <= 100 && note.preview.endsWith('…'));
  assert.ok(note.preview.startsWith('Emergency Department Provider Note'));
  const demo = events.find((x) => x.kind === 'demographics')!;
  assert.equal(demo.label, 'Demographics');
  assert.equal(demo.preview, 'FEMALE, 55 years, born 1966-07-19, White, Hispanic or Latino');
  assert.ok(m.visits[2].events.includes(demo), 'in the visit of the most recent person block');
  // Every event's range is its element, and an event's tokens never exceed its day's.
  for (const v of m.visits) {
    for (const ev of v.events) {
      const [a, b] = offsetsOf(sample, ev.range);
      assert.equal(sample[a], '<');
      assert.equal(sample[b - 1], '>');
      assert.ok(ev.tokens > 0 && ev.tokens <= v.days[0].tokens);
    }
    const [a, b] = offsetsOf(sample, v.range);
    assert.ok(sample.slice(a, b).startsWith('<visit') && sample.slice(a, b).endsWith('</visit>'));
  }
  assert.deepEqual(m.problems, []);
});

test('timeline kinds: derived from the element name, unknown elements are `other` with their tag', () => {
  assert.equal(timelineKind('note'), 'note');
  assert.equal(timelineKind('measurement'), 'measurement');
  assert.equal(timelineKind('observation'), 'measurement');
  assert.equal(timelineKind('drug_exposure'), 'medication');
  assert.equal(timelineKind('condition_occurrence'), 'diagnosis');
  assert.equal(timelineKind('procedure_occurrence'), 'procedure');
  assert.equal(timelineKind('person'), 'demographics');
  assert.equal(timelineKind('visit_detail'), 'other');
  const text = [
    '<record>',
    '    <visit type="Office Visit" start="01/02/2020 09:00">',
    '        <day start="01/02/2020 09:00">',
    '            <specimen start="01/02/2020 09:05">',
    '                <code>[SNOMED/119297000] Blood specimen</code>',
    '            </specimen>',
    '            <drug_exposure start="01/02/2020 09:10">',
    '                <code>[RxNorm/6809] Metformin 500 MG</code>',
    '                <code>[RxNorm/29046] Lisinopril 10 MG</code>',
    '            </drug_exposure>',
    '        </day>',
    '    </visit>',
    '</record>',
    '',
  ].join('\n');
  const evs = allEvents(timeline(text));
  assert.deepEqual(
    evs.map((e) => [e.kind, e.tag, e.label, e.preview]),
    [
      ['other', 'specimen', 'Blood specimen', undefined],
      ['medication', undefined, 'Metformin 500 MG (+1 more)', 'Metformin 500 MG; Lisinopril 10 MG'],
    ],
  );
});

test('timeline date quirks: inherited, unreadable and missing dates, events before their visit, visits out of order', () => {
  const text = [
    '<record>',
    '    <visit type="B" start="03/01/2021 10:00">',
    '        <day start="03/01/2021 10:00">',
    '            <note type="progress note">no date of its own</note>',
    '            <measurement start="13/45/2021 99:00">',
    '                <code>[LOINC/8867-4] Heart rate 80</code>',
    '            </measurement>',
    '            <condition_occurrence start="02/27/2021 08:00">',
    '                <code>[ICD/I10] Essential hypertension</code>',
    '            </condition_occurrence>',
    '        </day>',
    '    </visit>',
    '    <visit type="A" start="05/05/2020 12:00">',
    '        <day start="05/05/2020 12:00">',
    '            <note type="note">earlier visit written later</note>',
    '        </day>',
    '    </visit>',
    '    <visit type="C">',
    '        <day>',
    '            <note type="note">nothing is dated here</note>',
    '        </day>',
    '    </visit>',
    '</record>',
    '',
  ].join('\n');
  const m = timeline(text);
  const [b, a, c] = m.visits;
  const [own, unreadable, before] = b.events;
  assert.equal(own.date, '2021-03-01T10:00');
  assert.equal(own.inferred, true, "a note without a date takes its day's");
  assert.equal(unreadable.date, '2021-03-01T10:00');
  assert.equal(unreadable.inferred, true);
  assert.equal(before.date, '2021-02-27T08:00');
  assert.equal(before.inferred, undefined);
  assert.equal(b.start, '2021-02-27T08:00', "the visit's band starts at its earliest event");
  assert.equal(b.end, '2021-03-01T10:00');
  assert.equal(a.start, '2020-05-05T12:00');
  assert.equal(c.start, null);
  assert.equal(c.end, null);
  assert.equal(c.days[0].date, null);
  assert.equal(c.events[0].date, null);
  assert.equal(c.events[0].inferred, undefined);
  assert.equal(m.first, '2020-05-05T12:00');
  assert.equal(m.last, '2021-03-01T10:00');
  const problems = m.problems.join('\n');
  assert.match(problems, /1 date could not be read \(first at line 5\)/);
  assert.match(problems, /1 event has no date, nor has its day or visit \(first at line 20\)/);
  assert.match(problems, /1 event is dated before its visit's start/);
  assert.match(problems, /1 visit is not in date order in the file/);
});

test('timeline ranges: CRLF line ends, tab indents and an element directly in a visit', () => {
  const text =
    '<record>\r\n\t<visit type="V" start="2020-01-01T08:00">\r\n\t\t<note type="n" start="2020-01-01T09:00">direct</note>\r\n' +
    '\t\t<day start="2020-01-02">\r\n\t\t\t<measurement start="2020-01-02T10:00"><code>[LOINC/1] A 1</code></measurement>\r\n' +
    '\t\t</day>\r\n\t</visit>\r\n</record>\r\n';
  const m = timeline(text);
  const [direct, meas] = m.visits[0].events;
  assert.deepEqual(direct.range, [2, 2, 2, 55]);
  assert.equal(direct.kind, 'note');
  assert.equal(direct.date, '2020-01-01T09:00');
  assert.ok(direct.tokens > 0);
  assert.deepEqual(meas.range.slice(0, 2), [4, 3]);
  assert.equal(meas.date, '2020-01-02T10:00');
  assert.equal(m.visits[0].days.length, 2);
  assert.deepEqual(m.problems, [], 'an element directly in a visit is shown as a day of its own');
  // An element directly in <record> is not in any visit: the parser ignores it, the model says so.
  const stray = timeline(
    text.replace('<record>\r\n', '<record>\r\n\t<note start="2020-01-01">stray</note>\r\n'),
  );
  assert.equal(allEvents(stray).length, 2);
  assert.match(stray.problems.join('\n'), /^1 element outside the visit\/day structure \(first at line 2\)/);
});

test('timeline of an empty record, a one-event record and a broken record', () => {
  const empty = timeline('<record>\n</record>\n');
  assert.deepEqual(empty.visits, []);
  assert.ok(empty.tokens > 0);
  assert.equal(empty.first, null);
  assert.equal(empty.cuts.length, STANDARD_CONTEXTS.length);
  for (const c of empty.cuts) {
    assert.equal(c.fits, true);
    assert.equal(c.keptVisits, 0);
    assert.equal(c.keptFrom, null);
  }
  const one = timeline(
    '<record>\n    <visit type="V" start="06/01/2019 08:00">\n        <day start="06/01/2019 08:00">\n' +
      '            <note type="n" start="06/01/2019 08:30">only one</note>\n        </day>\n    </visit>\n</record>\n',
  );
  assert.equal(one.visits.length, 1);
  assert.equal(one.visits[0].events.length, 1);
  assert.equal(one.visits[0].events[0].preview, 'only one');
  assert.equal(one.visits[0].state, 'kept');
  assert.ok(one.cuts.every((c) => c.fits && c.keptVisits === 1 && c.keptFrom === '2019-06-01T08:30'));
  const broken = timeline('<record>\n  <visit>\n    <day>\n  </visit>\n</record>\n');
  assert.deepEqual(broken.visits, []);
  assert.deepEqual(broken.cuts, []);
  assert.equal(broken.error?.code, 'xml-malformed');
  assert.match(broken.problems[0], /^r\.xml is not a valid MedAlign record: /);
  assert.equal(broken.error?.range[0], 3, 'the line of the error');
});

function assertCutIsPack(m: TimelineModel, r: PackResult, context: number, what: string): void {
  const cut = m.cuts.find((c) => c.context === context);
  assert.ok(cut, `${what}: a cut for ${context}`);
  assert.equal(cut.ok, r.ok, what);
  if (r.ok) {
    assert.equal(cut.keptTokens, r.kept.tokens, `${what}: kept tokens`);
    assert.equal(cut.keptVisits, r.kept.visits, `${what}: kept visits`);
    assert.equal(cut.keptEvents, r.kept.events, `${what}: kept events`);
    assert.equal(cut.keptFrom, r.kept.firstDate?.iso ?? null, `${what}: kept from`);
    assert.equal(cut.fits, r.cut.visits === 0 && r.cut.events === 0, `${what}: fits`);
    if (r.strategy === 'recent') {
      // The cut point: every event from it on is kept, and none before it (demographics aside).
      const events = allEvents(m).filter((e) => e.kind !== 'demographics');
      const at = events.findIndex((e) => e.id === cut.firstKept);
      assert.equal(cut.firstKept === null ? 0 : events.length - at, r.kept.events, `${what}: first kept`);
    } else assert.equal(cut.firstKept, undefined);
  } else {
    assert.equal(cut.keptTokens, 0, what);
    assert.equal(cut.fits, false, what);
  }
}

test('property: every cut line is what packPrompt keeps at that context, and the visits are the own pack (random records, contexts, strategies)', () => {
  const r = rng(1010);
  const template = parseTemplate(
    '---\nname: t\n---\n## system\nBe brief.\n## user\n<ehr>{{ehr}}</ehr>\nQ: {{instruction}}\n',
  );
  const strategies: PackStrategy[] = ['recent', 'bm25', 'none'];
  let partial = 0;
  for (let k = 0; k < 24; k++) {
    const text =
      k % 3 === 0
        ? synthRecord({ seed: 500 + k, targetChars: 8_000 + Math.floor(r() * 40_000), quirks: true })
        : generateRecord({ seed: 500 + k, targetChars: 8_000 + Math.floor(r() * 50_000) });
    const record = parseRecord(text);
    const encoding: EncodingName = r() < 0.5 ? 'cl100k_base' : 'o200k_base';
    const strategy = strategies[k % 3];
    const context = r() < 0.5 ? STANDARD_CONTEXTS[Math.floor(r() * 4)] : 400 + Math.floor(r() * 12_000);
    const contexts = [600 + Math.floor(r() * 3000), 2048, 4096, 8192, 16384];
    const reserve = Math.floor(r() * 300);
    const input = {
      text,
      record,
      instruction: r() < 0.8 ? 'blood pressure hypertension metoprolol stroke' : '',
      encoding,
      counter,
      reserve,
      strategy,
      ...(r() < 0.5 ? { template } : {}),
    };
    const m = buildTimeline({ ...input, context, contexts, label: 'x' });
    const what = `record ${k} (${strategy}, ${encoding}, own ${context})`;
    assert.equal(m.cuts.filter((c) => c.own).length, 1, what);
    assert.equal(m.cuts.find((c) => c.own)?.context, context);
    assert.deepEqual(
      m.cuts.map((c) => c.context),
      [...new Set([...contexts, context])].sort((a, b) => a - b),
    );
    for (const c of m.cuts) assertCutIsPack(m, packPrompt({ ...input, context: c.context }), c.context, what);
    const own = packPrompt({ ...input, context });
    assert.equal(m.visits.length, record.visits.length);
    m.visits.forEach((v, i) => {
      const vp = own.visits[i];
      assert.equal(v.state, own.ok ? vp.state : 'cut', `${what}: visit ${i} state`);
      assert.equal(v.keptTokens, own.ok ? vp.keptTokens : 0);
      if (strategy === 'bm25') assert.equal(v.score, vp.score ?? 0);
      if (v.state === 'partial') {
        partial++;
        const keptEvents = (v.kept ?? []).filter(
          (id) => v.events.find((e) => e.id === id)?.kind !== 'demographics',
        );
        assert.equal(keptEvents.length, vp.keptEvents, `${what}: kept events of visit ${i}`);
      } else assert.equal(v.kept, undefined);
    });
    // Independent checks of the static part.
    const events = allEvents(m);
    assert.equal(events.filter((e) => e.kind !== 'demographics').length, record.eventCount, what);
    for (const e of events) {
      const [a, b] = offsetsOf(text, e.range);
      assert.equal(text[a], '<', `${what}: event ${e.id} starts at its element`);
      assert.equal(text[b - 1], '>', `${what}: event ${e.id} ends at its element's end`);
      assert.ok(e.tokens > 0, `${what}: event ${e.id} has tokens`);
      assert.ok(e.label.length > 0 && (e.preview === undefined || e.preview.length <= 100));
      assert.ok(e.date === null || /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(e.date));
    }
  }
  assert.ok(partial > 0, 'some visits are kept in part');
});

test('timeline under bm25: per-visit relevance and matched terms; question terms with hits in the record and in what is kept', () => {
  const text = generateRecord({
    seed: 77,
    visits: 10,
    insert: [
      { visitIndex: 2, noteText: 'Started warfarin for atrial fibrillation; warfarin dose 5 mg.' },
      { visitIndex: -1, noteText: 'Discussed warfarin adherence.' },
    ],
  });
  const record = parseRecord(text);
  const m = timeline(text, { strategy: 'bm25', instruction: 'When was warfarin started?', context: 4096 });
  const counts = counter.countRecord(text, record, 'cl100k_base');
  const warfarin = m.query?.terms.find((t) => t.term === 'warfarin');
  assert.ok(warfarin);
  // Independent count: the term in each visit's text (tags dropped, as BM25 reads it).
  const perVisit = counts.layout.visits.map(
    (s) => xmlTerms(text.slice(s.start, s.end)).filter((t) => t === 'warfarin').length,
  );
  assert.equal(
    warfarin.hits,
    perVisit.reduce((a, b) => a + b, 0),
  );
  assert.ok(warfarin.hits >= 3);
  assert.equal(warfarin.visits, perVisit.filter((n) => n > 0).length);
  const best = m.visits.reduce((a, b) => ((b.score ?? 0) > (a.score ?? 0) ? b : a));
  assert.ok(best.matched?.includes('warfarin'));
  assert.notEqual(best.state, 'cut', 'the most relevant visit is kept');
  assert.ok(warfarin.keptHits > 0 && warfarin.keptHits <= warfarin.hits);
  for (const v of m.visits) assert.equal(v.matched?.includes('warfarin') ?? false, perVisit[v.index] > 0);
  // Under recent there are no scores, and the terms still say what the own context keeps.
  const recent = timeline(text, {
    strategy: 'recent',
    instruction: 'When was warfarin started?',
    context: 2048,
  });
  assert.ok(recent.visits.every((v) => v.score === undefined && v.matched === undefined));
  assert.ok(recent.query?.terms.some((t) => t.term === 'warfarin'));
  // A record without a question has no query.
  assert.equal(timeline(text, { instruction: '' }).query, undefined);
});

test('timeline under none: the whole record, or "does not fit" with nothing kept', () => {
  const text = generateRecord({ seed: 9, visits: 8 });
  const m = timeline(text, { strategy: 'none', context: 4096 });
  const small = m.cuts.find((c) => c.context === 4096)!;
  assert.equal(small.ok, false);
  assert.equal(small.fits, false);
  assert.equal(small.keptTokens, 0);
  assert.equal(small.keptFrom, null);
  assert.ok(m.visits.every((v) => v.state === 'cut'));
  assert.match(m.problems.join('\n'), /The whole record needs/);
  const large = m.cuts.find((c) => c.context === 131072)!;
  assert.equal(large.ok, true);
  assert.equal(large.fits, true);
  assert.equal(large.keptTokens, m.tokens);
});

test('timeline: a context change reuses the record part of the model (same event objects)', () => {
  const text = generateRecord({ seed: 12, visits: 6 });
  const record = parseRecord(text);
  const base = {
    text,
    record,
    instruction: QUESTION,
    encoding: 'cl100k_base' as const,
    counter,
    strategy: 'recent' as const,
    label: 'x',
  };
  const a = buildTimeline({ ...base, context: 2048 });
  const b = buildTimeline({ ...base, context: 8192 });
  assert.equal(a.visits[0].events, b.visits[0].events);
  assert.equal(a.cuts.find((c) => c.own)?.context, 2048);
  assert.equal(b.cuts.find((c) => c.own)?.context, 8192);
  // A new text for the same record object is never served from the cache.
  const edited = text.replace('<record>', '<record>\n');
  const c = buildTimeline({ ...base, text: edited, record: parseRecord(edited), context: 8192 });
  assert.notEqual(c.visits[0].events, b.visits[0].events);
  assert.equal(c.visits[0].range[0], b.visits[0].range[0] + 1);
});
