/**
 * Issue 12, the pure core of `medalign import` / `export`: the streaming CSV/TSV reader, the
 * recognition of the release's files by their columns, instructions as `.medalign` text both ways,
 * and the merge of the reviewed and responses files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DelimitedReader, readDelimited } from '../../engine/src/core/dataset/delimited';
import type { DelimitedRow, DelimitedProblem } from '../../engine/src/core/dataset/delimited';
import { DatasetImport } from '../../engine/src/core/dataset/importer';
import { escapeBody, isUnedited, renderInstruction, unescapeBody } from '../../engine/src/core/dataset/model';
import type { DatasetInstruction } from '../../engine/src/core/dataset/model';
import { readInstructionText } from '../../engine/src/core/dataset/read';
import { exportRelease } from '../../engine/src/core/dataset/exporter';
import { recogniseColumns } from '../../engine/src/core/dataset/release';
import { generateRelease } from '../helpers/releaseFiles';
import { parseInstruction } from '../../engine/src/core/format/parse';
import { makeWorkspace } from '../helpers/fixtures';

function readChunked(text: string, dialect: 'csv' | 'tsv', size: number) {
  const rows: DelimitedRow[] = [];
  const problems: DelimitedProblem[] = [];
  const r = new DelimitedReader(dialect, { row: (x) => rows.push(x), problem: (p) => problems.push(p) });
  for (let i = 0; i < text.length; i += size) r.push(text.slice(i, i + size));
  r.end();
  return { rows, problems };
}

test('CSV: quoted commas, doubled quotes, line breaks in quotes, CRLF, BOM; the same rows whatever the chunks', () => {
  const text =
    '\ufeffid,question,sub\r\n1,"a, b",x\r\n2,"say ""hi""",y\r\n3,"two\r\nlines",z\r\n4,,\r\n\r\n5,é 血,w';
  const whole = readDelimited(text, 'csv');
  assert.deepEqual(whole.problems, []);
  assert.deepEqual(
    whole.rows.map((r) => [r.line, ...r.fields]),
    [
      [1, 'id', 'question', 'sub'],
      [2, '1', 'a, b', 'x'],
      [3, '2', 'say "hi"', 'y'],
      [4, '3', 'two\nlines', 'z'],
      [6, '4', '', ''],
      [8, '5', 'é 血', 'w'],
    ],
  );
  for (const size of [1, 2, 3, 7, 64])
    assert.deepEqual(readChunked(text, 'csv', size), whole, `chunks of ${size}`);
});

test('CSV: an unbalanced quote, text after a closing quote and a stray quote are reported with their line; the rest reads', () => {
  const text = 'id,q\n1,"ok"\n2,"bad"x\n3,a"b\n4,fine\n5,"never closed\n6,after';
  for (const size of [1, 5, 1000]) {
    const { rows, problems } = readChunked(text, 'csv', size);
    assert.deepEqual(
      problems.map((p) => p.line),
      [3, 4, 6],
      `chunks of ${size}: ${JSON.stringify(problems)}`,
    );
    assert.match(problems[2].message, /unbalanced quote/);
    assert.deepEqual(
      rows.map((r) => r.fields[0]),
      ['id', '1', '4', '6'],
      `chunks of ${size}`,
    );
  }
});

test('TSV is read without quoting: quotes are text, CRLF stripped, a tab makes an extra field', () => {
  const { rows, problems } = readDelimited('a\tb\r\n"x"\t"y""\r\n1\t2\t3\n', 'tsv');
  assert.deepEqual(problems, []);
  assert.deepEqual(
    rows.map((r) => r.fields),
    [
      ['a', 'b'],
      ['"x"', '"y""'],
      ['1', '2', '3'],
    ],
  );
});

test('files are recognised by their columns; otherwise the error names what was found and what is needed', () => {
  assert.deepEqual(
    recogniseColumns(['instruction_id', 'question', 'human_assigned_subcategory_1', 'source'], 'a.csv'),
    {
      ok: true,
      shape: 'public',
    },
  );
  assert.deepEqual(
    recogniseColumns(['instruction_id', 'person_id', 'clinician_response', 'annotator_num'], 'r.tsv'),
    {
      ok: true,
      shape: 'responses',
    },
  );
  const bad = recogniseColumns(['id', 'text'], 'notes.csv');
  assert.equal(bad.ok, false);
  if (!bad.ok) {
    assert.match(bad.message, /notes\.csv: not a MedAlign file: its columns are 'id', 'text'/);
    assert.match(bad.message, /instruction_id, question, human_assigned_subcategory_1, source/);
    assert.match(bad.message, /instruction_id, person_id, clinician_response, annotator_num/);
  }
});

const sample: DatasetInstruction = {
  id: '7222697931',
  patient: '1234555',
  question: 'What is the "ASCVD" risk?\n## not a heading\n\\## escaped already',
  category: 'calculate numerical measures',
  tags: ['yes', 'a: b'],
  source: 'table_s9',
  gold: 'Line one\n### Annotator_9 is text here',
  evidence: '',
  others: [
    { annotator: 'Annotator_2', text: 'Second\n### Annotator_3 (inside the text)' },
    { annotator: 'Annotator_3', text: '' },
  ],
  release: {
    file: 'clinician-reviewed-model-responses.tsv',
    row: 3,
    columns: ['instruction_id', 'question', 'model_name', 'model_response'],
    is_selected_ehr: 'yes',
    filename: '1234555.xml',
    gold: 'Annotator_1',
    rowColumns: ['model_name', 'model_response'],
    rows: [
      ['gpt-4', 'says \\ "x"'],
      ['#hash', '`tick` and tab\tinside'],
    ],
  },
};

test('an instruction renders to a valid .medalign and reads back field for field (headings escaped, rows encoded)', () => {
  const text = renderInstruction(sample);
  assert.deepEqual(readInstructionText(text), sample);
  assert.ok(isUnedited(text));
  assert.ok(!isUnedited(text.replace('What is', 'What was')));
  assert.ok(isUnedited(text.replace(/\n/g, '\r\n')), 'line endings do not count as an edit');
  const file = parseInstruction(text);
  assert.deepEqual(
    file.sections.map((s) => s.name),
    ['Instruction', 'Gold response', 'Evidence', 'Other responses', 'Release rows'],
  );
  assert.equal(escapeBody('## x\n\\# y\nz'), '\\## x\n\\\\# y\nz');
  assert.equal(unescapeBody(escapeBody('## x\n\\# y\nz')), '## x\n\\# y\nz');
});

test('the imported keys and sections are part of the format: no schema or section problems', async () => {
  const { ws, service, doc } = await makeWorkspace();
  const ds = await service.doValidation(doc('instructions/a.medalign', renderInstruction(sample)), ws);
  assert.deepEqual(
    ds
      .filter((d) => String(d.code).startsWith('schema') || d.code === 'section-unknown')
      .map((d) => d.message),
    [],
  );
});

function importText(files: [string, string][]) {
  const imp = new DatasetImport();
  for (const [name, text] of files) {
    const dialect = name.endsWith('.csv') ? 'csv' : 'tsv';
    const sink = imp.file(name, dialect);
    const r = new DelimitedReader(dialect, sink);
    r.push(text);
    r.end();
  }
  return { imp, insts: imp.finish() };
}

test('the reviewed and responses files merge: Annotator_1 is the gold response, the others kept, model rows kept', () => {
  const g = generateRelease({ instructions: 12, models: 3, annotators: 3 });
  const { imp, insts } = importText([
    ['clinician-reviewed-model-responses.tsv', g.reviewed],
    ['clinician-instruction-responses.tsv', g.responses],
  ]);
  assert.deepEqual(imp.problems, []);
  assert.equal(insts.length, 12);
  for (const i of insts) {
    assert.equal(i.gold, g.gold.get(i.id));
    assert.equal(i.question, g.questions.get(i.id));
    assert.deepEqual(
      i.others.map((o) => o.annotator),
      ['Annotator_2', 'Annotator_3'],
    );
    assert.equal(i.release?.rows?.length, 3);
    assert.deepEqual(i.release?.rowColumns, ['model_name', 'model_response', 'clinician_rank', 'correct']);
  }
  const out = exportRelease(insts);
  assert.equal(out.files.find((f) => f.name === 'clinician-reviewed-model-responses.tsv')?.text, g.reviewed);
  assert.equal(out.files.find((f) => f.name === 'clinician-instruction-responses.tsv')?.text, g.responses);
});

test('malformed rows (a tab inside a field, a bad id, a duplicate id, an empty question) are reported with their line and skipped', () => {
  const text = [
    'instruction_id\tquestion\tperson_id\tis_selected_ehr\tfilename\tclinician_response\tevidence',
    '1\tQ one\t10\tyes\t10.xml\tA\tE',
    '2\tQ two\twith a tab\t10\tyes\t10.xml\tA\tE',
    'x y\tQ\t10\tyes\t10.xml\tA\tE',
    '1\tQ other\t10\tyes\t10.xml\tA\tE',
    '3\t \t10\tyes\t10.xml\tA\tE',
    '4\tQ four\t11\tyes\t11.xml\tA\tE',
  ].join('\n');
  const { imp, insts } = importText([['clinician-reviewed-model-responses.tsv', text]]);
  assert.deepEqual(
    insts.map((i) => i.id),
    ['1', '4'],
  );
  assert.deepEqual(
    imp.problems.map((p) => [p.line, p.message.replace(/ \(.*$/, '')]),
    [
      [3, '8 fields where the header has 7'],
      [4, "bad instruction_id 'x y'"],
      [5, 'duplicate instruction_id 1'],
      [6, 'instruction 3 has an empty question: row skipped'],
    ],
  );
  assert.equal(imp.files[0].skipped, 4);
});

test('a subcategory outside the taxonomy becomes a tag with a warning, and exports back as it was', () => {
  const csv =
    'instruction_id,question,human_assigned_subcategory_1,source\n1,Q,retrieve vitals,s\n2,R,made up,t\n';
  const { imp, insts } = importText([['instructions-sample.csv', csv]]);
  assert.equal(insts[0].category, 'retrieve vitals');
  assert.deepEqual(insts[1].tags, ['made up']);
  assert.equal(insts[1].category, undefined);
  assert.match(
    imp.problems[0].message,
    /'made up' \(instruction 2\) is not a taxonomy subcategory: kept as a tag/,
  );
  const back = insts.map((i) => readInstructionText(renderInstruction(i))!);
  assert.equal(exportRelease(back).files[0].text, csv);
});

test('columns of the responses file beyond its four are named as not kept', () => {
  const { imp } = importText([
    ['clinician-reviewed-model-responses.tsv', generateRelease({ instructions: 1 }).reviewed],
    [
      'clinician-instruction-responses.tsv',
      'instruction_id\tperson_id\tclinician_response\tannotator_num\tminutes\n2000000000\t1000001\tA\tAnnotator_1\t12\n',
    ],
  ]);
  assert.deepEqual(
    imp.problems.map((p) => [p.file, p.line, p.severity, p.message]),
    [
      [
        'clinician-instruction-responses.tsv',
        1,
        'warning',
        'column minutes of the responses file is not kept',
      ],
    ],
  );
});
