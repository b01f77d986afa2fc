import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic } from 'vscode-languageserver-types';
import { makeWorkspace, validInstruction } from '../helpers/fixtures';

type Diag = Omit<Diagnostic, 'message'> & { message: string };
const codes = (ds: Diagnostic[]) => ds.map((d) => String(d.code)).sort();
/** Our diagnostics' messages are plain strings (LSP 3.18 also allows markup). */
const byCode = (ds: Diagnostic[], code: string): Diag[] =>
  ds
    .filter((d) => d.code === code)
    .map((d) => ({ ...d, message: typeof d.message === 'string' ? d.message : d.message.value }));

test('a valid instruction has no errors or warnings', async () => {
  const { ws, service, doc } = await makeWorkspace();
  const ds = await service.doValidation(doc('instructions/a.medalign', validInstruction()), ws);
  assert.deepEqual(ds, []);
});

test('unknown key with did-you-mean, on the key', async () => {
  const { ws, service, doc } = await makeWorkspace();
  const text = validInstruction().replace('category:', 'cateogry:');
  const d = doc('instructions/a.medalign', text);
  const [e] = byCode(await service.doValidation(d, ws), 'schema-unknown-key');
  assert.ok(e);
  assert.match(e.message, /Unknown key 'cateogry'\. Did you mean 'category'\?/);
  assert.equal(e.range.start.line, 3);
  assert.equal(e.range.start.character, 0);
  assert.equal(e.range.end.character, 'cateogry'.length);
  assert.deepEqual(e.data, { replacement: 'category' });
});

test('enum value with did-you-mean, on the value', async () => {
  const { ws, service, doc } = await makeWorkspace();
  const text = validInstruction().replace('strategy: recent', 'strategy: recnt');
  const [e] = byCode(await service.doValidation(doc('a.medalign', text), ws), 'schema-enum');
  assert.ok(e);
  assert.match(e.message, /'recnt' is not a valid strategy\. Did you mean 'recent'\?/);
  assert.equal(e.range.start.character, 'strategy: '.length);
  assert.equal(e.range.end.character, 'strategy: recnt'.length);
});

test('wrong types: a list for context, a string for tags', async () => {
  const { ws, service, doc } = await makeWorkspace();
  const text = validInstruction()
    .replace('context: 32k', 'context: [32k]')
    .replace('tags: [stroke]', 'tags: stroke');
  const ds = byCode(await service.doValidation(doc('a.medalign', text), ws), 'schema-type');
  assert.equal(ds.length, 2);
  const ctx = ds.find((d) => d.message.startsWith('`context`'))!;
  assert.match(ctx.message, /got a list/);
  assert.equal(ctx.range.start.line, 5);
  const tags = ds.find((d) => d.message.startsWith('`tags`'))!;
  assert.match(tags.message, /must be a list of strings/);
  assert.equal(tags.range.start.line, 8);
});

test('context accepts sizes and token counts, rejects other strings with a hint', async () => {
  const { ws, service, doc } = await makeWorkspace();
  for (const ok of ['2k', '128k', '4096']) {
    const ds = await service.doValidation(
      doc('instructions/a.medalign', validInstruction().replace('32k', ok)),
      ws,
    );
    assert.deepEqual(codes(ds), [], ok);
  }
  const ds = await service.doValidation(
    doc('instructions/a.medalign', validInstruction().replace('32k', '33k')),
    ws,
  );
  const [e] = byCode(ds, 'schema-enum');
  assert.ok(e);
  assert.match(e.message, /Did you mean '32k'\?/);
});

test('missing id and missing patient/record', async () => {
  const { ws, service, doc } = await makeWorkspace();
  const text = '---\ncategory: other\n---\n## Instruction\nQ\n';
  const ds = byCode(await service.doValidation(doc('a.medalign', text), ws), 'schema-required');
  assert.equal(ds.length, 2);
  assert.ok(ds.some((d) => /'id'/.test(d.message)));
  assert.ok(ds.some((d) => /patient/.test(d.message) && /record/.test(d.message)));
  assert.ok(ds.every((d) => d.range.start.line === 0));
});

test('patient and record together', async () => {
  const { ws, service, doc } = await makeWorkspace();
  const text = validInstruction().replace(
    'patient: 1234555',
    'patient: 1234555\nrecord: ../records/1234555.xml',
  );
  const ds = byCode(await service.doValidation(doc('instructions/a.medalign', text), ws), 'schema-one-of');
  assert.equal(ds.length, 2);
});

