import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Bm25Index, bm25Doc, terms } from '../../engine/src/core/packing/bm25';
import type { PackInput, PackResult, PackStrategy } from '../../engine/src/core/packing/pack';
import { STANDARD_CONTEXTS, fitTable, packPrompt } from '../../engine/src/core/packing/pack';
import { parseRecord } from '../../engine/src/core/record/parse';
import { TokenCounter } from '../../engine/src/core/tokens/counter';
import type { EncodingName } from '../../engine/src/core/tokens/encodings';
import { getTokenizer } from '../../engine/src/core/tokens/encodings';
import { getDefaultTemplate, medalignPrompt } from '../../engine/src/core/template/defaults';
import { parseTemplate } from '../../engine/src/core/template/template';
import { generateRecord, rng, synthRecord } from '../fixtures/recordGenerator';

const sample = readFileSync(
  join(__dirname, '..', '..', '..', 'test', 'fixtures', 'records', 'sample-ehr-clean.xml'),
  'utf8',
);
const counter = new TokenCounter();

function pack(text: string, over: Partial<PackInput> & { context: number }): PackResult {
  return packPrompt({
    text,
    record: parseRecord(text),
    instruction: 'What medications is the patient currently taking for blood pressure?',
    encoding: 'cl100k_base',
    counter,
    ...over,
  });
}

/** Independent exact count of the rendered prompt. */
function promptTokens(r: PackResult, enc: EncodingName, overhead = 0): number {
  const t = getTokenizer(enc);
  return r.messages.reduce((a, m) => a + t.count(m.content) + overhead, 0);
}

const customTemplate = parseTemplate(
  '---\nname: sys\n---\n## system\nYou are a careful clinician. The patient is {{age}} years old ({{sex}}), record {{record_start}} to {{record_end}}.\n## user\n<ehr>{{ehr}}</ehr>\nQ: {{instruction}}\n',
);

test('property: the prompt never exceeds context − reserve, the packed XML is well-formed (random records and budgets)', () => {
  const r = rng(2024);
  let partialSeen = 0;
  for (let k = 0; k < 40; k++) {
    const text =
      k % 3 === 0
        ? synthRecord({ seed: k + 1, targetChars: 20_000 + Math.floor(r() * 60_000), quirks: true })
        : generateRecord({ seed: k + 1, targetChars: 20_000 + Math.floor(r() * 80_000) });
    const record = parseRecord(text);
    assert.equal(record.ok, true);
    const enc: EncodingName = r() < 0.5 ? 'cl100k_base' : 'o200k_base';
    const strategy: PackStrategy = r() < 0.5 ? 'recent' : 'bm25';
    const context = 200 + Math.floor(r() * 30_000);
    const reserve = Math.floor(r() * 600);
    const template = r() < 0.5 ? undefined : customTemplate;
    const overhead = r() < 0.3 ? 4 : 0;
    const res = packPrompt({
      text,
      record,
      instruction: 'Summarize the most recent cardiology visit and any change in metoprolol dose.',
      template,
      context,
      reserve,
      strategy,
      encoding: enc,
      counter,
      messageOverhead: overhead,
    });
    const exact = promptTokens(res, enc, overhead);
    assert.equal(res.budget.prompt, exact, `seed ${k}`);
    if (res.ok) assert.ok(exact <= context - reserve, `seed ${k}: ${exact} > ${context - reserve}`);
    else assert.ok(res.budget.template + res.budget.instruction > context - reserve - 40, res.error);
    assert.equal(res.budget.free, res.budget.limit - res.budget.prompt);
    assert.equal(res.budget.recordBudget, context - reserve - res.budget.template - res.budget.instruction);
    // The prompt is always there, with the instruction in it.
    assert.ok(res.messages.some((m) => m.content.includes('metoprolol dose')));
    if (res.ehr !== '') {
      const packed = parseRecord(res.ehr);
      assert.equal(packed.ok, true, `seed ${k}: packed record is not well-formed`);
      assert.equal(packed.rootName, 'record');
      assert.equal(packed.eventCount, res.kept.events);
      assert.equal(res.budget.record, getTokenizer(enc).count(res.ehr));
    }
    // What was kept is exactly the kept source ranges, in order.
    // The kept source, with LF line endings (records are sent as HELM reads them).
    assert.equal(
      res.keptRanges
        .map((s) => text.slice(s.start, s.end))
        .join('')
        .replace(/\r\n?/g, '\n'),
      res.ehr,
    );
    assert.equal(res.kept.events + res.cut.events, record.eventCount);
    assert.equal(res.visits.length, record.visits.length);
    if (res.visits.some((v) => v.state === 'partial')) partialSeen++;
  }
  assert.ok(partialSeen > 5, 'budgets that cut inside a visit are exercised');
});

