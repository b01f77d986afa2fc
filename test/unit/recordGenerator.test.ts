import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { XMLValidator } from 'fast-xml-parser';
import {
  escapeXml,
  formatRecordDate,
  generateRecord,
  hashSeed,
  mulberry32,
} from '../fixtures/recordGenerator';

/** `MM/DD/YYYY[ HH:MM[ AM|PM]]` -> epoch ms (UTC fields), or NaN. */
function parseStart(raw: string): number {
  const m = /^(\d{2})\/(\d{2})\/(\d{4})(?: (\d{1,2}):(\d{2})(?: (AM|PM))?)?$/.exec(raw);
  if (!m) return NaN;
  let h = m[4] ? Number(m[4]) : 0;
  if (m[6] === 'PM' && h < 12) h += 12;
  if (m[6] === 'AM' && h === 12) h = 0;
  return Date.UTC(Number(m[3]), Number(m[1]) - 1, Number(m[2]), h, m[5] ? Number(m[5]) : 0);
}

function visitStarts(xml: string): string[] {
  return [...xml.matchAll(/<visit type="[^"]*" start="([^"]*)">/g)].map((m) => m[1]);
}

function allStarts(xml: string): string[] {
  return [...xml.matchAll(/ start="([^"]*)"/g)].map((m) => m[1]);
}

test('mulberry32 is deterministic, in [0, 1), and hashSeed separates nearby seeds', () => {
  const a = mulberry32(42);
  const b = mulberry32(42);
  const xs = Array.from({ length: 1000 }, () => a());
  assert.deepEqual(
    xs,
    Array.from({ length: 1000 }, () => b()),
  );
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
  // Adjacent seeds must not give correlated first draws once hashed.
  const firsts = Array.from({ length: 200 }, (_, i) => mulberry32(hashSeed(i))());
  const below = firsts.filter((x) => x < 0.5).length;
  assert.ok(below > 70 && below < 130, `${below} of 200 first draws below 0.5`);
});

test('formatRecordDate writes the sample date forms', () => {
  const ms = Date.UTC(2018, 9, 8, 20, 0);
  assert.equal(formatRecordDate(ms, '24h'), '10/08/2018 20:00');
  assert.equal(formatRecordDate(ms, '12h'), '10/08/2018 08:00 PM');
  assert.equal(formatRecordDate(ms + 3_600_000, '12h-unpadded'), '10/08/2018 9:00 PM');
  assert.equal(formatRecordDate(ms, 'date'), '10/08/2018');
  assert.equal(formatRecordDate(Date.UTC(2020, 0, 1, 0, 5), '12h'), '01/01/2020 12:05 AM');
  assert.equal(formatRecordDate(Date.UTC(2020, 0, 1, 12, 5), '12h-unpadded'), '01/01/2020 12:05 PM');
  assert.equal(escapeXml('a < b & c > d'), 'a &lt; b &amp; c &gt; d');
});

test('generateRecord is deterministic for a seed and differs between seeds', () => {
  const opts = { seed: 5, visits: 20 };
  const a = generateRecord(opts);
  assert.equal(generateRecord(opts), a);
  assert.equal(generateRecord({ ...opts }), a);
  assert.notEqual(generateRecord({ seed: 6, visits: 20 }), a);
  assert.notEqual(generateRecord({ seed: 5, visits: 20, quirks: false }), a);
  const big = generateRecord({ seed: 9, targetChars: 300_000 });
  assert.equal(generateRecord({ seed: 9, targetChars: 300_000 }), big);
});

test('output is well-formed MedAlign XML in the shape of the public sample', () => {
  for (const opts of [
    { seed: 1, visits: 3 },
    { seed: 2, visits: 30 },
    { seed: 3, visits: 30, quirks: false },
    { seed: 4, targetChars: 200_000 },
  ]) {
    const xml = generateRecord(opts);
    assert.equal(XMLValidator.validate(xml), true, JSON.stringify(opts));
    assert.ok(xml.startsWith('<record>'));
    assert.ok(xml.endsWith('</record>'));
    // Visits hold days, days hold events; the first day of the first visit starts with <person>.
    const firstVisit = xml.slice(0, xml.indexOf('</visit>'));
    assert.match(
      firstVisit,
      /^<record>\s*<visit type="[^"]+" start="[^"]+">\s*<day start="[^"]+">\s*<person>\s*Birth: ?\d{1,2}\/\d{1,2}\/\d{4}\s*Race: [^\n]+\n\s*Gender: (MALE|FEMALE)\s*Ethnicity: [^\n]+\n\s*Age in Days: \d+\s*Age in Years: \d+\s*<\/person>/,
    );
    const visits = xml.match(/<visit /g)!.length;
    assert.equal((xml.match(/<\/visit>/g) ?? []).length, visits);
    assert.ok((xml.match(/<day /g) ?? []).length >= visits);
    for (const kind of [
      'condition_occurrence',
      'measurement',
      'drug_exposure',
      'procedure_occurrence',
      'observation',
      'visit_detail',
      'note',
    ]) {
      if (opts.visits === 3) continue;
      assert.ok(xml.includes(`<${kind} `), `${kind} missing for ${JSON.stringify(opts)}`);
    }
    // Every start attribute is one of the sample's date forms.
    for (const s of allStarts(xml)) assert.ok(!Number.isNaN(parseStart(s)), `bad start ${s}`);
    // Nothing unescaped: every & starts an entity.
    assert.doesNotMatch(xml, /&(?!amp;|lt;|gt;|quot;|apos;)/);
  }
});

