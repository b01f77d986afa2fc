import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatInt } from '../../engine/src/core/util/format';

test('formatInt matches en-US grouping', () => {
  for (const n of [0, 7, 999, 1000, 12_345, 665_133, 1_000_000, -4_096, 2 ** 40, 12.6]) {
    assert.equal(formatInt(n), Math.round(n).toLocaleString('en-US'), String(n));
  }
  assert.equal(formatInt(NaN), 'NaN');
});