/** Tokens `recent` would have needed to add the newest event it cut (with its day/visit lines if none of those were kept). */
function nextEventCost(text: string, record: ReturnType<typeof parseRecord>, res: PackResult): number {
  const counts = counter.countRecord(text, record, 'cl100k_base');
  const firstKept = res.visits.findIndex((v) => v.state !== 'cut');
  const partial = res.visits[firstKept].state === 'partial';
  const vi = partial ? firstKept : firstKept - 1;
  if (vi < 0) return Infinity;
  const vc = counter.countVisit(text, record, counts, vi);
  // Kept events are a suffix of the visit's events: the newest cut one is just before them.
  const cutCount = res.visits[vi].events - res.visits[vi].keptEvents;
  let seen = 0;
  for (let d = 0; d < vc.days.length; d++) {
    const n = vc.days[d].events.length;
    if (seen + n >= cutCount) {
      const e = cutCount - seen - 1;
      const dayHasKept = e < n - 1;
      const day = vc.days[d];
      return day.events[e] + (dayHasKept ? 0 : day.open + day.close) + (partial ? 0 : vc.open + vc.close);
    }
    seen += n;
  }
  return Infinity;
}

test('recent keeps the most recent content: a contiguous suffix of visits, newest event included', () => {
  const text = generateRecord({ seed: 7, targetChars: 120_000 });
  const record = parseRecord(text);
  for (const context of [2048, 8192, 16384]) {
    const res = pack(text, { context, strategy: 'recent' });
    assert.equal(res.ok, true);
    const states = res.visits.map((v) => v.state);
    const firstKept = states.findIndex((s) => s !== 'cut');
    assert.ok(firstKept >= 0);
    assert.ok(
      states.slice(firstKept + 1).every((s) => s === 'kept'),
      states.join(','),
    );
    assert.ok(states.slice(0, firstKept).every((s) => s === 'cut'));
    // Newest event (last in the record) is there, and the kept dates reach the record's end.
    const lastVisit = record.visits[record.visits.length - 1];
    const lastDay = lastVisit.days[lastVisit.days.length - 1];
    const lastEvent = lastDay.events[lastDay.events.length - 1];
    assert.ok(res.ehr.includes(text.slice(lastEvent.range.start, lastEvent.range.end)));
    assert.equal(res.kept.lastDate?.epochMs, record.lastDate?.epochMs);
    assert.ok(res.kept.firstDate!.epochMs > record.firstDate!.epochMs);
    assert.ok(res.cut.lastDate!.epochMs <= res.kept.firstDate!.epochMs);
    // It uses the budget: what is left is less than the next (older) event would have needed.
    const next = nextEventCost(text, record, res);
    assert.ok(Number.isFinite(next) && res.budget.free < next + 4, `free ${res.budget.free}, next ${next}`);
  }
});

test('bm25 picks the visit that holds a rare term from the instruction, and keeps date order', () => {
  const rare = 'Patient reports prior mucormycosis of the left maxillary sinus treated with amphotericin.';
  const text = generateRecord({
    seed: 11,
    targetChars: 150_000,
    insert: [{ visitIndex: 3, noteText: rare }],
  });
  const record = parseRecord(text);
  const instruction = 'Has the patient ever been treated for mucormycosis?';
  const bm = packPrompt({
    text,
    record,
    instruction,
    context: 4096,
    strategy: 'bm25',
    encoding: 'o200k_base',
    counter,
  });
  assert.equal(bm.ok, true);
  assert.ok(bm.ehr.includes('mucormycosis'), 'the rare-term visit is kept');
  assert.notEqual(bm.visits[3].state, 'cut');
  const best = bm.visits.reduce((a, b) => ((b.score ?? 0) > (a.score ?? 0) ? b : a));
  assert.equal(best.index, 3);
  // Date order restored: kept visits appear in record order.
  const packed = parseRecord(bm.ehr);
  const starts = packed.visits.map((v) => v.start?.epochMs ?? 0);
  assert.deepEqual(
    starts,
    [...starts].sort((a, b) => a - b),
  );
  // `recent` at the same budget does not reach back to visit 3.
  const rec = packPrompt({
    text,
    record,
    instruction,
    context: 4096,
    strategy: 'recent',
    encoding: 'o200k_base',
    counter,
  });
  assert.equal(rec.visits[3].state, 'cut');
  assert.ok(!rec.ehr.includes('mucormycosis'));
});

test('BM25 scoring basics', () => {
  const idx = new Bm25Index([
    bm25Doc(terms('aspirin daily aspirin')),
    bm25Doc(terms('metformin daily')),
    bm25Doc(terms('daily walk')),
  ]);
  const s = idx.scores(terms('Is the patient on aspirin?'));
  assert.ok(s[0] > 0 && s[1] === 0 && s[2] === 0);
  assert.ok(idx.idf('aspirin') > idx.idf('daily'));
  assert.deepEqual(terms('The Medications, diabetes & HbA1c'), ['medication', 'diabet', 'hba1c']);
});