test('codes look like the sample: vocabularies, values and units', () => {
  const xml = generateRecord({ seed: 8, visits: 40 });
  assert.match(xml, /<code>\[ICD\/[A-Z]\d{2}(\.\d+)?\] [A-Z]/);
  assert.match(xml, /<code>\[LOINC\/8480-6\] Systolic blood pressure \d+ ?<\/code>/);
  assert.match(xml, /<code>\[LOINC\/LP21258-6\] Oxygen saturation \d+ % ?<\/code>/);
  assert.match(xml, /<code>\[RxNorm\/\d+\] [a-z]+.* (MG|ML|MG\/ML|%)/);
  assert.match(xml, /<code>\[SNOMED\/268400002\] 12 lead ECG ?<\/code>/);
  assert.match(xml, /<code>\[CARE_SITE\/\d+\] [^<]+<\/code>/);
  assert.match(xml, /<code>\[LOINC\/[\d-]+\] [^<]* \d+(\.\d+)? (mg\/dL|mmol\/L|K\/uL|g\/dL|%)/);
});

test('notes carry long, varied clinical prose', () => {
  const xml = generateRecord({ seed: 12, targetChars: 400_000 });
  const notes = [...xml.matchAll(/<note type="([^"]*)" start="[^"]*">([\s\S]*?)<\/note>/g)];
  assert.ok(notes.length > 40, `${notes.length} notes`);
  const types = new Set(notes.map((n) => n[1]));
  assert.ok(types.size >= 8, [...types].join(', '));
  const longest = Math.max(...notes.map((n) => n[2].length));
  assert.ok(longest > 2500, `longest note ${longest}`);
  const text = notes.map((n) => n[2]).join(' ');
  for (const needle of [
    'HISTORY OF PRESENT ILLNESS',
    'SOCIAL HISTORY',
    'FAMILY HISTORY',
    'ASSESSMENT AND PLAN',
    'IMPRESSION:',
    'mg PO',
    'BP ',
  ]) {
    assert.ok(text.includes(needle), needle);
  }
  assert.ok(
    types.has('Discharge Summary') || types.has('emergency department note') || types.has('ED Notes'),
  );
});

test('visits run in date order over the requested span', () => {
  for (const opts of [
    { seed: 21, visits: 25, startYear: 2014, years: 6 },
    { seed: 22, targetChars: 500_000, startYear: 2012, years: 8 },
  ]) {
    const starts = visitStarts(generateRecord(opts)).map(parseStart);
    assert.ok(starts.every((s) => !Number.isNaN(s)));
    for (let i = 1; i < starts.length; i++) assert.ok(starts[i] > starts[i - 1], `visit ${i} out of order`);
    const first = new Date(starts[0]).getUTCFullYear();
    const lastYear = new Date(starts[starts.length - 1]).getUTCFullYear();
    assert.equal(first, opts.startYear);
    const spanYears = (starts[starts.length - 1] - starts[0]) / (365.25 * 86_400_000);
    assert.ok(
      spanYears > opts.years - 1 && spanYears <= opts.years + 0.2,
      `span ${spanYears.toFixed(2)} years`,
    );
    assert.ok(lastYear <= opts.startYear + opts.years);
  }
});

test('visits option gives that many visits', () => {
  for (const n of [1, 2, 7, 40]) {
    const xml = generateRecord({ seed: n, visits: n });
    assert.equal(visitStarts(xml).length, n);
  }
});

// Generation speed is a bench row (npm run bench: "generate 2M chars", as a ratio to a peer).
test('targetChars is reached within 10%', () => {
  for (const target of [50_000, 500_000, 2_000_000]) {
    for (const seed of [1, 2, 3]) {
      const xml = generateRecord({ seed, targetChars: target });
      const ratio = xml.length / target;
      assert.ok(ratio > 0.9 && ratio < 1.1, `seed ${seed} target ${target}: ${xml.length} chars`);
    }
  }
});

