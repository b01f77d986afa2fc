/**
 * Issue 7 item 11: a record beyond RECORD_LIMITS is refused with `record-too-large`: a file by its
 * size on disk before it is read, a text before it is parsed.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { FileStat, FileSystem } from '../../engine/src/core/host';
import { parseRecord, RECORD_LIMITS, recordSizeProblem } from '../../engine/src/core/record/parse';
import { LocalRecordEngine } from '../../engine/src/core/workspace/recordEngine';
import { RecordStore } from '../../engine/src/core/workspace/records';
import { publicSampleXml } from '../helpers/fixtures';

test('a text over the character limit or the tag limit is not parsed', () => {
  const long = `<record>${' '.repeat(RECORD_LIMITS.bytes)}</record>`;
  const r = parseRecord(long);
  assert.equal(r.ok, false);
  assert.equal(r.visits.length, 0);
  assert.equal(r.size, long.length);
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.severity]),
    [['record-too-large', 'error']],
  );
  assert.match(r.diagnostics[0].message, /too large to read \(8388625 characters; at most 8388608\)/);
  const tags = `<record>${'<x/>'.repeat(RECORD_LIMITS.tags)}</record>`;
  assert.match(parseRecord(tags).diagnostics[0].message, /more than 400000 tags/);
  // At the limits a record is parsed as before.
  const atLimit = `<record>${'<x/>'.repeat(RECORD_LIMITS.tags - 2)}</record>`;
  assert.equal(recordSizeProblem(atLimit), undefined);
  const parsed = parseRecord(atLimit);
  assert.equal(parsed.ok, true);
  assert.equal(parsed.diagnostics.filter((d) => d.code === 'record-too-large').length, 0);
  assert.equal(recordSizeProblem(publicSampleXml), undefined);
});

test('a file over the byte limit is refused by its size, never read', async () => {
  const reads: string[] = [];
  const sizes: Record<string, number> = { 'file:///big.xml': RECORD_LIMITS.bytes + 1, 'file:///ok.xml': 100 };
  const fs: FileSystem = {
    stat: (uri) => Promise.resolve<FileStat | undefined>({ type: 'file', size: sizes[uri], mtime: 1 }),
    readFile: (uri) => {
      reads.push(uri);
      return Promise.resolve(publicSampleXml);
    },
    readDirectory: () => Promise.resolve([]),
    realpath: (uri) => Promise.resolve(uri),
  };
  const store = new RecordStore(fs, new LocalRecordEngine());
  const big = await store.get('file:///big.xml');
  assert.equal(big.exists, true);
  assert.equal(big.record?.ok, false);
  assert.equal(big.record?.diagnostics[0].code, 'record-too-large');
  assert.match(big.record?.diagnostics[0].message ?? '', /\(8388609 bytes; at most 8388608\)/);
  assert.deepEqual(reads, [], 'not read');
  const ok = await store.get('file:///ok.xml');
  assert.equal(ok.record?.ok, true);
  assert.deepEqual(reads, ['file:///ok.xml']);
});
