/**
 * The samples' instruction ids must not collide with MedAlign's public release: a sample that
 * reused a public `instruction_id` (7222697931, the public ASCVD question) for a different question
 * would be merged with the real one by anything that joins on ids (HELM merges on instruction_id).
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';

const root = join(__dirname, '..', '..', '..');

test('sample ids are outside the public release: numeric ones have 11 digits, none is a public id', () => {
  const publicIds = parse<{ instruction_id: string }>(
    readFileSync(join(root, 'test', 'fixtures', 'medalign-public', 'instructions-sample.csv'), 'utf8'),
    { columns: true },
  ).map((r) => r.instruction_id);
  assert.equal(publicIds.length, 62);
  // Every public instruction_id is a number of at most 10 digits (8 to 10 in the sample).
  assert.ok(publicIds.every((id) => /^[1-9]\d{0,9}$/.test(id)));
  const folder = join(root, 'samples', 'instructions');
  const ids = readdirSync(folder)
    .filter((f) => f.endsWith('.medalign'))
    .map((f) => /^id:\s*(\S+)\s*$/m.exec(readFileSync(join(folder, f), 'utf8'))?.[1])
    .filter((id): id is string => id !== undefined);
  assert.ok(ids.length >= 19);
  for (const id of ids) {
    assert.ok(!publicIds.includes(id), `${id} is a public MedAlign instruction id`);
    if (/^\d+$/.test(id)) assert.match(id, /^9\d{10}$/, `${id}: numeric sample ids have 11 digits`);
  }
});