test('quirks are present by default and absent with quirks: false', () => {
  const xml = generateRecord({ seed: 31, visits: 30 });
  const starts = allStarts(xml);
  assert.ok(
    starts.some((s) => /^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}$/.test(s)),
    '24h form',
  );
  assert.ok(
    starts.some((s) => /^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2} [AP]M$/.test(s)),
    '12h zero-padded form',
  );
  assert.ok(
    starts.some((s) => /^\d{2}\/\d{2}\/\d{4} \d:\d{2} [AP]M$/.test(s)),
    '12h unpadded form',
  );
  assert.ok(
    starts.some((s) => /^\d{2}\/\d{2}\/\d{4}$/.test(s)),
    'date-only start',
  );
  assert.match(xml, /<\/visit><visit /, 'abutting visits');
  assert.match(xml, /\n[ \t]*\n/, 'blank lines');
  assert.match(xml, / <\/code>/, 'trailing space inside <code>');
  assert.match(xml, /<code>[^[<][^<]*<\/code>/, 'code with no vocabulary');
  assert.match(
    xml,
    /<code>\[(HCPCS|NDC|ICD9CM|CVX|ICD10PCS|OMOP Extension|RxNorm_Extension)\//,
    'unusual vocabulary',
  );
  assert.match(xml, /<code>\[ICD\/[A-Z]\d{2}\.\d+[A-Z]?\]/, 'code with dots');
  assert.match(
    xml,
    /<code>\[LOINC\/[^\]]+\] [A-Za-z ()[\]/.,-]+ \d+(\.\d+)? ?<\/code>/,
    'value without unit',
  );
  assert.match(xml, /<person> \n|Birth:\d/, 'person block quirks');

  const clean = generateRecord({ seed: 31, visits: 30, quirks: false });
  assert.equal(XMLValidator.validate(clean), true);
  for (const s of allStarts(clean)) assert.match(s, /^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2} [AP]M$/);
  assert.doesNotMatch(clean, /<\/visit><visit/);
  assert.doesNotMatch(clean, /\n[ \t]*\n/);
  assert.doesNotMatch(clean, / <\/code>/);
  assert.doesNotMatch(clean, /<code>[^[]/);
  assert.doesNotMatch(clean, /[ \t]\n/, 'no trailing whitespace');
});

test('the quirks show up even in a small record', () => {
  const xml = generateRecord({ seed: 77, targetChars: 50_000 });
  assert.match(xml, /<\/visit><visit /);
  assert.ok(allStarts(xml).some((s) => /^\d{2}\/\d{2}\/\d{4}$/.test(s)));
  assert.ok(allStarts(xml).some((s) => /^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}$/.test(s)));
});

test('insert plants a note with the given text in the given visit, escaped', () => {
  const rare = 'Patient reports taking zyxoquinol <5 mg & feeling "fine"';
  const base = { seed: 41, visits: 10 };
  const xml = generateRecord({
    ...base,
    insert: [
      { visitIndex: 3, noteText: rare },
      { visitIndex: -1, noteText: 'Planted in the last visit: quorbazine', noteType: 'Telephone Encounter' },
    ],
  });
  assert.equal(XMLValidator.validate(xml), true);
  assert.equal(xml.split('zyxoquinol').length - 1, 1);
  assert.ok(xml.includes('zyxoquinol &lt;5 mg &amp; feeling "fine"'));
  const visits = xml.split(/(?=<visit )/).slice(1);
  assert.equal(visits.length, 10);
  assert.ok(visits[3].includes('zyxoquinol'));
  assert.ok(visits[9].includes('quorbazine'));
  assert.match(
    visits[9],
    /<note type="Telephone Encounter" start="[^"]+">\s*Planted in the last visit: quorbazine\s*<\/note>/,
  );
  // The rest of the record is the one generated without the insert.
  const plain = generateRecord(base);
  assert.equal(
    xml.replace(
      /\n\s*<note type="[^"]*" start="[^"]*">\s*(Patient reports taking zyxoquinol|Planted in the last)[^<]*<\/note>/g,
      '',
    ),
    plain,
  );
  assert.throws(() => generateRecord({ ...base, insert: [{ visitIndex: 10, noteText: 'x' }] }), RangeError);
  assert.throws(() => generateRecord({ ...base, insert: [{ visitIndex: -11, noteText: 'x' }] }), RangeError);
});

test('person block ages agree with the birth date and the visit date', () => {
  const xml = generateRecord({ seed: 51, visits: 5 });
  const m =
    /<day start="([^"]+)">\s*<person>\s*Birth: ?(\d+)\/(\d+)\/(\d+)[\s\S]*?Age in Days: (\d+)\s*Age in Years: (\d+)/.exec(
      xml,
    )!;
  const day = parseStart(m[1]);
  const birth = Date.UTC(Number(m[4]), Number(m[2]) - 1, Number(m[3]));
  assert.equal(Number(m[5]), Math.floor((day - birth) / 86_400_000));
  const years = Math.floor((day - birth) / (365.2425 * 86_400_000));
  assert.ok(Math.abs(Number(m[6]) - years) <= 1);
});
