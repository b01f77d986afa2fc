/**
 * Issue 12: `medalign import` and `medalign export` as processes, on the public sample (a copy
 * shipped as a fixture, MIT) and on generated files in the release's shapes: round trips,
 * idempotence, conflicts, malformed rows, a 10,000-row file, records copied or linked.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { publicSampleXml, repoRoot } from '../helpers/fixtures';
import { TempDirs, runCliProcess } from '../helpers/cliProcess';
import { RECORD_XML, generateRelease, writeReleaseFolder } from '../helpers/releaseFiles';
import { formatImportSummary, importDataset } from '../../engine/src/host/dataset';

const dirs = new TempDirs();
after(() => {
  for (const d of dirs.all) fs.rmSync(d, { recursive: true, force: true });
});

const PUBLIC = path.join(repoRoot, 'test/fixtures/medalign-public/instructions-sample.csv');

function project(): string {
  const dir = dirs.make('medalign-import-');
  fs.writeFileSync(
    path.join(dir, 'medalign.config.json'),
    JSON.stringify({ recordsFolder: 'records', instructionsFolder: 'instructions' }),
  );
  return dir;
}

const normalised = (s: string) => s.replace(/\r\n/g, '\n').replace(/\n?$/, '\n');
const listMedalign = (dir: string) =>
  fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.medalign'))
    .sort();

function snapshot(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of listMedalign(dir)) m.set(f, fs.readFileSync(path.join(dir, f), 'utf8'));
  return m;
}

test('the public sample: 62 instructions in, exported back byte for byte (normalised: LF, final line break)', async () => {
  const dir = project();
  const r = await runCliProcess(dir, ['import', PUBLIC]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /^62 instructions from instructions-sample\.csv: 62 created, 0 updated, 0 unchanged\.$/m,
  );
  assert.match(r.stderr, /62 instructions have no patient/);
  const files = listMedalign(path.join(dir, 'instructions'));
  assert.equal(files.length, 62);
  const one = fs.readFileSync(path.join(dir, 'instructions', '8543650684.medalign'), 'utf8');
  assert.match(one, /^id: 8543650684\ncategory: retrieve appointment information\nsource: table_s10\n/m);
  assert.match(one, /## Instruction\nDoes this patient often "No Show" for scheduled appointments\?\n/);
  const e = await runCliProcess(dir, ['export', 'medalign', 'instructions', '--out', 'out']);
  assert.equal(e.status, 0, e.stderr);
  assert.equal(
    fs.readFileSync(path.join(dir, 'out', 'instructions.csv'), 'utf8'),
    normalised(fs.readFileSync(PUBLIC, 'utf8')),
  );
  // `medalign check` says what is missing (no patient), nothing else is an error.
  const c = await runCliProcess(dir, ['check', 'instructions']);
  const errors = c.stdout.split('\n').filter((l) => / error /.test(l));
  assert.equal(errors.length, 62);
  assert.ok(
    errors.every((l) => l.endsWith('[schema-required]')),
    errors[0],
  );
});

test('a release folder: instructions, responses and records in; a second import changes nothing; export reproduces the files', async () => {
  const dir = project();
  const rel = path.join(dir, 'medalign_instructions_v1_3');
  const g = writeReleaseFolder(rel, { instructions: 40, models: 3, annotators: 3, patients: 4 });
  const r = await runCliProcess(dir, ['import', 'medalign_instructions_v1_3']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /^40 instructions from clinician-reviewed-model-responses\.tsv \+ clinician-instruction-responses\.tsv: 40 created/m,
  );
  assert.match(r.stderr, /Records: 4 copied, 0 linked, 0 unchanged\./);
  for (const p of g.patients)
    assert.equal(fs.readFileSync(path.join(dir, 'records', `${p}.xml`), 'utf8'), RECORD_XML(p));
  const before = snapshot(path.join(dir, 'instructions'));
  const mtimes = [...before.keys()].map((f) => fs.statSync(path.join(dir, 'instructions', f)).mtimeMs);

  const again = await runCliProcess(dir, ['import', 'medalign_instructions_v1_3']);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /: 0 created, 0 updated, 40 unchanged\.$/m);
  assert.match(again.stderr, /Records: 0 copied, 0 linked, 4 unchanged\./);
  assert.deepEqual(snapshot(path.join(dir, 'instructions')), before);
  assert.deepEqual(
    [...before.keys()].map((f) => fs.statSync(path.join(dir, 'instructions', f)).mtimeMs),
    mtimes,
  );

  const e = await runCliProcess(dir, ['export', 'medalign', 'instructions', '--out', 'out']);
  assert.equal(e.status, 0, e.stderr);
  assert.equal(
    fs.readFileSync(path.join(dir, 'out', 'clinician-reviewed-model-responses.tsv'), 'utf8'),
    g.reviewed,
  );
  assert.equal(
    fs.readFileSync(path.join(dir, 'out', 'clinician-instruction-responses.tsv'), 'utf8'),
    g.responses,
  );
  // Importing the export gives the same files again.
  const dir2 = project();
  fs.cpSync(path.join(dir, 'out'), path.join(dir2, 'rel'), { recursive: true });
  fs.rmSync(path.join(dir2, 'rel', 'instructions.csv'));
  const r2 = await runCliProcess(dir2, ['import', 'rel']);
  assert.equal(r2.status, 0, r2.stderr);
  assert.deepEqual(snapshot(path.join(dir2, 'instructions')), before);
});

test('CRLF files with quotes, non-ASCII and empty fields round-trip (export is the normalised LF form)', async () => {
  const dir = project();
  const g = generateRelease({ instructions: 25, models: 2, annotators: 2, crlf: true, seed: 7 });
  fs.mkdirSync(path.join(dir, 'rel'));
  fs.writeFileSync(path.join(dir, 'rel', 'clinician-reviewed-model-responses.tsv'), g.reviewed);
  fs.writeFileSync(path.join(dir, 'rel', 'clinician-instruction-responses.tsv'), g.responses);
  const r = await runCliProcess(dir, ['import', 'rel']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /25 created/);
  const text = fs.readFileSync(path.join(dir, 'instructions', `${g.ids[5]}.medalign`), 'utf8');
  assert.match(text, /## Gold response\n\n+## Evidence/, 'an empty gold response stays an empty section');
  const e = await runCliProcess(dir, ['export', 'medalign', 'instructions', '--out', 'out']);
  assert.equal(e.status, 0, e.stderr);
  assert.equal(
    fs.readFileSync(path.join(dir, 'out', 'clinician-reviewed-model-responses.tsv'), 'utf8'),
    normalised(g.reviewed),
  );
  assert.equal(
    fs.readFileSync(path.join(dir, 'out', 'clinician-instruction-responses.tsv'), 'utf8'),
    normalised(g.responses),
  );
});

test('a file edited since its import is a conflict and kept; --overwrite replaces it; an unedited one is updated', async () => {
  const dir = project();
  fs.writeFileSync(
    path.join(dir, 'a.csv'),
    'instruction_id,question,human_assigned_subcategory_1,source\n1,First?,other,s\n2,Second?,other,s\n',
  );
  assert.equal((await runCliProcess(dir, ['import', 'a.csv'])).status, 0);
  const f1 = path.join(dir, 'instructions', '1.medalign');
  const edited = fs.readFileSync(f1, 'utf8').replace('First?', 'First, as the curator wrote it?');
  fs.writeFileSync(f1, edited);
  fs.writeFileSync(
    path.join(dir, 'a.csv'),
    'instruction_id,question,human_assigned_subcategory_1,source\n1,First (v2)?,other,s\n2,Second (v2)?,other,s\n',
  );
  const r = await runCliProcess(dir, ['import', 'a.csv']);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /0 created, 1 updated, 0 unchanged, 1 conflict \(edited since import: kept\)/);
  assert.match(
    r.stderr,
    /conflict: instructions\/1\.medalign was edited since it was imported: kept \(--overwrite replaces it\)/,
  );
  assert.equal(fs.readFileSync(f1, 'utf8'), edited);
  assert.match(fs.readFileSync(path.join(dir, 'instructions', '2.medalign'), 'utf8'), /Second \(v2\)\?/);
  const dry = await runCliProcess(dir, ['import', 'a.csv', '--overwrite', '--dry-run']);
  assert.match(dry.stdout, /^Dry run: .*1 would be updated/m);
  assert.equal(fs.readFileSync(f1, 'utf8'), edited, 'a dry run writes nothing');
  const o = await runCliProcess(dir, ['import', 'a.csv', '--overwrite']);
  assert.equal(o.status, 0, o.stderr);
  assert.match(fs.readFileSync(f1, 'utf8'), /First \(v2\)\?/);
});

test('a renamed instruction file is found by its id, not written twice', async () => {
  const dir = project();
  fs.writeFileSync(
    path.join(dir, 'a.csv'),
    'instruction_id,question,human_assigned_subcategory_1,source\n77,Q?,other,s\n',
  );
  await runCliProcess(dir, ['import', 'a.csv']);
  fs.renameSync(
    path.join(dir, 'instructions', '77.medalign'),
    path.join(dir, 'instructions', 'renamed.medalign'),
  );
  const r = await runCliProcess(dir, ['import', 'a.csv']);
  assert.match(r.stdout, /0 created, 0 updated, 1 unchanged/);
  assert.deepEqual(listMedalign(path.join(dir, 'instructions')), ['renamed.medalign']);
});

test('malformed rows are reported with their line and skipped; the rest comes in', async () => {
  const dir = project();
  fs.writeFileSync(
    path.join(dir, 'b.csv'),
    'instruction_id,question,human_assigned_subcategory_1,source\n1,"ok",other,s\n2,"bad"x,other,s\nbad id,Q,other,s\n1,dup,other,s\n3,"unclosed,other,s\n4,Last,other,s\n',
  );
  const r = await runCliProcess(dir, ['import', 'b.csv']);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /2 instructions from b\.csv: 2 created, 0 updated, 0 unchanged, 4 rows skipped\./);
  assert.match(r.stderr, /^b\.csv:3: error: text after a closing quote/m);
  assert.match(r.stderr, /^b\.csv:4: error: bad instruction_id 'bad id'/m);
  assert.match(r.stderr, /^b\.csv:5: error: duplicate instruction_id 1 \(first on line 2\): row skipped/m);
  assert.match(r.stderr, /^b\.csv:6: error: an unbalanced quote/m);
  assert.deepEqual(listMedalign(path.join(dir, 'instructions')), ['1.medalign', '4.medalign']);
});

test('a file that is not a MedAlign file: a clear error naming the columns found and needed; nothing written', async () => {
  const dir = project();
  fs.writeFileSync(path.join(dir, 'x.tsv'), 'id\ttext\n1\thello\n');
  const r = await runCliProcess(dir, ['import', 'x.tsv']);
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /medalign import: x\.tsv: not a MedAlign file: its columns are 'id', 'text'\. Needed, for the release's clinician-reviewed-model-responses\.tsv: instruction_id, question, person_id/,
  );
  assert.ok(!fs.existsSync(path.join(dir, 'instructions')));
  const none = await runCliProcess(dir, ['import', 'nope.csv']);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /no such file or folder: .*nope\.csv/);
  const resp = path.join(dir, 'clinician-instruction-responses.tsv');
  fs.writeFileSync(
    resp,
    'instruction_id\tperson_id\tclinician_response\tannotator_num\n1\t2\tx\tAnnotator_1\n',
  );
  const r3 = await runCliProcess(dir, ['import', resp]);
  assert.match(r3.stderr, /holds clinicians' responses only: import the release folder/);
});

test('records can be linked instead of copied (--link-records), with a note about where they may live', async () => {
  const dir = project();
  const g = writeReleaseFolder(path.join(dir, 'rel'), { instructions: 3, patients: 2 });
  const r = await runCliProcess(dir, ['import', 'rel', '--link-records']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /Records: 0 copied, 2 linked/);
  for (const p of g.patients) {
    const target = path.join(dir, 'records', `${p}.xml`);
    assert.ok(fs.lstatSync(target).isSymbolicLink());
    assert.equal(fs.readlinkSync(target), path.join(dir, 'rel', 'medalign_ehr_xml', `${p}.xml`));
  }
  const c = await runCliProcess(dir, ['check', 'instructions']);
  assert.equal(c.status, 0, c.stdout);
});

test('10,000 rows: imported and exported back identical', async () => {
  const dir = project();
  const g = generateRelease({ instructions: 10_000, models: 1, annotators: 1, patients: 20, seed: 3 });
  fs.mkdirSync(path.join(dir, 'big'));
  fs.writeFileSync(path.join(dir, 'big', 'clinician-reviewed-model-responses.tsv'), g.reviewed);
  fs.writeFileSync(path.join(dir, 'big', 'clinician-instruction-responses.tsv'), g.responses);
  const r = await runCliProcess(dir, ['import', 'big']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^10000 instructions .*: 10000 created/m);
  const e = await runCliProcess(dir, ['export', 'medalign', 'instructions', '--out', 'out']);
  assert.equal(e.status, 0, e.stderr);
  assert.equal(
    fs.readFileSync(path.join(dir, 'out', 'clinician-reviewed-model-responses.tsv'), 'utf8'),
    g.reviewed,
  );
  assert.equal(
    fs.readFileSync(path.join(dir, 'out', 'clinician-instruction-responses.tsv'), 'utf8'),
    g.responses,
  );
});

test('export --with-runs adds the latest complete run per model and context as rows of the reviewed file', async () => {
  const dir = project();
  const g = writeReleaseFolder(path.join(dir, 'rel'), {
    instructions: 2,
    models: 1,
    annotators: 1,
    patients: 1,
  });
  assert.equal((await runCliProcess(dir, ['import', 'rel'])).status, 0);
  // A record the baseline can read (the sample patient's), under the imported patient's id.
  fs.writeFileSync(path.join(dir, 'records', `${g.patients[0]}.xml`), publicSampleXml);
  const file = path.join('instructions', `${g.ids[0]}.medalign`);
  for (let k = 0; k < 2; k++) {
    const run = await runCliProcess(dir, ['run', file, '--model', 'baseline', '--context', '8k', '--quiet']);
    assert.equal(run.status, 0, run.stderr);
  }
  const e = await runCliProcess(dir, ['export', 'medalign', 'instructions', '--out', 'out', '--with-runs']);
  assert.equal(e.status, 0, e.stderr);
  const lines = fs
    .readFileSync(path.join(dir, 'out', 'clinician-reviewed-model-responses.tsv'), 'utf8')
    .trimEnd()
    .split('\n');
  const header = lines[0].split('\t');
  assert.deepEqual(header.slice(-1), ['context_length']);
  const runRows = lines
    .slice(1)
    .map((l) => l.split('\t'))
    .filter((r) => r[header.indexOf('model_name')] === 'baseline');
  assert.equal(runRows.length, 1, 'one row per model and context: the latest run');
  const r = runRows[0];
  assert.equal(r[header.indexOf('instruction_id')], g.ids[0]);
  assert.equal(r[header.indexOf('context_length')], '8k');
  assert.ok(r[header.indexOf('model_response')].length > 20, 'the answer');
  assert.equal(r[header.indexOf('question')], g.questions.get(g.ids[0]));
  // Without --with-runs the export is the release's rows only.
  await runCliProcess(dir, ['export', 'medalign', 'instructions', '--out', 'plain']);
  assert.equal(
    fs.readFileSync(path.join(dir, 'plain', 'clinician-reviewed-model-responses.tsv'), 'utf8'),
    g.reviewed,
  );
});

test('cancelling an import stops between files: what was written stays valid, and the next import finishes the rest', async () => {
  const dir = project();
  const g = writeReleaseFolder(path.join(dir, 'rel'), { instructions: 1200, models: 1, annotators: 1 });
  const into = path.join(dir, 'instructions');
  const abort = new AbortController();
  const messages: string[] = [];
  const first = await importDataset({
    source: path.join(dir, 'rel'),
    into,
    recordsFolder: path.join(dir, 'records'),
    signal: abort.signal,
    onProgress: (message) => {
      messages.push(message);
      // Cancel once the first batch of files is written.
      if (message.startsWith('Writing instructions (250 ')) abort.abort();
    },
  });
  assert.ok(
    messages.some((m) => m.startsWith('Reading clinician-reviewed-model-responses.tsv')),
    messages.join('\n'),
  );
  assert.equal(first.cancelled, true);
  assert.match(formatImportSummary(first), /^Cancelled: 1200 instructions/);
  const written = listMedalign(into).length;
  assert.ok(written >= 250 && written < 1200, `${written} written before the cancel`);
  const second = await importDataset({
    source: path.join(dir, 'rel'),
    into,
    recordsFolder: path.join(dir, 'records'),
  });
  assert.equal(second.cancelled, false);
  assert.equal(second.actions.unchanged, written);
  assert.equal(second.actions.created, 1200 - written);
  assert.equal(listMedalign(into).length, g.ids.length);
});