test('none: the whole record, or a clear error that still shows the prompt', () => {
  const fits = pack(sample, { context: 8192, strategy: 'none' });
  assert.equal(fits.ok, true);
  assert.equal(fits.ehr, sample);
  assert.equal(fits.cut.events, 0);
  assert.equal(fits.budget.prompt, promptTokens(fits, 'cl100k_base'));
  const tooBig = pack(sample, { context: 2048, strategy: 'none' });
  assert.equal(tooBig.ok, false);
  assert.match(tooBig.error!, /needs \d+ tokens but only \d+ are free/);
  assert.equal(tooBig.messages.length, 1);
  assert.ok(tooBig.messages[0].content.includes('<record>'));
});

test('the prompt is never dropped, even when the template and instruction alone overflow', () => {
  const longInstruction = 'Please review everything. '.repeat(400);
  const res = pack(sample, { context: 1024, reserve: 256, instruction: longInstruction });
  assert.equal(res.ok, false);
  assert.match(res.error!, /without any record/);
  assert.equal(res.ehr, '');
  assert.ok(res.messages[0].content.includes('Please review everything.'));
  assert.equal(res.kept.events, 0);
  assert.equal(res.cut.events, parseRecord(sample).eventCount);
});

test('tiny budgets keep an empty <record> shell or nothing, never broken XML', () => {
  for (const context of [300, 320, 340, 400, 600, 900]) {
    const res = pack(sample, { context, reserve: 256 });
    if (res.ehr !== '') assert.equal(parseRecord(res.ehr).ok, true, `context ${context}`);
    if (res.ok) assert.ok(res.budget.prompt <= context - 256);
  }
});

test('kept/cut report: dates, events, tokens', () => {
  const text = generateRecord({ seed: 3, targetChars: 80_000 });
  const record = parseRecord(text);
  const res = pack(text, { context: 8192 });
  assert.equal(res.kept.events + res.cut.events, record.eventCount);
  assert.equal(res.kept.notes + res.cut.notes, record.noteCount);
  const counts = counter.countRecord(text, record, 'cl100k_base');
  const keptVisitTokens = res.visits.reduce((a, v) => a + v.keptTokens, 0);
  assert.equal(
    res.visits.reduce((a, v) => a + v.tokens, 0),
    counts.total - counts.head - counts.tail - counts.seamAdjustment,
  );
  assert.equal(
    res.cut.tokens,
    counts.total - counts.head - counts.tail - counts.seamAdjustment - keptVisitTokens,
  );
  // The packed record's exact count is its kept parts plus the <record> lines (seams are exact here).
  if (counts.seamAdjustment === 0) assert.equal(res.kept.tokens, keptVisitTokens + counts.head + counts.tail);
  assert.ok(res.kept.tokens > 0 && res.kept.tokens <= res.budget.recordBudget);
  assert.ok(res.warnings.some((w) => /visits kept/.test(w)));
  for (const v of res.visits) {
    assert.ok(v.keptTokens <= v.tokens);
    if (v.state === 'kept') assert.equal(v.keptEvents, v.events);
    if (v.state === 'cut') assert.equal(v.keptEvents, 0);
  }
});

test('the default template reproduces MedAlign’s prompt exactly', () => {
  const instruction = 'What was the last NIHSS score?';
  const res = pack(sample, { context: 32768, instruction });
  assert.equal(res.ehr, sample);
  assert.deepEqual(res.messages, [{ role: 'user', content: medalignPrompt(sample, instruction) }]);
  const t = getTokenizer('cl100k_base');
  assert.equal(res.budget.template, t.count(medalignPrompt('', '')));
  assert.equal(res.budget.instruction, t.count(instruction));
  assert.equal(getDefaultTemplate().name, 'medalign-default');
});

test('fitTable: what fits at 2k…128k, monotonic, back to which date', () => {
  const text = generateRecord({ seed: 5, targetChars: 400_000 });
  const record = parseRecord(text);
  const ft = fitTable({ text, record, instruction: 'Any falls?', encoding: 'cl100k_base', counter });
  assert.equal(ft.rows.length, STANDARD_CONTEXTS.length);
  assert.equal(ft.total, getTokenizer('cl100k_base').count(text));
  let prev = -1;
  let prevFrom = Infinity;
  for (const row of ft.rows) {
    assert.ok(row.keptTokens >= prev);
    assert.ok(row.keptTokens <= Math.max(0, row.recordBudget));
    assert.ok(row.keptFrom!.epochMs <= prevFrom);
    assert.equal(row.recordBudget, row.context - ft.reserve - ft.template - ft.instruction);
    prev = row.keptTokens;
    prevFrom = row.keptFrom!.epochMs;
  }
  // Agrees with a real pack at the same context.
  const at32 = ft.rows.find((r) => r.context === 32768)!;
  const res = pack(text, { context: 32768, instruction: 'Any falls?' });
  assert.equal(res.kept.firstDate?.epochMs, at32.keptFrom?.epochMs);
  assert.ok(Math.abs(res.kept.tokens - at32.keptTokens) <= 3);
  const small = fitTable({
    text: sample,
    record: parseRecord(sample),
    instruction: 'x',
    encoding: 'o200k_base',
    counter,
  });
  assert.deepEqual(
    small.rows.map((r) => r.fitsWhole),
    [false, true, true, true, true, true, true],
  );
});
