import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseRecordDate } from '../../engine/src/core/record/dates';
import type { EhrRecord } from '../../engine/src/core/record/model';
import { offsetAt, parseRecord } from '../../engine/src/core/record/parse';
import { rng, synthRecord } from '../fixtures/recordGenerator';

const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'records');
const sample = readFileSync(join(FIXTURES, 'sample-ehr-clean.xml'), 'utf8');

function allEvents(r: EhrRecord) {
  return r.visits.flatMap((v) => v.days.flatMap((d) => d.events));
}

test('public sample: structure, counts and dates', () => {
  const r = parseRecord(sample);
  assert.equal(r.ok, true);
  assert.equal(r.rootName, 'record');
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.size, sample.length);
  assert.equal(r.visits.length, (sample.match(/<visit /g) ?? []).length);
  assert.deepEqual(
    r.visits.map((v) => v.type),
    ['Emergency Room Visit', 'Visit', 'Neurology Clinic Visit'],
  );
  const events = allEvents(r);
  // Independent count: every element that is not record/visit/day/person/code.
  const tags = [...sample.matchAll(/<([a-z_]+)[\s>]/g)].map((m) => m[1]);
  const expected = tags.filter((t) => !['record', 'visit', 'day', 'person', 'code'].includes(t)).length;
  assert.equal(r.eventCount, expected);
  assert.equal(events.length, expected);
  assert.equal(r.noteCount, tags.filter((t) => t === 'note').length);
  assert.equal(r.noteCount, 5);
  assert.equal(r.firstDate?.iso, '2018-10-08T20:00');
  assert.equal(r.lastDate?.iso, '2022-05-15T14:15');
  assert.equal(r.personCount, 3);
});

test('public sample: every element keeps its source range', () => {
  const r = parseRecord(sample);
  for (const v of r.visits) {
    const text = sample.slice(v.range.start, v.range.end);
    assert.match(text, /^<visit [^>]*>/);
    assert.ok(text.endsWith('</visit>'));
    for (const d of v.days) {
      assert.ok(d.range.start > v.range.start && d.range.end < v.range.end);
      assert.match(sample.slice(d.range.start, d.range.end), /^<day [\s\S]*<\/day>$/);
      for (const e of d.events) {
        const et = sample.slice(e.range.start, e.range.end);
        assert.ok(et.startsWith(`<${e.kind}`), et);
        assert.ok(et.endsWith(`</${e.kind}>`), et);
        for (const c of e.codes)
          assert.match(sample.slice(c.range.start, c.range.end), /^<code>[\s\S]*<\/code>$/);
      }
    }
  }
  const p = r.person!;
  assert.match(sample.slice(p.range.start, p.range.end), /^<person>[\s\S]*<\/person>$/);
});

test('public sample: person block, the most recent one', () => {
  const r = parseRecord(sample);
  const p = r.person!;
  assert.equal(p.birth?.iso, '1966-07-19T00:00');
  assert.equal(p.birth?.raw, '7/19/1966');
  assert.equal(p.race, 'White');
  assert.equal(p.gender, 'FEMALE');
  assert.equal(p.ethnicity, 'Hispanic or Latino');
  assert.equal(p.ageInDays, 20389);
  assert.equal(p.ageInYears, 55);
});

test('public sample: the three date forms', () => {
  const r = parseRecord(sample);
  const events = allEvents(r);
  const byRaw = new Map(events.filter((e) => e.start).map((e) => [e.start!.raw, e.start!.iso]));
  assert.equal(r.visits[0].start?.iso, '2018-10-08T20:00'); // 10/08/2018 20:00
  assert.equal(byRaw.get('10/08/2018 08:00 PM'), '2018-10-08T20:00');
  assert.equal(byRaw.get('10/08/2018 9:00 PM'), '2018-10-08T21:00');
  assert.equal(byRaw.get('10/20/2018 12:30 PM'), '2018-10-20T12:30');
  assert.equal(byRaw.get('10/20/2018 1:45 PM'), '2018-10-20T13:45');
});

