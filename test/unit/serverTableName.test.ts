/** Names of `tokenizer: server` tables (engine/src/core/tokens/serverTable.ts): in-process, stored, shown. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseServerTableName,
  serverTableName,
  storedTokenizerName,
  tokenizerDisplayName,
} from '../../engine/src/core/tokens/serverTable';

test('a stored name drops the generation, parses as generation 0, and is left alone for other tokenizers', () => {
  const live = serverTableName('o200k_base', '0123456789abcdef:1z', 7);
  assert.equal(live, 'server:o200k_base:0123456789abcdef:1z@7');
  assert.deepEqual(parseServerTableName(live), {
    fallback: 'o200k_base',
    table: '0123456789abcdef:1z',
    generation: 7,
  });
  const stored = storedTokenizerName(live);
  assert.equal(stored, 'server:o200k_base:0123456789abcdef:1z');
  assert.equal(storedTokenizerName(serverTableName('o200k_base', '0123456789abcdef:1z', 8)), stored);
  assert.deepEqual(parseServerTableName(stored), {
    fallback: 'o200k_base',
    table: '0123456789abcdef:1z',
    generation: 0,
  });
  for (const other of ['cl100k_base', 'o200k_base', 'hf:abc', 'server:p50k:x@1'])
    assert.equal(storedTokenizerName(other), other);
  assert.equal(parseServerTableName('server:p50k:x@1'), undefined);
});

test('a server table is shown as whose counts they are, other tokenizers by name', () => {
  assert.equal(
    tokenizerDisplayName(serverTableName('cl100k_base', 'ab:1', 3)),
    "the server's /tokenize (else cl100k_base)",
  );
  assert.equal(tokenizerDisplayName('o200k_base'), 'o200k_base');
});
