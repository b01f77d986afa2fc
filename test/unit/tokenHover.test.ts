import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { fitMarkdown } from '../../engine/src/core/features/tokenHover';
import { recordSummary } from '../../engine/src/core/features/hover';
import type { RunSettings } from '../../engine/src/core/features/runSettings';
import { fitTable, packPrompt } from '../../engine/src/core/packing/pack';
import type { PackStrategy } from '../../engine/src/core/packing/pack';
import { parseRecord } from '../../engine/src/core/record/parse';
import { TokenCounter } from '../../engine/src/core/tokens/counter';
import { generateRecord } from '../fixtures/recordGenerator';

const text = generateRecord({ seed: 21, targetChars: 400_000 });
const record = parseRecord(text);
const counter = new TokenCounter();
const INSTRUCTION = 'When was the last hemoglobin A1c measured?';

function settings(strategy: PackStrategy): RunSettings {
  return {
    model: 'gpt-4o',
    tokenizer: { encoding: 'o200k_base', estimated: false, source: 'model' },
    context: 32768,
    contextLabel: '32k',
    strategy,
    reserve: 256,
    instruction: INSTRUCTION,
    from: { model: 'file', context: 'file', strategy: 'file' },
    problems: [],
  };
}

function table(strategy: PackStrategy): string {
  const ft = fitTable({ text, record, instruction: INSTRUCTION, encoding: 'o200k_base', counter, strategy });
  return fitMarkdown(ft, settings(strategy));
}

/** Visible text of a markdown line (what takes width in a hover). */
const visible = (line: string) => line.replace(/\*\*/g, '').replace(/^\|?|\|?$/g, '');

test('the what-fits hover is a three-column table whose rows fit a ~500 px hover', () => {
  const md = table('recent');
  const rows = md.split('\n').filter((l) => l.startsWith('|'));
  assert.equal(rows.length, 2 + 7, md);
  for (const row of rows) {
    assert.equal(row.split('|').length - 2, 3, `three cells: ${row}`);
    // About 70 characters at the hover's font: no row (cells plus separators) may be longer.
    assert.ok(visible(row).length <= 64, `${visible(row).length} chars: ${row}`);
  }
  assert.equal(rows[0], '| context | kept (recent) | back to |');
  assert.match(md, /^\| 2k \| [\d,]+ · \d+(\.\d)?% · \d+ visits?(, one cut)? \| \d{4}-\d\d-\d\d \|$/m);
  // The instruction's own context is marked.
  assert.match(md, /^\| 32k ◀ \| /m);
  // Header lines of text stay short too (no run-together columns anywhere).
  for (const line of md.split('\n').filter((l) => !l.startsWith('|')))
    assert.ok(visible(line).length <= 90, line);
});

test('the what-fits hover follows the strategy: bm25 is planned with bm25 and says so', () => {
  const md = table('bm25');
  assert.match(md, /Kept by \*\*bm25\*\* after template/);
  assert.match(md, /^\| context \| kept \(bm25\) \| back to \|$/m);
  assert.doesNotMatch(md, /recent/);
  // The 8k row agrees with a real bm25 pack at 8k (same tokens within the seam slack).
  const ft = fitTable({
    text,
    record,
    instruction: INSTRUCTION,
    encoding: 'o200k_base',
    counter,
    strategy: 'bm25',
  });
  const at8 = ft.rows.find((r) => r.context === 8192)!;
  const packed = packPrompt({
    text,
    record,
    instruction: INSTRUCTION,
    context: 8192,
    strategy: 'bm25',
    encoding: 'o200k_base',
    counter,
  });
  assert.ok(Math.abs(packed.kept.tokens - at8.keptTokens) <= 3, `${packed.kept.tokens} vs ${at8.keptTokens}`);
  assert.equal(packed.kept.visits, at8.keptVisits);
});

test('none keeps the whole record or nothing', () => {
  const md = table('none');
  assert.match(md, /^\| 2k \| nothing \| — \|$/m);
  assert.match(md, /^\| 128k \| (whole record|nothing) \| /m);
});

test('the record summary is short lines, not a table', () => {
  const md = recordSummary('records/x.xml', record, 400_123);
  assert.doesNotMatch(md, /\|/);
  for (const line of md.split('\n')) assert.ok(visible(line).length <= 64, line);
  assert.match(md, /^\d+ visits · [\d,]+ events · [\d,]+ notes · 390\.7 KB {2}$/m);
  assert.match(md, /^\d{4}-\d\d-\d\d → \d{4}-\d\d-\d\d \([\d.]+ years\)$/m);
});