test('public sample: codes split into vocabulary, code, description, value and unit', () => {
  const r = parseRecord(sample);
  const codes = allEvents(r).flatMap((e) => e.codes.map((c) => ({ kind: e.kind, ...c })));
  const find = (d: string) => codes.find((c) => c.description === d)!;
  assert.deepEqual(
    (({ vocabulary, code, description, value, unit }) => ({ vocabulary, code, description, value, unit }))(
      find('Mean blood pressure'),
    ),
    { vocabulary: 'LOINC', code: '8478-0', description: 'Mean blood pressure', value: '122', unit: 'mm Hg' },
  );
  assert.equal(find('Body surface area').unit, 'sq meters');
  assert.equal(find('Oxygen saturation').unit, '%');
  assert.equal(find('Pain severity [Score] Visual analog score').value, '1');
  const ecg = find('12 lead ECG');
  assert.equal(ecg.vocabulary, 'SNOMED');
  assert.equal(ecg.code, '268400002');
  assert.equal(ecg.value, undefined);
  // A drug keeps its trailing number in the name.
  const drug = codes.find((c) => c.kind === 'drug_exposure' && c.code === '6185')!;
  assert.equal(drug.description, 'Labetalol 5mg IV x 1');
  assert.equal(drug.value, undefined);
  const rx = codes.find((c) => c.vocabulary === 'RxNorm_Extension')!;
  assert.equal(rx.code, 'OMOP675480');
  // Odd codes are kept as written.
  assert.ok(codes.some((c) => c.vocabulary === 'ICD' && c.code === '163.5'));
  const note = allEvents(r).find((e) => e.kind === 'note' && e.type === 'NULL')!;
  assert.equal(note.text, 'Left basal ganglia acute ischemic infarct. No associated hemorrhage');
});

test('dates: every accepted form, and rejects', () => {
  const cases: [string, string][] = [
    ['10/08/2018 20:00', '2018-10-08T20:00'],
    ['10/08/2018 08:00 PM', '2018-10-08T20:00'],
    ['10/08/2018 9:00 PM', '2018-10-08T21:00'],
    ['10/08/2018 12:15 AM', '2018-10-08T00:15'],
    ['10/08/2018 12:15 PM', '2018-10-08T12:15'],
    ['10/08/2018 9:00pm', '2018-10-08T21:00'],
    ['10/08/2018', '2018-10-08T00:00'],
    ['7/9/1966', '1966-07-09T00:00'],
    ['10/08/2018 20:00:59', '2018-10-08T20:00'],
    ['2018-10-08', '2018-10-08T00:00'],
    ['2018-10-08T20:00', '2018-10-08T20:00'],
    ['2018-10-08 20:00:00', '2018-10-08T20:00'],
    ['2018-10-08T20:00:00.000Z', '2018-10-08T20:00'],
    ['  10/08/2018 20:00 ', '2018-10-08T20:00'],
    ['02/29/2020', '2020-02-29T00:00'],
  ];
  for (const [raw, iso] of cases) {
    const d = parseRecordDate(raw);
    assert.equal(d?.iso, iso, raw);
    assert.equal(d.raw, raw);
    assert.equal(d.epochMs, Date.parse(iso + ':00Z'));
  }
  for (const bad of [
    '',
    'NULL',
    '13/01/2018',
    '02/30/2018',
    '02/29/2019',
    '10/08/2018 24:00',
    '10/08/2018 13:00 PM',
    '10/08/2018 0:10 AM',
    '2018-13-01',
    '18/10/08',
    'tomorrow',
  ]) {
    assert.equal(parseRecordDate(bad), undefined, bad);
  }
});