test('records: not found, malformed, wrong root', async () => {
  const { ws, service, doc } = await makeWorkspace({
    'records/broken.xml': '<record><visit></record>',
    'records/other.xml': '<patient><visit/></patient>',
  });
  const missing = await service.doValidation(
    doc('instructions/a.medalign', validInstruction().replace('1234555', '999')),
    ws,
  );
  const [nf] = byCode(missing, 'record-not-found');
  assert.ok(nf);
  assert.match(nf.message, /No record for patient 999: records\/999\.xml does not exist/);
  assert.equal(nf.range.start.line, 2);

  const broken = await service.doValidation(
    doc(
      'instructions/b.medalign',
      validInstruction(2).replace('patient: 1234555', 'record: ../records/broken.xml'),
    ),
    ws,
  );
  assert.match(byCode(broken, 'record-malformed')[0].message, /records\/broken\.xml is not well-formed XML/);

  const other = await service.doValidation(
    doc(
      'instructions/c.medalign',
      validInstruction(3).replace('patient: 1234555', 'record: ../records/other.xml'),
    ),
    ws,
  );
  assert.match(byCode(other, 'record-root')[0].message, /root element is <patient>, expected <record>/);
});

test('duplicate ids flag both files; fixing one clears both', async () => {
  const { ws, service, doc } = await makeWorkspace();
  const a = doc('instructions/a.medalign', validInstruction(42));
  const b = doc('instructions/b.medalign', validInstruction(42));
  const da = byCode(await service.doValidation(a, ws), 'duplicate-id');
  const db = byCode(await service.doValidation(b, ws), 'duplicate-id');
  assert.equal(da.length, 1);
  assert.equal(db.length, 1);
  assert.match(da[0].message, /also used by instructions\/b\.medalign/);
  assert.equal(da[0].relatedInformation?.[0]?.location.uri, b.uri);
  // "42" as a string is the same id.
  const c = doc('instructions/c.medalign', validInstruction('"42"'));
  assert.equal(byCode(await service.doValidation(c, ws), 'duplicate-id').length, 1);
  doc('instructions/b.medalign', validInstruction(43));
  doc('instructions/c.medalign', validInstruction(44));
  assert.equal(byCode(await service.doValidation(a, ws), 'duplicate-id').length, 0);
});

test('sections: unknown, duplicate, missing and empty instruction, missing gold as a hint', async () => {
  const { ws, service, doc } = await makeWorkspace();
  const base = validInstruction().split('## Instruction')[0];
  const unknown = await service.doValidation(
    doc('a.medalign', base + '## Instruction\nQ\n## Answer\nA\n'),
    ws,
  );
  const [u] = byCode(unknown, 'section-unknown');
  assert.ok(u);
  assert.equal(u.severity, 2);
  const hint = byCode(unknown, 'gold-missing');
  assert.equal(hint[0]?.severity, 4);

  const misspelt = await service.doValidation(
    doc('a.medalign', base + '## Instruction\nQ\n## Gold Respons\nA\n'),
    ws,
  );
  assert.match(byCode(misspelt, 'section-unknown')[0].message, /Did you mean 'Gold response'\?/);

  const missing = await service.doValidation(doc('a.medalign', base + '## Notes\nx\n'), ws);
  assert.equal(byCode(missing, 'instruction-missing').length, 1);

  const empty = await service.doValidation(
    doc('a.medalign', base + '## Instruction\n\n<!-- todo -->\n## Gold response\nx\n'),
    ws,
  );
  assert.equal(byCode(empty, 'instruction-empty').length, 1);

  const dup = await service.doValidation(
    doc('a.medalign', base + '## Instruction\nQ\n## Notes\na\n## Notes\nb\n'),
    ws,
  );
  assert.equal(byCode(dup, 'section-duplicate').length, 1);
});

test('unknown model is a warning with did-you-mean; template must exist', async () => {
  const { ws, service, doc } = await makeWorkspace();
  const text = validInstruction()
    .replace('model: baseline', 'model: gpt4o')
    .replace('../templates/medalign.prompt', '../templates/nope.prompt');
  const ds = await service.doValidation(doc('instructions/a.medalign', text), ws);
  const [m] = byCode(ds, 'model-unknown');
  assert.equal(m?.severity, 2);
  assert.match(m.message, /Did you mean 'gpt-4o'\?/);
  assert.match(byCode(ds, 'template-not-found')[0].message, /templates\/nope\.prompt/);
});

test('YAML errors are reported and schema checks are skipped', async () => {
  const { ws, service, doc } = await makeWorkspace();
  const ds = await service.doValidation(
    doc('a.medalign', '---\nid: [1\npatient: 1\n---\n## Instruction\nQ\n'),
    ws,
  );
  assert.ok(ds.some((d) => d.code === 'yaml-syntax' && d.severity === 1));
  assert.ok(!ds.some((d) => String(d.code).startsWith('schema-')));
});

test('records folder from the config', async () => {
  const { service, doc, fs, ws } = await makeWorkspace({ 'ehr/77.xml': '<record></record>' });
  fs.write('medalign.config.json', JSON.stringify({ recordsFolder: 'ehr' }));
  await ws.loadConfig();
  const ds = await service.doValidation(
    doc(
      'instructions/a.medalign',
      validInstruction().replace('1234555', '77').replace('template: ../templates/medalign.prompt\n', ''),
    ),
    ws,
  );
  assert.deepEqual(codes(ds), []);
});
