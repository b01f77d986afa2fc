import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASELINE_LABEL, baselineAnswer } from '../../engine/src/core/run/baseline';
import { packPrompt } from '../../engine/src/core/packing/pack';
import { parseRecord } from '../../engine/src/core/record/parse';
import { TokenCounter } from '../../engine/src/core/tokens/counter';
import { publicSampleXml } from '../helpers/fixtures';
import { generateRecord } from '../fixtures/recordGenerator';

test('baseline: quotes the passages that match the instruction, best first, labelled as not a model', () => {
  const a = baselineAnswer(publicSampleXml, 'Was labetalol given for the blood pressure before tPA?');
  assert.ok(a.text.startsWith(BASELINE_LABEL));
  assert.match(a.text, /not a model's answer/);
  assert.ok(a.passages.length > 0 && a.passages.length <= 5);
  assert.match(a.passages[0].text, /labetalol/i);
  assert.equal(a.passages[0].kind, 'note');
  assert.equal(a.passages[0].type, 'emergency department note');
  assert.equal(a.passages[0].date, '2018-10-08 20:10');
  for (let i = 1; i < a.passages.length; i++) assert.ok(a.passages[i - 1].score >= a.passages[i].score);
  assert.deepEqual(
    a.passages.map((p) => p.rank),
    a.passages.map((_, i) => i + 1),
  );
  // Every passage is quoted in the answer with its date and kind.
  for (const p of a.passages) assert.ok(a.text.includes(`${p.rank}. [`) && a.text.includes(p.text));
  // Decimals are not sentence ends.
  assert.ok(!a.passages.some((p) => /INR is 1\.$/.test(p.text)));
});

test('baseline: coded events are passages too (one per code, with value and unit)', () => {
  const a = baselineAnswer(publicSampleXml, 'oxygen saturation', { maxPassages: 3 });
  assert.ok(
    a.passages.some((p) => p.kind === 'observation' && /Oxygen saturation 96 %/.test(p.text)),
    JSON.stringify(a.passages),
  );
});

test('baseline: nothing matching, or an empty packed record, says so', () => {
  const none = baselineAnswer(publicSampleXml, 'zebra xylophone quux');
  assert.equal(none.passages.length, 0);
  assert.match(none.text, /No passage of the packed record shares a term/);
  const empty = baselineAnswer('', 'labetalol');
  assert.equal(empty.passages.length, 0);
  assert.match(empty.text, /packed record is empty/);
  assert.match(baselineAnswer('<record>\n</record>\n', 'labetalol').text, /packed record is empty/);
});

test('baseline reads only the packed record: a small context sees less of it', () => {
  const text = generateRecord({ seed: 7, targetChars: 200_000 });
  const record = parseRecord(text);
  const counter = new TokenCounter();
  const pack = (context: number) =>
    packPrompt({
      text,
      record,
      instruction: 'metformin hemoglobin a1c',
      context,
      encoding: 'cl100k_base',
      counter,
    });
  const small = pack(2048);
  const large = pack(32768);
  const dates = (ehr: string) =>
    baselineAnswer(ehr, 'metformin hemoglobin a1c', { maxPassages: 50 }).passages.map((p) => p.date ?? '');
  const smallDates = dates(small.ehr);
  const largeDates = dates(large.ehr);
  assert.ok(smallDates.length > 0);
  assert.ok(largeDates.length >= smallDates.length);
  // Everything the 2k baseline quotes is from the kept (most recent) part.
  const firstKept = small.kept.firstDate!.iso.replace('T', ' ');
  for (const d of smallDates) assert.ok(d >= firstKept, `${d} < ${firstKept}`);
  assert.ok(
    largeDates.some((d) => d < firstKept),
    'the 32k baseline reaches further back',
  );
});