test('unparseable dates become warnings with the range of the value', () => {
  const xml =
    '<record>\n  <visit type="V" start="sometime">\n    <day start="10/08/2018">\n      <note start="31/31/2018">x</note>\n    </day>\n  </visit>\n</record>\n';
  const r = parseRecord(xml);
  assert.equal(r.ok, true);
  const warnings = r.diagnostics.filter((d) => d.code === 'date-unparseable');
  assert.equal(warnings.length, 2);
  assert.deepEqual(
    warnings.map((w) => xml.slice(w.range.start, w.range.end)),
    ['sometime', '31/31/2018'],
  );
  assert.ok(warnings.every((w) => w.severity === 'warning'));
  assert.equal(r.visits[0].start, undefined);
  assert.equal(r.visits[0].days[0].start?.iso, '2018-10-08T00:00');
  assert.equal(r.firstDate?.iso, '2018-10-08T00:00');
});

test('person: unparseable birth date is a warning at the value', () => {
  const xml =
    '<record><visit><day><person>\n  Birth: 19/19/1966\n  Gender: MALE\n  Age in Years: 60\n</person></day></visit></record>';
  const r = parseRecord(xml);
  const w = r.diagnostics.find((d) => d.code === 'date-unparseable')!;
  assert.equal(xml.slice(w.range.start, w.range.end), '19/19/1966');
  assert.equal(r.person?.gender, 'MALE');
  assert.equal(r.person?.ageInYears, 60);
  assert.equal(r.eventCount, 0);
});

test('malformed XML: ok false, xml-malformed at the place it broke', () => {
  const xml = '<record>\n  <visit start="10/08/2018">\n    <day>\n  </visit>\n</record>\n';
  const r = parseRecord(xml);
  assert.equal(r.ok, false);
  const d = r.diagnostics.find((x) => x.code === 'xml-malformed')!;
  assert.equal(d.severity, 'error');
  // The first error is the closing tag that does not match (as XMLValidator reports it too).
  assert.equal(xml.slice(d.range.start, d.range.start + 8), '</visit>');
  // The tolerant scan still reads the visit for outlines.
  assert.equal(r.visits.length, 1);

  const truncated = sample.slice(0, Math.floor(sample.length / 2));
  const t = parseRecord(truncated);
  assert.equal(t.ok, false);
  assert.ok(t.diagnostics.some((x) => x.code === 'xml-malformed'));
  assert.ok(t.visits.length >= 1);

  for (const bad of [
    '',
    '   ',
    'hello',
    '<record>',
    '<record><a x=1></a></record>',
    '<a/><b/>',
    '<record></record><record></record>',
  ]) {
    const b = parseRecord(bad);
    assert.equal(b.ok, false, bad);
    assert.ok(
      b.diagnostics.some((x) => x.code === 'xml-malformed'),
      bad,
    );
  }
});

test('offsetAt converts 1-based line/column', () => {
  const text = 'ab\ncde\n\nf';
  assert.equal(offsetAt(text, 1, 1), 0);
  assert.equal(offsetAt(text, 2, 2), 4);
  assert.equal(offsetAt(text, 4, 1), 8);
  assert.equal(offsetAt(text, 2, 99), 6);
  assert.equal(offsetAt(text, 99, 1), text.length);
});

test('a root other than <record> is record-root', () => {
  const xml = '<patient>\n  <visit start="10/08/2018"/>\n</patient>';
  const r = parseRecord(xml);
  assert.equal(r.ok, false);
  assert.equal(r.rootName, 'patient');
  const d = r.diagnostics.find((x) => x.code === 'record-root')!;
  assert.equal(xml.slice(d.range.start, d.range.end), 'patient');
  assert.equal(r.visits.length, 0);
});

