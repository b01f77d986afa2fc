import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wordDiff } from '../../engine/src/core/run/wordDiff';
import type { DiffPart } from '../../engine/src/core/run/wordDiff';

const side = (parts: DiffPart[], skip: 'delete' | 'insert') =>
  parts
    .filter((p) => p.op !== skip)
    .map((p) => p.text)
    .join('');
const wordsOf = (t: string) => t.split(/\s+/).filter(Boolean);

test('wordDiff: changed words only, not one line against another', () => {
  const gold = 'Labetalol 5 mg IV was given once on 03/06.';
  const answer = 'Labetalol 10 mg IV was given twice on 03/06.';
  const d = wordDiff(gold, answer);
  assert.deepEqual(d.parts, [
    { op: 'equal', text: 'Labetalol' },
    { op: 'delete', text: ' 5' },
    { op: 'insert', text: ' 10' },
    { op: 'equal', text: ' mg IV was given' },
    { op: 'delete', text: ' once' },
    { op: 'insert', text: ' twice' },
    { op: 'equal', text: ' on 03/06.' },
  ]);
  assert.equal(d.deleted, 2);
  assert.equal(d.inserted, 2);
  assert.equal(d.approximate, false);
});

test('wordDiff: whitespace is kept; the answer side rebuilds the answer exactly, the gold side its words', () => {
  const gold = 'Outpatient BPs:\n01/07 128/77, 01/29 143/77.\n\nNot at goal.';
  const answer =
    'Outpatient blood pressures in 2020:  01/07 128/77,\n01/29 143/77. Only two under 130/80, so not at goal.\n';
  const d = wordDiff(gold, answer);
  assert.equal(side(d.parts, 'delete'), answer);
  assert.deepEqual(
    wordsOf(side(d.parts, 'insert')),
    wordsOf(gold).map((w) => w),
  );
  assert.ok(d.parts.some((p) => p.op === 'equal' && p.text.includes('128/77')));
  assert.ok(d.parts.some((p) => p.op === 'delete' && p.text.includes('Not')));
});

test('wordDiff: identical, empty and disjoint texts', () => {
  assert.deepEqual(wordDiff('a b  c', 'a b  c').parts, [{ op: 'equal', text: 'a b  c' }]);
  assert.deepEqual(wordDiff('', '').parts, []);
  assert.deepEqual(wordDiff('', 'new words').parts, [{ op: 'insert', text: 'new words' }]);
  assert.deepEqual(wordDiff('old words', '').parts, [{ op: 'delete', text: 'old words' }]);
  const d = wordDiff('alpha beta', 'gamma delta');
  assert.equal(d.equal, 0);
  assert.equal(d.deleted, 2);
  assert.equal(d.inserted, 2);
});

test('wordDiff: texts too long to align within the budget are still shown, marked approximate', () => {
  const a = Array.from({ length: 300 }, (_v, i) => `a${i}`).join(' ');
  const b = Array.from({ length: 300 }, (_v, i) => `b${i}`).join(' ');
  const d = wordDiff(`same ${a} end`, `same ${b} end`, 1000);
  assert.equal(d.approximate, true);
  assert.equal(d.equal, 2);
  assert.equal(side(d.parts, 'delete'), `same ${b} end`);
});
