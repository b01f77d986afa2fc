/**
 * Issue 7, item 3: the workspace's bounds (core/workspace/bounds.ts, Workspace.checkBounds). Records,
 * templates and records folders named by workspace files must resolve — after following symbolic
 * links — inside the workspace folder or a root the user allowed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemFs } from '../helpers/memfs';
import { CONFIG, makeWorkspace, publicSampleXml, validInstruction } from '../helpers/fixtures';
import { canonicalUri } from '../../engine/src/core/workspace/bounds';
import { resolveRunSettings } from '../../engine/src/core/features/runSettings';

const KEY = 'file:///home/u/.ssh/id_rsa';
const SECRET = 'SECRET-KEY-MATERIAL';
const OTHER = 'file:///other/records/999.xml';

async function hostile(files: Record<string, string> = {}) {
  const env = await makeWorkspace(files);
  env.fs.write(KEY, `${SECRET}\n{{ehr}}\n{{instruction}}\n`);
  env.fs.write(OTHER, publicSampleXml);
  return env;
}

const codes = (diags: { code?: string | number }[]) => diags.map((d) => d.code);
const msg = (m: string | { value: string }) => (typeof m === 'string' ? m : m.value);

test('canonicalUri follows links in any prefix and keeps the rest of a missing path', async () => {
  const fs = new MemFs({ 'records/a.xml': '<record/>' });
  fs.write('file:///elsewhere/x/other.xml', '<record/>');
  fs.symlink('link', 'file:///elsewhere');
  fs.symlink('records/b.xml', 'records/a.xml');
  assert.equal(await canonicalUri(fs, MemFs.uri('records/b.xml')), MemFs.uri('records/a.xml'));
  assert.equal(await canonicalUri(fs, MemFs.uri('link/x/y.xml')), 'file:///elsewhere/x/y.xml');
  assert.equal(await canonicalUri(fs, MemFs.uri('records/none.xml')), MemFs.uri('records/none.xml'));
});

test('template: relative, absolute, symlinked or config default outside the workspace is refused', async () => {
  const cases: [string, string, (fs: MemFs) => void][] = [
    [
      'relative',
      validInstruction(1).replace('../templates/medalign.prompt', '../../home/u/.ssh/id_rsa'),
      () => {},
    ],
    [
      'absolute',
      validInstruction(1).replace('../templates/medalign.prompt', '/home/u/.ssh/id_rsa'),
      () => {},
    ],
    [
      'symlink',
      validInstruction(1).replace('medalign.prompt', 'evil.prompt'),
      (fs) => fs.symlink('templates/evil.prompt', KEY),
    ],
  ];
  for (const [what, text, setup] of cases) {
    const { fs, ws, service, doc } = await hostile();
    setup(fs);
    const d = doc('instructions/a.medalign', text);
    const diags = await service.doValidation(d, ws);
    const diag = diags.find((x) => x.code === 'path-outside-workspace');
    assert.ok(diag, `${what}: ${JSON.stringify(codes(diags))}`);
    assert.equal(d.getText(diag.range).replace(/"/g, ''), text.match(/^template: (.*)$/m)![1], what);
    assert.match(
      msg(diag.message),
      /The template \/home\/u\/\.ssh\/id_rsa|symbolic link to \/home\/u\/\.ssh\/id_rsa/,
      what,
    );
    const before = fs.reads;
    const preview = await service.buildPreview(d, ws);
    assert.equal(preview.ok, false, what);
    assert.ok(!preview.text.includes(SECRET), what);
    const settings = await resolveRunSettings(service.parse(d).file, d.uri, ws, fs);
    assert.equal(settings.templateSource, undefined, what);
    assert.ok(settings.templateOutside, what);
    assert.ok(fs.reads >= before, what);
  }
  // The config's defaults.template: flagged at the front matter, since the file does not name it.
  const { ws, service, doc } = await hostile({
    'medalign.config.json': JSON.stringify({
      ...JSON.parse(CONFIG),
      defaults: { template: '/home/u/.ssh/id_rsa' },
    }),
  });
  await ws.loadConfig();
  const d = doc('instructions/b.medalign', validInstruction(2).replace(/^template: .*\n/m, ''));
  const diag = (await service.doValidation(d, ws)).find((x) => x.code === 'path-outside-workspace');
  assert.ok(diag);
  assert.equal(diag.range.start.line, 0);
  assert.ok(!(await service.buildPreview(d, ws)).text.includes(SECRET));
});

test('record: relative, absolute, symlinked in records/, or an absolute recordsFolder is refused', async () => {
  const cases: [string, string, Record<string, string>, (fs: MemFs) => void][] = [
    [
      'relative',
      validInstruction(1).replace('patient: 1234555', 'record: ../../other/records/999.xml'),
      {},
      () => {},
    ],
    [
      'absolute',
      validInstruction(1).replace('patient: 1234555', 'record: /other/records/999.xml'),
      {},
      () => {},
    ],
    [
      'symlink',
      validInstruction(1).replace('patient: 1234555', 'patient: 777'),
      {},
      (fs) => fs.symlink('records/777.xml', OTHER),
    ],
    [
      'recordsFolder',
      validInstruction(1).replace('patient: 1234555', 'patient: 999'),
      { 'medalign.config.json': JSON.stringify({ ...JSON.parse(CONFIG), recordsFolder: '/other/records' }) },
      () => {},
    ],
  ];
  for (const [what, text, files, setup] of cases) {
    const { fs, ws, service, doc } = await hostile(files);
    await ws.loadConfig();
    setup(fs);
    const d = doc('instructions/a.medalign', text);
    const diags = await service.doValidation(d, ws);
    const diag = diags.find((x) => x.code === 'path-outside-workspace');
    assert.ok(diag, `${what}: ${JSON.stringify(codes(diags))}`);
    assert.ok(!codes(diags).includes('record-not-found'), what);
    assert.match(
      msg(diag.message),
      what === 'recordsFolder' ? /The records folder \/other\/records/ : /\/other\/records\/999\.xml/,
      what,
    );
    const preview = await service.buildPreview(d, ws);
    assert.equal(preview.ok, false, what);
    assert.equal(preview.pack, undefined, what);
    // Nothing of the other record was loaded by any feature.
    assert.equal(await ws.engine.load(OTHER, 'probe', () => Promise.resolve(undefined)), undefined, what);
    if (what === 'recordsFolder') assert.deepEqual(await ws.patientIds(), [], 'no listing of another folder');
    const def = await service.findDefinition(d, d.positionAt(text.indexOf('record') + 9), ws);
    assert.deepEqual(def, [], what);
  }
});

test('allowed roots (user-level) let records in; inside-workspace symlinks stay fine', async () => {
  const { fs, ws, service, doc } = await hostile();
  fs.symlink('records/555.xml', 'records/1234555.xml');
  const inside = doc(
    'instructions/i.medalign',
    validInstruction(3).replace('patient: 1234555', 'patient: 555'),
  );
  assert.ok(!codes(await service.doValidation(inside, ws)).includes('path-outside-workspace'));

  const text = validInstruction(1).replace('patient: 1234555', 'record: /other/records/999.xml');
  const d = doc('instructions/a.medalign', text);
  assert.ok(codes(await service.doValidation(d, ws)).includes('path-outside-workspace'));
  ws.setAllowedRoots(['file:///other']);
  assert.ok(!codes(await service.doValidation(d, ws)).includes('path-outside-workspace'));
  assert.equal((await service.buildPreview(d, ws)).ok, true);
  // A prefix is not a parent: /other-project is not inside /other.
  ws.setAllowedRoots(['file:///oth']);
  assert.ok(codes(await service.doValidation(d, ws)).includes('path-outside-workspace'));
});