test('entities, CDATA, comments, declaration and generic events', () => {
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?>\n<!-- export -->\n<record>\n<visit type="A &amp; B" start="2018-10-08T20:00">' +
    '<day start="2018-10-08"><note type="n">5 &lt; 7 &#x41;&#66; <![CDATA[<raw & text>]]></note>' +
    '<specimen start="2018-10-08 21:00"><code>[LOINC/1-1] Something</code></specimen></day></visit></record>';
  const r = parseRecord(xml);
  assert.equal(r.ok, true);
  assert.equal(r.visits[0].type, 'A & B');
  const [note, specimen] = r.visits[0].days[0].events;
  assert.equal(note.text, '5 < 7 AB <raw & text>');
  assert.equal(specimen.kind, 'specimen');
  assert.equal(specimen.codes[0].code, '1-1');
  assert.equal(r.lastDate?.iso, '2018-10-08T21:00');
});

test('structure quirks: events outside days, stray elements', () => {
  const xml =
    '<record><person>Gender: F</person><extra/><visit start="10/08/2018"><measurement start="10/08/2018 08:00 PM"><code>[LOINC/x] HR 80</code></measurement></visit></record>';
  const r = parseRecord(xml);
  assert.equal(r.ok, true);
  assert.equal(r.person?.gender, 'F');
  assert.equal(r.visits[0].days.length, 1);
  assert.equal(r.visits[0].days[0].events[0].codes[0].value, '80');
  assert.equal(r.eventCount, 1);
  assert.ok(r.diagnostics.some((d) => d.code === 'record-structure' && d.severity === 'warning'));
  assert.ok(r.diagnostics.some((d) => d.code === 'record-structure' && d.severity === 'information'));
});

test('generated records with every quirk: never throws, ranges consistent', () => {
  for (let seed = 1; seed <= 30; seed++) {
    const xml = synthRecord({ seed, targetChars: 20_000, quirks: true });
    const r = parseRecord(xml);
    assert.equal(
      r.ok,
      true,
      `seed ${seed}: ${JSON.stringify(r.diagnostics.filter((d) => d.severity === 'error'))}`,
    );
    assert.equal(r.visits.length, (xml.match(/<visit /g) ?? []).length);
    const bad = (xml.match(/start="not a date"/g) ?? []).length;
    assert.equal(r.diagnostics.filter((d) => d.code === 'date-unparseable').length, bad);
    for (const d of r.diagnostics.filter((x) => x.code === 'date-unparseable')) {
      assert.equal(xml.slice(d.range.start, d.range.end), 'not a date');
    }
    let prev = 0;
    for (const v of r.visits) {
      assert.ok(v.range.start >= prev);
      prev = v.range.end;
      assert.ok(xml.slice(v.range.start, v.range.end).endsWith('</visit>'));
    }
  }
});

test('fuzz: mutated and truncated records never throw', () => {
  const r = rng(7);
  const base = synthRecord({ seed: 3, targetChars: 5_000, quirks: true });
  for (let k = 0; k < 300; k++) {
    let s = base;
    const ops = 1 + Math.floor(r() * 4);
    for (let o = 0; o < ops; o++) {
      const at = Math.floor(r() * s.length);
      const len = Math.floor(r() * 40);
      const junk = ['<', '>', '</', '"', '&', '<!--', ']]>', '<![CDATA[', '<?', '\u0000', 'x'][
        Math.floor(r() * 11)
      ];
      s = r() < 0.5 ? s.slice(0, at) + junk + s.slice(at + len) : s.slice(0, at);
    }
    const rec = parseRecord(s);
    assert.equal(rec.size, s.length);
    for (const d of rec.diagnostics)
      assert.ok(d.range.start >= 0 && d.range.end <= s.length && d.range.start <= d.range.end);
    if (!rec.ok) assert.ok(rec.diagnostics.some((d) => d.severity === 'error'));
  }
});

// Its speed is a bench row (npm run bench: "parse 2M chars (synthRecord seed 11)", as ratios to peers).
test('a 2 MB record parses', () => {
  const xml = synthRecord({ seed: 11, targetChars: 2_000_000 });
  const r = parseRecord(xml);
  assert.equal(r.ok, true);
});
