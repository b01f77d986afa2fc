import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
  formatBudget,
  formatContext,
  formatFitRow,
  formatFitTable,
  formatKeptCut,
} from '../../engine/src/core/packing/format';
import { fitTable, packPrompt } from '../../engine/src/core/packing/pack';
import { parseRecord } from '../../engine/src/core/record/parse';
import { TokenCounter } from '../../engine/src/core/tokens/counter';
import { generateRecord } from '../fixtures/recordGenerator';

const text = generateRecord({ seed: 21, targetChars: 150_000 });
const record = parseRecord(text);
const counter = new TokenCounter();

test('contexts print as 2k…128k', () => {
  assert.deepEqual([2048, 32768, 131072, 30000].map(formatContext), ['2k', '32k', '128k', '30,000']);
});

test('budget line adds up to the exact prompt plus reserve', () => {
  const r = packPrompt({
    text,
    record,
    instruction: 'Any allergies?',
    context: 8192,
    encoding: 'cl100k_base',
    counter,
  });
  const line = formatBudget(r.budget);
  assert.match(
    line,
    /^template \d+ \+ instruction \d+ \+ record [\d,]+ \+ reserve 256 = [\d,]+ of 8,192 \(free \d+\)$/,
  );
  assert.ok(line.includes(`= ${(r.budget.prompt + 256).toLocaleString('en-US')} of`));
  assert.ok(formatBudget(r.budget, true).includes('≈'));
  const kc = formatKeptCut(r);
  assert.match(kc, /^kept \d+ of \d+ visits.*; cut \d+ visits/);
});

test('fit rows say how much fits and back to which date', () => {
  const ft = fitTable({ text, record, instruction: 'Any allergies?', encoding: 'o200k_base', counter });
  const lines = formatFitTable(ft);
  assert.equal(lines.length, 7);
  assert.match(
    lines[0],
    /^2k: (<1%|\d+%) of the record \([\d,]+ tokens, \d+ visits?(, one in part)?\), back to \d{4}-\d{2}-\d{2}$/,
  );
  assert.equal(lines[6], '128k: the whole record fits');
  assert.equal(formatFitRow({ ...ft.rows[0], recordBudget: -5 }), '2k: no room for the record');
});
